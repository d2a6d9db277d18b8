"""The benchmark's tables (markdown, printed and pasted into docs/performance.md) and its files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

# The no-op goal of issue 8: a re-run of the collection costs at most what the recipe's does.
NOOP_GOAL = 1.0
# Marginal cost per host that differs more than this from the smaller step is "not linear".
LINEARITY_TOLERANCE = 0.25
MECHANISMS = {
    "none": "none (control: every keepalive off)",
    "server": "server: sshd ClientAliveInterval",
    "client": "client: ssh ServerAliveInterval",
    "kernel": "kernel: TCP keepalive (server socket)",
    "server@60": "server: ClientAliveInterval 60, real interval",
    "stay_alive@60": "stay_alive preset on both ends, real intervals",
}


def save(results: dict[str, Any], output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / "results.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    yaml_path = output / "results.yml"
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with open(yaml_path, "w", encoding="utf-8") as handle:
        handle.write("# keepalive.ssh `make bench` results (tests/bench/run.py); same data as results.json\n")
        yaml.dump(json.loads(json.dumps(results)), handle)
    return [json_path, yaml_path]


def render(results: dict[str, Any]) -> str:
    parts = [_header(results)]
    for key, func in (("model", _model), ("fleet", _fleet), ("round_trips", _round_trips),
                      ("traffic", _traffic)):
        if key in results:
            parts.append(func(results[key]))
    if "error" in results:
        parts.append(f"**Incomplete run**: {results['error']}")
    return "\n\n".join(parts)


def _table(head: list[str], rows: list[list[Any]], align: str = "") -> str:
    align = align or "l" + "r" * (len(head) - 1)
    marks = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _header(results: dict[str, Any]) -> str:
    m = results["machine"]
    return (f"## keepalive.ssh benchmark, {results['date']}\n\n"
            f"Machine: {m['cpu_model']}, nproc {m['nproc']}, {m['memory_gib']} GiB, kernel {m['kernel']}; "
            f"{m['ansible']}, Python {m['python']}; load average at start {m['load_average_at_start']}, "
            f"at end {m.get('load_average_at_end', '?')}. Total {results.get('seconds', '?')} s.")


def _model(model: dict[str, Any]) -> str:
    slowest, base = model["slowest_median_ms"], model["baseline_median_ms"]
    rows = [[name, f"{row['median_ms']:.2f}", f"{row['min_ms']:.2f}", f"{row['max_ms']:.2f}",
             f"{row['median_ms'] / base:.1f}"] for name, row in model["rows"].items()]
    verdict = "met" if slowest < model["goal_ms"] else "MISSED"
    return (f"### Module CPU (scripts/bench_model.py, median of {model['repeats']})\n\n"
            + _table(["phase", "median ms", "min ms", "max ms", "× baseline"], rows)
            + f"\n\nSlowest parse+resolve+edit ({model['slowest'].split()[-1]}): {slowest:.1f} ms; "
              f"goal < {model['goal_ms']:.0f} ms: **{verdict}**.")


def fleet_index(rows: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    return {(row["hosts"], row["playbook"]): row for row in rows if not row.get("skipped")}


def _fleet(rows: list[dict[str, Any]]) -> str:
    index = fleet_index(rows)
    sizes = sorted({size for size, _kind in index})
    table = []
    for size in sizes:
        col, rec = index.get((size, "collection")), index.get((size, "recipe"))
        if not col or not rec:
            continue
        rounds = col["rounds"]
        for step, goal in (("first_converge", None), ("noop", NOOP_GOAL)):
            wall = col[f"{step}_s"] / rec[f"{step}_s"]
            cpu = col[f"{step}_cpu_s"] / rec[f"{step}_cpu_s"]
            label = "first converge" if goal is None else "no-op re-run"
            label += f" (median of {rounds})" if rounds > 1 else ""
            verdict = "" if goal is None else f" (goal ≤ {goal:.1f}×: {'met' if wall <= goal else 'missed'})"
            logins = (f"{col.get(f'{step}_ssh_logins_per_host', '?')} / "
                      f"{rec.get(f'{step}_ssh_logins_per_host', '?')}")
            table.append([size, label, f"{col[f'{step}_s']:.1f}", f"{rec[f'{step}_s']:.1f}",
                          f"**{wall:.2f}×**{verdict}",
                          f"{col[f'{step}_cpu_s']:.0f} / {rec[f'{step}_cpu_s']:.0f}", f"{cpu:.2f}×", logins])
    for row in rows:
        if row.get("skipped"):
            table.append([row["hosts"], f"skipped: predicted {row['predicted_s'] / 60:.0f} min "
                                        f"> budget {row['budget_s'] / 60:.0f} min", "-", "-", "-", "-", "-", "-"])
    forks = rows[0].get("forks", "?") if rows else "?"
    persist = rows[0].get("control_persist", "60s") if rows else "?"
    out = [f"### Fleet: playbooks/keepalive.yml (server play) vs the lineinfile recipe, forks {forks}, "
           f"ControlPersist {persist}",
           "Wall seconds, and CPU seconds of the run (controller: ansible-playbook and its workers; "
           "hosts: the containers' cgroups), which other load on the machine inflates less.",
           _table(["hosts", "run", "collection s", "recipe s", "collection / recipe",
                   "CPU s (coll. / recipe)", "CPU ratio", "SSH logins per host (coll. / recipe)"], table)]
    if sizes:
        col, rec = index.get((sizes[-1], "collection"), {}), index.get((sizes[-1], "recipe"), {})
        out.append(f"Tasks ok per host: collection {col.get('first_converge_tasks_ok_per_host', '?')} "
                   f"(first converge) / {col.get('noop_tasks_ok_per_host', '?')} (no-op); recipe "
                   f"{rec.get('first_converge_tasks_ok_per_host', '?')} / {rec.get('noop_tasks_ok_per_host', '?')}.")
        out.append(_growth(index, sizes))
    return "\n\n".join(out)


def growth(index: dict[tuple[int, str], dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """Per-host cost at each size and the marginal cost per added host between sizes (wall and CPU)."""
    rows = []
    for kind in ("collection", "recipe"):
        for key in ("first_converge_s", "noop_s", "first_converge_cpu_s", "noop_cpu_s"):
            points = [(n, index[(n, kind)][key]) for n in sizes if (n, kind) in index]
            marginal = [{"from": a[0], "to": b[0], "s_per_host": round((b[1] - a[1]) / (b[0] - a[0]), 3)}
                        for a, b in itertools.pairwise(points)]
            steps = [m["s_per_host"] for m in marginal]
            linear = (all(abs(m - steps[-1]) <= LINEARITY_TOLERANCE * abs(steps[-1]) for m in steps)
                      if len(steps) > 1 else None)
            rows.append({"playbook": kind, "measure": key, "per_host": {n: round(t / n, 3) for n, t in points},
                         "marginal": marginal, "marginal_steps_agree": linear})
    return rows


def _growth(index: dict[tuple[int, str], dict[str, Any]], sizes: list[int]) -> str:
    if len(sizes) < 2:
        return "(one fleet size only: no growth figures)"
    names = {"first_converge_s": "first converge, wall", "noop_s": "no-op, wall",
             "first_converge_cpu_s": "first converge, CPU", "noop_cpu_s": "no-op, CPU"}
    head = ["playbook", "measure", *[f"s/host @{n}" for n in sizes],
            *[f"marginal s/host {a}→{b}" for a, b in itertools.pairwise(sizes)]]
    rows = [[row["playbook"], names[row["measure"]],
             *[f"{row['per_host'].get(n, float('nan')):.2f}" for n in sizes],
             *[f"{m['s_per_host']:.2f}" for m in row["marginal"]]] for row in growth(index, sizes)]
    return ("Growth with the host count (linear: a constant marginal cost per added host):\n\n"
            + _table(head, rows, "ll" + "r" * (len(head) - 2)))


def _round_trips(data: dict[str, Any]) -> str:
    rows = []
    for run in data["runs"]:
        mode = "on" if run["pipelining"] else "off (default)"
        for group in run["counts"]["first_converge"]:
            first = run["counts"]["first_converge"][group]
            noop = run["counts"]["noop"].get(group, {})
            if not first.get("invocations") and not noop.get("invocations"):
                continue
            rows.append([run["playbook"], group, mode,
                         _rt(first), first["minimum"], _times(first["invocations"], first["minimum"]),
                         _rt(noop), noop.get("minimum", 1),
                         _times(noop.get("invocations", 0), noop.get("minimum", 1))])
    return ("### SSH round trips per host and role run (one host, counted from -vvv)\n\n"
            "ssh/sftp processes started for the host (module runs; new SSH logins besides the "
            "multiplexed connection). Minimum: 1 to read the state + 1 per file written.\n\n"
            + _table(["playbook", "role", "pipelining", "first converge", "min", "× min",
                      "no-op", "min", "× min"], rows, "lll" + "r" * 6))


def _times(count: int, minimum: int) -> str:
    # One decimal: a module that reads and writes everything in one run goes below the
    # one-round-trip-per-file minimum (0.2×), which a whole-number ratio would show as 0×.
    return f"{count / minimum:.1f}×"


def _rt(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    extra = f", {counts['new_logins']} new login{'s' * (counts['new_logins'] != 1)}" if counts.get("new_logins") else ""
    modules = counts["module_runs"]
    return f"{counts['invocations']} ({modules} module{'s' * (modules != 1)}{extra})"


def _traffic(data: dict[str, Any]) -> str:
    rows = []
    for name, case in data["cases"].items():
        rows.append([MECHANISMS.get(name, name), case["interval_s"], case["window_s"], case["packets"],
                     case["ip_bytes"], f"× {case['scale_to_preset_hour']:.2f} (→ {case['preset_interval_s']} s)",
                     f"{case['ip_bytes_per_hour']:,}", case["packets_per_hour"],
                     f"{case['ethernet_bytes_per_hour']:,}"])
    return (f"### Keepalive traffic of one idle session at the stay_alive preset "
            f"(server {data['server']} OpenSSH {data['openssh']}, client {data['client']})\n\n"
            "Counted by nftables counters in the lab router's namespace, both directions, IP bytes. "
            "Scaled to an hour at the preset interval: bytes × 3600 / window × measured interval / "
            "preset interval.\n\n"
            + _table(["mechanism", "interval s", "window s", "packets", "IP bytes", "scale",
                      "IP bytes/h", "packets/h", "Ethernet bytes/h"], rows))


__all__ = ["fleet_index", "growth", "render", "save"]
