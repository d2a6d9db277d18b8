# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalive.ssh.putty_session as Ansible runs it, for a fake user whose home is a temp directory."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.keepalive.ssh.plugins.modules import putty_session
from ansible_collections.keepalive.ssh.tests.unit.plugins.modules.harness import fake_user, json_runner

UID = 54322


@pytest.fixture
def run(capsys):
    return json_runner(capsys, putty_session)


@pytest.fixture
def bob(tmp_path, monkeypatch):
    return fake_user(monkeypatch, tmp_path, 'bob', UID)


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


KEEPALIVE = {'PingIntervalSecs': 30, 'TCPKeepalives': True}


def test_four_steps_on_the_default_settings(run, bob):
    path = os.path.join(bob.pw_dir, '.putty', 'sessions', 'Default%20Settings')
    args = {'user': 'bob', 'settings': KEEPALIVE}
    checked = run(args, check=True)
    assert checked['changed'] and checked['path'] == path and not os.path.exists(os.path.join(bob.pw_dir, '.putty'))
    done = run(args)
    assert done['changed'] and done['current'] == {'PingIntervalSecs': '30', 'TCPKeepalives': '1'}
    assert done['ping_interval'] == 30
    with open(path) as handle:
        assert handle.read() == 'PingIntervalSecs=30\nTCPKeepalives=1\n'
    for directory in (os.path.join(bob.pw_dir, '.putty'), os.path.dirname(path)):
        assert mode_of(directory) == 0o700 and os.stat(directory).st_uid == UID
    assert mode_of(path) == 0o600 and os.stat(path).st_uid == UID and os.stat(path).st_gid == UID
    assert not run(args, check=True)['changed']
    assert not run(args)['changed']


def test_named_session_keeps_other_keys_and_order(run, bob):
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    path = os.path.join(sessions, 'prod%20bastion')
    with open(path, 'w') as handle:
        handle.write('HostName=198.18.0.10\nPingIntervalSecs=0\nWinTitle=prod\nTCPKeepalives=0\nColour0=187,187,187\n')
    result = run({'user': 'bob', 'session': 'prod bastion', 'settings': KEEPALIVE}, diff=True)
    assert result['changed'] and result['path'] == path
    expected = 'HostName=198.18.0.10\nPingIntervalSecs=30\nWinTitle=prod\nTCPKeepalives=1\nColour0=187,187,187\n'
    with open(path) as handle:
        assert handle.read() == expected
    assert result['diff']['after'] == expected and result['diff']['before'].startswith('HostName=198.18.0.10\n')


def test_existing_file_gets_private_mode_and_owner(run, bob):
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    path = os.path.join(sessions, 'lab')
    with open(path, 'w') as handle:
        handle.write('PingIntervalSecs=30\nTCPKeepalives=1\n')
    os.chmod(path, 0o664)
    assert run({'user': 'bob', 'session': 'lab', 'settings': KEEPALIVE})['changed']
    assert mode_of(path) == 0o600 and os.stat(path).st_uid == UID


def test_xdg_directory_is_used_when_it_exists(run, bob):
    xdg = os.path.join(bob.pw_dir, '.config', 'putty')
    os.makedirs(xdg)
    result = run({'user': 'bob', 'session': 'lab', 'settings': KEEPALIVE})
    assert result['path'] == os.path.join(xdg, 'sessions', 'lab')


def test_ping_interval_minutes_are_cleared(run, bob):
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    with open(os.path.join(sessions, 'lab'), 'w') as handle:
        handle.write('PingInterval=1\nPingIntervalSecs=0\n')
    result = run({'user': 'bob', 'session': 'lab', 'settings': {'PingIntervalSecs': 20}})
    assert result['ping_interval'] == 20 and result['notes']


def test_backup(run, bob):
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    with open(os.path.join(sessions, 'lab'), 'w') as handle:
        handle.write('PingIntervalSecs=0\n')
    result = run({'user': 'bob', 'session': 'lab', 'settings': KEEPALIVE, 'backup': True})
    with open(result['backup_file']) as handle:
        assert handle.read() == 'PingIntervalSecs=0\n'


def test_removal(run, bob):
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    with open(os.path.join(sessions, 'lab'), 'w') as handle:
        handle.write('A=1\nPingIntervalSecs=9\n')
    result = run({'user': 'bob', 'session': 'lab', 'settings': {'PingIntervalSecs': None}})
    assert result['changed'] and result['current'] == {'PingIntervalSecs': None}


@pytest.mark.parametrize(('args', 'message'), [
    ({'user': 'no-such-user-keepalive', 'settings': KEEPALIVE}, 'does not exist'),
    ({'user': 'bob', 'settings': {'PingIntervalSecs': 'often'}}, 'non-negative integer'),
    ({'user': 'bob', 'settings': {'HostName': 'a\nPingIntervalSecs=0'}}, 'line break'),
    ({'user': 'bob', 'settings': {'Bad Key': 1}}, 'not a PuTTY setting name'),
    ({'user': 'bob', 'session': 'a\nb', 'settings': KEEPALIVE}, 'control character'),
])
def test_bad_input_fails_and_writes_nothing(run, bob, args, message):
    result = run(args)
    assert result['failed'] and message in result['msg'] and 'nothing was changed' in result['msg']
    assert not os.path.exists(os.path.join(bob.pw_dir, '.putty'))


def test_symlink_is_refused_when_acting_for_another_user(run, bob, tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_text('secret=1\n')
    sessions = os.path.join(bob.pw_dir, '.putty', 'sessions')
    os.makedirs(sessions)
    os.symlink(str(target), os.path.join(sessions, 'Default%20Settings'))
    result = run({'user': 'bob', 'settings': KEEPALIVE})
    assert result['failed'] and 'symbolic link' in result['msg']
    assert target.read_text() == 'secret=1\n'
