"""What the scenarios expect, as formulas: one place for the tests, the docs and the results.

These formulas were fitted to lab measurements (docs/behaviour.md), not taken from the manual
pages. ``low``/``high`` are times measured from the moment a peer vanishes (blackholed at the
router) in an idle session whose keepalives were being answered until then.
"""

from __future__ import annotations

import re

# sshd sends the keepalive probes of an idle session this many ClientAliveIntervals apart.
# Measured: 1 on OpenSSH 8.4p1 and 10.0p1, 2 on 9.2p1 (Debian 12): its first ppoll() timeout
# finds `now` not yet past `last + interval` (whole seconds) and sends nothing.
SSHD_PERIOD_FACTOR: dict[tuple[int, int], int] = {(9, 2): 2}


def version_key(version: str) -> tuple[int, int]:
    """'9.2p1' -> (9, 2)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    if not found:
        raise ValueError(f"not an OpenSSH version: {version!r}")
    return int(found.group(1)), int(found.group(2))


def sshd_period_factor(version: str) -> int:
    return SSHD_PERIOD_FACTOR.get(version_key(version), 1)


def sshd_probe_period(version: str, interval: float) -> float:
    """Seconds between sshd's keepalive probes on an idle session."""
    return sshd_period_factor(version) * interval


def sshd_dead_client(version: str, interval: float, countmax: int) -> tuple[float, float, str]:
    """sshd drops a vanished client after more than CountMax unanswered probes."""
    k = sshd_period_factor(version)
    period = k * interval
    formula = (f"{k} x ClientAliveInterval x CountMax .. {k} x ClientAliveInterval x "
               f"(CountMax + 1) = {period * countmax:g}..{period * (countmax + 1):g}")
    return period * countmax, period * (countmax + 1), formula


def ssh_dead_server(interval: float, countmax: int) -> tuple[float, float, str]:
    """The ssh client gives up on a vanished server (probes ServerAliveInterval apart)."""
    formula = (f"ServerAliveInterval x CountMax .. ServerAliveInterval x (CountMax + 1) = "
               f"{interval * countmax:g}..{interval * (countmax + 1):g}")
    return interval * countmax, interval * (countmax + 1), formula


def kernel_dead_peer(time: float, intvl: float, probes: int) -> tuple[float, float, str]:
    """The kernel resets a connection after `probes` unanswered keepalive probes."""
    low, high = intvl * probes, time + intvl * probes
    formula = (f"intvl x probes .. time + intvl x probes = {low:g}..{high:g}")
    return low, high, formula


def nat_kept_by_sshd(version: str, interval: float, nat_timeout: float) -> bool:
    """An idle session survives a NAT that forgets flows idle for nat_timeout seconds."""
    return interval > 0 and sshd_probe_period(version, interval) < nat_timeout


__all__ = [
    "SSHD_PERIOD_FACTOR", "kernel_dead_peer", "nat_kept_by_sshd", "ssh_dead_server",
    "sshd_dead_client", "sshd_period_factor", "sshd_probe_period", "version_key",
]
