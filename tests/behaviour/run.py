"""Run one behavioural scenario on a lab that is up, write its results, print the table.

    python tests/behaviour/run.py SCENARIO --inventory /tmp/kassh-ID/inventory.yml
           [--results tests/output/results/behaviour.json]

SCENARIO is stay_alive, dead_peer, idle_timeout or lockout_guard. The molecule scenario of the
same name (extensions/molecule/SCENARIO) prepares the hosts and calls this from its verify step.
Exit status: 0 every expectation met, 1 some measurement missed its bound, 2 the harness could
not measure (the lab or a converge failed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from behaviour.lab import HarnessError, Lab  # noqa: E402
from behaviour.results import results_path, save_scenario  # noqa: E402
from behaviour.scenarios.common import Context  # noqa: E402
from behaviour.table import print_table, render_compact, select  # noqa: E402

SCENARIOS = ("stay_alive", "dead_peer", "idle_timeout", "lockout_guard")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--inventory", type=Path, required=True,
                        help="the lab's inventory (labctl.py up writes /tmp/kassh-ID/inventory.yml)")
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.results:
        os.environ["KASSH_BEHAVIOUR_RESULTS"] = str(args.results)
    module = importlib.import_module(f"behaviour.scenarios.{args.scenario}")
    start = time.monotonic()
    lab = Lab(args.inventory)
    ctx = Context(lab=lab, scenario=args.scenario)
    failure = ""
    try:
        lab.push_probe()
        module.run(ctx)
    except (HarnessError, OSError) as exc:
        failure = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        try:
            lab.restore_all()
        except HarnessError as exc:
            print(f"[behaviour] could not restore the lab's data path: {exc}", file=sys.stderr)
    took = time.monotonic() - start
    notes = {"harness_error": failure} if failure else {}
    path = save_scenario(args.scenario, ctx.records, seconds=took, lab_run=lab.run_id,
                         notes={**ctx.notes, **notes})
    print(f"\n[behaviour] {args.scenario}: {len(ctx.records)} measurements in {took:.0f}s, "
          f"results in {path} (and {path.with_suffix('.yml').name})\n", flush=True)
    print_table([args.scenario], results_path())
    compact = render_compact(select([args.scenario], results_path()))
    path.with_name(f"{args.scenario}-table.txt").write_text(compact + "\n", encoding="utf-8")
    if failure:
        print(f"\n[behaviour] {args.scenario}: could not finish: {failure}", flush=True)
        return 2
    failed = [r for r in ctx.records if not r.ok]
    if failed or not ctx.records:
        print(f"\n[behaviour] {args.scenario}: {len(failed)} measurement(s) missed their "
              "expectation (or passed despite a known issue: remove its mark)", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
