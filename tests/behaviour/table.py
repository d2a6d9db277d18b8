"""Print the behavioural results as a table (scenario, OpenSSH version, settings, expected, measured).

    python tests/behaviour/table.py [RESULTS.json] [--scenario NAME ...]

Used at the end of every scenario (so the table is in the CI log) and by `make demo`.
Exit status 0 (printing is not judging; the scenarios fail on their own).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from behaviour.results import load, results_path  # type: ignore[no-redef]
else:
    from .results import load, results_path

COLUMNS = (("scenario", 13), ("case", 24), ("host", 9), ("OpenSSH", 7), ("settings", 40),
           ("expected", 14), ("measured", 22), ("", 5))
# Knobs that say how a measurement was made rather than what was set: kept out of the table.
HIDDEN_SETTINGS = {"mechanism", "via", "side"}


def format_settings(settings: dict[str, Any]) -> str:
    """Compact settings; the kernel's timers only where the kernel is what is measured."""
    kernel = not str(settings.get("mechanism", "")).startswith("ssh")
    parts = []
    for key, value in settings.items():
        if key in HIDDEN_SETTINGS or value is None:
            continue
        if not kernel and (key.startswith("tcp_keepalive_") or key == "TCPKeepAlive"):
            continue
        parts.append(f"{key}={value}")
    return " ".join(parts)


def format_expected(expected: dict[str, Any]) -> str:
    if expected.get("kind") == "seconds":
        return f"{expected['low']:g}-{expected['high']:g}s ±{expected['tolerance']:g}"
    return str(expected.get("outcome", "?"))


def format_measured(measured: dict[str, Any]) -> str:
    if measured.get("kind") == "seconds":
        if not measured.get("n"):
            return "no sample"
        return (f"{measured['min']:g}/{measured['median']:g}/{measured['max']:g}s "
                f"n={measured['n']}")
    outcome = str(measured.get("outcome", "?"))
    after = measured.get("after_seconds")
    if after is not None:
        return f"{outcome} ({after:g}s)"
    return outcome


STATUS = {"pass": "ok", "fail": "FAIL", "xfail": "xfail", "xpass": "XPASS"}


def status(record: dict[str, Any]) -> str:
    return str(record.get("status") or ("pass" if record.get("pass") else "fail"))


def rows(records: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in records:
        out.append([r["scenario"], r["case"], r["host"], r.get("openssh_version", ""),
                    format_settings(r.get("settings", {})), format_expected(r["expected"]),
                    format_measured(r["measured"]), STATUS.get(status(r), "FAIL")])
    return out


def render_compact(records: list[dict[str, Any]]) -> str:
    """One short line per measurement (no settings): for logs that wrap long lines."""
    lines = []
    for row in rows(records):
        scenario, case, host, version, _settings, expected, measured, status = row
        lines.append(f"{status:<5} {case} {host} {version}: expected {expected}, "
                     f"measured {measured}")
    return "\n".join(lines)


def render(records: list[dict[str, Any]]) -> str:
    widths = [width for _name, width in COLUMNS]
    lines = [" ".join(f"{name:<{width}}" for name, width in COLUMNS).rstrip(),
             " ".join("-" * width for width in widths)]
    for row in rows(records):
        wrapped = [textwrap.wrap(cell, width) or [""]
                   for cell, width in zip(row, widths, strict=True)]
        for i in range(max(len(w) for w in wrapped)):
            cells = [w[i] if i < len(w) else "" for w in wrapped]
            lines.append(" ".join(f"{c:<{width}}" for c, width in zip(cells, widths, strict=True))
                         .rstrip())
    failed = sum(1 for r in records if status(r) in ("fail", "xpass"))
    known = [r for r in records if status(r) == "xfail"]
    lines.append(f"{len(records)} measurements, {failed} failed, {len(known)} known issue(s) "
                 "(min/median/max over the samples; expected bounds widened by ±tolerance)")
    for issue in sorted({str(r.get("known_issue")) for r in known}):
        lines.append(f"  xfail: {issue}")
    return "\n".join(lines)


def select(scenarios: list[str] | None = None, path: Path | None = None) -> list[dict[str, Any]]:
    data = load(path or results_path())
    return [r for r in data["records"] if not scenarios or r["scenario"] in scenarios]


def print_table(scenarios: list[str] | None = None, path: Path | None = None) -> str:
    text = render(select(scenarios, path))
    print(text, flush=True)
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="?", type=Path, default=None)
    parser.add_argument("--scenario", action="append", default=None)
    args = parser.parse_args(argv)
    print_table(args.scenario, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
