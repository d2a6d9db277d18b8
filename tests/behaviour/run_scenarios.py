"""make behaviour: every behavioural scenario, each on a lab run of its own, then the table.

    python tests/behaviour/run_scenarios.py [SCENARIO ...]     default: all four

Each scenario runs as `tests/lab/run_molecule.py test -s SCENARIO`: a fresh lab (shared
create.yml), the scenario's prepare and verify, and the lab torn down whatever happened. A lab
per scenario costs seconds and keeps one scenario's settings (TMOUT, ChannelTimeout, users)
out of the next one's measurements. A failed scenario does not stop the others.
Exit status 0 when every scenario passed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from behaviour.results import drop_scenarios, load, results_path  # noqa: E402
from behaviour.run import SCENARIOS  # noqa: E402
from behaviour.table import print_table  # noqa: E402

RUN_MOLECULE = HERE.parent / "lab" / "run_molecule.py"


def main(argv: list[str]) -> int:
    names = argv or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
        return 2
    drop_scenarios(names)
    timings: list[tuple[str, int, float]] = []
    started = time.monotonic()
    for name in names:
        print(f"\n[behaviour] ===== scenario {name} =====", flush=True)
        start = time.monotonic()
        # Molecule wraps its output at the terminal's width; CI has none, so give a wide one.
        env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "160"),
               "KASSH_BEHAVIOUR_SCENARIO": name}
        rc = subprocess.call([sys.executable, str(RUN_MOLECULE), "test", "-s", name],
                             cwd=HERE.parent.parent, env=env)
        timings.append((name, rc, time.monotonic() - start))
    total = time.monotonic() - started
    print("\n[behaviour] results of every scenario "
          f"({results_path().relative_to(HERE.parent.parent)}):\n", flush=True)
    print_table(names)
    summary = load().get("scenarios", {})
    print("\n[behaviour] wall time per scenario (molecule, lab up and down included):")
    for name, rc, took in timings:
        measured = summary.get(name, {}).get("seconds")
        print(f"  {name:<14} {'passed' if rc == 0 else f'FAILED (rc={rc})':<14} {took:6.0f}s"
              + (f"   (harness {measured:.0f}s)" if measured else ""))
    print(f"  {'total':<14} {'':<14} {total:6.0f}s", flush=True)
    return 0 if all(rc == 0 for _name, rc, _took in timings) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
