"""What scenarios do to the data path: NAT timeout, blackholes and packet loss.

All of it happens in the router namespace, so every flow between the client and a
server sees it, while the management links (Ansible, testinfra) never do.
The impairments are kept in the state file and the router's ``impair_*`` chains are
rebuilt from it as a whole on every change (one atomic ``nft -f``).
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from typing import Any

from . import topology
from .shell import LabError, netns, run
from .state import RunState, load_yaml


@contextlib.contextmanager
def _changing(state: RunState) -> Iterator[Any]:
    """Serialise changes: hooks may run at once (Ansible forks, parallel tests).

    The state is re-read under the lock, so a change another process made just before
    is kept, and saved before the lock is released.
    """
    with open(state.dir / ".hooks.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state.data = load_yaml(state.path)
        yield state.data
        state.save()


def _router(state: RunState) -> str:
    return str(state.data["router"]["netns"])


def _host(state: RunState, name: str) -> Any:
    hosts = state.data["hosts"]
    if name not in hosts:
        raise LabError(f"no host {name!r} in lab {state.run_id}; hosts: {', '.join(hosts)}")
    return hosts[name]


def nat_timeout(state: RunState, seconds: int, *, existing: bool = True) -> None:
    """Set the router's conntrack idle timeout for established TCP flows.

    The kernel applies a new value when a flow next sees a packet; with ``existing``
    the flows already tracked get it at once too, so an idle one does not keep the
    old (maybe days-long) deadline.
    """
    if seconds < 1:
        raise LabError("the NAT timeout must be at least 1 second")
    with _changing(state) as data:
        router = _router(state)
        netns(router, ["sysctl", "-q", "-w",
                       f"net.netfilter.nf_conntrack_tcp_timeout_established={seconds}"])
        if existing:
            # conntrack -U needs an address to select by: without one, or with --state (which
            # -U reads as a state to SET), conntrack 1.4.7 answers "Operation not supported"
            # and changes nothing. Every flow the lab's sessions make starts on the client side.
            update = netns(router, ["conntrack", "-U", "-s", topology.client_net(int(data["slot"])),
                                    "-p", "tcp", "--timeout", str(seconds)], check=False, quiet=True)
            if "Operation failed" in update.stderr:
                raise LabError(f"conntrack could not shorten the tracked flows: {update.stderr.strip()}")
        data["router"]["nat_timeout"] = seconds


def blackhole(state: RunState, name: str) -> None:
    """Drop every packet to and from a host at the router (the peer 'vanishes')."""
    with _changing(state) as data:
        address = str(_host(state, name)["data_address"])
        holes = data["impairments"]["blackholed"]
        if address not in holes:
            holes.append(address)
        _apply(state)


def restore(state: RunState, name: str) -> None:
    """Undo blackhole and loss for one host, or for all with name 'all'."""
    with _changing(state) as data:
        impairments = data["impairments"]
        names = list(data["hosts"]) if name == "all" else [name]
        for each in names:
            address = str(_host(state, each)["data_address"])
            if address in impairments["blackholed"]:
                impairments["blackholed"].remove(address)
            impairments["loss"].pop(each, None)
        _apply(state)


def loss(state: RunState, name: str, percent: int) -> None:
    """Drop ``percent`` % of the packets to and from a host, at random, each way."""
    if not 0 <= percent <= 100:
        raise LabError("loss is a percentage from 0 to 100")
    with _changing(state) as data:
        _host(state, name)
        if percent == 0:
            data["impairments"]["loss"].pop(name, None)
        else:
            data["impairments"]["loss"][name] = percent
        _apply(state)


def impair_rules(state: RunState) -> str:
    impairments = state.data["impairments"]
    lines = ["flush chain inet kassh impair_pre", "flush chain inet kassh impair_out",
             "flush chain inet kassh impair_post", "flush set inet kassh blackholed"]
    holes = [str(a) for a in impairments["blackholed"]]
    if holes:
        lines += [
            f"add element inet kassh blackholed {{ {', '.join(holes)} }}",
            "add rule inet kassh impair_pre ip saddr @blackholed drop",
            "add rule inet kassh impair_pre ip daddr @blackholed drop",
            "add rule inet kassh impair_out ip daddr @blackholed drop",
            "add rule inet kassh impair_post ip daddr @blackholed drop",
        ]
    for name, percent in impairments["loss"].items():
        address = str(state.data["hosts"][name]["data_address"])
        # numgen yields 0..99, so "< 100" is out of its range: 100 % is a plain drop.
        chance = "" if int(percent) >= 100 else f"numgen random mod 100 < {int(percent)} "
        for direction in ("saddr", "daddr"):
            lines.append(f"add rule inet kassh impair_pre ip {direction} {address} {chance}drop")
    return "\n".join(lines) + "\n"


def _apply(state: RunState) -> None:
    netns(_router(state), ["nft", "-f", "-"], input_text=impair_rules(state))


def status(state: RunState) -> dict[str, Any]:
    """What the lab looks like now (for people and for tests)."""
    router = _router(state)
    timeout = netns(router, ["sysctl", "-n",
                             "net.netfilter.nf_conntrack_tcp_timeout_established"],
                    check=False).stdout.strip()
    flows = netns(router, ["conntrack", "-L", "-p", "tcp"], check=False, quiet=True)
    running = run(["podman", "ps", "--format", "{{.Names}} {{.Status}}",
                   "--filter", f"label=keepalive-ssh-lab.run={state.run_id}"], check=False)
    container_status = dict(line.split(" ", 1) for line in running.stdout.splitlines() if line)
    hosts = {}
    for name, host in state.data["hosts"].items():
        hosts[name] = {
            "data_address": str(host["data_address"]),
            "mgmt_address": str(host["mgmt_address"]),
            "openssh": str(host.get("openssh_version", "")),
            "container": container_status.get(str(host["container"]), "absent"),
            "blackholed": str(host["data_address"]) in state.data["impairments"]["blackholed"],
            "loss_percent": int(state.data["impairments"]["loss"].get(name, 0)),
        }
    return {
        "run_id": state.run_id,
        "state_file": str(state.path),
        "nat_timeout": int(timeout) if timeout.isdigit() else None,
        "tcp_flows_tracked": len([ln for ln in flows.stdout.splitlines() if ln.startswith("tcp")]),
        # seconds until each tracked TCP flow is forgotten unless a packet refreshes it
        "tcp_flow_timeouts": [int(ln.split()[2]) for ln in flows.stdout.splitlines()
                              if ln.startswith("tcp") and ln.split()[2].isdigit()],
        "hosts": hosts,
        "setup_timings": dict(state.data.get("timings") or {}),
    }


__all__ = ["blackhole", "impair_rules", "loss", "nat_timeout", "restore", "status"]
