# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalive.ssh.ssh_config as Ansible runs it, with this machine's ssh; files in temp directories.

Users are fake: ``pwd.getpwnam`` is patched to return an account whose home is a temp directory
(the tests run as root, so files can be given to any uid).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.keepalive.ssh.plugins.modules import ssh_config
from ansible_collections.keepalive.ssh.tests.unit.plugins.modules.harness import SSH, fake_user, json_runner

UID = 54321


@pytest.fixture
def run(capsys):
    return json_runner(capsys, ssh_config)


@pytest.fixture
def alice(tmp_path, monkeypatch):
    return fake_user(monkeypatch, tmp_path, 'alice', UID)


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


KEEPALIVE = {'ServerAliveInterval': 60, 'ServerAliveCountMax': 3, 'TCPKeepAlive': True}


def test_four_steps(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('Host db\n  ServerAliveInterval 5\n')
    args = {'path': str(path), 'settings': KEEPALIVE}
    first = run(args, check=True)
    assert first['changed'] and path.read_text() == 'Host db\n  ServerAliveInterval 5\n'
    assert first['effective'] == {'ServerAliveInterval': '60', 'ServerAliveCountMax': '3', 'TCPKeepAlive': 'yes'}
    assert run(args)['changed']
    assert path.read_text() == ('Host db\n  ServerAliveInterval 5\n\nHost *\n  ServerAliveInterval 60\n'
                                '  ServerAliveCountMax 3\n  TCPKeepAlive yes\n')
    assert not run(args, check=True)['changed']
    again = run(args)
    assert not again['changed'] and again['files'] == []
    assert again['shadowed'] == [{'keyword': 'ServerAliveInterval', 'value': '5', 'where': '%s:2' % path,
                                  'block': 'Host db'}]


def test_specific_host_and_effective_values(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('ServerAliveInterval 60\n')
    host = 'bastion-* *.jump.example.com'
    result = run({'path': str(path), 'host': host, 'settings': {'ServerAliveInterval': '15s'}})
    assert result['changed']
    assert result['probe_hosts'] == ['bastion-keepalive-ssh-probe', 'keepalive-ssh-probe.jump.example.com']
    assert result['effective'] == {'ServerAliveInterval': '15'}
    for host, expected in (('bastion-1', '15'), ('a.jump.example.com', '15'), ('elsewhere', '60')):
        out = subprocess.run([SSH, '-G', '-F', str(path), host], capture_output=True, text=True, check=True,
                             stdin=subprocess.DEVNULL).stdout
        assert 'serveraliveinterval %s\n' % expected in out, host


def test_diff_and_backup(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('Host *\n  ServerAliveInterval 10\n')
    result = run({'path': str(path), 'settings': {'ServerAliveInterval': 30}, 'backup': True}, diff=True)
    assert result['diff'] == [{'before_header': str(path), 'after_header': str(path),
                               'before': 'Host *\n  ServerAliveInterval 10\n',
                               'after': 'Host *\n  ServerAliveInterval 30\n'}]
    backup = result['backups'][str(path)]
    with open(backup) as handle:
        assert handle.read() == 'Host *\n  ServerAliveInterval 10\n'


def test_user_file_is_created_private(run, alice):
    ssh_dir = os.path.join(alice.pw_dir, '.ssh')
    config = os.path.join(ssh_dir, 'config')
    checked = run({'user': 'alice', 'settings': KEEPALIVE}, check=True)
    assert checked['changed'] and checked['path'] == config and not os.path.exists(ssh_dir)
    assert run({'user': 'alice', 'settings': KEEPALIVE})['changed']
    assert mode_of(ssh_dir) == 0o700 and os.stat(ssh_dir).st_uid == UID
    assert mode_of(config) == 0o600 and os.stat(config).st_uid == UID and os.stat(config).st_gid == UID
    with open(config) as handle:
        assert handle.read() == 'ServerAliveInterval 60\nServerAliveCountMax 3\nTCPKeepAlive yes\n'
    assert not run({'user': 'alice', 'settings': KEEPALIVE})['changed']


def test_user_file_ssh_would_refuse_is_fixed(run, alice):
    ssh_dir = os.path.join(alice.pw_dir, '.ssh')
    os.mkdir(ssh_dir)
    config = os.path.join(ssh_dir, 'config')
    with open(config, 'w') as handle:
        handle.write('ServerAliveInterval 60\n')
    os.chmod(config, 0o664)
    os.chown(config, 4242, 4242)
    args = {'user': 'alice', 'settings': {'ServerAliveInterval': 60}}
    assert run(args, check=True)['changed']
    assert os.stat(config).st_uid == 4242   # check mode changed nothing
    assert run(args)['changed']
    assert mode_of(config) == 0o644 and os.stat(config).st_uid == UID
    assert not run(args)['changed']


def test_user_relative_include_resolves_under_their_ssh_dir(run, alice):
    ssh_dir = os.path.join(alice.pw_dir, '.ssh')
    os.makedirs(os.path.join(ssh_dir, 'config.d'))
    with open(os.path.join(ssh_dir, 'config'), 'w') as handle:
        handle.write('Include config.d/*\nHost *\n  User a\n')
    with open(os.path.join(ssh_dir, 'config.d', 'work'), 'w') as handle:
        handle.write('ServerAliveInterval 5\n')
    result = run({'user': 'alice', 'settings': {'ServerAliveInterval': 25}})
    assert result['files'] == [os.path.join(ssh_dir, 'config.d', 'work')]
    with open(os.path.join(ssh_dir, 'config.d', 'work')) as handle:
        assert handle.read() == 'ServerAliveInterval 25\n'


@pytest.mark.parametrize(('args', 'message'), [
    ({'settings': {'ServerAliveInterval': '5\nHost *'}}, 'line break'),
    ({'settings': {'ServerAliveInterval': '5 # x'}}, 'comment'),
    ({'settings': {'ServerAliveInterval': [5]}}, 'type list'),
    ({'settings': {'NoSuchKeyword': 5}}, 'unknown keyword'),
    ({'settings': {'ServerAliveInterval': 5, 'serveraliveinterval': 6}}, 'given twice'),
    ({'host': 'a,b', 'settings': {'ServerAliveInterval': 5}}, 'comma'),
    ({'host': '', 'settings': {'ServerAliveInterval': 5}}, 'empty'),
    ({'user': 'no-such-user-keepalive', 'settings': {'ServerAliveInterval': 5}}, 'does not exist'),
    ({'settings': {'ConnectTimeout': 'soon'}}, 'not a time value'),
])
def test_bad_input_fails_and_writes_nothing(run, tmp_path, args, message):
    path = tmp_path / 'ssh_config'
    path.write_text('Host *\n  User x\n')
    result = run(dict(args, path=str(path)))
    assert result['failed'] and message in result['msg'] and 'nothing was changed' in result['msg']
    assert path.read_text() == 'Host *\n  User x\n'


def test_settings_must_be_a_dict(run, tmp_path):
    result = run({'path': str(tmp_path / 'c'), 'settings': 'ServerAliveInterval 5'})
    assert result['failed'] and not os.path.exists(tmp_path / 'c')


def test_channel_timeout_only_where_ssh_knows_it(run, tmp_path):
    probe = subprocess.run([SSH, '-G', '-F', '/dev/null', '-o', 'ChannelTimeout=session=5m', 'x'],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    path = tmp_path / 'ssh_config'
    result = run({'path': str(path), 'settings': {'ChannelTimeout': 'session=5m'}})
    if probe.returncode == 0:
        assert result['changed'] and result['effective']['ChannelTimeout']
    else:
        # Refused by the keyword table (dated 9.3) or, past it, by the installed ssh itself.
        assert result['failed'] and 'ChannelTimeout' in result['msg']
        assert 'needs OpenSSH 9.3' in result['msg'] or 'not supported by the installed ssh' in result['msg']
        assert 'nothing was changed' in result['msg']
        assert not path.exists()


def test_existing_config_refused_by_ssh_is_reported(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('NoSuchOption yes\n')
    result = run({'path': str(path), 'settings': {'ServerAliveInterval': 5}})
    assert result['failed'] and 'fix it first' in result['msg']
    assert path.read_text() == 'NoSuchOption yes\n'


def test_match_exec_of_another_user_is_not_run(run, alice, tmp_path):
    marker = tmp_path / 'ran'
    ssh_dir = os.path.join(alice.pw_dir, '.ssh')
    os.mkdir(ssh_dir)
    with open(os.path.join(ssh_dir, 'config'), 'w') as handle:
        handle.write('Match exec "touch %s"\n  User x\n' % marker)
    result = run({'user': 'alice', 'settings': {'ServerAliveInterval': 5}})
    assert result['failed'] and 'Match exec' in result['msg'] and 'become_user' in result['msg']
    assert not marker.exists()


def test_symlink_in_another_users_path_is_refused(run, alice, tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_text('secret\n')
    ssh_dir = os.path.join(alice.pw_dir, '.ssh')
    os.mkdir(ssh_dir)
    os.symlink(str(target), os.path.join(ssh_dir, 'config'))
    result = run({'user': 'alice', 'settings': {'ServerAliveInterval': 5}})
    assert result['failed'] and 'symbolic link' in result['msg'] and 'secret' not in json.dumps(result)
    assert target.read_text() == 'secret\n'


def test_system_file_mode_is_kept(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('Host *\n  User x\n')
    os.chmod(path, 0o640)
    assert run({'path': str(path), 'settings': {'ServerAliveInterval': 5}})['changed']
    assert mode_of(path) == 0o640


def test_removal(run, tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('ServerAliveInterval 5\nHost db\n  ServerAliveInterval 9\n')
    result = run({'path': str(path), 'settings': {'ServerAliveInterval': None}})
    assert result['changed'] and result['effective'] == {'ServerAliveInterval': '0'}
    assert path.read_text() == 'Host db\n  ServerAliveInterval 9\n'
