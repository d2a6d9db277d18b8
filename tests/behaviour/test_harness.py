"""Unit tests of the behavioural harness itself (no lab): formulas, judging, results, table, probe."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from behaviour import model, results, table  # noqa: E402
from behaviour.scenarios.common import idle_seconds  # noqa: E402

PROBE = Path(__file__).resolve().parent / "probe.py"

# (version, interval, countmax) -> (low, high): fitted to the lab (docs/behaviour.md)
SSHD_DEAD_CLIENT = [
    ("8.4p1", 2, 3, 6, 8),
    ("9.2p1", 2, 3, 12, 16),
    ("10.0p1", 2, 3, 6, 8),
    ("9.2p1", 3, 1, 6, 12),
    ("8.4p1", 3, 1, 3, 6),
]


@pytest.mark.parametrize(("version", "interval", "countmax", "low", "high"), SSHD_DEAD_CLIENT)
def test_sshd_dead_client(version: str, interval: int, countmax: int, low: float,
                          high: float) -> None:
    got_low, got_high, formula = model.sshd_dead_client(version, interval, countmax)
    assert (got_low, got_high) == (low, high)
    assert f"{low:g}..{high:g}" in formula


NAT_KEPT = [
    ("8.4p1", 4, 6, True),
    ("9.2p1", 4, 6, False),
    ("9.2p1", 2, 6, True),
    ("10.0p1", 4, 6, True),
    ("10.0p1", 0, 6, False),
]


@pytest.mark.parametrize(("version", "interval", "nat", "kept"), NAT_KEPT)
def test_nat_kept_by_sshd(version: str, interval: int, nat: int, kept: bool) -> None:
    assert model.nat_kept_by_sshd(version, interval, nat) is kept


def test_kernel_and_client_formulas() -> None:
    assert model.kernel_dead_peer(3, 1, 4)[:2] == (4, 7)
    assert model.ssh_dead_server(2, 3)[:2] == (6, 8)


@pytest.mark.parametrize("bad", ["", "OpenSSH", "x9.2"])
def test_version_key_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        model.version_key(bad)


JUDGE = [
    ([6.5, 7.0, 8.9], True),     # 8.9 is inside high + tolerance
    ([6.5, 7.0, 9.1], False),    # above high + tolerance
    ([4.9, 7.0, 7.5], False),    # below low - tolerance
    ([7.0, 7.0], False),         # a missing sample fails too
]


@pytest.mark.parametrize(("samples", "passed"), JUDGE)
def test_judge_seconds(samples: list[float], passed: bool) -> None:
    expected = results.seconds_expected(6, 8, formula="f", tolerance=1.0)
    assert results.judge(expected, results.seconds_measured(samples),
                         samples_expected=3) is passed


@pytest.mark.parametrize(("outcomes", "passed"), [(["alive"], True), (["dead"], False),
                                                  ([], False), (["alive", "dead"], False)])
def test_judge_outcome(outcomes: list[str], passed: bool) -> None:
    expected = results.outcome_expected("alive", "")
    assert results.judge(expected, results.outcome_measured(outcomes),
                         samples_expected=1) is passed


def test_seconds_measured_summary() -> None:
    measured = results.seconds_measured([7.456, 6.1, 6.9])
    assert measured["samples"] == [6.1, 6.9, 7.46]
    assert (measured["min"], measured["median"], measured["max"]) == (6.1, 6.9, 7.46)


def test_results_file_replaces_only_its_scenario(tmp_path: Path) -> None:
    path = tmp_path / "behaviour.json"

    def record(scenario: str) -> results.Record:
        return results.Record(scenario, "c", "h", "9.2p1", {"interval": 2},
                              results.seconds_expected(1, 2, formula="f"),
                              results.seconds_measured([1.5]), True)

    results.save_scenario("dead_peer", [record("dead_peer")], seconds=1, lab_run="x", path=path)
    results.save_scenario("stay_alive", [record("stay_alive")], seconds=1, lab_run="x",
                          path=path)
    results.save_scenario("dead_peer", [], seconds=1, lab_run="y", path=path)
    data = json.loads(path.read_text())
    assert [r["scenario"] for r in data["records"]] == ["stay_alive"]
    assert data["scenarios"]["dead_peer"]["lab_run"] == "y"
    assert path.with_suffix(".yml").is_file()


def test_table_lists_every_record() -> None:
    records = [
        results.Record("s", "case-a", "debian12", "9.2p1", {"ClientAliveInterval": 2},
                       results.seconds_expected(12, 16, formula="f"),
                       results.seconds_measured([12.1, 13, 15.5]), True).as_dict(),
        results.Record("s", "case-b", "debian11", "8.4p1", {},
                       results.outcome_expected("dead", ""),
                       results.outcome_measured(["alive"], after_seconds=20), False).as_dict(),
    ]
    text = table.render(records)
    assert "12.1/13/15.5s n=3" in text and "12-16s" in text
    assert "alive (20s)" in text and "FAIL" in text
    assert "2 measurements, 1 failed" in text


@pytest.mark.parametrize(("passed", "known", "status", "ok"), [
    (True, "", "pass", True), (False, "", "fail", False),
    (False, "bug 1", "xfail", True), (True, "bug 1", "xpass", False),
])
def test_known_issue_is_a_strict_xfail(passed: bool, known: str, status: str, ok: bool) -> None:
    record = results.Record("s", "c", "h", "9.2p1", {}, results.outcome_expected("alive", ""),
                            results.outcome_measured(["alive" if passed else "dead"]), passed,
                            known_issue=known)
    assert (record.status, record.ok) == (status, ok)
    assert record.as_dict()["status"] == status


def probe_events(argv: list[str], *, stop_after: float | None = None) -> list[dict]:
    """Run probe.py with its stdin held open (EOF means stop); return its events."""
    proc = subprocess.Popen([sys.executable, str(PROBE), *argv], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    if stop_after is not None:
        time.sleep(stop_after)
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    events = []
    for line in proc.stdout:
        events.append(json.loads(line))
        if events[-1]["ev"] == "done":
            break
    proc.stdin.close()
    proc.wait(timeout=20)
    return events


def run_probe(sessions: list[dict], *, stop_after: float | None = None) -> list[dict]:
    spec = base64.b64encode(json.dumps({"sessions": sessions, "max_seconds": 20}).encode())
    return probe_events(["sessions", spec.decode()], stop_after=stop_after)


def test_probe_drives_a_local_shell() -> None:
    steps = [["send", "echo READY-$$\n"], ["expect", r"READY-(\d+)", 5, "ready"],
             ["idle", 0.2], ["send", "echo ALIVE\n"], ["expect", "ALIVE", 5, "answer"],
             ["send", "exit 3\n"], ["wait_exit", 5]]
    events = run_probe([{"id": "sh", "argv": ["sh"], "steps": steps}])
    done = events[-1]
    assert done["ev"] == "done"
    session = done["sessions"][0]
    assert set(session["marks"]) == {"ready", "answer"}
    assert session["returncode"] == 3
    assert session["marks"]["answer"] - session["marks"]["ready"] >= 0.2


def test_probe_reports_a_missing_answer() -> None:
    steps = [["expect", "NEVER", 0.5, "answer"]]
    events = run_probe([{"id": "cat", "argv": ["cat"], "steps": steps}])
    failed = [e for e in events if e["ev"] == "failed"]
    assert failed and failed[0]["step"] == "answer"
    assert events[-1]["sessions"][0]["failed"] == "answer: timeout"


def test_probe_stops_held_sessions_on_stop() -> None:
    steps = [["hold"]]
    events = run_probe([{"id": "cat", "argv": ["cat"], "steps": steps}], stop_after=0.5)
    assert events[-1]["sessions"][0]["exit_time"] is not None


def test_probe_watch_reports_gone_pids() -> None:
    sleeper = subprocess.Popen(["sleep", "0.3"])
    reaper = threading.Thread(target=sleeper.wait)  # a zombie would keep its /proc entry
    reaper.start()
    events = probe_events(["watch", str(sleeper.pid), "--timeout", "10"])
    reaper.join()
    assert str(sleeper.pid) in events[-1]["gone"]


def test_idle_is_measured_from_go_when_the_session_waited_for_one() -> None:
    waited = {"marks": {"ready": 10.0, "go": 15.0, "answer": 37.0}}
    assert idle_seconds(waited, 20) == 22.0
    # Control: without a go mark the same session counts from ready.
    assert idle_seconds({"marks": {"ready": 10.0, "answer": 37.0}}, 20) == 27.0
