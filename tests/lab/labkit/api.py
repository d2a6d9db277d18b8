"""The lab for Python code (tests, the demo): the same operations as labctl.py.

    from labkit.api import Lab
    with Lab.up(servers=["debian12"]) as lab:       # torn down on leaving the block
        lab.nat_timeout(6)
        print(lab.probe("debian12", idle=15, options=["ServerAliveInterval=2"]))

    lab = Lab.load()          # a run made elsewhere: --state/$KASSH_LAB_STATE/$KASSH_LAB_RUN
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from . import hooks, hostprep, images, topology
from .shell import PhaseClock, log, run
from .state import RunState, new_run_id, resolve_state, valid_run_id


class Lab:
    """One lab run, addressed through its state file."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def up(
        cls,
        *,
        servers: list[str] | None = None,
        nat_timeout: int = topology.DEFAULT_NAT_TIMEOUT,
        run_id: str | None = None,
        checkout: str = str(Path(__file__).resolve().parents[3]),
        clock: PhaseClock | None = None,
        keep_on_failure: bool = False,
    ) -> Lab:
        clock = clock or PhaseClock()
        hosts = topology.select_hosts(servers)
        with clock.phase("host packages + podman"):
            hostprep.prepare_host()
        with clock.phase("images"):
            refs = images.ensure_images(sorted({spec.image for spec in hosts}))
        state = RunState.create(valid_run_id(run_id) if run_id else new_run_id(), checkout)
        builder = topology.LabBuilder(state, hosts, nat_timeout)
        try:
            with clock.phase("addresses + keys"):
                builder.plan()
                builder.keys()
            with clock.phase("namespaces + router"):
                builder.network()
            with clock.phase("containers"):
                builder.containers(refs)
                builder.host_keys()
            with clock.phase("sshd reachable"):
                builder.wait_for_ssh()
            topology.write_ssh_config(state)
            topology.write_inventory(state, state.dir / "inventory.yml")
        except BaseException:
            if not keep_on_failure:
                log(f"lab {state.run_id} failed to come up; tearing down what was made")
                topology.teardown(state)
            raise
        state.data["timings"] = {name: round(took, 1) for name, took in clock.phases}
        state.save()
        return cls(state)

    @classmethod
    def load(cls, *, state: str | None = None, run_id: str | None = None) -> Lab:
        return cls(RunState.load(resolve_state(state=state, run_id=run_id)))

    def down(self) -> list[str]:
        return topology.teardown(self.state)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.down()

    # ------------------------------------------------------------------ facts
    @property
    def run_id(self) -> str:
        return self.state.run_id

    @property
    def inventory(self) -> Path:
        return self.state.dir / "inventory.yml"

    @property
    def hosts(self) -> dict[str, Any]:
        return dict(self.state.data["hosts"])

    @property
    def servers(self) -> list[str]:
        return [name for name, h in self.hosts.items() if h["role"] == "server"]

    @property
    def client(self) -> str:
        return next(name for name, h in self.hosts.items() if h["role"] == "client")

    # ------------------------------------------------------------------ doing things
    def ssh(self, host: str, command: str, *, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a shell command on a host over the management path (real SSH)."""
        return run(topology.ssh_argv(self.state, host, command), check=check, timeout=timeout)

    def exec(self, host: str, argv: list[str], *, check: bool = True,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run argv inside a host's container (no SSH involved)."""
        return run(["podman", "exec", str(self.hosts[host]["container"]), *argv],
                   check=check, timeout=timeout)

    def nat_timeout(self, seconds: int) -> None:
        hooks.nat_timeout(self.state, seconds)

    def blackhole(self, host: str) -> None:
        hooks.blackhole(self.state, host)

    def restore(self, host: str = "all") -> None:
        hooks.restore(self.state, host)

    def loss(self, host: str, percent: int) -> None:
        hooks.loss(self.state, host, percent)

    def status(self) -> dict[str, Any]:
        return hooks.status(self.state)

    def probe(self, server: str, *, idle: float, options: list[str] | None = None,
              timeout: float = 60) -> dict[str, Any]:
        """Open an ssh session from the client to a server through the router, leave it
        idle, then ask for output: did the session survive the idle period?"""
        target = str(self.hosts[server]["data_address"])
        opts = [arg for opt in options or [] for arg in ("-o", opt)]
        # `timeout` inside the client bounds a session that hangs on a forgotten flow.
        argv = ["timeout", str(int(timeout)), "ssh", "-o", "BatchMode=yes", *opts,
                f"root@{target}", f"sleep {idle}; echo session-alive"]
        start = time.monotonic()
        proc = self.exec(self.client, argv, check=False, timeout=timeout + 30)
        return {
            "server": server, "idle_seconds": idle, "options": options or [],
            "survived": "session-alive" in proc.stdout, "exit_code": proc.returncode,
            "seconds": round(time.monotonic() - start, 1),
            "stderr": proc.stderr.strip()[-300:],
        }


__all__ = ["Lab"]
