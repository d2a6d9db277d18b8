# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real ``plink -load NAME`` uses what keepalive.ssh.putty_session wrote.

The test starts its own sshd on 127.0.0.1 (random high port, temp directory, LogLevel DEBUG3),
writes a saved session with the module for a fake user whose home is a temp directory, and runs
``plink -batch -load NAME 'sleep 4'`` with that home.  What the session did is measured:

* plink connects to the host and port of the session (``-v``: "Connecting to 127.0.0.1 port N");
* with ``PingIntervalSecs=1`` sshd receives SSH_MSG_IGNORE packets (type 2, PuTTY's keepalive)
  while the command sleeps; with ``PingIntervalSecs=0`` (the control) it receives none;
* with ``TCPKeepalives=1`` the kernel runs a keepalive timer on plink's socket (``ss -o``); with
  ``TCPKeepalives=0`` it does not.

Loopback only; the sshd is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.keepalive.ssh.plugins.modules import putty_session

SSHD = shutil.which('sshd') or '/usr/sbin/sshd'
SESSION = 'keepalive lab'
IDLE_SECONDS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(log) as handle:
                pytest.fail('sshd exited: %s' % handle.read())
        with socket.socket() as sock:
            if sock.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail('sshd did not listen on port %d' % port)


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    for tool in ('plink', 'puttygen', 'ss', 'ssh-keygen'):
        if not shutil.which(tool):
            pytest.fail('%s is not installed: run `make setup` (putty-tools, iproute2, openssh-client)' % tool)
    if os.geteuid() != 0:
        pytest.skip('the lab sshd logs in as root; run as root')
    root = tmp_path_factory.mktemp('plink')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(root / 'hostkey')], check=True)
    subprocess.run(['puttygen', '-q', '-t', 'ed25519', '-o', str(root / 'client.ppk'), '--new-passphrase',
                    '/dev/null'], check=True)
    subprocess.run(['puttygen', str(root / 'client.ppk'), '-O', 'public-openssh', '-o',
                    str(root / 'authorized_keys')], check=True)
    fingerprint = subprocess.run(['ssh-keygen', '-lf', str(root / 'hostkey.pub')], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
    port = free_port()
    (root / 'sshd_config').write_text('\n'.join([
        'Port %d' % port, 'ListenAddress 127.0.0.1', 'HostKey %s' % (root / 'hostkey'),
        'AuthorizedKeysFile %s' % (root / 'authorized_keys'), 'StrictModes no', 'UsePAM no',
        'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
        'PidFile %s' % (root / 'sshd.pid'), 'LogLevel DEBUG3', '']))
    os.makedirs('/run/sshd', exist_ok=True)
    log = str(root / 'sshd.log')
    proc = subprocess.Popen([SSHD, '-D', '-f', str(root / 'sshd_config'), '-E', log])
    try:
        wait_for_port(port, proc, log)
        yield {'root': root, 'port': port, 'fingerprint': fingerprint, 'log': log}
    finally:
        proc.terminate()   # our own sshd, by its pid
        proc.wait(timeout=10)


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / 'home'
    home.mkdir()
    entry = pwd.struct_passwd(('carol', 'x', 54323, 54323, '', str(home), '/bin/sh'))
    real = pwd.getpwnam
    monkeypatch.setattr(pwd, 'getpwnam', lambda name: entry if name == 'carol' else real(name))
    return home


def write_session(capsys, settings: dict) -> dict:
    args = {'user': 'carol', 'session': SESSION, 'settings': settings}
    with patch_module_args(args), pytest.raises(SystemExit):
        putty_session.main()
    result = json.loads(capsys.readouterr().out)
    assert not result.get('failed'), result
    return result


def keepalive_timer(port: int, found: list) -> None:
    """While plink idles: does its socket to the lab sshd run a kernel keepalive timer?"""
    time.sleep(1.5)
    out = subprocess.run(['ss', '-tnpo', 'state', 'established', 'dport', '= :%d' % port], capture_output=True,
                         text=True, check=False).stdout
    found.extend(line for line in out.splitlines() if 'plink' in line)


def run_plink(lab: dict, home) -> dict:
    offset = os.path.getsize(lab['log'])
    sockets: list = []
    watcher = threading.Thread(target=keepalive_timer, args=(lab['port'], sockets))
    watcher.start()
    argv = ['plink', '-v', '-batch', '-hostkey', lab['fingerprint'], '-i', str(lab['root'] / 'client.ppk'),
            '-load', SESSION, 'sleep %d; echo idle-done' % IDLE_SECONDS]
    proc = subprocess.run(argv,
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, HOME=str(home)), check=False)
    watcher.join()
    time.sleep(0.3)   # let sshd flush the last lines of the session
    with open(lab['log']) as handle:
        handle.seek(offset)
        log = handle.read()
    assert proc.returncode == 0 and 'idle-done' in proc.stdout, proc.stderr
    return {'stderr': proc.stderr, 'pings': len(re.findall(r'receive packet: type 2\b', log)), 'sockets': sockets}


def test_plink_uses_the_keepalives_the_module_wrote(lab, home, capsys):
    base = {'HostName': '127.0.0.1', 'PortNumber': lab['port'], 'UserName': 'root', 'Protocol': 'ssh'}
    written = write_session(capsys, dict(base, PingIntervalSecs=1, TCPKeepalives=True))
    assert written['path'] == str(home / '.putty' / 'sessions' / 'keepalive%20lab')
    seen = run_plink(lab, home)
    assert 'Connecting to 127.0.0.1 port %d' % lab['port'] in seen['stderr']
    assert seen['pings'] >= IDLE_SECONDS - 2, seen
    assert seen['sockets'] and all('keepalive' in line for line in seen['sockets']), seen

    # Control: the same session with keepalives off shows neither.
    write_session(capsys, {'PingIntervalSecs': 0, 'TCPKeepalives': False})
    quiet = run_plink(lab, home)
    assert quiet['pings'] == 0, quiet
    assert quiet['sockets'] and not any('keepalive' in line for line in quiet['sockets']), quiet
