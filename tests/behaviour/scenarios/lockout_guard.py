"""lockout_guard: a change that passes `sshd -t` but refuses new logins is rolled back.

The change is `AllowUsers nobody` through keepalive.ssh.sshd_keepalive (sshd -t accepts it;
sshd then refuses root, the user Ansible and the sessions log in as).

    existing_session  a session opened before both changes: still answers at the end
    control_no_guard  sshd_guard_enabled false: the change stays; a fresh login from the client
                      is refused (the test can fail). The lab then repairs the host out of band
                      (podman exec: restore the saved file, SIGHUP), outside the collection.
    guard_rollback    sshd_guard_enabled true: the play fails with the guard's message, and the
                      configuration files are back, byte for byte (checksums)
    guard_fresh_login a fresh login from the client works afterwards
"""

from __future__ import annotations

import subprocess
from typing import Any

from ..apply import APPLY_PLAYBOOK, playbook
from ..lab import HarnessError, Host, Lab
from ..results import outcome_expected, outcome_measured
from ..sessions import READY, Batch, ssh_argv
from .common import ALIVE, Context, answer_outcome, error_text

NAME = "lockout_guard"
BAD_CHANGE = {"AllowUsers": "nobody"}
SAVED = "/root/.kassh-behaviour/sshd-before"
CONFIG_FILES = "/etc/ssh/sshd_config /etc/ssh/sshd_config.d"
REFUSED = "refused"


def case(guard: bool) -> dict[str, Any]:
    return {"servers": {"sshd": BAD_CHANGE, "guard": guard}}


def checksums(lab: Lab, server: Host) -> dict[str, str]:
    out = lab.run(server.name, f"find {CONFIG_FILES} -type f -exec sha256sum {{}} + | sort -k2")
    return {line.split()[1]: line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def save_config(lab: Lab, server: Host) -> None:
    lab.run(server.name, f"rm -rf {SAVED} && mkdir -p {SAVED} && cp -a {CONFIG_FILES} {SAVED}/")


def repair_out_of_band(server: Host) -> None:
    """Put back the saved files with podman exec (sshd refuses every login by now)."""
    script = (f"rm -rf /etc/ssh/sshd_config.d && cp -a {SAVED}/sshd_config {SAVED}/sshd_config.d "
              "/etc/ssh/ && kill -HUP $(cat /run/sshd.pid)")
    proc = subprocess.run(["podman", "exec", server.container, "sh", "-c", script],
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        raise HarnessError(f"could not repair {server.name}: {proc.stderr.strip()}")


def fresh_logins(lab: Lab, label: str) -> dict[str, dict[str, Any]]:
    """One new login per server from the client: server name -> session record."""
    batch = Batch(lab, f"{NAME}: fresh logins ({label})")
    steps = [*READY, ["send", "echo ALIVE\n"], ["expect", "ALIVE", 10, "answer"]]
    for server in lab.servers:
        batch.add(f"fresh-{label}", server, ssh_argv(server), steps)
    batch.start(max_seconds=90)
    batch.wait_all_exited(60)
    sessions = batch.finish()
    return {p.server.name: sessions[p.id] for p in batch.planned}


def login_outcome(session: dict[str, Any]) -> str:
    outcome = answer_outcome(session)
    return REFUSED if outcome == "no-login" else outcome


def run(ctx: Context) -> None:
    lab = ctx.lab
    before = {s.name: checksums(lab, s) for s in lab.servers}
    for server in lab.servers:
        save_config(lab, server)
    existing = Batch(lab, f"{NAME}: sessions open before the changes")
    for server in lab.servers:
        existing.add("existing_session", server, ssh_argv(server),
                     [*READY, ["wait_go", 900], ["send", "echo ALIVE\n"],
                      ["expect", "ALIVE", 10, "answer"]])
    existing.start(max_seconds=900)
    existing.wait_ready(60)
    try:
        control(ctx)
        guarded(ctx, before)
    finally:
        check_existing(ctx, existing)


def control(ctx: Context) -> None:
    lab = ctx.lab
    rc, _output, _took = playbook(lab, APPLY_PLAYBOOK, {"behaviour_case": case(False)},
                                  label=f"{NAME}: AllowUsers nobody, guard off (control)")
    if rc != 0:
        raise HarnessError(f"the control change should apply cleanly without the guard (rc={rc})")
    logins = fresh_logins(lab, "guard off")
    for server in lab.servers:
        session = logins[server.name]
        ctx.record("control_no_guard", server, settings={**BAD_CHANGE,
                                                         "sshd_guard_enabled": False},
                   expected=outcome_expected(REFUSED, "the change stays: new logins refused"),
                   measured=outcome_measured([login_outcome(session)]),
                   detail={"client_error": error_text(session)})
        repair_out_of_band(server)
    again = fresh_logins(lab, "after repair")
    broken = [name for name, s in again.items() if login_outcome(s) != ALIVE]
    if broken:
        raise HarnessError(f"logins still fail after the out-of-band repair on {broken}")


def guarded(ctx: Context, before: dict[str, dict[str, str]]) -> None:
    lab = ctx.lab
    rc, output, _took = playbook(lab, APPLY_PLAYBOOK, {"behaviour_case": case(True)},
                                 label=f"{NAME}: AllowUsers nobody, guard on (expected to fail)")
    logins = fresh_logins(lab, "guard on")
    for server in lab.servers:
        message = guard_message(output, server.name)
        after = checksums(lab, server)
        rolled_back = (rc != 0 and "Rolled back" in message and
                       "Fresh login after the rollback: works" in message and after ==
                       before[server.name])
        ctx.record("guard_rollback", server, settings={**BAD_CHANGE, "sshd_guard_enabled": True},
                   expected=outcome_expected("rolled back", "the play fails, files restored"),
                   measured=outcome_measured(["rolled back" if rolled_back else "not rolled back"]),
                   detail={"playbook_rc": rc, "guard_message": message[:600],
                           "files_as_before": after == before[server.name]})
        session = logins[server.name]
        ctx.record("guard_fresh_login", server, settings={**BAD_CHANGE,
                                                          "sshd_guard_enabled": True},
                   expected=outcome_expected(ALIVE, "a fresh login works afterwards"),
                   measured=outcome_measured([login_outcome(session)]),
                   detail={"client_error": error_text(session)})


def guard_message(output: str, host: str) -> str:
    """The guard's failure message for one host (it spans a few lines)."""
    start = output.find(f"Lock-out guard on {host}:")
    if start < 0:
        return ""
    chunk = output[start:start + 2000]
    following = chunk.find("Lock-out guard on ", 1)
    return " ".join((chunk if following < 0 else chunk[:following]).split())


def check_existing(ctx: Context, existing: Batch) -> None:
    """The sessions opened at the start answer now (sshd never touches open sessions)."""
    assert existing.probe is not None
    existing.probe.send("go")
    wanted = {p.id for p in existing.planned}
    existing.probe.wait_for(lambda ev: wanted <= {e["id"] for e in ev if e.get("ev") == "failed" or (
        e.get("ev") == "mark" and e.get("mark") == "answer")}, 30)
    sessions = existing.finish()
    for planned in existing.planned:
        session = sessions[planned.id]
        ctx.record("existing_session", planned.server, settings={**BAD_CHANGE},
                   expected=outcome_expected(ALIVE, "sessions opened before both changes "
                                             "still answer"),
                   measured=outcome_measured([answer_outcome(session)]),
                   detail={"client_error": error_text(session)})


__all__ = ["NAME", "run"]
