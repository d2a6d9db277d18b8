"""Running commands and timing phases."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

VERBOSE = os.environ.get("KASSH_LAB_VERBOSE", "") not in ("", "0")


class LabError(Exception):
    """A lab step failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[lab] {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input_text: str | None = None,
    timeout: float | None = 300,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run argv (never through a shell) and return its captured output."""
    if VERBOSE:
        log("$ " + shlex.join(argv))
    try:
        proc = subprocess.run(
            list(argv), input=input_text, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {shlex.join(argv)}") from exc
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise LabError(f"command failed ({proc.returncode}): {shlex.join(argv)}\n{detail}")
    if proc.returncode != 0 and not quiet and VERBOSE:
        log(f"  rc={proc.returncode} {proc.stderr.strip()}")
    return proc


def netns(name: str, argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run argv inside network namespace ``name``."""
    return run(["ip", "netns", "exec", name, *argv], **kwargs)  # type: ignore[arg-type]


class PhaseClock:
    """Collects how long each named phase took, for the timing report."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, float]] = []

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        log(f"phase {name} ...")
        try:
            yield
        finally:
            took = time.monotonic() - start
            self.phases.append((name, took))
            log(f"phase {name} took {took:.1f}s")

    def report(self) -> str:
        lines = [f"  {name:<28} {took:7.1f}s" for name, took in self.phases]
        total = sum(took for _name, took in self.phases)
        return "\n".join(["lab phase timings:", *lines, f"  {'total':<28} {total:7.1f}s"])


__all__ = ["LabError", "PhaseClock", "log", "netns", "run"]
