"""A fleet of identical sshd hosts for the benchmark: many containers of ONE image (bookworm).

Picture (slot ``s``, run id ``ID``)::

    root namespace (ansible-playbook)
      ksIDm0 198.19.s.1/24 ──veth── uplink ─┐
                                            br0   (namespace kassh-ID-switch)
      kassh-ID-fleet001  mgmt0 198.19.s.2 ──┤
      ...                                   │
      kassh-ID-fleetNNN  mgmt0 198.19.s.(N+1)

The management path is the lab's (tests/lab/labkit/topology.py): root namespace, a veth into
the host's own network namespace, ssh as root with the run's key and ControlPersist masters
under the run's ``cp/``. Only the addressing differs: one /24 behind a bridge instead of a /30
per host, so one address slot holds up to 250 hosts. There is no data path and no router: a
fleet only measures configuration runs.

Everything is recorded in a lab run state (``/tmp/kassh-ID/state.yml``) before it is made, with
the lab's names and container labels, so ``labkit.topology.teardown`` (and ``labctl.py down
--checkout``) removes a fleet from any state, like any other lab run.
"""

from __future__ import annotations

import concurrent.futures
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from labkit import hostprep, images, topology  # noqa: E402
from labkit.shell import LabError, log, netns, run  # noqa: E402
from labkit.state import RunState, claim_slot, dump_yaml, new_run_id  # noqa: E402

CHECKOUT = Path(__file__).resolve().parents[2]
IMAGE = "bookworm"
MAX_HOSTS = 250
# Kernel defaults of a fresh network namespace; a reset puts them back, because the
# namespace (and with it what tcp_keepalive wrote) outlives the host's container.
SYSCTLS = ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
           "net.ipv4.tcp_keepalive_probes")
# podman run/rm in parallel: more than this only queues on podman's lock with 2 cores.
PODMAN_WORKERS = 4


def host_name(index: int) -> str:
    return f"fleet{index:03d}"


class Fleet:
    """One fleet run; grows on demand and resets its hosts to the image's stock state."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.run_id = state.run_id
        self.dir = state.dir
        self.switch = f"kassh-{self.run_id}-switch"
        # container name -> (cgroup path, log file); a reset makes new containers and forgets them.
        self._files: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------------ life cycle
    @classmethod
    def create(cls) -> Fleet:
        hostprep.prepare_host()
        image_ref = images.ensure_images([IMAGE])[IMAGE]
        state = RunState.create(new_run_id(), str(CHECKOUT))
        fleet = cls(state)
        try:
            state.data["fleet"] = {"image_ref": image_ref, "size": 0}
            state.data["slot"] = claim_slot(state.run_id, str(CHECKOUT))
            state.save()
            fleet._keys()
            fleet._switch()
        except BaseException:
            fleet.down()
            raise
        return fleet

    def down(self) -> list[str]:
        log(f"tearing down fleet {self.run_id}")
        problems = topology.teardown(self.state)
        for problem in problems:
            log(f"problem: {problem}")
        return problems

    @property
    def size(self) -> int:
        return int(self.state.data["fleet"]["size"])

    @property
    def subnet(self) -> str:
        return f"198.19.{self.state.data['slot']}"

    def address(self, index: int) -> str:
        return f"{self.subnet}.{index + 1}"

    def names(self, count: int) -> list[str]:
        return [host_name(i) for i in range(1, count + 1)]

    # ------------------------------------------------------------------ building
    def _keys(self) -> None:
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
             f"keepalive-ssh-bench-{self.run_id}", "-f", str(self.dir / "lab_key")])
        shared = self.dir / "hosts" / "fleet"
        shared.mkdir(parents=True)
        (shared / "authorized_keys").write_text(
            (self.dir / "lab_key.pub").read_text(encoding="utf-8"), encoding="utf-8")
        (self.dir / "cp").mkdir(mode=0o700)

    def _switch(self) -> None:
        link = topology.root_link(self.run_id, 0)
        self.state.record("namespaces", self.switch)
        run(["ip", "netns", "add", self.switch])
        for argv in (["link", "set", "lo", "up"],
                     ["link", "add", "br0", "type", "bridge"],
                     ["link", "set", "br0", "up"]):
            run(["ip", "-n", self.switch, *argv])
        self.state.record("root_links", link)
        run(["ip", "link", "add", link, "type", "veth", "peer", "name", "uplink",
             "netns", self.switch])
        run(["ip", "addr", "add", f"{self.subnet}.1/24", "dev", link])
        run(["ip", "link", "set", link, "up"])
        run(["ip", "-n", self.switch, "link", "set", "uplink", "master", "br0", "up"])

    def _host_network(self, index: int) -> None:
        name = host_name(index)
        ns = f"kassh-{self.run_id}-{name}"
        port = f"p{index:03d}"
        self.state.record("namespaces", ns)
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", self.switch, "link", "add", port, "type", "veth",
             "peer", "name", "mgmt0", "netns", ns])
        run(["ip", "-n", self.switch, "link", "set", port, "master", "br0", "up"])
        for argv in (["link", "set", "lo", "up"],
                     ["addr", "add", f"{self.address(index)}/24", "dev", "mgmt0"],
                     ["link", "set", "mgmt0", "up"]):
            run(["ip", "-n", ns, *argv])
        if "sysctl_defaults" not in self.state.data["fleet"]:
            defaults = netns(ns, ["sysctl", "-n", *SYSCTLS]).stdout.split()
            self.state.data["fleet"]["sysctl_defaults"] = dict(zip(SYSCTLS, defaults, strict=True))
        self.state.data["hosts"][name] = {
            "role": "server", "netns": ns, "container": ns, "mgmt_address": self.address(index),
        }

    def _start_container(self, name: str) -> None:
        host = self.state.data["hosts"][name]
        run(["podman", "--runtime", hostprep.PODMAN_RUNTIME, "run", "-d", "--replace",
             "--name", str(host["container"]), "--hostname", name, "--privileged",
             "--network", f"ns:/run/netns/{host['netns']}",
             *[arg for u in hostprep.PODMAN_ULIMITS for arg in ("--ulimit", u)],
             "--label", f"keepalive-ssh-lab.run={self.run_id}",
             "--label", f"keepalive-ssh-lab.host={name}",
             "--volume", f"{self.dir / 'hosts' / 'fleet'}:/lab:ro",
             str(self.state.data["fleet"]["image_ref"])], timeout=180)

    def grow(self, count: int) -> float:
        """Have hosts 1..count running and reachable; return the seconds it took."""
        if count > MAX_HOSTS:
            raise LabError(f"a fleet holds at most {MAX_HOSTS} hosts, asked for {count}")
        start = time.monotonic()
        new = list(range(self.size + 1, count + 1))
        if not new:
            return 0.0
        log(f"fleet {self.run_id}: adding {len(new)} hosts ({host_name(new[0])}..{host_name(new[-1])})")
        for index in new:
            self._host_network(index)
        for index in new:
            self.state.record("containers", str(self.state.data["hosts"][host_name(index)]["container"]))
        self._parallel(self._start_container, [host_name(i) for i in new])
        self.state.data["fleet"]["size"] = count
        self.state.save()
        if not (self.dir / "known_hosts").exists():
            self._known_hosts(host_name(1))
        self.wait_for_ssh(self.names(count))
        return time.monotonic() - start

    def _known_hosts(self, sample: str) -> None:
        # Every host runs the same image, whose host keys were made when it was built, so one
        # pattern line per key covers the whole subnet.
        container = str(self.state.data["hosts"][sample]["container"])
        pubs = run(["podman", "exec", container, "sh", "-c",
                    "cat /etc/ssh/ssh_host_*_key.pub"]).stdout.splitlines()
        lines = [f"{self.subnet}.* {' '.join(p.split()[:2])}" for p in pubs if p.strip()]
        (self.dir / "known_hosts").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _parallel(self, work, items: list[str]) -> None:  # type: ignore[no-untyped-def]
        with concurrent.futures.ThreadPoolExecutor(max_workers=PODMAN_WORKERS) as pool:
            for future in [pool.submit(work, item) for item in items]:
                future.result()

    def ssh_argv(self, name: str, command: str) -> list[str]:
        return [*topology.ssh_base(self.state), str(self.state.data["hosts"][name]["mgmt_address"]),
                command]

    def wait_for_ssh(self, names: list[str], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout

        def wait(name: str) -> None:
            while True:
                proc = run(self.ssh_argv(name, "true"), check=False, timeout=30)
                if proc.returncode == 0:
                    return
                if time.monotonic() > deadline:
                    raise LabError(f"sshd on {name} not reachable: {proc.stderr.strip()}")
                time.sleep(0.5)

        self._parallel(wait, names)

    # ------------------------------------------------------------------ measuring
    def cpu_seconds(self, count: int) -> float:
        """CPU time the containers of hosts 1..count have used so far (their cgroups' cpuacct):
        sshd, the shells and the modules a playbook runs there."""
        return sum(_cgroup_cpu_ns(cgroup) for cgroup, _log in self._container_files(count)) / 1e9

    def ssh_logins(self, count: int) -> int:
        """SSH logins the hosts 1..count have accepted so far: sshd is each container's main
        process and logs to the container's log (``sshd -D -e``), one line per login."""
        total = 0
        for _cgroup, log_path in self._container_files(count):
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                total += sum(1 for line in handle if "Accepted publickey" in line)
        return total

    def _container_files(self, count: int) -> list[tuple[str, str]]:
        containers = [str(self.state.data["hosts"][n]["container"]) for n in self.names(count)]
        missing = [c for c in containers if c not in self._files]
        if missing:
            out = run(["podman", "inspect", "--format",
                       "{{.Name}} {{.State.CgroupPath}} {{.HostConfig.LogConfig.Path}}", *missing]).stdout
            for line in out.splitlines():
                name, cgroup, log_path = line.split(" ", 2)
                self._files[name] = (cgroup, log_path)
        return [self._files[c] for c in containers]

    # ------------------------------------------------------------------ between measurements
    def close_masters(self) -> None:
        """End the run's ControlPersist masters, so the next playbook starts cold."""
        for sock in sorted((self.dir / "cp").glob("*")):
            run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "fleet"], check=False, timeout=10)

    def reset(self, count: int) -> float:
        """Hosts 1..count back to the image's stock state: fresh containers, default sysctls."""
        start = time.monotonic()
        self.close_masters()
        defaults = self.state.data["fleet"]["sysctl_defaults"]
        names = self.names(count)
        for name in names:
            netns(str(self.state.data["hosts"][name]["netns"]),
                  ["sysctl", "-q", "-w", *[f"{k}={v}" for k, v in defaults.items()]])
        self._parallel(self._start_container, names)  # --replace: the old container goes
        for name in names:
            self._files.pop(str(self.state.data["hosts"][name]["container"]), None)
        self.wait_for_ssh(names)
        return time.monotonic() - start

    def write_inventory(self, count: int, path: Path, *, control_persist: str = "60s") -> Path:
        """Group ``servers`` with hosts 1..count and the lab's connection variables."""
        hosts = {}
        for name in self.names(count):
            host = self.state.data["hosts"][name]
            hosts[name] = {
                "ansible_host": str(host["mgmt_address"]),
                "lab_container": str(host["container"]),
                "lab_netns": str(host["netns"]),
            }
        directory = self.dir
        data = {"all": {
            "vars": {
                # The lab's connection settings (labkit/topology.py _host_vars), once for all.
                "ansible_user": "root",
                "ansible_port": 22,
                "ansible_ssh_private_key_file": str(directory / "lab_key"),
                "ansible_ssh_common_args": (
                    f"-o UserKnownHostsFile={directory / 'known_hosts'} "
                    "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes "
                    f"-o ControlPath={directory / 'cp'}/%C"),
                "ansible_ssh_args": f"-C -o ControlMaster=auto -o ControlPersist={control_persist}",
                "ansible_control_path_dir": str(directory / "cp"),
                "ansible_python_interpreter": "/usr/bin/python3",
                "lab_run_id": self.run_id,
            },
            "children": {"servers": {"hosts": hosts}, "clients": {"hosts": {}}},
        }}
        path.parent.mkdir(parents=True, exist_ok=True)
        dump_yaml(data, path)
        return path


def _cgroup_cpu_ns(path: str) -> int:
    """CPU nanoseconds a container's cgroup has used: cgroup v1 cpuacct, or v2 cpu.stat."""
    v1 = Path("/sys/fs/cgroup/cpuacct", path.lstrip("/"), "cpuacct.usage")
    if v1.is_file():
        return int(v1.read_text(encoding="utf-8"))
    v2 = Path("/sys/fs/cgroup", path.lstrip("/"), "cpu.stat")
    for line in v2.read_text(encoding="utf-8").splitlines():
        if line.startswith("usage_usec "):
            return int(line.split()[1]) * 1000
    raise LabError(f"no CPU accounting found for cgroup {path}")


def main(argv: list[str]) -> int:
    """``fleet.py up N``: a fleet of N hosts left running (for poking at by hand); prints its
    inventory. Remove it with ``tests/lab/labctl.py --run-id ID down`` (or ``--checkout``)."""
    if len(argv) != 2 or argv[0] != "up" or not argv[1].isdigit():
        print("usage: fleet.py up N   (remove with tests/lab/labctl.py --run-id ID down)", file=sys.stderr)
        return 2
    fleet = Fleet.create()
    try:
        fleet.grow(int(argv[1]))
        inventory = fleet.write_inventory(int(argv[1]), fleet.dir / "inventory.yml")
    except BaseException:
        fleet.down()
        raise
    print(f"run_id: {fleet.run_id}\ninventory: {inventory}")
    return 0


__all__ = ["Fleet", "host_name"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
