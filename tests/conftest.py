"""Make ``ansible_collections.keepalive.ssh`` importable when pytest runs from a plain checkout.

Inside a tree laid out as ``.../ansible_collections/keepalive/ssh`` (as ansible-test uses), the
directory above ``ansible_collections`` goes on ``sys.path``. In a plain checkout, a symlink
``.build/pytest-path/ansible_collections/keepalive/ssh`` pointing at the checkout is made first,
so tests import the live source, not a copy.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

NAMESPACE, NAME = "keepalive", "ssh"
COLLECTION_ROOT = Path(__file__).resolve().parent.parent


def _import_root(collection_root: Path) -> Path:
    if collection_root.parts[-3:] == ("ansible_collections", NAMESPACE, NAME):
        return collection_root.parents[2]
    base = collection_root / ".build" / "pytest-path"
    link = base / "ansible_collections" / NAMESPACE / NAME
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another pytest process made it first
            os.symlink(collection_root, link, target_is_directory=True)
    return base


_root = str(_import_root(COLLECTION_ROOT))
if _root not in sys.path:
    sys.path.insert(0, _root)
