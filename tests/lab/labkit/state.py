"""Per-run identity, address slots and the run's state file.

A run is named by a short id (6 hex digits). Everything a run makes carries the id,
and is recorded in ``/tmp/kassh-<id>/state.yml`` BEFORE it is made, so teardown can
remove it from any state (half-built, failed, or complete).

Addresses: each run holds one slot ``s`` (0..255) and uses only
``198.18.s.0/24`` (data path) and ``198.19.s.0/24`` (management), both inside the
benchmarking range 198.18.0.0/15. A slot is claimed with an exclusive file in
``/run/keepalive-ssh-lab/`` and is skipped when any of its addresses is already
configured on this machine, so two concurrent runs never overlap.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .shell import LabError, run

REGISTRY = Path("/run/keepalive-ssh-lab")
RUN_ROOT = Path("/tmp")
SLOTS = 256
# A claimed slot whose run left no namespace behind is reclaimed after this long.
STALE_SLOT_SECONDS = 1800


def yaml_rt() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    yaml.width = 4096  # long paths and ssh arguments stay on one line
    return yaml


def load_yaml(path: Path) -> Any:
    return yaml_rt().load(path.read_text(encoding="utf-8"))


def dump_yaml(data: Any, path: Path) -> None:
    """Write YAML atomically (a reader never sees half a file)."""
    buf = io.StringIO()
    yaml_rt().dump(data, buf)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)


def new_run_id() -> str:
    return secrets.token_hex(3)


def valid_run_id(run_id: str) -> str:
    if len(run_id) != 6 or any(c not in "0123456789abcdef" for c in run_id):
        raise LabError(f"run id must be 6 lowercase hex digits, got {run_id!r}")
    return run_id


def run_dir(run_id: str) -> Path:
    return RUN_ROOT / f"kassh-{run_id}"


def state_path(run_id: str) -> Path:
    return run_dir(run_id) / "state.yml"


def _slot_file(slot: int) -> Path:
    return REGISTRY / f"slot-{slot:03d}.yml"


def _addresses_in_use() -> str:
    # Only the management side is visible here; data addresses live in the run's
    # own namespaces, but they share the slot number, so checking one is enough.
    return run(["ip", "-o", "-4", "addr", "show"], check=False).stdout + \
        run(["ip", "-4", "route", "show", "table", "all"], check=False).stdout


def _slot_is_stale(path: Path) -> bool:
    try:
        data = load_yaml(path) or {}
    except (OSError, ValueError):
        return True
    other = str(data.get("run_id", ""))
    alive = any(Path("/run/netns").glob(f"kassh-{other}-*")) or state_path(other).exists()
    age = datetime.datetime.now().timestamp() - path.stat().st_mtime
    return not alive and age > STALE_SLOT_SECONDS


def claim_slot(run_id: str, checkout: str) -> int:
    REGISTRY.mkdir(parents=True, exist_ok=True)
    in_use = _addresses_in_use()
    first = int(hashlib.sha256(run_id.encode()).hexdigest(), 16) % SLOTS
    for offset in range(SLOTS):
        slot = (first + offset) % SLOTS
        if f"198.19.{slot}." in in_use or f"198.18.{slot}." in in_use:
            continue
        path = _slot_file(slot)
        if path.exists() and _slot_is_stale(path):
            path.unlink(missing_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"run_id: '{run_id}'\ncheckout: '{checkout}'\n"
                         f"state: '{state_path(run_id)}'\n")
        return slot
    raise LabError("no free lab address slot in 198.18.0.0/15")


def release_slot(slot: int | None, run_id: str) -> None:
    if slot is None:
        return
    path = _slot_file(slot)
    try:
        owner = str((load_yaml(path) or {}).get("run_id", ""))
    except (OSError, ValueError):
        return
    if owner == run_id:
        path.unlink(missing_ok=True)


def registered_runs() -> list[dict[str, Any]]:
    """Every run this machine knows of (from the slot registry)."""
    runs = []
    for path in sorted(REGISTRY.glob("slot-*.yml")):
        try:
            data = load_yaml(path) or {}
        except (OSError, ValueError):
            continue
        runs.append({"slot": int(path.stem.split("-")[1]), **dict(data)})
    return runs


class RunState:
    """The run's state file: a round-trip YAML mapping saved after every change."""

    def __init__(self, path: Path, data: Any) -> None:
        self.path = path
        self.data = data

    @classmethod
    def create(cls, run_id: str, checkout: str) -> RunState:
        directory = run_dir(run_id)
        directory.mkdir(mode=0o700, parents=True, exist_ok=False)
        data = yaml_rt().load(
            "# keepalive.ssh lab run state: written by labctl.py, read by labctl.py down.\n"
            "run_id: ''\n"
        )
        data["run_id"] = run_id
        data["checkout"] = checkout
        data["run_dir"] = str(directory)
        data["created"] = datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds")
        data["slot"] = None
        for key in ("containers", "namespaces", "root_links"):
            data[key] = []
        data["hosts"] = {}
        data["impairments"] = {"blackholed": [], "loss": {}}
        state = cls(directory / "state.yml", data)
        state.save()
        return state

    @classmethod
    def load(cls, path: Path) -> RunState:
        if not path.is_file():
            raise LabError(f"no lab state file at {path}")
        return cls(path, load_yaml(path))

    @property
    def run_id(self) -> str:
        return str(self.data["run_id"])

    @property
    def dir(self) -> Path:
        return Path(str(self.data["run_dir"]))

    def save(self) -> None:
        dump_yaml(self.data, self.path)

    def record(self, key: str, value: str) -> None:
        """Note a resource about to be made (intent first, so teardown finds it)."""
        if value not in self.data[key]:
            self.data[key].append(value)
            self.save()

    def remove_dir(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def resolve_state(*, state: str | None, run_id: str | None) -> Path:
    """Find the state file from --state, --run-id, $KASSH_LAB_STATE or $KASSH_LAB_RUN."""
    if state:
        return Path(state)
    if run_id:
        return state_path(valid_run_id(run_id))
    if os.environ.get("KASSH_LAB_STATE"):
        return Path(os.environ["KASSH_LAB_STATE"])
    if os.environ.get("KASSH_LAB_RUN"):
        return state_path(valid_run_id(os.environ["KASSH_LAB_RUN"]))
    raise LabError("which lab? give --state or --run-id (or set KASSH_LAB_STATE / KASSH_LAB_RUN)")


__all__ = [
    "REGISTRY", "RunState", "claim_slot", "dump_yaml", "load_yaml", "new_run_id",
    "registered_runs", "release_slot", "resolve_state", "run_dir", "state_path",
    "valid_run_id", "yaml_rt",
]
