"""The lab as the behavioural harness sees it: hosts, the management path, the lab's hooks.

Everything comes from the inventory that ``tests/lab/labctl.py up`` writes (groups ``servers``
and ``clients``, ``lab_*`` variables; see docs/lab.md). Commands reach the hosts over the
management links (never through the NAT router); sessions under test run FROM the client TO
the servers' data addresses, through the router.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
REMOTE_DIR = "/root/.kassh-behaviour"
REMOTE_PROBE = f"{REMOTE_DIR}/probe.py"


class HarnessError(Exception):
    """The harness could not do what a scenario asked (not a failed expectation)."""


@dataclasses.dataclass(frozen=True)
class Host:
    name: str
    group: str
    mgmt_address: str
    data_address: str
    openssh_version: str
    host_key_sha256: str
    container: str
    hostvars: dict[str, Any]


class Lab:
    """One lab run, read from its inventory file."""

    def __init__(self, inventory: Path) -> None:
        self.inventory = inventory
        data = YAML(typ="safe").load(inventory.read_text(encoding="utf-8"))
        top = data["all"]
        self.vars: dict[str, Any] = dict(top.get("vars") or {})
        self.hosts: dict[str, Host] = {}
        for group, body in (top.get("children") or {}).items():
            for name, hv in ((body or {}).get("hosts") or {}).items():
                self.hosts[name] = Host(
                    name=name, group=group, mgmt_address=str(hv["ansible_host"]),
                    data_address=str(hv["lab_data_address"]),
                    openssh_version=str(hv.get("lab_openssh_version", "")),
                    host_key_sha256=str(hv.get("lab_ssh_host_key_sha256", "")),
                    container=str(hv.get("lab_container", "")), hostvars=dict(hv))
        if not self.servers or not self.clients:
            raise HarnessError(f"{inventory}: no servers or no clients group")

    @property
    def servers(self) -> list[Host]:
        return [h for h in self.hosts.values() if h.group == "servers"]

    @property
    def clients(self) -> list[Host]:
        return [h for h in self.hosts.values() if h.group == "clients"]

    @property
    def client(self) -> Host:
        return self.clients[0]

    @property
    def run_id(self) -> str:
        return str(self.vars.get("lab_run_id", ""))

    # -- management path
    def mgmt_argv(self, host: str, command: str) -> list[str]:
        """ssh over the management link, a connection of its own (no multiplexing)."""
        hv = self.hosts[host].hostvars
        return ["ssh", "-F", "none", "-T", "-i", str(hv["ansible_ssh_private_key_file"]),
                *shlex.split(str(hv.get("ansible_ssh_common_args", ""))),
                "-o", "ControlMaster=no", "-o", "ControlPath=none",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-l", str(hv.get("ansible_user", "root")), self.hosts[host].mgmt_address, command]

    def run(self, host: str, command: str, *, check: bool = True, timeout: float = 60,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.mgmt_argv(host, command), input=input_text, text=True,
                              capture_output=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise HarnessError(f"{host}: `{command}` exited {proc.returncode}: "
                               f"{proc.stderr.strip()[-400:]}")
        return proc

    def push_probe(self) -> None:
        """Copy probe.py to every host (the client runs sessions, servers run watchers)."""
        text = PROBE.read_text(encoding="utf-8")
        errors: list[str] = []

        def push(name: str) -> None:
            try:
                self.run(name, f"mkdir -p {REMOTE_DIR} && cat > {REMOTE_PROBE}", input_text=text)
            except (HarnessError, subprocess.TimeoutExpired) as exc:
                errors.append(str(exc))

        threads = [threading.Thread(target=push, args=(n,)) for n in self.hosts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise HarnessError("; ".join(errors))

    # -- the lab's hooks (tests/lab/labctl.py)
    def hook(self, *args: str) -> tuple[float, float]:
        """Run a labctl hook; return the monotonic times just before and just after it."""
        argv = [*shlex.split(str(self.vars["lab_ctl"])), *args]
        before = time.monotonic()
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=60, check=False)
        after = time.monotonic()
        if proc.returncode != 0:
            raise HarnessError(f"labctl {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
        return before, after

    def nat_timeout(self, seconds: int) -> None:
        self.hook("nat-timeout", str(seconds))

    def blackhole(self, host: str) -> tuple[float, float]:
        return self.hook("blackhole", host)

    def restore_all(self) -> None:
        self.hook("restore", "all")


class RemoteProcess:
    """probe.py running on a lab host over the management path, its JSON events collected."""

    def __init__(self, lab: Lab, host: str, args: list[str], *, name: str = "") -> None:
        self.host = host
        self.name = name or host
        command = shlex.join(["python3", REMOTE_PROBE, *args])
        self.events: list[dict[str, Any]] = []
        self.done: dict[str, Any] | None = None
        self.changed = threading.Condition()
        self.proc = subprocess.Popen(lab.mgmt_argv(host, command), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self.changed:
                self.events.append(event)
                if event.get("ev") == "done":
                    self.done = event
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or self.done is not None or not self._reader.is_alive():
                    return predicate(self.events)
                self.changed.wait(min(left, 0.5))
        return True

    def send(self, line: str) -> None:
        """A control line for probe.py (``go``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        """Ask the probe to stop (it ends what still runs) and return its ``done`` event."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        self._reader.join(timeout)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.done is None:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise HarnessError(f"probe on {self.host} ({self.name}) ended without a result: "
                               f"{stderr.strip()[-400:]}")
        return self.done


def marks(events: list[dict[str, Any]], mark: str) -> dict[str, dict[str, Any]]:
    """Session id -> its ``mark`` event of that name."""
    return {e["id"]: e for e in events if e.get("ev") == "mark" and e.get("mark") == mark}


def exits(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in events if e.get("ev") == "exit"}


__all__ = ["HarnessError", "Host", "Lab", "RemoteProcess", "exits", "marks"]
