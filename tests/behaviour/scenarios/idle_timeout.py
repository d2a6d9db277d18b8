"""idle_timeout: what logs an idle user out, and what does not.

    converge A  sshd_keepalive: ClientAliveInterval 2, ClientAliveCountMax 0 (global);
                Match User kassh-srv: ClientAliveCountMax 1 (the control)
      countmax0_idle          an idle session answers after 6 intervals: not dropped for idleness
      countmax0_dead_client   the client is then blackholed: sshd keeps the session anyway
      countmax1_dead_client   control: the same with CountMax 1 is dropped, at the measured time
    converge B  idle_timeout role: TMOUT 5, ChannelTimeout 70, UnusedConnectionTimeout 8
                (OpenSSH 8.4: the role leaves the two sshd keywords out and says so)
      tmout_bash/zsh/ksh      an idle interactive login shell exits after TMOUT (ksh93: 60 s
                              later, after its warning); ChannelTimeout is set above that
      tmout_typing            control: a shell that runs a command every 2 s is kept
      channel_idle            ssh -T, silent: closed by ChannelTimeout (9.2+), kept on 8.4
      channel_typing          control: the same session with traffic every 2 s is kept
      unused_connection       ssh -N (no channel): closed by UnusedConnectionTimeout (9.2+)
      fallback_reported       8.4: the role's run says the sshd keywords were left out
"""

from __future__ import annotations

from typing import Any

from ..apply import APPLY_PLAYBOOK, playbook
from ..lab import HarnessError, Host, RemoteProcess
from ..model import sshd_dead_client, version_key
from ..results import (
    outcome_expected,
    outcome_measured,
    seconds_expected,
    seconds_measured,
)
from ..sessions import READY, Batch, ssh_argv
from .common import ALIVE, Context, answer_outcome, gone_after

NAME = "idle_timeout"
NAT_TIMEOUT = 3600
INTERVAL = 2
IDLE_CM0 = 6 * INTERVAL
KEPT_WINDOW = 20
TMOUT, CHANNEL_TIMEOUT, UNUSED_TIMEOUT = 5, 70, 8
# ksh93 warns when TMOUT expires and exits this much later ("shell will timeout in 60 seconds
# due to inactivity"); ChannelTimeout is set above TMOUT + this grace so that it cannot be the
# one that ends an idle ksh.
KSH_GRACE = 60
KEPT_WINDOW_LONG = CHANNEL_TIMEOUT + 8
TYPING_PERIOD, TYPING_COUNT = 2, 8
KEPT, CLOSED = "kept", "closed"
TTY_READY = [["send", 'echo "TTY-READY-$$"\n'], ["expect", r"TTY-READY-\d+", 30, "ready"]]


def case_countmax0() -> dict[str, Any]:
    return {"servers": {
        "sshd": {"ClientAliveInterval": INTERVAL, "ClientAliveCountMax": 0, "TCPKeepAlive": True},
        "sshd_match": [{"match": "User kassh-srv",
                        "settings": {"ClientAliveInterval": INTERVAL, "ClientAliveCountMax": 1}}],
    }}


def case_idle_timeouts() -> dict[str, Any]:
    return {"servers": {
        "sshd": {"ClientAliveInterval": 0},
        "idle_timeout": {"tmout": TMOUT, "channel_timeout": CHANNEL_TIMEOUT,
                         "unused_connection_timeout": UNUSED_TIMEOUT},
    }}


def has_channel_timeouts(server: Host) -> bool:
    return version_key(server.openssh_version) >= (9, 2)


# ----------------------------------------------------------------------------- ClientAliveCountMax 0


def countmax0(ctx: Context) -> None:
    lab = ctx.lab
    apply_or_fail(ctx, case_countmax0(), "ClientAliveCountMax 0")
    batch = Batch(lab, f"{NAME}: ClientAliveCountMax 0 against 1")
    steps = [*READY, ["idle", IDLE_CM0], ["send", "echo ALIVE\n"],
             ["expect", "ALIVE", 5, "answer"], ["hold"]]
    for server in lab.servers:
        batch.add("countmax0", server, ssh_argv(server), steps)
        batch.add("countmax1", server, ssh_argv(server, login="kassh-srv"), steps)
    batch.start(max_seconds=IDLE_CM0 + KEPT_WINDOW + 120)
    ready = batch.wait_ready(90)
    assert batch.probe is not None
    wanted = {p.id for p in batch.planned}
    batch.probe.wait_for(lambda ev: wanted <= {e["id"] for e in ev if e.get("ev") == "failed" or (
        e.get("ev") == "mark" and e.get("mark") == "answer")}, IDLE_CM0 + 60)
    watchers = {}
    for server in lab.servers:
        pids = {p.id: ready[p.id]["groups"][0] for p in batch.planned
                if p.server.name == server.name and p.id in ready}
        watchers[server.name] = (RemoteProcess(lab, server.name, [
            "watch", *pids.values(), "--timeout", str(KEPT_WINDOW)], name=f"watch {server.name}"),
            pids)
    for watcher, _pids in watchers.values():
        watcher.wait_for(lambda ev: any(e.get("ev") == "start" for e in ev), 30)
    _before, t0 = lab.blackhole(lab.client.name)
    gone: dict[str, float | None] = {}
    try:
        for watcher, pids in watchers.values():
            watcher.wait_for(lambda ev: any(e.get("ev") == "done" for e in ev), KEPT_WINDOW + 30)
            gone.update(gone_after(watcher.finish(), pids, t0))
    finally:
        lab.restore_all()
        sessions = batch.finish()
    for planned in batch.planned:
        record_countmax(ctx, planned.case, planned.server, sessions[planned.id],
                        gone.get(planned.id))


def record_countmax(ctx: Context, case: str, server: Host, session: dict[str, Any],
                    gone: float | None) -> None:
    countmax = 0 if case == "countmax0" else 1
    settings = {"ClientAliveInterval": INTERVAL, "ClientAliveCountMax": countmax,
                "nat_timeout": NAT_TIMEOUT}
    if countmax == 0:
        ctx.record("countmax0_idle", server, settings={**settings, "idle": IDLE_CM0},
                   expected=outcome_expected(ALIVE, "never dropped for idleness (8.2+)"),
                   measured=outcome_measured([answer_outcome(session)],
                                             after_seconds=IDLE_CM0))
        ctx.record("countmax0_dead_client", server, settings={**settings,
                                                              "window": KEPT_WINDOW},
                   expected=outcome_expected(KEPT, "a vanished client is not dropped either"),
                   measured=outcome_measured([KEPT if gone is None else CLOSED],
                                             after_seconds=KEPT_WINDOW if gone is None
                                             else gone))
        return
    low, high, formula = sshd_dead_client(server.openssh_version, INTERVAL, countmax)
    ctx.record("countmax1_dead_client", server, settings={**settings, "interval": INTERVAL,
                                                          "countmax": countmax},
               expected=seconds_expected(low, high, formula=formula,
                                         text="control: CountMax 1 drops the vanished client"),
               measured=seconds_measured([] if gone is None else [gone]))


# ----------------------------------------------------------------------------- TMOUT, ChannelTimeout


def idle_timeouts(ctx: Context) -> None:
    lab = ctx.lab
    output = apply_or_fail(ctx, case_idle_timeouts(),
                           "TMOUT, ChannelTimeout, UnusedConnectionTimeout", show_ok=True)
    batch = Batch(lab, f"{NAME}: idle and busy sessions")
    wait = [["wait_exit", KEPT_WINDOW_LONG]]
    typing = [["every", TYPING_PERIOD, "true\n", TYPING_COUNT], ["send", "echo ALIVE\n"],
              ["expect", "ALIVE", 5, "answer"]]
    for server in lab.servers:
        batch.add("tmout_bash", server, ssh_argv(server, tty=True), TTY_READY + wait)
        batch.add("tmout_zsh", server, ssh_argv(server, tty=True, command="exec zsh -l"),
                  TTY_READY + wait)
        batch.add("tmout_ksh", server, ssh_argv(server, tty=True, command="exec ksh -l"),
                  TTY_READY + wait)
        batch.add("tmout_typing", server, ssh_argv(server, tty=True), TTY_READY + typing)
        batch.add("channel_idle", server, ssh_argv(server), READY + wait)
        batch.add("channel_typing", server, ssh_argv(server), READY + typing)
        batch.add("unused_connection", server,
                  ssh_argv(server, options={"LogLevel": "VERBOSE"}, extra=["-N"]),
                  [["expect_err", "Authenticated to", 30, "ready"], *wait])
    for index, planned in enumerate(batch.planned):
        planned.spec["delay"] = round(0.1 * index, 2)
    batch.start(max_seconds=KEPT_WINDOW_LONG + 120)
    batch.wait_ready(90)
    assert batch.probe is not None
    wanted = {p.id for p in batch.planned}
    batch.probe.wait_for(lambda ev: wanted <= {e["id"] for e in ev if e.get("ev") in (
        "failed", "exit") or (e.get("ev") == "mark" and e.get("mark") == "answer")},
        KEPT_WINDOW_LONG + 60)
    sessions = batch.finish()
    for planned in batch.planned:
        record_idle(ctx, planned.case, planned.server, sessions[planned.id])
    for server in lab.servers:
        if not has_channel_timeouts(server):
            record_fallback(ctx, server, output)


def ended_by_server(session: dict[str, Any]) -> float | None:
    """Seconds from READY to the client's exit, unless the probe itself ended the session."""
    ready, ended = session["marks"].get("ready"), session.get("exit_time")
    if ready is None or ended is None or str(session.get("failed") or "").startswith(
            "wait_exit"):
        return None
    return round(ended - ready, 2)


def record_idle(ctx: Context, case: str, server: Host, session: dict[str, Any]) -> None:
    lived = ended_by_server(session)
    settings: dict[str, Any] = {"TMOUT": TMOUT, "ChannelTimeout": f"session*={CHANNEL_TIMEOUT}",
                                "UnusedConnectionTimeout": UNUSED_TIMEOUT}
    if not has_channel_timeouts(server):
        settings.update(ChannelTimeout=None, UnusedConnectionTimeout=None,
                        sshd="left out (8.4)")
    if case.endswith("_typing"):
        ctx.record(case, server, settings={**settings, "typing_every": TYPING_PERIOD},
                   expected=outcome_expected(ALIVE, "a session in use is kept"),
                   measured=outcome_measured([answer_outcome(session)],
                                             after_seconds=TYPING_PERIOD * TYPING_COUNT))
    elif case.startswith("tmout_"):
        record_tmout(ctx, case, server, session, lived)
    elif has_channel_timeouts(server):
        limit = CHANNEL_TIMEOUT if case == "channel_idle" else UNUSED_TIMEOUT
        keyword = "ChannelTimeout" if case == "channel_idle" else "UnusedConnectionTimeout"
        # sshd keeps the time of the last traffic in whole seconds: it closes in (N-1, N].
        ctx.record(case, server, settings=settings, expected=seconds_expected(
            limit - 1, limit, formula=f"{keyword} (whole seconds)",
            text=f"sshd closes it ({keyword})"),
            measured=seconds_measured([] if lived is None else [lived]))
    else:
        keyword = "ChannelTimeout" if case == "channel_idle" else "UnusedConnectionTimeout"
        ctx.record(case, server, settings=settings,
                   expected=outcome_expected(KEPT, f"no {keyword} below 9.2 (TMOUT-only fallback)"),
                   measured=outcome_measured([KEPT if lived is None else CLOSED],
                                             after_seconds=KEPT_WINDOW_LONG if lived is None
                                             else lived))


def record_tmout(ctx: Context, case: str, server: Host, session: dict[str, Any],
                 lived: float | None) -> None:
    shell = case.split("_", 1)[1]
    low = TMOUT + (KSH_GRACE if shell == "ksh" else 0)
    formula = "TMOUT + 60 (ksh93 warns, then waits 60 s)" if shell == "ksh" else "TMOUT"
    ctx.record(case, server, settings={"TMOUT": TMOUT, "shell": shell},
               expected=seconds_expected(low, low + 1, formula=formula,
                                         text=f"an idle interactive {shell} exits"),
               measured=seconds_measured([] if lived is None else [lived]),
               detail={"last_output": (session.get("stdout_tail") or "")[-160:]})


def record_fallback(ctx: Context, server: Host, output: str) -> None:
    reported = f"WARNING: sshd on {server.name} is OpenSSH" in output
    found = ctx.lab.run(server.name, "grep -rilE '^[[:space:]]*(ChannelTimeout|"
                        "UnusedConnectionTimeout)' /etc/ssh/sshd_config /etc/ssh/sshd_config.d "
                        "|| true").stdout.split()
    ctx.record("fallback_reported", server, settings={
        "idle_timeout_channel_timeout": CHANNEL_TIMEOUT,
        "idle_timeout_unused_connection_timeout": UNUSED_TIMEOUT},
        expected=outcome_expected("reported", "the role says it left the sshd keywords out"),
        measured=outcome_measured(["reported" if reported and not found else "silent"]),
        detail={"warning_in_role_output": reported, "files_with_the_keywords": found})


def apply_or_fail(ctx: Context, case: dict[str, Any], label: str, *, show_ok: bool = False) -> str:
    rc, output, _took = playbook(ctx.lab, APPLY_PLAYBOOK, {"behaviour_case": case},
                                 label=f"{NAME}: {label}", show_ok=show_ok)
    if rc != 0:
        raise HarnessError(f"applying {label} failed (rc={rc})")
    return output


# Strict xfail marks (case -> reason): a listed case that passes fails the run with XPASS.
# Empty: the ksh TMOUT case that was listed here passes since tmout.sh.j2 stopped using a
# subshell assignment.
KNOWN_ISSUES: dict[str, str] = {}


def run(ctx: Context) -> None:
    ctx.known_issues.update(KNOWN_ISSUES)
    ctx.lab.nat_timeout(NAT_TIMEOUT)
    countmax0(ctx)
    idle_timeouts(ctx)


__all__ = ["NAME", "run"]
