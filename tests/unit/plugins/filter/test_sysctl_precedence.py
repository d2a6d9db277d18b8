# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the sysctl_precedence filter (pure, no host)."""

from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.keepalive.ssh.plugins.filter.sysctl_precedence import (
    FilterModule,
    normalize_key,
    parse_assignments,
    sysctl_precedence,
)

OWN = "/etc/sysctl.d/60-keepalive-ssh.conf"
TIME = "net.ipv4.tcp_keepalive_time"
WANT = {TIME: 300}


def _file(path: str, text: str) -> dict[str, str]:
    return {"path": path, "content": text}


NORMALIZE = [
    ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_time"),
    ("net/ipv4/tcp_keepalive_time", "net.ipv4.tcp_keepalive_time"),
    ("-net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_time"),
    ("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"),
    ("  net.ipv4.tcp_keepalive_time ", "net.ipv4.tcp_keepalive_time"),
]


@pytest.mark.parametrize(("key", "expected"), NORMALIZE)
def test_normalize_key(key: str, expected: str) -> None:
    assert normalize_key(key) == expected


PARSE = [
    ("net.ipv4.tcp_keepalive_time = 600\n", [(TIME, "600", 1)]),
    ("net.ipv4.tcp_keepalive_time=600", [(TIME, "600", 1)]),
    ("# net.ipv4.tcp_keepalive_time = 600\n; x = 1\n\n", []),
    ("   -net/ipv4/tcp_keepalive_time =  600  \r\n", [(TIME, "600", 1)]),
    ("a = 1\nnet.ipv4.tcp_keepalive_time = 7\n", [("a", "1", 1), (TIME, "7", 2)]),
    ("no equals sign here\n", []),
]


@pytest.mark.parametrize(("text", "expected"), PARSE)
def test_parse_assignments(text: str, expected: list[tuple[str, str, int]]) -> None:
    assert [(a.key, a.value, a.line) for a in parse_assignments(text, "/x")] == expected


# (files, expected overrides as (path, value), expected effective path)
PRECEDENCE = [
    pytest.param([], [], OWN, id="nothing-else"),
    pytest.param([_file("/etc/sysctl.d/10-early.conf", f"{TIME} = 100\n")], [], OWN, id="earlier-name-loses"),
    pytest.param(
        [_file("/etc/sysctl.d/99-late.conf", f"{TIME} = 100\n")],
        [("/etc/sysctl.d/99-late.conf", "100")],
        "/etc/sysctl.d/99-late.conf",
        id="later-name-wins",
    ),
    pytest.param(
        [_file("/etc/sysctl.d/99-late.conf", f"{TIME} = 300\n")],
        [],
        "/etc/sysctl.d/99-late.conf",
        id="same-value-no-override",
    ),
    pytest.param(
        [_file("/usr/lib/sysctl.d/70-vendor.conf", f"{TIME} = 100\n")],
        [("/usr/lib/sysctl.d/70-vendor.conf", "100")],
        "/usr/lib/sysctl.d/70-vendor.conf",
        id="vendor-dir-later-name",
    ),
    pytest.param(
        [_file("/usr/lib/sysctl.d/70-vendor.conf", f"{TIME} = 100\n"), _file("/etc/sysctl.d/70-vendor.conf", "")],
        [],
        OWN,
        id="vendor-masked-by-etc",
    ),
    pytest.param(
        [_file("/run/sysctl.d/70-x.conf", "a = 1\n"), _file("/usr/lib/sysctl.d/70-x.conf", f"{TIME} = 100\n")],
        [],
        OWN,
        id="run-shadows-usr-lib",
    ),
    pytest.param(
        [_file("/etc/sysctl.conf", f"{TIME} = 100\n")],
        [("/etc/sysctl.conf", "100")],
        "/etc/sysctl.conf",
        id="sysctl-conf-last",
    ),
    pytest.param(
        [_file("/etc/sysctl.d/99-a.conf", f"{TIME} = 100\n"), _file("/etc/sysctl.d/99-b.conf", f"{TIME} = 300\n")],
        [("/etc/sysctl.d/99-a.conf", "100")],
        "/etc/sysctl.d/99-b.conf",
        id="reported-even-if-later-restored",
    ),
    pytest.param(
        [_file("/etc/sysctl.d/99-glob.conf", "net.ipv4.tcp_keepalive_* = 5\n")],
        [("/etc/sysctl.d/99-glob.conf", "5")],
        "/etc/sysctl.d/99-glob.conf",
        id="glob",
    ),
    pytest.param(
        [_file(OWN, f"{TIME} = 1\n")],
        [],
        OWN,
        id="own-file-content-ignored",
    ),
]


@pytest.mark.parametrize(("files", "overrides", "effective_path"), PRECEDENCE)
def test_precedence(files: list[dict[str, str]], overrides: list[tuple[str, str]], effective_path: str) -> None:
    report = sysctl_precedence(files, WANT, OWN)
    assert [(o["path"], o["value"]) for o in report["overrides"]] == overrides
    assert report["effective"][TIME]["path"] == effective_path


def test_fix_in_place_under_etc_keeps_other_lines() -> None:
    text = f"# header\nvm.swappiness = 10\r\n{TIME} = 100\r\n"
    report = sysctl_precedence([_file("/etc/sysctl.d/99-late.conf", text)], WANT, OWN)
    (fix,) = report["fixes"]
    assert fix["dest"] == "/etc/sysctl.d/99-late.conf"
    assert fix["content"].startswith("# header\nvm.swappiness = 10\r\n# disabled by keepalive.ssh.tcp_keepalive")
    assert fix["content"].endswith(f"{TIME} = 100\r\n")
    refixed = sysctl_precedence([_file("/etc/sysctl.d/99-late.conf", fix["content"])], WANT, OWN)
    assert refixed["overrides"] == [] and refixed["fixes"] == []


def test_fix_outside_etc_is_a_shadow_copy() -> None:
    report = sysctl_precedence([_file("/usr/lib/sysctl.d/70-vendor.conf", f"{TIME} = 100\n")], WANT, OWN)
    assert [f["dest"] for f in report["fixes"]] == ["/etc/sysctl.d/70-vendor.conf"]


def test_symlink_to_sysctl_conf_fixed_once() -> None:
    text = f"{TIME} = 100\n"
    files = [_file("/etc/sysctl.d/99-sysctl.conf", text), _file("/etc/sysctl.conf", text)]
    report = sysctl_precedence(files, WANT, OWN, realpaths={"/etc/sysctl.d/99-sysctl.conf": "/etc/sysctl.conf"})
    assert len(report["overrides"]) == 2
    assert [f["dest"] for f in report["fixes"]] == ["/etc/sysctl.conf"]


def test_glob_is_never_fixed() -> None:
    report = sysctl_precedence([_file("/etc/sysctl.d/99-glob.conf", "net.ipv4.* = 5\n")], WANT, OWN)
    assert report["overrides"][0]["glob"] is True
    assert report["fixes"] == []


def test_slurp_results_are_decoded_and_failures_are_empty() -> None:
    encoded = base64.b64encode(f"{TIME} = 100\n".encode()).decode()
    files = [
        {"source": "/etc/sysctl.d/99-late.conf", "content": encoded, "encoding": "base64"},
        {"item": {"path": "/etc/sysctl.d/98-broken.conf"}, "failed": True, "msg": "dangling link"},
    ]
    report = sysctl_precedence(files, WANT, OWN)
    assert report["overrides"][0]["value"] == "100"
    assert report["unreadable"] == ["/etc/sysctl.d/98-broken.conf"]


def test_shadowed_and_order() -> None:
    files = [
        _file("/usr/lib/sysctl.d/50-a.conf", ""),
        _file("/etc/sysctl.d/50-a.conf", ""),
        _file("/etc/sysctl.conf", ""),
    ]
    report = sysctl_precedence(files, WANT, OWN)
    assert report["order"] == ["/etc/sysctl.d/50-a.conf", OWN, "/etc/sysctl.conf"]
    assert report["shadowed"] == [{"path": "/usr/lib/sysctl.d/50-a.conf", "by": "/etc/sysctl.d/50-a.conf"}]


INVALID = [
    pytest.param(["not a dict"], WANT, id="file-not-dict"),
    pytest.param([{"content": ""}], WANT, id="file-without-path"),
    pytest.param([], ["not", "a", "dict"], id="settings-not-dict"),
]


@pytest.mark.parametrize(("files", "settings"), INVALID)
def test_invalid_input(files: list[object], settings: object) -> None:
    with pytest.raises(AnsibleFilterError):
        sysctl_precedence(files, settings, OWN)  # type: ignore[arg-type]


def test_filter_is_registered() -> None:
    assert FilterModule().filters()["sysctl_precedence"] is sysctl_precedence
