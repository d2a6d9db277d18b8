"""dead_peer: how long each side takes to notice that the other one vanished.

The router blackholes a host (every packet from it, and to its own address, is dropped) in
the middle of idle sessions. The NAT keeps its flows for an hour here: with a short NAT
timeout the router itself would answer the first late packet with a RST, and the test would
measure that RST instead of the keepalive logic (docs/lab.md, lab-environment notes).

    converge A  sshd: ClientAliveInterval 2, CountMax 3 (global) and 3/1 (Match User kassh-srv)
                ssh: ServerAliveInterval 2, CountMax 3 (~kassh-cli) and 3/1 (~kassh-cli2)
      sshd_clientalive   client blackholed: when does each server's session process end?
      ssh_serveralive    servers blackholed: when does the ssh client exit ("Timeout, server
                         ... not responding")? The client is Debian 12's ssh (9.2p1) for every
                         server.
      controls           the same blackholes with the mechanism off (server user kassh-off:
                         ClientAliveInterval 0; client root: ServerAliveInterval 0; client user
                         kassh-cli2: TCPKeepAlive no): those sessions outlast the window.
    converge B  no SSH keepalive; TCPKeepAlive yes; kernel keepalive (tcp_keepalive role)
                servers time 3, intvl 1, probes 4; client time 2, intvl 2, probes 2
      kernel_server      client blackholed: sshd's socket is reset by the server's kernel
      kernel_client      servers blackholed: the client's socket is reset, ssh exits

Each (case, server) is measured on SAMPLES sessions opened a fraction of a probe period apart,
so they meet the blackhole at different phases: min/median/max cover the spread.
"""

from __future__ import annotations

import math
import subprocess
import time
from typing import Any

from ..apply import apply_case
from ..lab import Host, Lab, RemoteProcess
from ..model import kernel_dead_peer, ssh_dead_server, sshd_dead_client
from ..results import outcome_expected, outcome_measured, seconds_expected, seconds_measured
from ..sessions import Batch, ready_then_hold, ready_then_wait_exit, ssh_argv
from .common import Context, gone_after

NAME = "dead_peer"
KEPT, CLOSED = "kept", "closed"
NAT_TIMEOUT = 3600
SAMPLES = 3
STAGGER = 0.7
SETTLE = 3.0
SSHD_SETS = {"root": (2, 3), "kassh-srv": (3, 1)}      # server login -> (interval, countmax)
SSH_SETS = {"kassh-cli": (2, 3), "kassh-cli2": (3, 1)}  # client user -> (interval, countmax)
KERNEL_SERVER = {"time": 3, "intvl": 1, "probes": 4}
KERNEL_CLIENT = {"time": 2, "intvl": 2, "probes": 2}
KERNEL_DEFAULT = {"time": 7200, "intvl": 75, "probes": 9}


def case_ssh_keepalive() -> dict[str, Any]:
    (si, sc), (mi, mc) = SSHD_SETS["root"], SSHD_SETS["kassh-srv"]
    return {
        "servers": {
            "tcp_keepalive": KERNEL_DEFAULT,
            "sshd": {"ClientAliveInterval": si, "ClientAliveCountMax": sc, "TCPKeepAlive": True},
            "sshd_match": [
                {"match": "User kassh-srv",
                 "settings": {"ClientAliveInterval": mi, "ClientAliveCountMax": mc}},
                {"match": "User kassh-off",
                 "settings": {"ClientAliveInterval": 0, "ClientAliveCountMax": 3}},
            ],
        },
        "clients": {
            "tcp_keepalive": KERNEL_DEFAULT,
            "ssh": {
                "system_wide": {"ServerAliveInterval": 0, "TCPKeepAlive": False},
                "users": [{"name": user, "settings": {"ServerAliveInterval": i,
                                                      "ServerAliveCountMax": c}}
                          for user, (i, c) in SSH_SETS.items()],
            },
        },
    }


def case_kernel() -> dict[str, Any]:
    return {
        "servers": {
            "tcp_keepalive": KERNEL_SERVER,
            "sshd": {"ClientAliveInterval": 0, "TCPKeepAlive": True},
        },
        "clients": {
            "tcp_keepalive": KERNEL_CLIENT,
            "ssh": {
                "system_wide": {"ServerAliveInterval": 0, "TCPKeepAlive": True},
                "users": [{"name": "kassh-cli2",
                           "settings": {"ServerAliveInterval": 0, "TCPKeepAlive": False}}],
            },
        },
    }


def kernel_settings(values: dict[str, int]) -> dict[str, int]:
    return {f"tcp_keepalive_{key}": value for key, value in values.items()}


# ----------------------------------------------------------------------------- measuring


def sshd_log_count(lab: Lab, server: Host, since: float, pattern: str) -> int:
    """Lines of the server's sshd log (the container's output) since a monotonic time."""
    seconds = max(1, math.ceil(time.monotonic() - since + 2))
    proc = subprocess.run(["podman", "logs", "--since", f"{seconds}s", server.container],
                          capture_output=True, text=True, timeout=30, check=False)
    return sum(pattern in line for line in (proc.stdout + proc.stderr).splitlines())


def measure_server_side(ctx: Context, batch: Batch, *, window: float) -> dict[str, Any]:
    """Blackhole the client; follow each session's sshd process on its server.

    Waits until every session that is not a control has ended, and in any case for
    ``window`` seconds after the blackhole (so a control is seen to stay for that long).
    Returns {"t0": blackhole time, "gone": {session id: seconds after t0, or None}}."""
    lab = ctx.lab
    batch.start(max_seconds=window + 180)
    ready = batch.wait_ready(90)
    watchers: dict[str, tuple[RemoteProcess, dict[str, str]]] = {}
    for server in lab.servers:
        pids = {p.id: ready[p.id]["groups"][0] for p in batch.planned
                if p.server.name == server.name and p.id in ready}
        watchers[server.name] = (RemoteProcess(lab, server.name, [
            "watch", *pids.values(), "--timeout", str(int(window + 120))],
            name=f"watch {server.name}"), pids)
    for watcher, _pids in watchers.values():
        watcher.wait_for(lambda ev: any(e.get("ev") == "start" for e in ev), 30)
    batch.wait_until(SETTLE)
    _before, t0 = lab.blackhole(lab.client.name)
    print(f"[behaviour] {batch.label}: client blackholed", flush=True)
    controls = {p.id for p in batch.planned if p.meta.get("control")}
    gone: dict[str, float | None] = {}
    try:
        for watcher, pids in watchers.values():
            measured = {pid for sid, pid in pids.items() if sid not in controls}
            watcher.wait_for(lambda ev, m=measured: m <= {str(e["pid"]) for e in ev
                                                          if e.get("ev") == "gone"},
                             max(1.0, t0 + window - time.monotonic()))
        for watcher, pids in watchers.values():
            watcher.wait_for(lambda _ev: False, max(0.0, t0 + window - time.monotonic()))
            gone.update(gone_after(watcher.finish(), pids, t0))
    finally:
        lab.restore_all()
        batch.finish()
    return {"t0": t0, "gone": gone, "ready": set(ready)}


def measure_client_side(ctx: Context, batch: Batch, *, window: float) -> dict[str, Any]:
    """Blackhole every server; time each ssh client's exit from its server's blackhole.

    Like measure_server_side, waits for the measured sessions and at least ``window``."""
    lab = ctx.lab
    batch.start(max_seconds=window + 180)
    ready = batch.wait_ready(90)
    batch.wait_until(SETTLE)
    t0: dict[str, float] = {}
    for server in lab.servers:
        t0[server.name] = lab.blackhole(server.name)[1]
    print(f"[behaviour] {batch.label}: servers blackholed", flush=True)
    measured = {p.id for p in batch.planned if not p.meta.get("control")} & set(ready)
    first = min(t0.values())
    try:
        batch.wait_all_exited(window, ids=measured)
        batch.wait_until(max(0.0, first + window - time.monotonic()))
    finally:
        lab.restore_all()
        sessions = batch.finish()
    exited: dict[str, float | None] = {}
    for planned in batch.planned:
        end = sessions[planned.id].get("exit_time")
        by_us = str(sessions[planned.id].get("failed") or "").startswith("wait_exit") or (
            end is not None and end > first + window)
        exited[planned.id] = (None if end is None or by_us or planned.id not in ready
                              else round(end - t0[planned.server.name], 2))
    return {"exited": exited, "sessions": sessions, "ready": set(ready)}


def control_record(ctx: Context, case: str, server: Host, batch: Batch,
                   values: dict[str, float | None], *, window: float,
                   settings: dict[str, Any], text: str) -> None:
    """A control session without the mechanism: it must outlast the window."""
    ended = [values.get(p.id) for p in batch.planned
             if p.case == case and p.server.name == server.name]
    outcomes = [KEPT if e is None else CLOSED for e in ended]
    ctx.record(case, server, settings={**settings, "window": round(window, 1)},
               expected=outcome_expected(KEPT, text),
               measured=outcome_measured(outcomes, after_seconds=round(window, 1)),
               detail={"ended_after": ended})


def samples_of(batch: Batch, case: str, server: Host, values: dict[str, float | None]) -> list[float]:
    return [v for p in batch.planned if p.case == case and p.server.name == server.name
            for v in [values.get(p.id)] if v is not None]


def add_sessions(batch: Batch, case: str, steps: list[list[Any]], *, login: str = "root",
                 user: str = "root", samples: int = SAMPLES, control: bool = False) -> None:
    for server in batch.lab.servers:
        for index in range(samples):
            batch.add(case, server, ssh_argv(server, login=login), steps, user=user,
                      delay=round(index * STAGGER, 2), index=index, control=control)


# ----------------------------------------------------------------------------- cases


def sshd_clientalive(ctx: Context) -> None:
    lab = ctx.lab
    batch = Batch(lab, f"{NAME}: sshd ClientAlive, client blackholed")
    for login in SSHD_SETS:
        add_sessions(batch, f"sshd_clientalive[{login}]", ready_then_hold(), login=login)
    add_sessions(batch, "control_no_clientalive", ready_then_hold(), login="kassh-off",
                 samples=1, control=True)
    window = max(2 * i * (c + 1) for i, c in SSHD_SETS.values()) + 6
    result = measure_server_side(ctx, batch, window=window)
    for login, (interval, countmax) in SSHD_SETS.items():
        case = f"sshd_clientalive[{login}]"
        for server in lab.servers:
            low, high, formula = sshd_dead_client(server.openssh_version, interval, countmax)
            samples = samples_of(batch, case, server, result["gone"])
            ctx.record(f"sshd_clientalive_i{interval}_c{countmax}", server, samples=SAMPLES,
                       settings={
                           "mechanism": "sshd ClientAlive", "side": "server",
                           "interval": interval, "countmax": countmax, "login": login,
                           **kernel_settings(KERNEL_DEFAULT), "TCPKeepAlive": "yes",
                           "nat_timeout": NAT_TIMEOUT},
                       expected=seconds_expected(low, high, formula=formula, text=(
                           "sshd ends the session of a blackholed client")),
                       measured=seconds_measured(samples),
                       detail={"clock": "from the blackhole to the end of the session's sshd "
                                        "process (polled every 50 ms on the server)"})
    for server in lab.servers:
        control_record(ctx, "control_no_clientalive", server, batch, result["gone"],
                       window=window, text="without ClientAlive sshd keeps the dead session",
                       settings={"mechanism": "none", "ClientAliveInterval": 0,
                                 "login": "kassh-off", "nat_timeout": NAT_TIMEOUT})
        ctx.notes.setdefault("sshd_log_timeouts", {})[server.name] = sshd_log_count(
            lab, server, result["t0"], "Timeout, client not responding")


def ssh_serveralive(ctx: Context) -> None:
    lab = ctx.lab
    batch = Batch(lab, f"{NAME}: ssh ServerAlive, servers blackholed")
    window = max(i * (c + 1) for i, c in SSH_SETS.values()) + 6
    for user in SSH_SETS:
        add_sessions(batch, f"ssh_serveralive[{user}]", ready_then_wait_exit(window + 60),
                     user=user)
    add_sessions(batch, "control_no_serveralive", ready_then_wait_exit(window + 60),
                 samples=1, control=True)
    result = measure_client_side(ctx, batch, window=window)
    for user, (interval, countmax) in SSH_SETS.items():
        case = f"ssh_serveralive[{user}]"
        for server in lab.servers:
            low, high, formula = ssh_dead_server(interval, countmax)
            messages = sorted({_last_line(result["sessions"][p.id]) for p in batch.planned
                               if p.case == case and p.server.name == server.name})
            ctx.record(f"ssh_serveralive_i{interval}_c{countmax}", server, samples=SAMPLES,
                       settings={
                           "mechanism": "ssh ServerAlive", "side": "client",
                           "interval": interval, "countmax": countmax, "client_user": user,
                           **kernel_settings(KERNEL_DEFAULT), "TCPKeepAlive": "no",
                           "nat_timeout": NAT_TIMEOUT},
                       expected=seconds_expected(low, high, formula=formula, text=(
                           "ssh exits: Timeout, server ... not responding")),
                       measured=seconds_measured(samples_of(batch, case, server,
                                                            result["exited"])),
                       detail={"client_errors": messages,
                               "not_responding": all("not responding" in m for m in messages)})
    for server in lab.servers:
        control_record(ctx, "control_no_serveralive", server, batch, result["exited"],
                       window=window, text="without ServerAlive ssh waits on a dead server",
                       settings={"mechanism": "none", "ServerAliveInterval": 0,
                                 "TCPKeepAlive": "no", "nat_timeout": NAT_TIMEOUT})


def kernel_server(ctx: Context) -> None:
    lab = ctx.lab
    batch = Batch(lab, f"{NAME}: kernel keepalive on the servers, client blackholed")
    add_sessions(batch, "kernel_server", ready_then_hold())
    low, high, formula = kernel_dead_peer(**KERNEL_SERVER)
    result = measure_server_side(ctx, batch, window=high + 6)
    for server in lab.servers:
        ctx.record("kernel_server", server, samples=SAMPLES, settings={
            "mechanism": "kernel keepalive", "side": "server", "interval": None,
            "countmax": None, **kernel_settings(KERNEL_SERVER), "TCPKeepAlive": "yes",
            "ClientAliveInterval": 0, "nat_timeout": NAT_TIMEOUT,
        }, expected=seconds_expected(low, high, formula=formula, text=(
            "the server's kernel resets the socket; sshd ends the session")),
            measured=seconds_measured(samples_of(batch, "kernel_server", server,
                                                 result["gone"])))


def kernel_client(ctx: Context) -> None:
    lab = ctx.lab
    batch = Batch(lab, f"{NAME}: kernel keepalive on the client, servers blackholed")
    low, high, formula = kernel_dead_peer(**KERNEL_CLIENT)
    window = high + 6
    add_sessions(batch, "kernel_client", ready_then_wait_exit(window + 60))
    add_sessions(batch, "control_no_tcpkeepalive", ready_then_wait_exit(window + 60),
                 user="kassh-cli2", samples=1, control=True)
    result = measure_client_side(ctx, batch, window=window)
    for server in lab.servers:
        messages = sorted({_last_line(result["sessions"][p.id]) for p in batch.planned
                           if p.case == "kernel_client" and p.server.name == server.name})
        ctx.record("kernel_client", server, samples=SAMPLES, settings={
            "mechanism": "kernel keepalive", "side": "client", "interval": None,
            "countmax": None, **kernel_settings(KERNEL_CLIENT), "TCPKeepAlive": "yes",
            "ServerAliveInterval": 0, "nat_timeout": NAT_TIMEOUT,
        }, expected=seconds_expected(low, high, formula=formula, text=(
            "the client's kernel resets the socket; ssh exits")),
            measured=seconds_measured(samples_of(batch, "kernel_client", server,
                                                 result["exited"])),
            detail={"client_errors": messages})
        control_record(ctx, "control_no_tcpkeepalive", server, batch, result["exited"],
                       window=window, text="TCPKeepAlive no: the kernel never probes",
                       settings={"mechanism": "none", "TCPKeepAlive": "no",
                                 **kernel_settings(KERNEL_CLIENT), "client_user": "kassh-cli2",
                                 "nat_timeout": NAT_TIMEOUT})


def _last_line(session: dict[str, Any]) -> str:
    lines = [ln.strip() for ln in (session.get("stderr_tail") or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


FORMULAS = {
    "sshd_dead_client": "P x CountMax .. P x (CountMax + 1) after the client vanishes, "
                        "P = ClientAliveInterval on OpenSSH 8.4p1 and 10.0p1, "
                        "P = 2 x ClientAliveInterval on 9.2p1",
    "ssh_dead_server": "ServerAliveInterval x CountMax .. ServerAliveInterval x (CountMax + 1) "
                       "(client OpenSSH 9.2p1; whole-second steps)",
    "kernel_dead_peer": "tcp_keepalive_intvl x probes .. tcp_keepalive_time + intvl x probes",
}


def run(ctx: Context) -> None:
    lab = ctx.lab
    ctx.notes["formulas"] = FORMULAS
    lab.nat_timeout(NAT_TIMEOUT)
    apply_case(lab, case_ssh_keepalive(), label=f"{NAME}: SSH keepalives")
    sshd_clientalive(ctx)
    ssh_serveralive(ctx)
    apply_case(lab, case_kernel(), label=f"{NAME}: kernel keepalive only")
    kernel_server(ctx)
    kernel_client(ctx)


__all__ = ["NAME", "run"]
