"""labctl: the keepalive.ssh test lab's command line (see docs/lab.md).

    labctl.py up [--servers debian11,debian12,debian13] [--nat-timeout S] [--inventory FILE]
    labctl.py (--state FILE | --run-id ID) down        labctl.py down --checkout
    labctl.py (--state FILE | --run-id ID) status | nat-timeout S | blackhole HOST |
              restore HOST|all | loss HOST PERCENT | ssh HOST [CMD] | probe SERVER ...
    labctl.py images [--prune]          build (or find the cached) images only

Run it with the project's Python (.venv/bin/python: ruamel.yaml). The run is chosen by
--state / --run-id, or $KASSH_LAB_STATE / $KASSH_LAB_RUN.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labkit import hooks, hostprep, images, topology  # noqa: E402
from labkit.api import Lab  # noqa: E402
from labkit.shell import LabError, PhaseClock, log, run  # noqa: E402
from labkit.state import RunState, registered_runs, resolve_state, run_dir  # noqa: E402

CHECKOUT = str(Path(__file__).resolve().parent.parent.parent)


def _terminate(signum: int, _frame: object) -> None:
    # Turn SIGTERM/SIGHUP into an exception so `up` tears down what it made.
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------- up / down


def cmd_up(args: argparse.Namespace) -> int:
    clock = PhaseClock()
    lab = Lab.up(servers=args.servers.split(",") if args.servers else None,
                 nat_timeout=args.nat_timeout, run_id=args.run_id, checkout=CHECKOUT,
                 clock=clock, keep_on_failure=args.keep_on_failure)
    try:
        outputs = _write_outputs(lab.state, args)
    except BaseException:
        if not args.keep_on_failure:
            lab.down()
        raise
    print(clock.report(), file=sys.stderr)
    print(json.dumps({"run_id": lab.run_id, "state": str(lab.state.path), **outputs}, indent=2))
    return 0


def _write_outputs(state: RunState, args: argparse.Namespace) -> dict[str, str]:
    outputs = {
        "inventory": str(topology.write_inventory(state, state.dir / "inventory.yml")),
        "ssh_config": str(topology.write_ssh_config(state)),
    }
    if args.inventory:
        topology.write_inventory(state, Path(args.inventory))
        outputs["inventory"] = args.inventory
    if args.instance_config:
        outputs["instance_config"] = str(
            topology.write_instance_config(state, Path(args.instance_config)))
    state.data["outputs"] = outputs
    state.save()
    return outputs


def cmd_down(args: argparse.Namespace) -> int:
    paths = _states_to_remove(args)
    problems: list[str] = []
    for path in paths:
        if not path.exists() and not _anything_named_after(path.parent.name):
            log(f"lab run {path.parent.name.removeprefix('kassh-')}: nothing left to remove")
            continue
        state = _load_or_synthesise(path)
        log(f"tearing down lab {state.run_id}")
        problems += topology.teardown(state, keep_dir=args.keep_run_dir)
    if not paths:
        log("no lab run to tear down")
    for problem in problems:
        log(f"problem: {problem}")
    return 1 if problems else 0


def _states_to_remove(args: argparse.Namespace) -> list[Path]:
    if args.checkout:
        mine = {Path(str(r["state"])) for r in registered_runs()
                if str(r.get("checkout")) == CHECKOUT}
        for path in Path("/tmp").glob("kassh-*/state.yml"):
            try:
                if str(RunState.load(path).data.get("checkout")) == CHECKOUT:
                    mine.add(path)
            except (LabError, OSError, ValueError):
                continue
        return sorted(mine)
    return [resolve_state(state=args.state, run_id=args.run_id)]


def _anything_named_after(prefix: str) -> bool:
    """Is any namespace or container of this run (named kassh-ID-*) still there?"""
    if any(Path("/run/netns").glob(f"{prefix}-*")):
        return True
    run_id = prefix.removeprefix("kassh-")
    proc = run(["podman", "ps", "-a", "-q", "--filter",
                f"label=keepalive-ssh-lab.run={run_id}"], check=False)
    return bool(proc.stdout.strip())


def _load_or_synthesise(path: Path) -> RunState:
    """A state file that is gone (or unreadable) still names the run by its directory."""
    try:
        return RunState.load(path)
    except (LabError, OSError, ValueError):
        run_id = path.parent.name.removeprefix("kassh-")
        log(f"no readable state at {path}; removing what is named after run {run_id}")
        data: dict[str, Any] = {"run_id": run_id, "run_dir": str(run_dir(run_id)),
                                "containers": [], "namespaces": [], "slot": None,
                                "root_links": [f"ks{run_id}m{i}" for i in range(8)]}
        return RunState(path, data)


# ----------------------------------------------------------------------------- hooks


def _state(args: argparse.Namespace) -> RunState:
    return RunState.load(resolve_state(state=args.state, run_id=args.run_id))


def cmd_status(args: argparse.Namespace) -> int:
    if not (args.state or args.run_id or os.environ.get("KASSH_LAB_STATE")
            or os.environ.get("KASSH_LAB_RUN")):
        print(json.dumps({"runs": registered_runs()}, indent=2, default=str))
        return 0
    print(json.dumps(hooks.status(_state(args)), indent=2))
    return 0


def cmd_nat_timeout(args: argparse.Namespace) -> int:
    hooks.nat_timeout(_state(args), args.seconds, existing=not args.new_flows_only)
    return 0


def cmd_blackhole(args: argparse.Namespace) -> int:
    hooks.blackhole(_state(args), args.host)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    hooks.restore(_state(args), args.host)
    return 0


def cmd_loss(args: argparse.Namespace) -> int:
    hooks.loss(_state(args), args.host, args.percent)
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    state = _state(args)
    argv = topology.ssh_argv(state, args.host, " ".join(args.command) or "true")
    return os.spawnvp(os.P_WAIT, argv[0], argv) if args.command else \
        os.spawnvp(os.P_WAIT, argv[0], argv[:-1])


def cmd_probe(args: argparse.Namespace) -> int:
    """Idle client->server session through the router: did it survive?"""
    result = Lab(_state(args)).probe(args.server, idle=args.idle, options=args.option,
                                     timeout=args.timeout)
    print(json.dumps(result, indent=2))
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    hostprep.prepare_host()
    clock = PhaseClock()
    with clock.phase("images"):
        refs = images.ensure_images(list(images.RECIPES))
    print(json.dumps(refs, indent=2))
    if args.prune:
        for ref in images.stale_images():
            log(f"removing stale image {ref}")
            run(["podman", "rmi", ref], check=False)
    return 0


def cmd_prepare(_args: argparse.Namespace) -> int:
    hostprep.prepare_host()
    return 0


# ----------------------------------------------------------------------------- parser


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="labctl.py", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--state", help="the run's state file (/tmp/kassh-ID/state.yml)")
    top.add_argument("--run-id", help="the run's id (6 hex digits)")
    sub = top.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="build a lab run")
    up.add_argument("--servers", help="comma-separated subset of debian11,debian12,debian13")
    up.add_argument("--nat-timeout", type=int, default=topology.DEFAULT_NAT_TIMEOUT,
                    help="router's conntrack established timeout in seconds")
    up.add_argument("--inventory", help="also write the Ansible inventory here")
    up.add_argument("--instance-config", help="write molecule's instance config here")
    up.add_argument("--keep-on-failure", action="store_true")
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="remove a run (or every run of this checkout)")
    down.add_argument("--checkout", action="store_true",
                      help="every run started from this checkout")
    down.add_argument("--keep-run-dir", action="store_true")
    down.set_defaults(func=cmd_down)

    sub.add_parser("status", help="the run's state (or the list of runs)").set_defaults(
        func=cmd_status)
    nat = sub.add_parser("nat-timeout", help="router's conntrack established timeout")
    nat.add_argument("seconds", type=int)
    nat.add_argument("--new-flows-only", action="store_true",
                     help="leave flows already tracked on their old deadline")
    nat.set_defaults(func=cmd_nat_timeout)
    for name, func, text in (("blackhole", cmd_blackhole, "drop all of a host's packets"),
                             ("restore", cmd_restore, "undo blackhole/loss (HOST or all)")):
        hook = sub.add_parser(name, help=text)
        hook.add_argument("host")
        hook.set_defaults(func=func)
    loss = sub.add_parser("loss", help="random packet loss to and from a host")
    loss.add_argument("host")
    loss.add_argument("percent", type=int)
    loss.set_defaults(func=cmd_loss)

    ssh = sub.add_parser("ssh", help="ssh to a host over the management path")
    ssh.add_argument("host")
    ssh.add_argument("command", nargs="*")
    ssh.set_defaults(func=cmd_ssh)

    probe = sub.add_parser("probe", help="idle client->server session: does it survive?")
    probe.add_argument("server")
    probe.add_argument("--idle", type=float, default=10)
    probe.add_argument("--option", "-o", action="append", default=[],
                       help="ssh -o option for the client, e.g. ServerAliveInterval=2")
    probe.add_argument("--timeout", type=float, default=60)
    probe.set_defaults(func=cmd_probe)

    imgs = sub.add_parser("images", help="build or find the cached images")
    imgs.add_argument("--prune", action="store_true", help="remove stale lab images")
    imgs.set_defaults(func=cmd_images)
    sub.add_parser("prepare", help="install packages, configure podman").set_defaults(
        func=cmd_prepare)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        return int(args.func(args))
    except LabError as exc:
        log(f"error: {exc}")
        return 2
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc})")
        return 130


if __name__ == "__main__":
    sys.exit(main())
