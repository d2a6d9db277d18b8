"""Build and tear down one lab run: namespaces, links, the NAT router, containers.

Picture (slot ``s``, run id ``ID``)::

    root namespace (Ansible, testinfra, labctl)
      ksIDm0..3 ── 198.19.s.(4i+1)/30 ──veth── mgmt0 198.19.s.(4i+2)/30 in each host's namespace

    client ns  data0 198.18.s.2/30 ──veth── c-client 198.18.s.1   ┐
                                                                  │ router ns kassh-ID-router
    debianNN ns data0 198.18.s.(128+4j+2)/30 ──veth── s-debianNN  ┘ NAT (masquerade) + stateful
                                                                    nftables + conntrack timeout

Each host is a ``--privileged`` podman container joined to its own namespace, sshd as
its main process. The management links never cross the router, so Ansible reaches
every host whatever the data path is doing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .hostprep import PODMAN_RUNTIME, PODMAN_ULIMITS
from .shell import LabError, netns, run
from .state import RunState, claim_slot, dump_yaml, load_yaml, release_slot, yaml_rt

LABCTL = Path(__file__).resolve().parent.parent / "labctl.py"
DEFAULT_NAT_TIMEOUT = 300


@dataclasses.dataclass(frozen=True)
class HostSpec:
    name: str
    role: str  # "server" or "client"
    image: str  # key of images.RECIPES
    release: str


SERVERS = (
    HostSpec("debian11", "server", "bullseye", "bullseye"),
    HostSpec("debian12", "server", "bookworm", "bookworm"),
    HostSpec("debian13", "server", "trixie", "trixie"),
)
CLIENT = HostSpec("client", "client", "bookworm", "bookworm")


def select_hosts(server_names: list[str] | None) -> list[HostSpec]:
    known = {spec.name: spec for spec in SERVERS}
    names = server_names or list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise LabError(f"unknown server(s) {unknown}; choose from {sorted(known)}")
    return [CLIENT, *(known[name] for name in names)]


def ns_name(run_id: str, host: str) -> str:
    return f"kassh-{run_id}-{host}"


def router_ns(run_id: str) -> str:
    return f"kassh-{run_id}-router"


def root_link(run_id: str, index: int) -> str:
    # IFNAMSIZ: 15 characters at most; "ks" + 6 + "m" + index stays well under.
    return f"ks{run_id}m{index}"


def addresses(slot: int, index: int, spec: HostSpec, server_index: int) -> dict[str, str]:
    """Management and data-path addresses of host ``index`` in slot ``slot``."""
    mgmt_base = 4 * index
    data_base = 4 * index if spec.role == "client" else 128 + 4 * server_index
    return {
        "mgmt_root": f"198.19.{slot}.{mgmt_base + 1}",
        "mgmt_address": f"198.19.{slot}.{mgmt_base + 2}",
        "data_gateway": f"198.18.{slot}.{data_base + 1}",
        "data_address": f"198.18.{slot}.{data_base + 2}",
    }


def client_net(slot: int) -> str:
    return f"198.18.{slot}.0/25"


# ----------------------------------------------------------------------------- router

ROUTER_RULES = """\
table inet kassh {{
    set blackholed {{ type ipv4_addr; }}

    # Rebuilt by the hooks (blackhole, loss); runs before conntrack, so a dropped
    # packet never refreshes a flow.
    chain impair_pre {{ type filter hook prerouting priority -300; policy accept; }}
    chain impair_out {{ type filter hook output priority -300; policy accept; }}
    # Replies to a masqueraded client carry the router's address until conntrack undoes the
    # NAT, so the drop towards a blackholed client happens here, after that.
    chain impair_post {{ type filter hook postrouting priority 300; policy accept; }}

    # A home router: new flows only from the client side, replies by state.
    chain forward_filter {{
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "c-*" oifname "s-*" ct state new tcp flags & (syn | ack) == syn accept
        iifname "c-*" oifname "s-*" ct state new meta l4proto icmp accept
    }}

    chain nat_post {{
        type nat hook postrouting priority 100; policy accept;
        oifname "s-*" ip saddr {client_net} masquerade
    }}
}}
"""


def router_sysctls(nat_timeout: int) -> list[str]:
    return [
        "net.ipv4.ip_forward=1",
        # A mid-flow packet of a forgotten flow must not be picked up again.
        "net.netfilter.nf_conntrack_tcp_loose=0",
        f"net.netfilter.nf_conntrack_tcp_timeout_established={nat_timeout}",
    ]


# ----------------------------------------------------------------------------- build


class LabBuilder:
    """Makes one run; every resource is recorded in the state file before it is made."""

    def __init__(self, state: RunState, hosts: list[HostSpec], nat_timeout: int) -> None:
        self.state = state
        self.hosts = hosts
        self.nat_timeout = nat_timeout
        self.run_id = state.run_id
        self.dir = state.dir

    # -- addressing and keys
    def plan(self) -> None:
        slot = claim_slot(self.run_id, str(self.state.data["checkout"]))
        self.state.data["slot"] = slot
        self.state.data["router"] = {
            "netns": router_ns(self.run_id), "nat_timeout": self.nat_timeout,
        }
        server_index = 0
        for index, spec in enumerate(self.hosts):
            entry = {
                "role": spec.role, "release": spec.release, "image": spec.image,
                "netns": ns_name(self.run_id, spec.name),
                "container": ns_name(self.run_id, spec.name),
                "root_link": root_link(self.run_id, index),
                "router_link": ("c-" if spec.role == "client" else "s-") + spec.name,
                **addresses(slot, index, spec, server_index),
            }
            if spec.role == "server":
                server_index += 1
            self.state.data["hosts"][spec.name] = entry
        self.state.save()

    def keys(self) -> None:
        for key in ("lab_key", "client_key"):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                 f"keepalive-ssh-lab-{self.run_id}-{key}", "-f", str(self.dir / key)])
        lab_pub = (self.dir / "lab_key.pub").read_text(encoding="utf-8")
        client_pub = (self.dir / "client_key.pub").read_text(encoding="utf-8")
        for name, host in self.state.data["hosts"].items():
            files = self.dir / "hosts" / name
            files.mkdir(parents=True, exist_ok=True)
            keys = lab_pub if host["role"] == "client" else lab_pub + client_pub
            (files / "authorized_keys").write_text(keys, encoding="utf-8")
            if host["role"] == "client":
                for suffix in ("", ".pub"):
                    src = self.dir / f"client_key{suffix}"
                    (files / f"id_ed25519{suffix}").write_bytes(src.read_bytes())
                # PuTTY's plink reads only its own key format; it stays under /lab.
                run(["puttygen", str(self.dir / "client_key"), "-O", "private",
                     "-o", str(files / "id_ed25519.ppk")])
        (self.dir / "cp").mkdir(mode=0o700, exist_ok=True)

    # -- network
    def network(self) -> None:
        router = router_ns(self.run_id)
        self._add_netns(router)
        netns(router, ["ip", "link", "set", "lo", "up"])
        for name, host in self.state.data["hosts"].items():
            self._host_network(name, host, router)
        self._router_firewall(router)

    def _add_netns(self, name: str) -> None:
        self.state.record("namespaces", name)
        run(["ip", "netns", "add", name])

    def _host_network(self, name: str, host: Any, router: str) -> None:
        ns = str(host["netns"])
        self._add_netns(ns)
        self.state.record("root_links", str(host["root_link"]))
        run(["ip", "link", "add", str(host["root_link"]), "type", "veth",
             "peer", "name", "mgmt0", "netns", ns])
        run(["ip", "addr", "add", f"{host['mgmt_root']}/30", "dev", str(host["root_link"])])
        run(["ip", "link", "set", str(host["root_link"]), "up"])
        run(["ip", "-n", router, "link", "add", str(host["router_link"]), "type", "veth",
             "peer", "name", "data0", "netns", ns])
        run(["ip", "-n", router, "addr", "add", f"{host['data_gateway']}/30",
             "dev", str(host["router_link"])])
        run(["ip", "-n", router, "link", "set", str(host["router_link"]), "up"])
        for argv in (
            ["link", "set", "lo", "up"],
            ["addr", "add", f"{host['mgmt_address']}/30", "dev", "mgmt0"],
            ["link", "set", "mgmt0", "up"],
            ["addr", "add", f"{host['data_address']}/30", "dev", "data0"],
            ["link", "set", "data0", "up"],
            ["route", "add", "default", "via", str(host["data_gateway"]), "dev", "data0"],
        ):
            run(["ip", "-n", ns, *argv])

    def _router_firewall(self, router: str) -> None:
        rules = ROUTER_RULES.format(client_net=client_net(int(self.state.data["slot"])))
        netns(router, ["nft", "-f", "-"], input_text=rules)
        # The conntrack sysctls appear once the ruleset has loaded conntrack here.
        for item in router_sysctls(self.nat_timeout):
            netns(router, ["sysctl", "-q", "-w", item])

    # -- containers
    def containers(self, image_refs: dict[str, str]) -> None:
        for name, host in self.state.data["hosts"].items():
            container = str(host["container"])
            self.state.record("containers", container)
            host["image_ref"] = image_refs[str(host["image"])]
            run(["podman", "--runtime", PODMAN_RUNTIME, "run", "-d", "--replace",
                 "--name", container, "--hostname", name, "--privileged",
                 "--network", f"ns:/run/netns/{host['netns']}",
                 *[arg for u in PODMAN_ULIMITS for arg in ("--ulimit", u)],
                 "--label", f"keepalive-ssh-lab.run={self.run_id}",
                 "--label", f"keepalive-ssh-lab.host={name}",
                 "--volume", f"{self.dir / 'hosts' / name}:/lab:ro",
                 str(host["image_ref"])], timeout=120)
        self.state.save()

    def host_keys(self) -> None:
        """Known-hosts files for the controller (mgmt) and the client (data path)."""
        controller, client = [], []
        for _name, host in self.state.data["hosts"].items():
            pubs = _exec(str(host["container"]),
                         "cat /etc/ssh/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ecdsa_key.pub "
                         "/etc/ssh/ssh_host_rsa_key.pub").splitlines()
            keys = [" ".join(line.split()[:2]) for line in pubs if line.strip()]
            fingerprint = run(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"],
                              input_text=pubs[0] + "\n").stdout.split()[1]
            host["ssh_host_key_sha256"] = fingerprint
            controller += [f"{host['mgmt_address']} {key}" for key in keys]
            if host["role"] == "server":
                client += [f"{host['data_address']} {key}" for key in keys]
        (self.dir / "known_hosts").write_text("\n".join(controller) + "\n", encoding="utf-8")
        client_ct = next(str(h["container"]) for h in self.state.data["hosts"].values()
                         if h["role"] == "client")
        run(["podman", "exec", "-i", client_ct, "sh", "-c",
             "umask 077; cat > /root/.ssh/known_hosts"], input_text="\n".join(client) + "\n")
        self.state.save()

    def wait_for_ssh(self, timeout: float = 60) -> None:
        for name, host in self.state.data["hosts"].items():
            deadline = time.monotonic() + timeout
            while True:
                proc = run(ssh_argv(self.state, name, "dpkg-query -W -f '${Version}' "
                                    "openssh-server"), check=False, timeout=30)
                if proc.returncode == 0:
                    host["openssh_package"] = proc.stdout.strip()
                    host["openssh_version"] = _upstream_version(proc.stdout.strip())
                    break
                if time.monotonic() > deadline:
                    raise LabError(f"sshd on {name} not reachable over ssh: {proc.stderr}")
                time.sleep(0.5)
        self.state.save()


def _upstream_version(package_version: str) -> str:
    # "1:9.2p1-2+deb12u3" -> "9.2p1"
    return package_version.split(":")[-1].split("-")[0]


def _exec(container: str, script: str) -> str:
    return run(["podman", "exec", container, "sh", "-c", script]).stdout


def ssh_base(state: RunState) -> list[str]:
    directory = state.dir
    return [
        "ssh", "-F", "none", "-i", str(directory / "lab_key"), "-l", "root",
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={directory / 'known_hosts'}",
        "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5",
    ]


def ssh_argv(state: RunState, host: str, command: str) -> list[str]:
    address = str(state.data["hosts"][host]["mgmt_address"])
    return [*ssh_base(state), address, command]


# ----------------------------------------------------------------------------- files for Ansible


def write_ssh_config(state: RunState) -> Path:
    lines = [f"# ssh -F {state.dir / 'ssh_config'} HOST   (keepalive.ssh lab {state.run_id})"]
    for name, host in state.data["hosts"].items():
        lines += [
            f"Host {name}", f"    HostName {host['mgmt_address']}", "    User root",
            f"    IdentityFile {state.dir / 'lab_key'}", "    IdentitiesOnly yes",
            f"    UserKnownHostsFile {state.dir / 'known_hosts'}",
            "    StrictHostKeyChecking yes", "",
        ]
    path = state.dir / "ssh_config"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def lab_ctl_argv(state: RunState) -> list[str]:
    return [sys.executable, str(LABCTL), "--state", str(state.path)]


def write_inventory(state: RunState, path: Path) -> Path:
    """Write (or update in place, keeping a person's comments) the lab's inventory."""
    yaml = yaml_rt()
    if path.is_file():
        data = load_yaml(path) or yaml.load("{}")
    else:
        data = yaml.load(
            "# keepalive.ssh lab inventory, written by tests/lab/labctl.py.\n"
            "# The contract (groups, lab_* variables) is in docs/lab.md.\n"
            "all:\n  children: {}\n  vars: {}\n")
    hosts = state.data["hosts"]
    servers = {name: h for name, h in hosts.items() if h["role"] == "server"}
    clients = {name: h for name, h in hosts.items() if h["role"] == "client"}
    group_vars = data["all"].setdefault("vars", {})
    group_vars.update({
        "lab_run_id": state.run_id,
        "lab_state_file": str(state.path),
        "lab_ctl": shlex.join(lab_ctl_argv(state)),
        "lab_nat_timeout": int(state.data["router"]["nat_timeout"]),
    })
    children = data["all"].setdefault("children", {})
    for group, members in (("servers", servers), ("clients", clients)):
        group_hosts = children.setdefault(group, {}).setdefault("hosts", {})
        for stale in [name for name in group_hosts if name not in members]:
            del group_hosts[stale]
        for name, host in members.items():
            entry = group_hosts.get(name) or {}
            entry.update(_host_vars(state, name, host))
            if group == "clients":
                entry["lab_servers"] = {s: str(h["data_address"]) for s, h in servers.items()}
                entry["lab_client_key"] = "/root/.ssh/id_ed25519"
                entry["lab_client_ppk"] = "/lab/id_ed25519.ppk"
            group_hosts[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    dump_yaml(data, path)
    return path


def _host_vars(state: RunState, name: str, host: Any) -> dict[str, Any]:
    directory = state.dir
    return {
        "ansible_host": str(host["mgmt_address"]),
        "ansible_port": 22,
        "ansible_user": "root",
        "ansible_ssh_private_key_file": str(directory / "lab_key"),
        # ControlPath here too: testinfra builds its ssh command from these arguments,
        # and teardown ends every master under the run's cp/ directory.
        "ansible_ssh_common_args": (
            f"-o UserKnownHostsFile={directory / 'known_hosts'} "
            "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes "
            f"-o ControlPath={directory / 'cp'}/%C"),
        "ansible_ssh_args": "-C -o ControlMaster=auto -o ControlPersist=60s",
        "ansible_control_path_dir": str(directory / "cp"),
        "ansible_python_interpreter": "/usr/bin/python3",
        "lab_data_address": str(host["data_address"]),
        "lab_mgmt_address": str(host["mgmt_address"]),
        "lab_release": str(host["release"]),
        "lab_openssh_version": str(host.get("openssh_version", "")),
        "lab_ssh_host_key_sha256": str(host.get("ssh_host_key_sha256", "")),
        "lab_netns": str(host["netns"]),
        "lab_container": str(host["container"]),
    }


def write_instance_config(state: RunState, path: Path) -> Path:
    """Molecule's instance config (default driver): one entry per host."""
    data = yaml_rt().load("[]")
    for name, host in state.data["hosts"].items():
        data.append({
            "instance": name, "address": str(host["mgmt_address"]), "user": "root",
            "port": 22, "identity_file": str(state.dir / "lab_key"), "connection": "ssh",
        })
    dump_yaml(data, path)
    return path


# ----------------------------------------------------------------------------- teardown


def teardown(state: RunState, *, keep_dir: bool = False) -> list[str]:
    """Remove everything the run made; tolerate what is already gone. Returns problems."""
    problems: list[str] = []
    run_id = state.run_id
    _close_control_masters(state)
    containers = set(map(str, state.data.get("containers") or []))
    labelled = run(["podman", "ps", "-a", "--format", "{{.Names}}",
                    "--filter", f"label=keepalive-ssh-lab.run={run_id}"], check=False)
    containers.update(labelled.stdout.split())
    if containers:
        proc = run(["podman", "rm", "-f", "-t", "0", "--ignore", *sorted(containers)],
                   check=False, timeout=180)
        if proc.returncode != 0:
            problems.append(f"podman rm: {proc.stderr.strip()}")
    namespaces = set(map(str, state.data.get("namespaces") or []))
    namespaces.update(p.name for p in Path("/run/netns").glob(f"kassh-{run_id}-*"))
    for name in sorted(namespaces):
        _kill_namespace_processes(name)
        if Path("/run/netns", name).exists():
            proc = run(["ip", "netns", "del", name], check=False)
            if proc.returncode != 0:
                problems.append(f"ip netns del {name}: {proc.stderr.strip()}")
    links = set(map(str, state.data.get("root_links") or []))
    for link in sorted(links):
        if Path("/sys/class/net", link).exists():
            run(["ip", "link", "del", link], check=False)
    release_slot(state.data.get("slot"), run_id)
    if not keep_dir:
        state.remove_dir()
    return problems


def _close_control_masters(state: RunState) -> None:
    control_dir = state.dir / "cp"
    for sock in control_dir.glob("*") if control_dir.is_dir() else []:
        run(["ssh", "-o", f"ControlPath={sock}", "-O", "exit", "lab"], check=False, timeout=10)
    _kill_control_masters(str(control_dir))


def _kill_control_masters(control_dir: str) -> None:
    """SIGTERM ssh masters left behind by Ansible's ControlPersist for this run.

    Only ``ssh`` processes whose command line names this run's control directory
    are touched: those were started for this run and for nothing else.
    """
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            comm = (proc_dir / "comm").read_text().strip()
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if comm == "ssh" and control_dir in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc_dir.name), signal.SIGTERM)


def _kill_namespace_processes(name: str) -> None:
    """Processes left in one of the run's namespaces (e.g. a test's ssh session)."""
    for _attempt in range(3):
        proc = run(["ip", "netns", "pids", name], check=False)
        pids = [int(p) for p in proc.stdout.split() if p.isdigit() and int(p) != os.getpid()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def ns_exec(state: RunState, host: str, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return netns(str(state.data["hosts"][host]["netns"]), argv, **kwargs)


__all__ = [
    "CLIENT", "DEFAULT_NAT_TIMEOUT", "LabBuilder", "SERVERS", "lab_ctl_argv", "ns_exec",
    "select_hosts", "ssh_argv", "ssh_base", "teardown", "write_inventory",
    "write_instance_config", "write_ssh_config",
]
