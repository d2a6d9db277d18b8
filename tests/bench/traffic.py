"""Keepalive traffic on the wire: bytes per hour of one idle SSH session, per mechanism.

On a lab run with one server (debian12, OpenSSH 9.2p1) and the client (bookworm), each
mechanism gets its own sshd (started for the benchmark on its own port in the server's
container) and one idle session from the client through the NAT router (``ssh ... sleep``, no
tty, nothing typed). An nftables table of the benchmark's own in the router namespace counts
every forwarded packet of each port, both ways (IP packet bytes: IP and TCP headers included,
Ethernet framing not).

Mechanisms are isolated: each session turns the other two off.

  server   sshd ClientAliveInterval I (TCPKeepAlive no; client ServerAliveInterval 0, TCPKeepAlive no)
  client   ssh ServerAliveInterval I (sshd ClientAliveInterval 0, TCPKeepAlive no; client TCPKeepAlive no)
  kernel   sshd TCPKeepAlive yes (SO_KEEPALIVE on the server's socket), net.ipv4.tcp_keepalive_time I
           and _intvl 1 in the server's namespace; no SSH-level keepalive, client TCPKeepAlive no
  none     every keepalive off: the control, it must count nothing

The short run uses I = 5 s over a 60 s window; a keepalive exchange costs the same bytes
whatever the interval, so the preset's rate is

    bytes/hour at the preset = bytes counted / window s * 3600 * (I / preset interval)

with preset intervals 60 s (ClientAliveInterval, ServerAliveInterval) and 300 s
(tcp_keepalive_time), the stay_alive values of the roles. Two real-interval samples run
alongside, with a 240 s window: the server mechanism at ClientAliveInterval 60 (checks the
scaling) and the whole stay_alive preset as the playbook sets it on both ends (60 s SSH
keepalives both ways, TCPKeepAlive yes both ways, kernel 300/30 on both ends).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from labkit import topology  # noqa: E402
from labkit.api import Lab  # noqa: E402
from labkit.shell import log, netns  # noqa: E402

SERVER = "debian12"
TABLE = "kasshbench"
PRESET = {"server": 60, "client": 60, "kernel": 300, "none": 60, "stay_alive": 60}
STAY_ALIVE_KERNEL = {"net.ipv4.tcp_keepalive_time": 300, "net.ipv4.tcp_keepalive_intvl": 30,
                     "net.ipv4.tcp_keepalive_probes": 5}
# Bytes Ethernet adds to each IP packet on a real wire: header 14 + FCS 4 (preamble and gap not counted).
ETHERNET_OVERHEAD = 18


@dataclasses.dataclass(frozen=True)
class Case:
    """One idle session: its sshd's port and options, the client's options, its interval."""

    name: str
    port: int
    interval: int
    sshd: dict[str, str]
    client: dict[str, str]

    @property
    def preset_interval(self) -> int:
        return PRESET[self.name.split("@")[0]]


def short_cases(interval: int) -> list[Case]:
    off_client = {"ServerAliveInterval": "0", "TCPKeepAlive": "no"}
    return [
        Case("none", 2200, interval, {"ClientAliveInterval": "0", "TCPKeepAlive": "no"}, off_client),
        Case("server", 2201, interval, {"ClientAliveInterval": str(interval), "TCPKeepAlive": "no"},
             off_client),
        Case("client", 2202, interval, {"ClientAliveInterval": "0", "TCPKeepAlive": "no"},
             {"ServerAliveInterval": str(interval), "TCPKeepAlive": "no"}),
        Case("kernel", 2203, interval, {"ClientAliveInterval": "0", "TCPKeepAlive": "yes"}, off_client),
    ]


def real_cases() -> list[Case]:
    return [
        Case("server@60", 2211, 60, {"ClientAliveInterval": "60", "TCPKeepAlive": "no"},
             {"ServerAliveInterval": "0", "TCPKeepAlive": "no"}),
        Case("stay_alive@60", 2212, 60,
             {"ClientAliveInterval": "60", "ClientAliveCountMax": "3", "TCPKeepAlive": "yes"},
             {"ServerAliveInterval": "60", "ServerAliveCountMax": "3", "TCPKeepAlive": "yes"}),
    ]


class Counters:
    """The benchmark's nftables table in the router namespace: one counter per port and way."""

    def __init__(self, lab: Lab, cases: list[Case]) -> None:
        self.router = str(lab.state.data["router"]["netns"])
        server = str(lab.hosts[SERVER]["data_address"])
        lines = [f"table inet {TABLE} {{"]
        for case in cases:
            lines += [f"    counter p{case.port}_up {{ }}", f"    counter p{case.port}_down {{ }}"]
        # Before the lab's forward filter (priority 0): every forwarded packet of the flow.
        lines.append("    chain count { type filter hook forward priority -10; policy accept;")
        for case in cases:
            lines += [f'        ip daddr {server} tcp dport {case.port} counter name "p{case.port}_up"',
                      f'        ip saddr {server} tcp sport {case.port} counter name "p{case.port}_down"']
        lines += ["    }", "}"]
        netns(self.router, ["nft", "-f", "-"], input_text="\n".join(lines) + "\n")

    def read(self) -> dict[str, tuple[int, int]]:
        """{counter name: (packets, bytes)}"""
        out = netns(self.router, ["nft", "-j", "list", "counters", "table", "inet", TABLE]).stdout
        values = {}
        for item in json.loads(out)["nftables"]:
            counter = item.get("counter")
            if counter:
                values[counter["name"]] = (int(counter["packets"]), int(counter["bytes"]))
        return values


class Session:
    """An idle ssh session from the client to the case's sshd, through the router."""

    def __init__(self, lab: Lab, case: Case, seconds: int) -> None:
        self.case = case
        host = lab.hosts[SERVER]
        options = [arg for key, value in {"BatchMode": "yes", "HostKeyAlias": str(host["data_address"]),
                                          **case.client}.items() for arg in ("-o", f"{key}={value}")]
        argv = ["podman", "exec", str(lab.hosts[lab.client]["container"]),
                "timeout", str(seconds + 30), "ssh", "-F", "none", "-T", "-p", str(case.port), *options,
                f"root@{host['data_address']}", f"echo session-up; exec sleep {seconds}"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_up(self, timeout: float = 30) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if "session-up" not in line or time.monotonic() > deadline:
            stderr = self.proc.stderr.read() if self.proc.stderr and self.proc.poll() is not None else ""
            raise RuntimeError(f"session {self.case.name} did not come up: {line!r} {stderr.strip()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_sshd(lab: Lab, case: Case) -> None:
    """A second sshd in the server's container, on the case's port with the case's options."""
    options = {"PidFile": f"/run/sshd-bench-{case.port}.pid", **case.sshd}
    argv = ["/usr/sbin/sshd", "-p", str(case.port),
            *[arg for key, value in options.items() for arg in ("-o", f"{key}={value}")]]
    lab.exec(SERVER, argv)


def set_kernel(lab: Lab, host: str, values: dict[str, int]) -> None:
    topology.ns_exec(lab.state, host, ["sysctl", "-q", "-w", *[f"{k}={v}" for k, v in values.items()]])


def measure(lab: Lab, cases: list[Case], counters: Counters, window: float,
            settle: float = 3.0) -> dict[str, dict[str, Any]]:
    """Open every case's session, let it settle, count over ``window`` seconds."""
    sessions = [Session(lab, case, int(window + settle + 20)) for case in cases]
    try:
        for session in sessions:
            session.wait_up()
        time.sleep(settle)
        first = counters.read()
        start = time.monotonic()
        time.sleep(window)
        last = counters.read()
        took = time.monotonic() - start
        survived = {s.case.name: s.alive() for s in sessions}
    finally:
        for session in sessions:
            session.stop()
    return {case.name: _rates(case, first, last, took, survived[case.name]) for case in cases}


def _rates(case: Case, first: dict[str, tuple[int, int]], last: dict[str, tuple[int, int]],
           took: float, alive: bool) -> dict[str, Any]:
    delta = {}
    for way in ("up", "down"):
        name = f"p{case.port}_{way}"
        delta[way] = (last[name][0] - first[name][0], last[name][1] - first[name][1])
    packets = delta["up"][0] + delta["down"][0]
    ip_bytes = delta["up"][1] + delta["down"][1]
    scale = 3600.0 / took * case.interval / case.preset_interval
    return {
        "interval_s": case.interval, "preset_interval_s": case.preset_interval,
        "window_s": round(took, 1), "session_alive_at_end": alive,
        "packets": packets, "ip_bytes": ip_bytes,
        "packets_client_to_server": delta["up"][0], "packets_server_to_client": delta["down"][0],
        "bytes_client_to_server": delta["up"][1], "bytes_server_to_client": delta["down"][1],
        "scale_to_preset_hour": round(scale, 3),
        "ip_bytes_per_hour": round(ip_bytes * scale),
        "packets_per_hour": round(packets * scale),
        "ethernet_bytes_per_hour": round((ip_bytes + ETHERNET_OVERHEAD * packets) * scale),
    }


def run(*, interval: int = 5, window: float = 60, real_window: float = 240,
        real: bool = True) -> dict[str, Any]:
    """Bring a lab up (debian12 + client), measure, tear it down; return the results."""
    started = time.monotonic()
    lab = Lab.up(servers=[SERVER])
    try:
        host = lab.hosts[SERVER]
        log(f"traffic: lab {lab.run_id}, server {SERVER} OpenSSH {host.get('openssh_version', '?')}")
        shorts, reals = short_cases(interval), (real_cases() if real else [])
        counters = Counters(lab, shorts + reals)
        for case in shorts + reals:
            start_sshd(lab, case)
        # Only the kernel case's sshd sets SO_KEEPALIVE in the server's namespace before the
        # stay_alive sample starts; intvl 1 keeps the period at keepalive_time (an answered
        # probe re-arms the timer after intvl, then waits out the rest of keepalive_time).
        set_kernel(lab, SERVER, {"net.ipv4.tcp_keepalive_time": interval,
                                 "net.ipv4.tcp_keepalive_intvl": 1})
        results = _measure_all(lab, counters, shorts, reals, window, real_window)
        return {
            "server": SERVER, "openssh": str(host.get("openssh_version", "")),
            "client": "bookworm (OpenSSH 9.2p1)", "interval_s": interval, "window_s": window,
            "real_window_s": real_window if real else None,
            "ethernet_overhead_bytes_per_packet": ETHERNET_OVERHEAD,
            "cases": results, "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        lab.down()


def _measure_all(lab: Lab, counters: Counters, shorts: list[Case], reals: list[Case],
                 window: float, real_window: float) -> dict[str, dict[str, Any]]:
    """The short cases, with the real-interval server sample running alongside from the start;
    then the stay_alive sample, once the kernel is back at the preset's 300 s in both namespaces
    (the short kernel case needs 5 s on the server, and the preset sets SO_KEEPALIVE too)."""
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []
    by_name = {case.name.split("@")[0]: case for case in reals}

    def server_sample() -> None:
        try:
            results.update(measure(lab, [by_name["server"]], counters, real_window))
        except BaseException as exc:  # re-raised below, after the other measurements
            errors.append(exc)

    background = threading.Thread(target=server_sample)
    if reals:
        background.start()
    try:
        results.update(measure(lab, shorts, counters, window))
        if reals:
            for host in (SERVER, lab.client):
                set_kernel(lab, host, STAY_ALIVE_KERNEL)
            results.update(measure(lab, [by_name["stay_alive"]], counters, real_window))
    finally:
        if reals:
            background.join()
    if errors:
        raise errors[0]
    return results


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # so run() tears its lab down


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--interval", type=int, default=5, help="short keepalive interval, s")
    parser.add_argument("--window", type=float, default=60, help="short measurement window, s")
    parser.add_argument("--real-window", type=float, default=240, help="real-interval window, s")
    parser.add_argument("--no-real", action="store_true", help="skip the real-interval samples")
    parser.add_argument("--json", type=Path, help="write the results here (default: stdout)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    results = run(interval=args.interval, window=args.window, real_window=args.real_window,
                  real=not args.no_real)
    text = json.dumps(results, indent=2) + "\n"
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


__all__ = ["run"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
