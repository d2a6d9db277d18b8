"""Helpers shared by the scenarios: turning session records into measurement records."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..lab import Host, Lab
from ..results import Record, judge, outcome_expected, outcome_measured

ALIVE, DEAD, NO_LOGIN = "alive", "dead", "no-login"


@dataclasses.dataclass
class Context:
    """What a scenario needs: the lab and the list its records go to (kept on failure)."""

    lab: Lab
    scenario: str
    records: list[Record] = dataclasses.field(default_factory=list)
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)
    # case -> a bug reported elsewhere that makes it fail today (strict xfail)
    known_issues: dict[str, str] = dataclasses.field(default_factory=dict)

    def add(self, record: Record) -> Record:
        record.known_issue = self.known_issues.get(record.case, "")
        self.records.append(record)
        mark = {"pass": "ok  ", "fail": "FAIL", "xfail": "xfail", "xpass": "XPASS"}[record.status]
        print(f"[behaviour] {mark} {record.scenario}/{record.case} {record.host} "
              f"({record.openssh_version}): expected {_short(record.expected)}, "
              f"measured {_short(record.measured)}", flush=True)
        return record

    def record(self, case: str, server: Host, *, settings: dict[str, Any],
               expected: dict[str, Any], measured: dict[str, Any], samples: int = 1,
               detail: dict[str, Any] | None = None) -> Record:
        return self.add(Record(
            scenario=self.scenario, case=case, host=server.name,
            openssh_version=server.openssh_version,
            client_openssh_version=self.lab.client.openssh_version,
            settings=settings, expected=expected, measured=measured,
            passed=judge(expected, measured, samples_expected=samples),
            detail=detail or {}, lab_run=self.lab.run_id))


def _short(part: dict[str, Any]) -> str:
    if part.get("kind") == "seconds":
        if "low" in part:
            return f"{part['low']:g}-{part['high']:g}s"
        return f"{part.get('min')}/{part.get('median')}/{part.get('max')}s"
    return str(part.get("outcome"))


def answer_outcome(session: dict[str, Any]) -> str:
    """alive: the command after the idle period was answered; dead: logged in, no answer."""
    if "ready" not in session["marks"]:
        return NO_LOGIN
    return ALIVE if "answer" in session["marks"] else DEAD


def idle_seconds(session: dict[str, Any], planned_idle: float) -> float:
    """How long the session really stayed silent (ready, or go when it waited for one, to the question)."""
    ready = session["marks"].get("go", session["marks"].get("ready"))
    answer = session["marks"].get("answer")
    if ready is None:
        return 0.0
    if answer is not None:
        return round(answer - ready, 1)
    return float(planned_idle)


def gone_after(done: dict[str, Any], pids: dict[str, str], t0: float) -> dict[str, float | None]:
    """Session id -> seconds from ``t0`` until a watcher saw its process go (None: it never went)."""
    gone: dict[str, float | None] = {}
    for sid, pid in pids.items():
        when = done["gone"].get(pid)
        gone[sid] = None if when is None else round(when - t0, 2)
    return gone


def error_text(session: dict[str, Any]) -> str:
    lines = [ln.strip() for ln in (session.get("stderr_tail") or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def outcome_record(ctx: Context, case: str, server: Host, session: dict[str, Any], *,
                   expected_outcome: str, text: str, settings: dict[str, Any],
                   planned_idle: float) -> Record:
    outcome = answer_outcome(session)
    measured = outcome_measured([outcome], after_seconds=idle_seconds(session, planned_idle))
    return ctx.record(case, server, settings=settings,
                      expected=outcome_expected(expected_outcome, text), measured=measured,
                      detail={"session": session["id"], "failed_step": session.get("failed"),
                              "client_error": error_text(session)})


__all__ = ["ALIVE", "Context", "DEAD", "NO_LOGIN", "answer_outcome", "error_text",
           "gone_after", "idle_seconds", "outcome_record"]
