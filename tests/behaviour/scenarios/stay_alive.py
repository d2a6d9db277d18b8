"""stay_alive: idle sessions through a NAT that forgets flows idle for T seconds.

One converge with the roles, then every case at once, side by side in one window of time,
so the control shares the router, the load and the clock with the cases it controls:

    control        client root, server root: no keepalive anywhere          -> dead
    server_side    server user kassh-srv: sshd_keepalive, Match User, I=2    -> alive
    server_side_i4 server user kassh-srv4: the same with I=4, i.e. the probe
                   period against T: alive where sshd probes every I, dead
                   where it probes every 2 x I (9.2p1)
    client_side    client user kassh-cli: ssh_keepalive in ~/.ssh/config      -> alive
    kernel         client user kassh-tcp: TCPKeepAlive yes in ~/.ssh/config,
                   tcp_keepalive role on the client with time 2 < T           -> alive
    putty_ping     plink, session written by putty_session, PingIntervalSecs 2 -> alive
    putty_noping   the same without PingIntervalSecs (0)                       -> dead

Every session logs in under a long NAT timeout; once all are ready the timeout drops to T and
every session is idle for 3 x T + 2 s from then, then asked for an answer within a few seconds.
"""

from __future__ import annotations

from typing import Any

from ..apply import apply_case
from ..lab import Host
from ..model import nat_kept_by_sshd, sshd_probe_period
from ..sessions import Batch, idle_then_answer, plink_argv, ssh_argv
from .common import ALIVE, DEAD, Context, outcome_record

NAME = "stay_alive"
NAT_TIMEOUT = 6
IDLE = 3 * NAT_TIMEOUT + 2
# Logins happen while the router keeps flows for LOGIN_NAT_TIMEOUT: ssh sends no keepalive before
# the session is up, and a key exchange on a loaded machine can be silent for longer than
# NAT_TIMEOUT. Once every session is ready the short timeout is set (the lab's hook also shortens
# the flows already tracked, checked by tests/lab/test_lab.py) and `go` starts every idle period.
LOGIN_NAT_TIMEOUT = 300
READY_TIMEOUT = 90
ANSWER_DEADLINE = 5
KEEPALIVE = 2
SLOW_KEEPALIVE = 4
TCP = {"time": 2, "intvl": 2, "probes": 3}
PUTTY_PING, PUTTY_NOPING = "kassh-ping", "kassh-noping"


def case_vars(servers: list[Host]) -> dict[str, Any]:
    putty = []
    for server in servers:
        putty += [
            {"user": "root", "session": f"{PUTTY_PING}-{server.name}",
             "ping_interval": KEEPALIVE, "tcp_keepalives": False},
            {"user": "root", "session": f"{PUTTY_NOPING}-{server.name}",
             "ping_interval": 0, "tcp_keepalives": False},
        ]
    return {
        "servers": {
            "sshd": {"ClientAliveInterval": 0, "ClientAliveCountMax": 3, "TCPKeepAlive": True},
            "sshd_match": [
                {"match": "User kassh-srv",
                 "settings": {"ClientAliveInterval": KEEPALIVE, "ClientAliveCountMax": 3}},
                {"match": "User kassh-srv4",
                 "settings": {"ClientAliveInterval": SLOW_KEEPALIVE, "ClientAliveCountMax": 3}},
            ],
        },
        "clients": {
            "tcp_keepalive": TCP,
            "ssh": {
                "system_wide": {"ServerAliveInterval": 0, "TCPKeepAlive": False},
                "users": [
                    {"name": "kassh-cli",
                     "settings": {"ServerAliveInterval": KEEPALIVE, "ServerAliveCountMax": 3}},
                    {"name": "kassh-tcp", "settings": {"TCPKeepAlive": True}},
                ],
                "putty_sessions": putty,
            },
        },
    }


def plan(batch: Batch, server: Host) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Add this server's sessions; return case -> (expected outcome, why, settings)."""
    steps = idle_then_answer(IDLE, ANSWER_DEADLINE, after_go=READY_TIMEOUT + 30)
    base = {"nat_timeout": NAT_TIMEOUT, "idle": IDLE}
    off = {"ClientAliveInterval": 0, "ServerAliveInterval": 0, "TCPKeepAlive(client)": "no"}
    batch.add("control", server, ssh_argv(server), steps)
    batch.add("server_side", server, ssh_argv(server, login="kassh-srv"), steps)
    batch.add("server_side_i4", server, ssh_argv(server, login="kassh-srv4"), steps)
    batch.add("client_side", server, ssh_argv(server), steps, user="kassh-cli")
    batch.add("kernel", server, ssh_argv(server), steps, user="kassh-tcp")
    batch.add("putty_ping", server, plink_argv(server, f"{PUTTY_PING}-{server.name}"), steps)
    batch.add("putty_noping", server, plink_argv(server, f"{PUTTY_NOPING}-{server.name}"), steps)
    slow_period = sshd_probe_period(server.openssh_version, SLOW_KEEPALIVE)
    slow_alive = nat_kept_by_sshd(server.openssh_version, SLOW_KEEPALIVE, NAT_TIMEOUT)
    return {
        "control": (DEAD, "no keepalive: the router forgets the idle flow", {**base, **off}),
        "server_side": (ALIVE, "sshd probes refresh the flow", {
            **base, "ClientAliveInterval": KEEPALIVE, "ClientAliveCountMax": 3,
            "via": "sshd_keepalive, Match User kassh-srv"}),
        "server_side_i4": (
            ALIVE if slow_alive else DEAD,
            f"sshd probes every {slow_period:g}s on this release "
            f"({'<' if slow_alive else '>='} T={NAT_TIMEOUT}s)",
            {**base, "ClientAliveInterval": SLOW_KEEPALIVE, "ClientAliveCountMax": 3,
             "probe_period": slow_period, "via": "sshd_keepalive, Match User kassh-srv4"}),
        "client_side": (ALIVE, "ssh probes refresh the flow", {
            **base, "ServerAliveInterval": KEEPALIVE, "ServerAliveCountMax": 3,
            "via": "ssh_keepalive, ~kassh-cli/.ssh/config"}),
        "kernel": (ALIVE, "kernel keepalive probes refresh the flow", {
            **base, "TCPKeepAlive": "yes", **{f"tcp_keepalive_{k}": v for k, v in TCP.items()},
            "via": "tcp_keepalive on the client, ~kassh-tcp/.ssh/config"}),
        "putty_ping": (ALIVE, "plink's pings refresh the flow", {
            **base, "PingIntervalSecs": KEEPALIVE, "TCPKeepalives": 0,
            "via": "ssh_keepalive putty_sessions (putty_session)"}),
        "putty_noping": (DEAD, "no pings: the router forgets the flow", {
            **base, "PingIntervalSecs": 0, "TCPKeepalives": 0,
            "via": "ssh_keepalive putty_sessions (putty_session)"}),
    }


def run(ctx: Context) -> None:
    lab = ctx.lab
    apply_case(lab, case_vars(lab.servers), label=f"{NAME}: every case at once")
    lab.nat_timeout(LOGIN_NAT_TIMEOUT)
    batch = Batch(lab, f"{NAME}: idle {IDLE}s through a NAT forgetting flows after "
                       f"{NAT_TIMEOUT}s")
    expectations = {server.name: plan(batch, server) for server in lab.servers}
    for index, planned in enumerate(batch.planned):
        planned.spec["delay"] = round(0.15 * index, 2)  # spread the logins a little
    batch.start(max_seconds=READY_TIMEOUT + IDLE + 120)
    batch.wait_ready(READY_TIMEOUT)
    lab.nat_timeout(NAT_TIMEOUT)
    assert batch.probe is not None
    batch.probe.send("go")
    finished = {p.id for p in batch.planned}

    def settled(events: list[dict[str, Any]]) -> bool:
        ended = {e["id"] for e in events if e.get("ev") == "failed"
                 or (e.get("ev") == "mark" and e.get("mark") == "answer")}
        return finished <= ended

    batch.probe.wait_for(settled, IDLE + ANSWER_DEADLINE + 60)
    sessions = batch.finish()
    for planned in batch.planned:
        expected, why, settings = expectations[planned.server.name][planned.case]
        outcome_record(ctx, planned.case, planned.server, sessions[planned.id],
                       expected_outcome=expected, text=why, settings=settings,
                       planned_idle=IDLE)


__all__ = ["NAME", "run"]
