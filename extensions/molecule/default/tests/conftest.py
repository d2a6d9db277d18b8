"""Shared helpers of the default scenario's testinfra tests.

The requested values come from the scenario's inventory (molecule.yml group_vars), so
the tests and the converge can never disagree about what was asked for.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def lab_vars(host):
    """The host's inventory variables (lab_* contract of docs/lab.md and the requested values)."""
    return host.ansible.get_variables()


def effective_keywords(text: str) -> dict[str, str]:
    """`sshd -T` / `ssh -G` output as {lowercase keyword: value}."""
    pairs = (line.split(None, 1) for line in text.splitlines() if line.strip())
    return {pair[0].lower(): (pair[1] if len(pair) > 1 else "") for pair in pairs}
