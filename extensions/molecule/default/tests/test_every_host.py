"""Every lab host: kernel TCP keepalive (file and live values) and a working sshd."""

from __future__ import annotations

import re
import subprocess

testinfra_hosts = ["ansible://all"]

SYSCTLS = ("tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes")


def test_sysctl_file_written(host, lab_vars):
    text = host.file("/etc/sysctl.d/60-keepalive-ssh.conf").content_string
    for name in SYSCTLS:
        assert re.search(rf"(?m)^\s*net\.ipv4\.{name}\s*=\s*{lab_vars[name]}\s*$", text), name


def test_live_sysctls_inside_the_host(host, lab_vars):
    for name in SYSCTLS:
        assert host.sysctl(f"net.ipv4.{name}") == int(lab_vars[name]), name


def test_live_sysctls_seen_from_the_hosts_namespace(lab_vars):
    # The same values read from outside, through the host's network namespace: they
    # belong to that namespace, not to the machine running the lab.
    for name in SYSCTLS:
        proc = subprocess.run(
            ["ip", "netns", "exec", lab_vars["lab_netns"], "sysctl", "-n", f"net.ipv4.{name}"],
            capture_output=True, text=True, check=True,
        )
        assert int(proc.stdout) == int(lab_vars[name]), name


def test_sshd_is_the_main_process_and_owns_the_pidfile(host):
    # No init system in the lab: reloads go through sshd's PidFile (SIGHUP).
    assert host.file("/run/sshd.pid").content_string.strip() == "1"
    assert "sshd" in host.file("/proc/1/cmdline").content_string


def test_sshd_accepts_a_fresh_login_from_the_controller(lab_vars):
    # A new connection, not Ansible's or testinfra's multiplexed one.
    known_hosts = re.search(r"UserKnownHostsFile=(\S+)", lab_vars["ansible_ssh_common_args"])
    proc = subprocess.run(
        ["ssh", "-F", "none", "-o", "ControlMaster=no", "-o", "ControlPath=none",
         "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes",
         "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts.group(1)}",
         "-i", lab_vars["ansible_ssh_private_key_file"],
         f"root@{lab_vars['ansible_host']}", "echo fresh-login"],
        capture_output=True, text=True, timeout=30, check=False,
    )
    assert proc.stdout.strip() == "fresh-login", proc.stderr
