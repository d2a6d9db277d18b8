"""Servers: sshd itself reports the requested keepalive values."""

from __future__ import annotations

import re

from conftest import effective_keywords

testinfra_hosts = ["ansible://servers"]


def test_sshd_effective_values(host, lab_vars):
    effective = effective_keywords(host.check_output("/usr/sbin/sshd -T"))
    for keyword, value in lab_vars["sshd_keepalive_settings"].items():
        assert effective[keyword.lower()] == str(value), keyword
    assert effective["tcpkeepalive"] == "yes"


def test_sshd_configuration_written(host, lab_vars):
    text = host.check_output("cat /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null; true")
    for keyword, value in lab_vars["sshd_keepalive_settings"].items():
        assert re.search(rf"(?mi)^\s*{keyword}[\s=]+{value}\s*$", text), keyword
