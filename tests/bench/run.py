"""`make bench`: the cost of converging and re-checking many hosts, and of keepalive traffic.

    python tests/bench/run.py [--sizes 10,50,100] [--forks 20] [--rounds 3]
                              [--skip model,roundtrips,traffic,fleet] [--output tests/output/bench]

Sections, each compared with a baseline measured in the same run:

  model       scripts/bench_model.py (CPU of parse+resolve+edit of a 5,000-line sshd_config with
              50 drop-ins), against reading and splitting the same files
  roundtrips  ssh invocations per host and role, from -vvv output, against the minimum
              (one round trip for facts plus one per file written) and against the recipe
  traffic     bytes per hour of one idle session per keepalive mechanism (tests/bench/traffic.py)
  fleet       wall time of a first converge and of a no-op re-run of playbooks/keepalive.yml
              (server play) on N identical hosts, against the hand-written lineinfile recipe
              (tests/bench/recipe.yml) on the same hosts, reset to stock between the two

Prints markdown tables, writes results.json and results.yml (and the playbook logs) under
--output. Everything it makes (a fleet run, a lab run for the traffic) is torn down at the end,
also on failure or SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))

from labkit.shell import LabError  # noqa: E402

from bench import report, roundtrips  # noqa: E402
from bench.fleet import Fleet  # noqa: E402
from bench.playbook import KEEPALIVE_PLAYBOOK, RECIPE_PLAYBOOK, PlaybookError, Run, run_playbook  # noqa: E402

CHECKOUT = Path(__file__).resolve().parents[2]
PLAYBOOKS = {"collection": KEEPALIVE_PLAYBOOK, "recipe": RECIPE_PLAYBOOK}
SECTIONS = ("model", "roundtrips", "traffic", "fleet")
# Files a first converge writes on a stock bookworm host (the minimum is 1 + this):
# collection: /etc/sysctl.d/60-keepalive-ssh.conf, 3 files under /proc/sys/net/ipv4, /etc/ssh/sshd_config;
# recipe: /etc/ssh/sshd_config.
FILES_WRITTEN = {("collection", "tcp_keepalive"): 4, ("collection", "sshd_keepalive"): 1,
                 ("recipe", "recipe"): 1}


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    ansible = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--version"],
                             capture_output=True, text=True, check=False).stdout.splitlines()
    return {
        "nproc": os.cpu_count(), "cpu_model": cpu,
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 1024 / 1024, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "ansible": ansible[0] if ansible else "unknown",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# ----------------------------------------------------------------------------- model


def section_model(repeats: int) -> dict[str, Any]:
    """scripts/bench_model.py as it is; its markdown table is parsed back."""
    log("model CPU: scripts/bench_model.py")
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT / ".build")}
    proc = subprocess.run([sys.executable, str(CHECKOUT / "scripts" / "bench_model.py"),
                           "--repeats", str(repeats)], capture_output=True, text=True, env=env,
                          check=True, timeout=900)
    rows = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[\d.]+", cells[1]):
            rows[cells[0]] = {"median_ms": float(cells[1]), "min_ms": float(cells[2]),
                              "max_ms": float(cells[3])}
    full = {k: v for k, v in rows.items() if k.startswith("parse+resolve+edit")}
    slowest = max(full, key=lambda k: full[k]["median_ms"])
    return {"repeats": repeats, "rows": rows, "slowest": slowest,
            "slowest_median_ms": full[slowest]["median_ms"],
            "baseline_median_ms": rows["baseline: read + split lines"]["median_ms"], "goal_ms": 100.0}


# ----------------------------------------------------------------------------- round trips


def section_roundtrips(fleet: Fleet, output: Path) -> dict[str, Any]:
    """One host per (playbook, pipelining): a first converge and a no-op, with -vvv."""
    log("round trips: one host per playbook and pipelining setting, -vvv")
    combos = [(kind, pipelining) for kind in PLAYBOOKS for pipelining in (False, True)]
    fleet.reset(len(combos))
    inventory = fleet.write_inventory(len(combos), output / "inventory-roundtrips.yml")

    def one(index: int, kind: str, pipelining: bool) -> dict[str, Any]:
        host = f"fleet{index:03d}"
        address = str(fleet.state.data["hosts"][host]["mgmt_address"])
        mode = "pipelining" if pipelining else "default"
        counts = {}
        for step, changed in (("first_converge", True), ("noop", False)):
            label = f"round trips {kind} {mode} {step}"
            run = run_playbook(PLAYBOOKS[kind], inventory, label=label, limit=host, verbose=True,
                               pipelining=pipelining, log=output / "logs" / f"roundtrips-{kind}-{mode}-{step}.log")
            run.check(hosts=1, changed=changed)
            counts[step] = roundtrips.count(run.log.read_text(encoding="utf-8", errors="replace"),
                                            default_group="recipe", host=address)
        return {"playbook": kind, "pipelining": pipelining, "host": host, "counts": counts}

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(combos)) as pool:
        futures = [pool.submit(one, i, kind, pipe) for i, (kind, pipe) in enumerate(combos, start=1)]
        results = [f.result() for f in futures]
    for result in results:
        for step, groups in result["counts"].items():
            for group, counts in groups.items():
                written = FILES_WRITTEN.get((result["playbook"], group), 0) if step == "first_converge" else 0
                counts["minimum"] = roundtrips.minimum(written)
    return {"runs": results}


# ----------------------------------------------------------------------------- traffic


def start_traffic(output: Path, window: int, real: bool) -> tuple[subprocess.Popen[bytes], Path]:
    """tests/bench/traffic.py in a process of its own (its lab is torn down when it ends)."""
    path = output / "traffic.json"
    argv = [sys.executable, str(Path(__file__).resolve().parent / "traffic.py"), "--window", str(window),
            "--json", str(path), *([] if real else ["--no-real"])]
    log_file = open(output / "logs" / "traffic.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT)
    log(f"traffic: started (pid {proc.pid}), log {output / 'logs' / 'traffic.log'}")
    return proc, path


def finish_traffic(proc: subprocess.Popen[bytes], path: Path) -> dict[str, Any]:
    rc = proc.wait()
    if rc != 0 or not path.exists():
        raise RuntimeError(f"traffic benchmark failed (rc={rc}); see its log")
    return json.loads(path.read_text(encoding="utf-8"))


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """End a process this benchmark started (it tears its own lab down on SIGTERM)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ----------------------------------------------------------------------------- fleet


def timed(fleet: Fleet, kind: str, count: int, inventory: Path, *, step: str, rep: int,
          forks: int, output: Path) -> Run:
    fleet.close_masters()  # every run starts cold, as a pipeline's would
    run = run_playbook(PLAYBOOKS[kind], inventory, forks=forks, label=f"{count} hosts {kind} {step} #{rep}",
                       log=output / "logs" / f"fleet-{count}-{kind}-{step}-{rep}.log",
                       hosts_cpu=lambda: fleet.cpu_seconds(count), logins=lambda: fleet.ssh_logins(count))
    return run.check(hosts=count, changed=step == "first_converge")


def section_fleet(fleet: Fleet, sizes: list[int], rows: list[dict[str, Any]], *, forks: int, repeats: int,
                  repeat_up_to: int, budget_s: float, output: Path, control_persist: str) -> None:
    """Per size, ``repeats`` rounds of: recipe, then collection, each on the same hosts reset to
    stock (fresh containers, default sysctls): a first converge, then a no-op re-run.

    Alternating the two playbooks round by round gives both the same share of whatever else
    the machine is doing. A size whose predicted time (the last measured size's runs scaled by
    the host count) exceeds ``budget_s`` is skipped and recorded with its prediction instead.
    Rows are appended to ``rows`` as each size completes, so an interrupted run keeps them.
    """
    for count in sizes:
        rounds = repeats if count <= repeat_up_to else 1
        predicted = _predict(rows, count, rounds)
        if predicted is not None and predicted > budget_s:
            log(f"fleet: {count} hosts skipped: predicted {predicted / 60:.0f} min > budget {budget_s / 60:.0f} min")
            rows.append({"hosts": count, "skipped": True, "predicted_s": round(predicted),
                         "budget_s": budget_s})
            continue
        fleet.grow(count)
        inventory = fleet.write_inventory(count, output / f"inventory-{count}.yml",
                                          control_persist=control_persist)
        runs: dict[str, dict[str, list[Run]]] = {k: {"first_converge": [], "noop": []} for k in PLAYBOOKS}
        started = time.monotonic()
        for rep in range(1, rounds + 1):
            for kind in ("recipe", "collection"):
                log(f"fleet: {count} hosts, {kind}, round {rep}/{rounds}: reset to stock")
                fleet.reset(count)
                for step in ("first_converge", "noop"):
                    runs[kind][step].append(timed(fleet, kind, count, inventory, step=step, rep=rep,
                                                  forks=forks, output=output))
        took = time.monotonic() - started
        rows += [{**_fleet_row(count, kind, forks, runs[kind], took), "control_persist": control_persist}
                 for kind in ("recipe", "collection")]


def _fleet_row(count: int, kind: str, forks: int, runs: dict[str, list[Run]], took: float) -> dict[str, Any]:
    row: dict[str, Any] = {"hosts": count, "playbook": kind, "forks": forks, "rounds": len(runs["noop"]),
                           "size_seconds_total": round(took, 1)}
    for step, samples in runs.items():
        row[f"{step}_s"] = round(statistics.median(r.seconds for r in samples), 2)
        row[f"{step}_samples_s"] = [round(r.seconds, 2) for r in samples]
        row[f"{step}_cpu_s"] = round(statistics.median(r.cpu_seconds for r in samples), 2)
        row[f"{step}_controller_cpu_s"] = round(statistics.median(r.controller_cpu_seconds for r in samples), 2)
        row[f"{step}_hosts_cpu_s"] = round(statistics.median(r.hosts_cpu_seconds for r in samples), 2)
        row[f"{step}_load_1min_after"] = [r.load_1min for r in samples]
        row[f"{step}_ssh_logins_per_host"] = round(statistics.median(r.ssh_logins for r in samples) / count, 2)
        row[f"{step}_tasks_ok_per_host"] = next(iter(samples[0].recap.values()))["ok"]
    return row


def _predict(rows: list[dict[str, Any]], count: int, rounds: int) -> float | None:
    """Seconds the runs of ``count`` hosts would take, scaled from the largest size measured."""
    measured = [row for row in rows if not row.get("skipped")]
    if not measured:
        return None
    last = max(row["hosts"] for row in measured)
    per_run = sum(row["first_converge_s"] + row["noop_s"] for row in measured if row["hosts"] == last)
    return rounds * per_run * count / last


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50,100", help="fleet sizes (default 10,50,100)")
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds (reset, converge, no-op) per playbook for sizes up to "
                             "--repeat-up-to hosts (medians); 1 above")
    parser.add_argument("--repeat-up-to", type=int, default=10)
    parser.add_argument("--size-budget-min", type=float, default=20,
                        help="skip a fleet size whose runs are predicted to take longer (minutes)")
    parser.add_argument("--control-persist", default="60s",
                        help="ControlPersist of the fleet's ssh connections (the lab's: 60s)")
    parser.add_argument("--model-repeats", type=int, default=21)
    parser.add_argument("--traffic-window", type=int, default=60, help="seconds (short-interval cases)")
    parser.add_argument("--no-real-interval", action="store_true",
                        help="skip the 240 s real-interval traffic samples")
    parser.add_argument("--skip", default="", help=f"comma-separated sections to skip: {','.join(SECTIONS)}")
    parser.add_argument("--output", type=Path, default=CHECKOUT / "tests" / "output" / "bench")
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    args.skip = {s for s in args.skip.split(",") if s}
    unknown = args.skip - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    (args.output / "logs").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"sizes": args.sizes, "forks": args.forks, "rounds": args.rounds,
                     "rounds_up_to_hosts": args.repeat_up_to,
                     "control_persist": args.control_persist, "size_budget_min": args.size_budget_min,
                     "pipelining": False, "skipped": sorted(args.skip)},
    }
    fleet: Fleet | None = None
    traffic: subprocess.Popen[bytes] | None = None
    status = 0
    try:
        if "model" not in args.skip:
            results["model"] = section_model(args.model_repeats)
        if "traffic" not in args.skip:
            # Counts bytes of idle sessions (timers, not CPU): safe to overlap with the round-trip
            # counts and the fleet's growth, which are not timed either.
            traffic, traffic_json = start_traffic(args.output, args.traffic_window, not args.no_real_interval)
        if {"roundtrips", "fleet"} - args.skip:
            fleet = Fleet.create()
        if "roundtrips" not in args.skip:
            assert fleet is not None
            fleet.grow(4)
            results["round_trips"] = section_roundtrips(fleet, args.output)
        if "fleet" not in args.skip:
            assert fleet is not None
            # Every host exists before anything is timed: the small sizes run beside idle ones.
            log(f"fleet: growing to {max(args.sizes)} hosts before anything is timed")
            results["fleet_setup_s"] = round(fleet.grow(max(args.sizes)), 1)
        if traffic is not None:
            log("traffic: waiting for the measurement to end before the fleet is timed")
            results["traffic"] = finish_traffic(traffic, traffic_json)
            traffic = None
        if "fleet" not in args.skip:
            assert fleet is not None
            results["fleet"] = []
            section_fleet(fleet, args.sizes, results["fleet"], forks=args.forks, repeats=args.rounds,
                          repeat_up_to=args.repeat_up_to, budget_s=args.size_budget_min * 60,
                          output=args.output, control_persist=args.control_persist)
    except (PlaybookError, LabError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
        log(f"error: {exc}")
        results["error"] = str(exc)
        status = 1
    except KeyboardInterrupt as exc:
        log(f"interrupted ({exc}); cleaning up")
        results["error"] = f"interrupted: {exc}"
        status = 130
    finally:
        stop(traffic)
        if fleet is not None and fleet.down():
            status = status or 1
        if results.get("fleet"):
            index = report.fleet_index(results["fleet"])
            results["fleet_growth"] = report.growth(index, sorted({n for n, _kind in index}))
        results["seconds"] = round(time.monotonic() - started, 1)
        results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        paths = report.save(results, args.output)
    print()
    print(report.render(results))
    log(f"results: {', '.join(str(p) for p in paths)}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
