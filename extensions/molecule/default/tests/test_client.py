"""The client: ssh reports the requested keepalive values for every server, and the
servers still take new logins through the NAT router."""

from __future__ import annotations

import re

from conftest import effective_keywords

testinfra_hosts = ["ansible://clients"]


def test_ssh_client_effective_values(host, lab_vars):
    for server, address in lab_vars["lab_servers"].items():
        effective = effective_keywords(host.check_output(f"ssh -G {address}"))
        for keyword, value in lab_vars["ssh_keepalive_settings"].items():
            assert effective[keyword.lower()] == str(value), f"{server}: {keyword}"


def test_ssh_client_configuration_written(host, lab_vars):
    text = host.file("/etc/ssh/ssh_config").content_string
    for keyword, value in lab_vars["ssh_keepalive_settings"].items():
        assert re.search(rf"(?mi)^\s*{keyword}[\s=]+{value}\s*$", text), keyword


def test_servers_accept_new_logins_through_the_nat_router(host, lab_vars):
    for server, address in lab_vars["lab_servers"].items():
        out = host.run(f"ssh -o BatchMode=yes -o ConnectTimeout=10 root@{address} hostname")
        assert out.rc == 0 and out.stdout.strip() == server, f"{server}: {out.stderr}"
