"""Run molecule on a fresh lab run, time each step, and tear the run down whatever happens.

    run_molecule.py [MOLECULE ARGS...]        default: test --all

Each invocation gets its own run id (the lab's names and addresses) and its own
MOLECULE_EPHEMERAL_DIRECTORY, so two checkouts can test side by side. After molecule
ends (passed, failed or interrupted) the run is removed with `labctl.py down`, which
also covers a create that died half-way.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from labkit.state import new_run_id  # noqa: E402

CHECKOUT = HERE.parent.parent
STEP = re.compile(r"(?P<scenario>\S+) ➜ (?P<step>[a-z_]+): (?P<what>Executing|Executed)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def main(argv: list[str]) -> int:
    run_id = os.environ.get("KASSH_LAB_RUN") or new_run_id()
    ephemeral = Path(f"/tmp/kassh-molecule-{run_id}")
    env = {
        **os.environ,
        "KASSH_LAB_RUN": run_id,
        "MOLECULE_EPHEMERAL_DIRECTORY": str(ephemeral),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    args = argv or ["test", "--all"]
    print(f"[lab] molecule {' '.join(args)}  (lab run {run_id}, ephemeral {ephemeral})",
          flush=True)
    timings: list[tuple[str, float]] = []
    started = time.monotonic()
    rc = 1
    try:
        rc = _run(["molecule", *args], env, timings)
    finally:
        _teardown(run_id, env)
        shutil.rmtree(ephemeral, ignore_errors=True)
        _report(timings, time.monotonic() - started)
    return rc


def _run(argv: list[str], env: dict[str, str], timings: list[tuple[str, float]]) -> int:
    proc = subprocess.Popen(argv, cwd=CHECKOUT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    open_steps: dict[str, float] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            match = STEP.search(ANSI.sub("", line))
            if not match:
                continue
            key = f"{match['scenario']} {match['step']}"
            if match["what"] == "Executing":
                open_steps.setdefault(key, time.monotonic())
            elif key in open_steps:
                timings.append((key, time.monotonic() - open_steps.pop(key)))
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait(timeout=120)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _teardown(run_id: str, env: dict[str, str]) -> None:
    start = time.monotonic()
    subprocess.run([sys.executable, str(HERE / "labctl.py"), "--run-id", run_id, "down"],
                   env=env, check=False)
    print(f"[lab] teardown check for run {run_id} took {time.monotonic() - start:.1f}s",
          flush=True)


def _report(timings: list[tuple[str, float]], total: float) -> None:
    print("\nmolecule step timings:")
    for key, took in timings:
        print(f"  {key:<36} {took:7.1f}s")
    print(f"  {'total (with teardown)':<36} {total:7.1f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
