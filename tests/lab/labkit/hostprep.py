"""Make this machine able to run the lab: Debian packages and podman's settings.

Idempotent: a package already installed is not asked for again, and the podman
drop-in is written only when the settings it carries are not in force yet.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .shell import LabError, log, run

# Debian packages the lab drives from the outside (the images carry their own).
PACKAGES = (
    "podman", "runc", "debootstrap", "nftables", "iproute2",
    "openssh-client", "putty-tools", "conntrack",
)

# crun cannot run here ("cgroups in hybrid mode not supported") and the default
# rlimits cannot be raised inside this machine's sandbox: see docs/lab.md.
PODMAN_RUNTIME = "runc"
PODMAN_ULIMITS = ("nofile=1024:1024", "nproc=4096:4096")
PODMAN_DROPIN = Path("/etc/containers/containers.conf.d/50-keepalive-ssh-lab.conf")
PODMAN_DROPIN_TEXT = f"""\
# Written by keepalive.ssh tests/lab (labctl.py up): the lab's containers need
# the runc runtime and rlimits this machine allows.
[containers]
default_ulimits = [{", ".join(f'"{u}"' for u in PODMAN_ULIMITS)}]

[engine]
runtime = "{PODMAN_RUNTIME}"
"""

SOURCES_DIR = Path("/etc/apt/sources.list.d")


def missing_packages() -> list[str]:
    proc = run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *PACKAGES],
        check=False,
    )
    installed = {
        line.split()[0]
        for line in proc.stdout.splitlines()
        if line.endswith(" installed")
    }
    return [name for name in PACKAGES if name not in installed]


def ensure_packages() -> None:
    missing = missing_packages()
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    env_prefix = ["env", "DEBIAN_FRONTEND=noninteractive"]
    proc = run([*env_prefix, "apt-get", "install", "-y", "--no-install-recommends", *missing],
               check=False, timeout=900)
    if proc.returncode != 0:
        # A fresh machine may have no package lists yet.
        run([*env_prefix, "apt-get", "update"], timeout=600)
        run([*env_prefix, "apt-get", "install", "-y", "--no-install-recommends", *missing],
            timeout=900)


def _podman_configured() -> bool:
    texts = []
    for path in [Path("/etc/containers/containers.conf"),
                 *sorted(Path("/etc/containers/containers.conf.d").glob("*.conf"))]:
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    text = "\n".join(texts)
    has_runtime = re.search(r'(?m)^\s*runtime\s*=\s*"runc"', text) is not None
    has_ulimits = re.search(r"(?m)^\s*default_ulimits\s*=.*nofile", text) is not None
    return has_runtime and has_ulimits


def ensure_podman_config() -> None:
    if _podman_configured():
        return
    log(f"configuring podman: {PODMAN_DROPIN}")
    PODMAN_DROPIN.parent.mkdir(parents=True, exist_ok=True)
    PODMAN_DROPIN.write_text(PODMAN_DROPIN_TEXT, encoding="utf-8")


def debian_mirror() -> str:
    """The Debian archive URL this machine's apt uses (never hard-coded here)."""
    candidates = sorted(SOURCES_DIR.glob("*.sources")) + sorted(SOURCES_DIR.glob("*.list"))
    legacy = Path("/etc/apt/sources.list")
    if legacy.is_file():
        candidates.append(legacy)
    for path in candidates:
        url = _mirror_in(path.read_text(encoding="utf-8", errors="replace"))
        if url:
            return url
    raise LabError(f"no Debian archive URL found in {SOURCES_DIR}")


def _mirror_in(text: str) -> str | None:
    # deb822 stanzas: URIs + Suites; the archive (not -security) is the one with plain suites.
    for stanza in re.split(r"\n\s*\n", text):
        uris = re.search(r"(?mi)^URIs:\s*(\S+)", stanza)
        suites = re.search(r"(?mi)^Suites:\s*(.+)$", stanza)
        enabled = re.search(r"(?mi)^Enabled:\s*no", stanza) is None
        if uris and suites and enabled and "security" not in suites.group(1) and "debian" in uris.group(1):
            return uris.group(1).rstrip("/")
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match and "security" not in match.group(2) and "debian" in match.group(1):
            return match.group(1).rstrip("/")
    return None


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, podman, debootstrap)")


def prepare_host() -> None:
    require_root()
    ensure_packages()
    ensure_podman_config()


__all__ = [
    "PODMAN_RUNTIME", "PODMAN_ULIMITS", "debian_mirror", "ensure_packages",
    "ensure_podman_config", "missing_packages", "prepare_host", "require_root",
]
