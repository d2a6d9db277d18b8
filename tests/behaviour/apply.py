"""Apply one case of a scenario to the lab with the collection's roles (playbooks/apply.yml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .lab import HarnessError, Lab

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent
APPLY_PLAYBOOK = HERE / "playbooks" / "apply.yml"


def ansible_env() -> dict[str, str]:
    """The environment for ansible-playbook: the collection by name from the build tree
    (``make build-tree``) unless the caller (molecule, CI) already points elsewhere."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(CHECKOUT / ".build"))
    env.update({
        "PATH": f"{bin_dir}:{env.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
        "ANSIBLE_DISPLAY_OK_HOSTS": os.environ.get("KASSH_BEHAVIOUR_SHOW_OK", "false"),
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
        "ANSIBLE_PIPELINING": "true",
    })
    return env


def playbook(lab: Lab, path: Path, extra_vars: dict[str, Any] | None = None, *,
             label: str, limit: str | None = None,
             show_ok: bool = False) -> tuple[int, str, float]:
    """Run a playbook against the lab; print its output; return (rc, output, seconds)."""
    bin_dir = Path(sys.executable).parent
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="kassh-case-",
                                     delete=False) as handle:
        json.dump(extra_vars or {}, handle)
        vars_file = handle.name
    argv = [str(bin_dir / "ansible-playbook"), "-i", str(lab.inventory), "-e", f"@{vars_file}",
            *(["--limit", limit] if limit else []), str(path)]
    print(f"\n[behaviour] apply {label}: {path.name}", flush=True)
    start = time.monotonic()
    try:
        env = ansible_env()
        if show_ok:  # a role's debug warnings are "ok" results
            env["ANSIBLE_DISPLAY_OK_HOSTS"] = "true"
        proc = subprocess.run(argv, cwd=CHECKOUT, env=env, text=True,
                              capture_output=True, timeout=900, check=False)
    finally:
        os.unlink(vars_file)
    took = time.monotonic() - start
    output = proc.stdout + proc.stderr
    for line in output.splitlines():
        if line.strip():
            print(f"    {line}")
    print(f"[behaviour] apply {label}: rc={proc.returncode} in {took:.1f}s", flush=True)
    return proc.returncode, output, took


def apply_case(lab: Lab, case: dict[str, Any], *, label: str) -> float:
    """Apply a case (see playbooks/apply.yml); a failed run is a harness error."""
    rc, output, took = playbook(lab, APPLY_PLAYBOOK, {"behaviour_case": case}, label=label)
    if rc != 0:
        raise HarnessError(f"applying case {label} failed (ansible-playbook rc={rc})")
    return took


__all__ = ["APPLY_PLAYBOOK", "ansible_env", "apply_case", "playbook"]
