"""Calibration (issue 7): keepalive_info's predictions against what the lab measured.

For every timed record of the dead_peer scenario (sshd ClientAlive, ssh ServerAlive, kernel
keepalive) and of idle_timeout in the results file (tests/output/results/behaviour.json, or
$KASSH_BEHAVIOUR_RESULTS), the module's prediction is computed with plugins/module_utils/_predict.py
from the record's settings and OpenSSH release, and the measured median must lie in the predicted
[low, high] widened by one keepalive interval: the record's ClientAliveInterval,
ServerAliveInterval or tcp_keepalive_intvl, and 1 s for TMOUT and ChannelTimeout (whole-second
clocks, no keepalive interval). The untimed outcomes the table predicts are checked too:
ClientAliveCountMax 0 never drops, and which stay_alive sessions the NAT timeout kills.

A control applies the manual page's ClientAliveInterval x ClientAliveCountMax (period 1) to the
9.2p1 sshd records: it must fall outside the same bound, or this test could not fail.

This needs the lab's results, so it is not part of `make behaviour-units` (which runs before the
lab): `make calibration` runs it, and `make behaviour` right after the scenarios. Without the
results file, or without dead_peer records in it, it fails; KEEPALIVE_CALIBRATION_OPTIONAL=1 turns
that into a skip.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ansible_collections.keepalive.ssh.plugins.module_utils import _predict as p  # noqa: E402
from behaviour.model import version_key  # noqa: E402
from behaviour.results import results_path  # noqa: E402

OPTIONAL = os.environ.get("KEEPALIVE_CALIBRATION_OPTIONAL") == "1"
RESULTS = results_path()
HOW = ("run `make behaviour BEHAVIOUR_SCENARIOS=dead_peer` (a lab run, 3-5 min) to measure; "
       "KEEPALIVE_CALIBRATION_OPTIONAL=1 skips instead")

# The kernel's values where a record does not name them (Linux defaults, tcp_retries2 15).
LINUX_DEFAULT = p.KernelFacts(7200, 75, 9, 15)
# The widening for mechanisms without a keepalive interval: their clocks count whole seconds.
WHOLE_SECOND = 1.0
# The mechanism each dead_peer record names in its settings, as _predict calls it.
DEAD_PEER_MECHANISMS = {
    "sshd ClientAlive": p.SSHD_ALIVE,
    "ssh ServerAlive": p.SSH_ALIVE,
    "kernel keepalive": p.KERNEL_KEEPALIVE,
}
# Timed records that keepalive_info does not predict, and why.
NOT_PREDICTED = {
    ("idle_timeout", "unused_connection"):
        "UnusedConnectionTimeout (a connection without channels, ssh -N) is not predicted",
    ("idle_timeout", "tmout_ksh"):
        "ksh93 exits 60 s after TMOUT; the TMOUT row is bash and zsh (docs/predictions.md, Known limits)",
}
# Outcome (untimed) records with a prediction: (scenario, case).
OUTCOME_CASES = {
    ("idle_timeout", "countmax0_idle"), ("idle_timeout", "countmax0_dead_client"),
    ("idle_timeout", "channel_idle"),
    ("stay_alive", "control"), ("stay_alive", "server_side"), ("stay_alive", "server_side_i4"),
}


def load_records() -> list[dict[str, Any]] | None:
    if not RESULTS.is_file():
        return None
    return json.loads(RESULTS.read_text(encoding="utf-8")).get("records", [])


RECORDS = load_records()


def missing(what: str) -> None:
    """No measurements to compare with: a failure, unless KEEPALIVE_CALIBRATION_OPTIONAL=1."""
    message = f"{what}: {HOW}"
    if OPTIONAL:
        pytest.skip(message)
    pytest.fail(message)


def record_id(record: dict[str, Any]) -> str:
    return f"{record['scenario']}-{record['case']}-{record['openssh_version']}"


def timed(scenarios: tuple[str, ...]) -> list[dict[str, Any]]:
    return [r for r in RECORDS or [] if r["scenario"] in scenarios and r["expected"].get("kind") == "seconds"]


def params(records: list[dict[str, Any]]) -> list[Any]:
    """One parameter per record; one that fails (or skips) when there are none."""
    return [pytest.param(r, id=record_id(r)) for r in records] or [pytest.param(None, id="no-records")]


# ----------------------------------------------------------------------------- predictions


class Comparison(NamedTuple):
    prediction: dict[str, Any]     # as keepalive_info returns it
    widen: float                   # one keepalive interval
    mechanism: str                 # what must act first


def kernel_of(settings: dict[str, Any]) -> p.KernelFacts:
    values = [settings.get(f"tcp_keepalive_{key}") for key in ("time", "intvl", "probes")]
    if any(v is None for v in values):
        return LINUX_DEFAULT
    return p.KernelFacts(values[0], values[1], values[2], LINUX_DEFAULT.retries2)


def tcp_keepalive(settings: dict[str, Any]) -> bool:
    """TCPKeepAlive as the record names it; sshd's and ssh's default (yes) otherwise."""
    return str(settings.get("TCPKeepAlive", "yes")).lower() in ("yes", "true")


def versions(record: dict[str, Any]) -> tuple[p.Version, p.Version]:
    """(server, client) releases; the lab's one client may differ from the server."""
    server = version_key(record["openssh_version"])
    return server, version_key(record.get("client_openssh_version") or record["openssh_version"])


def server_facts(record: dict[str, Any], interval: int = 0, countmax: int = 3) -> p.ServerFacts:
    settings = record["settings"]
    return p.ServerFacts(versions(record)[0], interval, countmax, tcp_keepalive(settings),
                         settings.get("ChannelTimeout") or "none")


def predict_record(record: dict[str, Any]) -> Comparison:
    """keepalive_info's prediction for a timed record's settings and release."""
    settings, case = record["settings"], record["case"]
    mechanism = DEAD_PEER_MECHANISMS.get(settings.get("mechanism", ""))
    if case == "countmax1_dead_client":     # idle_timeout's control: sshd ClientAlive
        mechanism = p.SSHD_ALIVE
    kernel = kernel_of(settings)
    if mechanism == p.SSHD_ALIVE:
        interval, countmax = settings["interval"], settings["countmax"]
        side = p.server_side(server_facts(record, interval, countmax))
        return Comparison(p.dead_peer(side, kernel), interval, mechanism)
    if mechanism == p.SSH_ALIVE:
        interval, countmax = settings["interval"], settings["countmax"]
        client = p.ClientFacts("ssh", versions(record)[1], interval, countmax, tcp_keepalive(settings))
        return Comparison(p.dead_peer(p.client_side(client), kernel), interval, mechanism)
    if mechanism == p.KERNEL_KEEPALIVE:
        if settings["side"] == "server":
            side = p.server_side(server_facts(record, settings.get("ClientAliveInterval") or 0))
        else:
            side = p.client_side(p.ClientFacts("ssh", versions(record)[1], settings.get("ServerAliveInterval") or 0,
                                               3, tcp_keepalive(settings)))
        return Comparison(p.dead_peer(side, kernel), settings["tcp_keepalive_intvl"], mechanism)
    if case.startswith("tmout_"):
        facts = p.Facts(server_facts(record), shell=p.ShellFacts(settings["TMOUT"], True))
        return Comparison(p.idle_logout(facts), WHOLE_SECOND, p.SHELL_TMOUT)
    if case == "channel_idle":
        # A silent `ssh -T`: no prompt, so TMOUT does not apply; ChannelTimeout does.
        return Comparison(p.idle_logout(p.Facts(server_facts(record))), WHOLE_SECOND, p.CHANNEL_TIMEOUT)
    raise KeyError(f"no prediction for {record['scenario']}/{case}: map it here or list it in NOT_PREDICTED")


def within(median: float, low: float, high: float, widen: float) -> bool:
    return low - widen <= median <= high + widen


def describe(record: dict[str, Any], prediction: dict[str, Any], widen: float) -> str:
    measured = record["measured"]
    return (f"{record_id(record)}: measured {measured.get('min')}/{measured.get('median')}/{measured.get('max')} s "
            f"(min/median/max), predicted {prediction['low']}..{prediction['high']} s widened by {widen:g} "
            f"({prediction['formula']}; {prediction['rule']}; basis: {prediction['basis']})")


# ----------------------------------------------------------------------------- the tests


def test_results_hold_dead_peer_measurements():
    if RECORDS is None:
        missing(f"no results file at {RESULTS}")
    named = {r["settings"].get("mechanism") for r in timed(("dead_peer",))}
    absent = sorted(set(DEAD_PEER_MECHANISMS) - named)
    if absent:
        missing(f"{RESULTS} holds no timed dead_peer records of {', '.join(absent)}")


COMPARED = [r for r in timed(("dead_peer", "idle_timeout")) if (r["scenario"], r["case"]) not in NOT_PREDICTED]


@pytest.mark.parametrize("record", params(COMPARED))
def test_prediction_agrees_with_measurement(record: dict[str, Any] | None):
    if record is None:
        missing(f"no timed dead_peer or idle_timeout records in {RESULTS}")
        return
    median = record["measured"].get("median")
    assert median is not None, f"{record_id(record)}: nothing was measured ({record['measured']})"
    comparison = predict_record(record)
    prediction = comparison.prediction
    assert prediction["mechanism"] == comparison.mechanism, (
        f"{record_id(record)}: predicted {prediction['mechanism']} first ({prediction['formula']}), "
        f"measured {comparison.mechanism}")
    assert within(median, prediction["low"], prediction["high"], comparison.widen), describe(
        record, prediction, comparison.widen)


def predict_outcome(record: dict[str, Any]) -> tuple[str, str]:
    """(outcome keepalive_info predicts, its reason) for an untimed record."""
    settings, case = record["settings"], record["case"]
    if record["scenario"] == "stay_alive":
        server = server_facts(record, settings.get("ClientAliveInterval") or 0,
                              settings.get("ClientAliveCountMax", 3))
        nat = p.nat_survival(p.Facts(server, kernel=LINUX_DEFAULT), settings["nat_timeout"])
        return ("alive" if nat["survives"] else "dead"), nat["message"]
    after = record["measured"].get("after_seconds") or settings.get("window") or settings.get("idle")
    if case == "countmax0_dead_client":
        side = p.server_side(server_facts(record, settings["ClientAliveInterval"], settings["ClientAliveCountMax"]))
        prediction = p.dead_peer(side, LINUX_DEFAULT)
    else:   # countmax0_idle, channel_idle (8.4: no ChannelTimeout)
        server = server_facts(record, settings.get("ClientAliveInterval") or 0, settings.get("ClientAliveCountMax", 3))
        prediction = p.idle_logout(p.Facts(server))
    lasts = prediction["seconds"] is None or prediction["low"] > after
    held = {"countmax0_idle": "alive"}.get(case, "kept")
    return (held if lasts else "dropped"), f"{prediction['formula']} (low {prediction['low']}, after {after} s)"


OUTCOMES = [r for r in RECORDS or [] if (r["scenario"], r["case"]) in OUTCOME_CASES
            and r["expected"].get("kind") == "outcome"]


@pytest.mark.parametrize("record", params(OUTCOMES))
def test_predicted_outcome_agrees(record: dict[str, Any] | None):
    if record is None:
        if RECORDS is None:
            missing(f"no results file at {RESULTS}")
        # dead_peer alone (test_results_hold_dead_peer_measurements insists on it) has no such records
        pytest.skip(f"no idle_timeout or stay_alive outcome records in {RESULTS}: those scenarios did not run")
    outcome, reason = predict_outcome(record)
    assert outcome == record["measured"]["outcome"], f"{record_id(record)}: predicted {outcome}: {reason}"


# ----------------------------------------------------------------------------- the control


def is_92_sshd(record: dict[str, Any]) -> bool:
    return versions(record)[0] == (9, 2) and (record["settings"].get("mechanism") == "sshd ClientAlive"
                                              or record["case"] == "countmax1_dead_client")


NINE_TWO_SSHD = [r for r in COMPARED if is_92_sshd(r)]


@pytest.mark.parametrize("record", params(NINE_TWO_SSHD))
def test_control_manual_formula_misses_9_2(record: dict[str, Any] | None):
    """sshd_config(5)'s ClientAliveInterval x ClientAliveCountMax fails the check the table passes."""
    if record is None:
        missing(f"no OpenSSH 9.2 sshd ClientAlive records in {RESULTS}")
        return
    interval, countmax = record["settings"]["interval"], record["settings"]["countmax"]
    median = record["measured"]["median"]
    manual = interval * countmax
    assert not within(median, manual, manual, interval), (
        f"{record_id(record)}: the manual's {interval} x {countmax} = {manual} s is within one interval of the "
        f"measured {median} s: this record cannot tell the calibrated table from the manual")
    comparison = predict_record(record)
    assert within(median, comparison.prediction["low"], comparison.prediction["high"], comparison.widen)
