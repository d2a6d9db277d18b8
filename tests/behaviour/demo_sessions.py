"""make demo, after the converge: live sessions through the lab's NAT, measured, as a table.

    python tests/behaviour/demo_sessions.py --inventory /tmp/kassh-ID/inventory.yml [--budget 150]

On every server, at the same time:
  - without: a session to a second sshd started for the demo with OpenSSH's built-in defaults
    (`sshd -f /dev/null -p 2222`, TCPKeepAlive no), from `ssh -F /dev/null` (no keepalive of any
    kind): it idles past the NAT timeout and gets no answer;
  - with: a session to the converged sshd, from the client's converged ssh: it survives.
Then every server is blackholed and the client's detection time is measured against the
converged ServerAliveInterval/CountMax.

The NAT timeout is chosen from the converged intervals (above the keepalive period, at least
6 s). When the converged values would take longer than --budget seconds (the roles' defaults,
60 s, would), the sessions use `-o ServerAliveInterval=...` within the budget instead, and the
table says so. Results go to the scenario "demo" of tests/output/results/behaviour.json. Exit
status 0 when the demo ran (the table shows what passed), 2 when it could not run.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from behaviour.lab import HarnessError, Host, Lab  # noqa: E402
from behaviour.model import ssh_dead_server, sshd_probe_period  # noqa: E402
from behaviour.results import (  # noqa: E402
    results_path,
    save_scenario,
    seconds_expected,
    seconds_measured,
)
from behaviour.scenarios.common import ALIVE, DEAD, Context, outcome_record  # noqa: E402
from behaviour.sessions import Batch, idle_then_answer, ready_then_wait_exit, ssh_argv  # noqa: E402
from behaviour.table import print_table  # noqa: E402

NAME = "demo"
STOCK_PORT = 2222
STOCK_PID = "/run/kassh-demo-sshd.pid"
FAST_INTERVAL, FAST_COUNTMAX = 2, 2


def effective(lab: Lab) -> dict[str, dict[str, int]]:
    """What the converged hosts use: sshd -T on each server, ssh -G on the client."""
    values: dict[str, dict[str, int]] = {}
    for server in lab.servers:
        sshd = dict(line.split(None, 1) for line in lab.run(
            server.name, "/usr/sbin/sshd -T").stdout.splitlines() if " " in line)
        ssh = dict(line.split(None, 1) for line in lab.run(
            lab.client.name, f"ssh -G {server.data_address}").stdout.splitlines() if " " in line)
        values[server.name] = {
            "ClientAliveInterval": int(sshd.get("clientaliveinterval", "0")),
            "ClientAliveCountMax": int(sshd.get("clientalivecountmax", "3")),
            "ServerAliveInterval": int(ssh.get("serveraliveinterval", "0")),
            "ServerAliveCountMax": int(ssh.get("serveralivecountmax", "3")),
        }
    return values


def refresh_period(server: Host, values: dict[str, int]) -> float:
    """How often something crosses the NAT in an idle converged session (inf: never)."""
    periods = [float(values["ServerAliveInterval"]) or math.inf]
    if values["ClientAliveInterval"]:
        periods.append(sshd_probe_period(server.openssh_version, values["ClientAliveInterval"]))
    return min(periods)


def start_stock_sshd(lab: Lab) -> None:
    for server in lab.servers:
        lab.run(server.name, f"/usr/sbin/sshd -f /dev/null -o Port={STOCK_PORT} "
                             f"-o PidFile={STOCK_PID} -o TCPKeepAlive=no")


def stop_stock_sshd(lab: Lab) -> None:
    for server in lab.servers:
        lab.run(server.name, f"[ -f {STOCK_PID} ] && kill $(cat {STOCK_PID}) || true",
                check=False)


def stock_argv(server: Host) -> list[str]:
    return ["ssh", "-F", "/dev/null", "-T", "-o", "BatchMode=yes", "-o", "TCPKeepAlive=no",
            "-o", f"HostKeyAlias={server.data_address}", "-p", str(STOCK_PORT),
            f"root@{server.data_address}"]


def idle_sessions(ctx: Context, values: dict[str, dict[str, int]], budget: float) -> None:
    lab = ctx.lab
    period = max(refresh_period(s, values[s.name]) for s in lab.servers)
    explicit: dict[str, Any] = {}
    if not math.isfinite(period) or 2 * (1.5 * period + 1) > budget:
        explicit = {"ServerAliveInterval": FAST_INTERVAL}
        period = FAST_INTERVAL
    nat = max(6, math.ceil(1.5 * period) + 1)
    idle = 2 * nat
    lab.nat_timeout(nat)
    print(f"[demo] NAT forgets idle flows after {nat}s; sessions stay idle {idle}s"
          + (f" (converged intervals exceed the {budget:g}s budget: ssh -o "
             f"ServerAliveInterval={FAST_INTERVAL})" if explicit else ""), flush=True)
    batch = Batch(lab, f"{NAME}: idle sessions through the NAT")
    for server in lab.servers:
        batch.add("without", server, stock_argv(server), idle_then_answer(idle, 5))
        batch.add("with", server, ssh_argv(server, options=explicit), idle_then_answer(idle, 5))
    batch.start(max_seconds=idle + 120)
    batch.wait_ready(60)
    wanted = {p.id for p in batch.planned}
    assert batch.probe is not None
    batch.probe.wait_for(lambda ev: wanted <= {e["id"] for e in ev if e.get("ev") == "failed" or (
        e.get("ev") == "mark" and e.get("mark") == "answer")}, idle + 60)
    sessions = batch.finish()
    for planned in batch.planned:
        with_settings = planned.case == "with"
        settings = ({**values[planned.server.name], **explicit} if with_settings else
                    {"ClientAliveInterval": 0, "ServerAliveInterval": 0, "TCPKeepAlive": "no",
                     "sshd": f"defaults, port {STOCK_PORT}"})
        outcome_record(ctx, f"idle_{planned.case}_settings", planned.server,
                       sessions[planned.id], expected_outcome=ALIVE if with_settings else DEAD,
                       text=("keepalives refresh the NAT entry" if with_settings
                             else "nothing crosses the NAT: the router forgets the flow"),
                       settings={"nat_timeout": nat, "idle": idle, **settings},
                       planned_idle=idle)


def dead_peer(ctx: Context, values: dict[str, dict[str, int]], budget: float) -> None:
    lab = ctx.lab
    interval = min(v["ServerAliveInterval"] for v in values.values())
    countmax = min(v["ServerAliveCountMax"] for v in values.values())
    explicit: dict[str, Any] = {}
    if not interval or interval * (countmax + 1) > budget:
        interval, countmax = FAST_INTERVAL, FAST_COUNTMAX
        explicit = {"ServerAliveInterval": interval, "ServerAliveCountMax": countmax}
    lab.nat_timeout(3600)  # a blackholed peer, not the NAT, must be what ends the session
    low, high, formula = ssh_dead_server(interval, countmax)
    batch = Batch(lab, f"{NAME}: servers blackholed")
    for server in lab.servers:
        batch.add("dead_server", server, ssh_argv(server, options=explicit),
                  ready_then_wait_exit(high + 60))
    batch.start(max_seconds=high + 120)
    ready = batch.wait_ready(60)
    batch.wait_until(2)
    t0 = {server.name: lab.blackhole(server.name)[1] for server in lab.servers}
    try:
        batch.wait_all_exited(high + 20, ids=set(ready))
    finally:
        lab.restore_all()
        sessions = batch.finish()
    for planned in batch.planned:
        end = sessions[planned.id].get("exit_time")
        samples = [] if end is None else [end - t0[planned.server.name]]
        ctx.record("dead_server_detected", planned.server, settings={
            "mechanism": "ssh ServerAlive", "interval": interval, "countmax": countmax,
            "source": "-o (budget)" if explicit else "converged"},
            expected=seconds_expected(low, high, formula=formula,
                                      text="ssh exits: Timeout, server not responding"),
            measured=seconds_measured(samples))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", type=Path, required=True)
    parser.add_argument("--budget", type=float, default=150,
                        help="longest wait in seconds for one part of the demo")
    args = parser.parse_args(argv)
    start = time.monotonic()
    lab = Lab(args.inventory)
    ctx = Context(lab=lab, scenario=NAME)
    nat_before = int(lab.vars.get("lab_nat_timeout", 300))
    failure = ""
    try:
        lab.push_probe()
        values = effective(lab)
        start_stock_sshd(lab)
        idle_sessions(ctx, values, args.budget)
        dead_peer(ctx, values, args.budget)
    except (HarnessError, OSError) as exc:
        failure = str(exc)
    finally:
        stop_stock_sshd(lab)
        lab.restore_all()
        lab.nat_timeout(nat_before)
    save_scenario(NAME, ctx.records, seconds=time.monotonic() - start, lab_run=lab.run_id,
                  notes={"harness_error": failure} if failure else {})
    print()
    print_table([NAME], results_path())
    if failure:
        print(f"[demo] could not finish: {failure}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
