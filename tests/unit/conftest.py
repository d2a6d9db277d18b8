# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit tests: the sshd_config layouts under ``fixtures/sshd``.

A layout is loaded into a ``MemorySource`` rooted at ``/etc/ssh`` so that the stock
``Include /etc/ssh/sshd_config.d/*.conf`` finds the layout's own drop-ins, never this machine's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._model import SERVER, Config, MemorySource

FIXTURES = Path(__file__).resolve().parent / 'fixtures' / 'sshd'
ETC = '/etc/ssh'
MAIN = ETC + '/sshd_config'
DROP_INS = ETC + '/sshd_config.d'


def read_text(path: Path) -> str:
    """Bytes as the model's Source reads them: UTF-8, undecodable bytes kept as surrogates."""
    return path.read_bytes().decode('utf-8', 'surrogateescape')


# The CRLF layout is stored with LF endings (ansible-test sanity refuses CR LF in the tree)
# and gets its CR LF endings when it is loaded.
CRLF_LAYOUTS = frozenset({'crlf'})


def layout_files(name: str) -> dict[str, str]:
    """The files of one fixture layout, keyed by the path they would have under /etc/ssh."""
    root = FIXTURES / name
    files = {ETC + '/' + str(p.relative_to(root)): read_text(p) for p in sorted(root.rglob('*')) if p.is_file()}
    if name in CRLF_LAYOUTS:
        files = {path: text.replace('\n', '\r\n') for path, text in files.items()}
    return files


def layout_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.fixture
def sshd_layout() -> Callable[..., dict[str, str]]:
    """``sshd_layout('rhel9', {'/etc/ssh/sshd_config.d/40-x.conf': '...'})`` -> path -> text."""

    def make(name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        files = layout_files(name)
        files.update(extra or {})
        return files

    return make


@pytest.fixture
def server_config(sshd_layout: Callable[..., dict[str, str]]) -> Callable[..., Config]:
    """``server_config('debian12', extra_files)`` -> a Config of that layout read from memory."""

    def make(name: str, extra: dict[str, str] | None = None) -> Config:
        return Config(MAIN, flavour=SERVER, source=MemorySource(sshd_layout(name, extra)))

    return make
