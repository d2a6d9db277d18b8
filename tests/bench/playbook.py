"""Run ansible-playbook for the benchmark: timed, its output kept in a log, its recap parsed."""

from __future__ import annotations

import dataclasses
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
KEEPALIVE_PLAYBOOK = CHECKOUT / "playbooks" / "keepalive.yml"
RECIPE_PLAYBOOK = Path(__file__).resolve().parent / "recipe.yml"
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)")


class PlaybookError(Exception):
    """A playbook run did not do what the measurement needs (failed, or changed the wrong amount)."""


@dataclasses.dataclass
class Run:
    label: str
    seconds: float
    controller_cpu_seconds: float
    rc: int
    recap: dict[str, dict[str, int]]
    log: Path
    # The machine's 1-minute load average when the run ended: other work shares the cores.
    load_1min: float = 0.0
    # CPU the managed hosts spent during the run (sshd, shells, modules), when measured.
    hosts_cpu_seconds: float = 0.0
    # SSH logins the hosts accepted during the run, when counted.
    ssh_logins: int = 0

    @property
    def cpu_seconds(self) -> float:
        """Controller plus hosts: the run's CPU cost, which other load on the machine does not
        inflate the way it inflates wall time."""
        return self.controller_cpu_seconds + self.hosts_cpu_seconds

    @property
    def changed_hosts(self) -> int:
        return sum(1 for counts in self.recap.values() if counts["changed"] > 0)

    def check(self, *, hosts: int, changed: bool) -> Run:
        """Every host reached, none failed, and each changed (first converge) or none did (no-op)."""
        bad = {h: c for h, c in self.recap.items() if c["failed"] or c["unreachable"]}
        if self.rc != 0 or bad or len(self.recap) != hosts:
            raise PlaybookError(f"{self.label}: rc={self.rc}, {len(self.recap)}/{hosts} hosts in the "
                                f"recap, failed or unreachable: {sorted(bad)[:5]}; see {self.log}")
        want = hosts if changed else 0
        if self.changed_hosts != want:
            raise PlaybookError(f"{self.label}: {self.changed_hosts} hosts changed, expected {want} "
                                f"(a no-op run must change nothing, a first converge every host); "
                                f"see {self.log}")
        return self


def ansible_env(*, forks: int, pipelining: bool) -> dict[str, str]:
    """The collection by name from the build tree (`make build-tree`), Ansible's defaults otherwise."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(CHECKOUT / ".build"),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_PIPELINING": "true" if pipelining else "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_GALAXY_SERVER_LIST": "",
        "PATH": f"{bin_dir}:{env.get('PATH', '')}",
    })
    return env


def run_playbook(playbook: Path, inventory: Path, *, label: str, log: Path, forks: int = 20,
                 pipelining: bool = False, verbose: bool = False, limit: str | None = None,
                 timeout: float = 3600, hosts_cpu: Callable[[], float] | None = None,
                 logins: Callable[[], int] | None = None) -> Run:
    """Run one playbook to completion; wall and controller CPU seconds, recap per host."""
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
            *(["-vvv"] if verbose else []), *(["--limit", limit] if limit else []), str(playbook)]
    log.parent.mkdir(parents=True, exist_ok=True)
    hosts_before = hosts_cpu() if hosts_cpu else 0.0
    logins_before = logins() if logins else 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run(argv, cwd=CHECKOUT, env=ansible_env(forks=forks, pipelining=pipelining),
                              stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    hosts = hosts_cpu() - hosts_before if hosts_cpu else 0.0
    new_logins = logins() - logins_before if logins else 0
    recap = parse_recap(log.read_text(encoding="utf-8", errors="replace"))
    print(f"[bench]   {label}: {seconds:.1f}s wall, CPU {cpu:.1f}s controller + {hosts:.1f}s hosts, "
          f"{new_logins} SSH logins, load {os.getloadavg()[0]:.1f}, rc={proc.returncode}, "
          f"{sum(1 for c in recap.values() if c['changed'])}/{len(recap)} hosts changed", flush=True)
    return Run(label, seconds, cpu, proc.returncode, recap, log, round(os.getloadavg()[0], 2), hosts, new_logins)


def parse_recap(text: str) -> dict[str, dict[str, int]]:
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for line in text.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = RECAP.match(line) if in_recap else None
        if match:
            recap[match["host"]] = {k: int(v) for k, v in match.groupdict().items() if k != "host"}
    return recap


__all__ = ["KEEPALIVE_PLAYBOOK", "RECIPE_PLAYBOOK", "PlaybookError", "Run", "ansible_env",
           "parse_recap", "run_playbook"]
