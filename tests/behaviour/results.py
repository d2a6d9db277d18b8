"""Measurements, their expected bounds, and the results file every scenario writes.

One record per measurement (scenario, case, host)::

    scenario, case, host, openssh_version, client_openssh_version,
    settings    {keyword or knob: value}; dead-peer records always name
                mechanism, interval, countmax, tcp_keepalive_time/intvl/probes
    expected    {"kind": "seconds", "low", "high", "tolerance", "formula", "text"}
                or {"kind": "outcome", "outcome", "text"}
    measured    {"kind": "seconds", "samples", "min", "median", "max", "n"}
                or {"kind": "outcome", "outcome", "outcomes", "samples", ...}
    pass        every sample inside [low - tolerance, high + tolerance], or the outcome seen
    status      pass, fail, or for a measurement marked with a known issue (a bug reported
                elsewhere): xfail while it fails, xpass (a failure of the run, as pytest's
                strict xfail) once it passes, so the mark is removed when the bug is fixed
    known_issue what is known to be wrong, and where
    detail      evidence (client error text, sshd log lines, ...)

The file (tests/output/results/behaviour.json, and the same as .yml) holds the records of
every scenario that ran; a scenario replaces only its own records.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import os
import statistics
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CHECKOUT = Path(__file__).resolve().parent.parent.parent
DEFAULT_RESULTS = CHECKOUT / "tests" / "output" / "results" / "behaviour.json"
SCHEMA = 1


def results_path() -> Path:
    return Path(os.environ.get("KASSH_BEHAVIOUR_RESULTS", str(DEFAULT_RESULTS)))


def seconds_expected(low: float, high: float, *, formula: str, text: str = "",
                     tolerance: float = 1.0) -> dict[str, Any]:
    return {"kind": "seconds", "low": round(low, 2), "high": round(high, 2),
            "tolerance": tolerance, "formula": formula, "text": text}


def outcome_expected(outcome: str, text: str) -> dict[str, Any]:
    return {"kind": "outcome", "outcome": outcome, "text": text}


def seconds_measured(samples: list[float]) -> dict[str, Any]:
    values = sorted(round(s, 2) for s in samples)
    if not values:
        return {"kind": "seconds", "samples": [], "n": 0, "min": None, "median": None,
                "max": None}
    return {"kind": "seconds", "samples": values, "n": len(values), "min": values[0],
            "median": round(statistics.median(values), 2), "max": values[-1]}


def outcome_measured(outcomes: list[str], **extra: Any) -> dict[str, Any]:
    distinct = sorted(set(outcomes))
    summary = distinct[0] if len(distinct) == 1 else "mixed"
    return {"kind": "outcome", "outcome": summary, "outcomes": outcomes, **extra}


def judge(expected: dict[str, Any], measured: dict[str, Any], *, samples_expected: int) -> bool:
    """Did the measurement meet the expectation (and is it complete)?"""
    if expected["kind"] == "seconds":
        samples = measured.get("samples") or []
        if len(samples) < samples_expected:
            return False
        low = expected["low"] - expected["tolerance"]
        high = expected["high"] + expected["tolerance"]
        return all(low <= s <= high for s in samples)
    outcomes = measured.get("outcomes") or []
    return len(outcomes) >= samples_expected and all(
        o == expected["outcome"] for o in outcomes)


@dataclasses.dataclass
class Record:
    scenario: str
    case: str
    host: str
    openssh_version: str
    settings: dict[str, Any]
    expected: dict[str, Any]
    measured: dict[str, Any]
    passed: bool
    client_openssh_version: str = ""
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
    lab_run: str = ""
    known_issue: str = ""

    @property
    def status(self) -> str:
        if self.known_issue:
            return "xpass" if self.passed else "xfail"
        return "pass" if self.passed else "fail"

    @property
    def ok(self) -> bool:
        """Does this record let the run pass?"""
        return self.status in ("pass", "xfail")

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "case": self.case, "host": self.host,
            "openssh_version": self.openssh_version,
            "client_openssh_version": self.client_openssh_version,
            "settings": self.settings, "expected": self.expected, "measured": self.measured,
            "pass": self.passed, "status": self.status, "known_issue": self.known_issue,
            "detail": self.detail, "lab_run": self.lab_run,
        }


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or results_path()
    if not path.is_file():
        return {"schema": SCHEMA, "records": [], "scenarios": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("records", [])
    data.setdefault("scenarios", {})
    return data


def save_scenario(scenario: str, records: list[Record], *, seconds: float, lab_run: str,
                  path: Path | None = None, notes: dict[str, Any] | None = None) -> Path:
    """Replace this scenario's records in the results file (JSON and YAML twins)."""
    path = path or results_path()
    data = load(path)
    data["schema"] = SCHEMA
    data["records"] = [r for r in data["records"] if r.get("scenario") != scenario]
    data["records"] += [r.as_dict() for r in records]
    data["scenarios"][scenario] = {
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1), "lab_run": lab_run,
        "records": len(records), "passed": all(r.ok for r in records),
        **(notes or {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(data, buf)
    _write_atomic(path.with_suffix(".yml"), buf.getvalue())
    return path


def drop_scenarios(scenarios: list[str], path: Path | None = None) -> None:
    """Forget earlier records of these scenarios (before running them again)."""
    path = path or results_path()
    if not path.is_file():
        return
    data = load(path)
    data["records"] = [r for r in data["records"] if r.get("scenario") not in scenarios]
    for name in scenarios:
        data["scenarios"].pop(name, None)
    _write_atomic(path, json.dumps(data, indent=2) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


__all__ = [
    "DEFAULT_RESULTS", "Record", "drop_scenarios", "judge", "load", "outcome_expected", "outcome_measured",
    "results_path", "save_scenario", "seconds_expected", "seconds_measured",
]
