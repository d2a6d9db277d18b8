"""Session specs for probe.py and the runner that starts a batch of them on the client.

A session runs FROM the lab client TO a server's data address, so it crosses the NAT router.
Its first step prints ``READY-$PPID``: the shell's parent is the session's sshd process on
the server (``sshd: root@notty`` before 9.8, ``sshd-session`` from 9.8 on), which a watcher
on the server can then follow.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from typing import Any

from .lab import Host, Lab, RemoteProcess, marks

READY = [["send", "echo READY-$PPID\n"], ["expect", r"READY-(\d+)", 30, "ready"]]


def ssh_argv(server: Host, *, login: str = "root", tty: bool = False,
             options: dict[str, Any] | None = None, extra: list[str] | None = None,
             command: str | None = None) -> list[str]:
    argv = ["ssh", "-tt" if tty else "-T", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
    for key, value in (options or {}).items():
        argv += ["-o", f"{key}={value}"]
    argv += [*(extra or []), f"{login}@{server.data_address}"]
    return argv + ([command] if command else [])


def plink_argv(server: Host, session: str) -> list[str]:
    """plink with a saved session (~/.putty/sessions/NAME) that names the host and key."""
    return ["plink", "-batch", "-T", "-load", session, "-hostkey", server.host_key_sha256]


def idle_then_answer(idle: float, deadline: float, *, after_go: float | None = None) -> list[list[Any]]:
    """Log in, say ready, stay silent ``idle`` seconds, then ask for an answer.

    With ``after_go``, the silent period starts when the controller says ``go`` (waiting at
    most ``after_go`` seconds for it), so every session of a batch idles in the same window."""
    wait = [["wait_go", after_go]] if after_go is not None else []
    return [*READY, *wait, ["idle", idle], ["send", "echo ALIVE\n"],
            ["expect", "ALIVE", deadline, "answer"]]


def ready_then_hold() -> list[list[Any]]:
    return [*READY, ["hold"]]


def ready_then_wait_exit(timeout: float) -> list[list[Any]]:
    return [*READY, ["wait_exit", timeout]]


@dataclasses.dataclass
class Planned:
    id: str
    case: str
    server: Host
    spec: dict[str, Any]
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


class Batch:
    """Sessions started together by one probe.py on the client."""

    def __init__(self, lab: Lab, label: str) -> None:
        self.lab = lab
        self.label = label
        self.planned: list[Planned] = []
        self.probe: RemoteProcess | None = None
        self.done: dict[str, Any] | None = None

    def add(self, case: str, server: Host, argv: list[str], steps: list[list[Any]], *,
            user: str = "root", delay: float = 0.0, index: int = 0,
            **meta: Any) -> Planned:
        sid = f"{case}@{server.name}#{index}"
        spec = {"id": sid, "argv": argv, "steps": steps, "user": user, "delay": delay}
        planned = Planned(sid, case, server, spec, dict(meta))
        self.planned.append(planned)
        return planned

    def start(self, *, max_seconds: float = 300) -> RemoteProcess:
        payload = {"sessions": [p.spec for p in self.planned], "max_seconds": max_seconds}
        spec_b64 = base64.b64encode(json.dumps(payload).encode()).decode()
        print(f"[behaviour] {self.label}: {len(self.planned)} sessions from "
              f"{self.lab.client.name}", flush=True)
        self.probe = RemoteProcess(self.lab, self.lab.client.name, ["sessions", spec_b64],
                                   name=self.label)
        return self.probe

    def wait_ready(self, timeout: float = 60) -> dict[str, dict[str, Any]]:
        """Wait until every session said READY (or failed); return id -> ready event."""
        assert self.probe is not None
        wanted = {p.id for p in self.planned}

        def settled(events: list[dict[str, Any]]) -> bool:
            ready = set(marks(events, "ready"))
            failed = {e["id"] for e in events if e.get("ev") in ("failed", "exit")}
            return wanted <= ready | failed

        self.probe.wait_for(settled, timeout)
        return marks(self.probe.events, "ready")

    def wait_all_exited(self, timeout: float, ids: set[str] | None = None) -> None:
        assert self.probe is not None
        wanted = ids or {p.id for p in self.planned}
        self.probe.wait_for(
            lambda events: wanted <= {e["id"] for e in events if e.get("ev") == "exit"}, timeout)

    def wait_until(self, seconds: float) -> None:
        """Sleep, but no longer than needed: the probe may finish earlier."""
        assert self.probe is not None
        self.probe.wait_for(lambda _e: False, seconds)

    def finish(self) -> dict[str, dict[str, Any]]:
        """Stop the probe; return id -> the session's record (marks, exit, output)."""
        assert self.probe is not None
        self.done = self.probe.finish()
        return {s["id"]: s for s in self.done["sessions"]}


def monotonic() -> float:
    return time.monotonic()


__all__ = ["Batch", "Planned", "READY", "idle_then_answer", "monotonic", "plink_argv",
           "ready_then_hold", "ready_then_wait_exit", "ssh_argv"]
