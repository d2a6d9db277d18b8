# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sshd_config module in-process, on a configuration in a temporary directory.

The module runs the real ``/usr/sbin/sshd`` (``-t``, ``-T``, version) on that configuration; no
file outside the temporary directory is read or written (and nothing is reloaded).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# `make units` runs with ansible-core pinned; a bare interpreter without it skips this file only.
pytest.importorskip('ansible.module_utils.testing', reason='ansible-core >= 2.19 is not installed')

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import DISABLED_MARKER  # noqa: E402
from ansible_collections.keepalive.ssh.plugins.modules import sshd_config  # noqa: E402
from ansible_collections.keepalive.ssh.tests.unit.plugins.modules.harness import (
    SSHD,
    FailJson,
    ModuleExit,
    capture_exits,
    make_host_key,
)

KEEPALIVE = {'ClientAliveInterval': 60, 'ClientAliveCountMax': 2, 'TCPKeepAlive': False}
EFFECTIVE = {'ClientAliveInterval': '60', 'ClientAliveCountMax': '2', 'TCPKeepAlive': 'no'}


@pytest.fixture(autouse=True)
def capture_module_exit(monkeypatch):
    """exit_json/fail_json raise instead of printing and exiting; warnings are collected."""
    return capture_exits(monkeypatch)


@pytest.fixture(scope='module')
def host_key(tmp_path_factory) -> str:
    return make_host_key(tmp_path_factory)


class Tree:
    """A main sshd_config that includes ``sshd_config.d/*.conf`` of the same temporary directory."""

    def __init__(self, root: Path, host_key: str, *, main_body: str = '', drop_ins: dict[str, str] | None = None):
        self.root = root
        self.main = root / 'sshd_config'
        self.drop_ins = root / 'sshd_config.d'
        self.drop_ins.mkdir()
        self.main.write_text('# sshd_config of the unit test\nInclude %s/*.conf\n\nHostKey %s\n#ClientAliveInterval 0\n'
                             'PidFile %s/sshd.pid\n%s' % (self.drop_ins, host_key, root, main_body))
        for name, text in (drop_ins or {}).items():
            (self.drop_ins / name).write_text(text)

    def snapshot(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(self.root.rglob('*')) if p.is_file()}

    def dump(self) -> dict[str, str]:
        out = subprocess.run([SSHD, '-T', '-f', str(self.main)], capture_output=True, text=True, check=True).stdout
        return dict(line.split(' ', 1) for line in out.splitlines() if ' ' in line)


@pytest.fixture
def tree(tmp_path, host_key) -> Tree:
    return Tree(tmp_path, host_key, main_body='\nMatch User backup\n    ClientAliveInterval 30\n',
                drop_ins={'50-cloud-init.conf': 'PasswordAuthentication yes\nClientAliveInterval 900\n'})


def run_module(args: dict, *, check: bool = False, diff: bool = False) -> dict:
    params = dict(args, sshd_binary=args.get('sshd_binary', SSHD), _ansible_check_mode=check, _ansible_diff=diff)
    with patch_module_args(params), pytest.raises(ModuleExit) as caught:
        sshd_config.main()
    if isinstance(caught.value, FailJson):
        raise caught.value
    return caught.value.result


def succeed(args: dict, **mode) -> dict:
    result = run_module(args, **mode)
    assert not result.get('failed'), result.get('msg')
    return result


def fail(args: dict, **mode) -> str:
    with pytest.raises(FailJson) as caught:
        run_module(args, **mode)
    return caught.value.result['msg']


# -- the four steps -------------------------------------------------------------------------------
@pytest.mark.parametrize('placement', ['in_place', 'main_file', 'drop_in'])
def test_check_apply_check_apply(tree: Tree, placement: str):
    args = {'path': str(tree.main), 'settings': KEEPALIVE, 'placement': placement}
    before = tree.snapshot()

    checked = succeed(args, check=True)
    assert checked['changed'] is True and checked['files']
    assert checked['effective'] == EFFECTIVE
    assert checked['openssh_version'].split('.')[0].isdigit()
    assert tree.snapshot() == before, 'check mode writes nothing'

    applied = succeed(args)
    assert applied['changed'] is True
    assert applied['files'] == checked['files']
    assert applied['effective'] == EFFECTIVE
    assert applied['reloaded'] is False
    assert {k: tree.dump()[k.lower()] for k in EFFECTIVE} == EFFECTIVE, 'the real sshd -T agrees'
    (shadowed,) = applied['shadowed']
    assert (shadowed['keyword'], shadowed['value'], shadowed['match']) == ('ClientAliveInterval', '30', 'User backup')
    path, lineno = shadowed['where'].rsplit(':', 1)
    assert Path(path).read_text().splitlines()[int(lineno) - 1] == '    ClientAliveInterval 30'
    after = tree.snapshot()

    assert succeed(args, check=True)['changed'] is False
    again = succeed(args)
    assert again['changed'] is False and again['files'] == []
    assert tree.snapshot() == after


def test_placements_write_where_they_say(tree: Tree, tmp_path):
    drop_in = str(tree.drop_ins / '50-cloud-init.conf')
    assert succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}})['files'] == [drop_in]
    assert (tree.drop_ins / '50-cloud-init.conf').read_text() == 'PasswordAuthentication yes\nClientAliveInterval 60\n'

    result = succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 600}, 'placement': 'main_file'})
    assert sorted(result['files']) == sorted([str(tree.main), drop_in])
    assert DISABLED_MARKER + 'ClientAliveInterval 60' in (tree.drop_ins / '50-cloud-init.conf').read_text()
    assert '#ClientAliveInterval 0\nClientAliveInterval 600\n' in tree.main.read_text()

    result = succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 120}, 'placement': 'drop_in'})
    ours = tree.drop_ins / '00-keepalive-ssh.conf'
    assert str(ours) in result['files'] and ours.read_text() == 'ClientAliveInterval 120\n'
    assert oct(ours.stat().st_mode & 0o777) == oct(0o644)
    assert tree.dump()['clientaliveinterval'] == '120'


def test_match_scope(tree: Tree):
    args = {'path': str(tree.main), 'settings': {'ClientAliveInterval': '2m'}, 'match': 'user backup'}
    result = succeed(args)
    assert result['changed'] is True and result['effective'] == {'ClientAliveInterval': '120'}
    assert tree.main.read_text().endswith('Match User backup\n    ClientAliveInterval 2m\n')
    assert succeed(args)['changed'] is False


def test_diff_mode_returns_one_diff_per_file(tree: Tree):
    result = succeed({'path': str(tree.main), 'settings': KEEPALIVE, 'placement': 'drop_in'}, check=True, diff=True)
    ours = str(tree.drop_ins / '00-keepalive-ssh.conf')
    assert [d['after_header'] for d in result['diff']] == [ours]
    (diff,) = result['diff']
    assert diff['before_header'] == '/dev/null' and diff['before'] == ''
    assert diff['after'] == 'ClientAliveInterval 60\nClientAliveCountMax 2\nTCPKeepAlive no\n'
    assert 'diff' not in succeed({'path': str(tree.main), 'settings': KEEPALIVE}, check=True)


def test_backup_keeps_the_old_file(tree: Tree):
    old = tree.drop_ins.joinpath('50-cloud-init.conf').read_bytes()
    result = succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}, 'backup': True})
    (path, backup), = result['backups'].items()
    assert path == str(tree.drop_ins / '50-cloud-init.conf')
    assert Path(backup).read_bytes() == old
    assert succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}, 'backup': True})['backups'] == {}


def test_no_backup_unless_asked(tree: Tree):
    result = succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}})
    assert result['backups'] == {}
    assert sorted(p.name for p in tree.drop_ins.iterdir()) == ['50-cloud-init.conf']


def test_match_block_keeping_another_value_is_a_warning(tree: Tree, capture_module_exit):
    succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}}, check=True)
    (warning,) = capture_module_exit
    assert '(Match User backup) sets ClientAliveInterval 30' in warning and 'do not get 60' in warning
    # Control: a Match block that already has the value asked for is not worth a warning.
    capture_module_exit.clear()
    succeed({'path': str(tree.main), 'settings': {'ClientAliveInterval': 30}}, check=True)
    assert capture_module_exit == []


def test_countmax_zero_warns(tree: Tree, capture_module_exit):
    succeed({'path': str(tree.main), 'settings': {'ClientAliveCountMax': 0}}, check=True)
    assert len(capture_module_exit) == 1 and 'ClientAliveCountMax 0' in capture_module_exit[0]


# -- failures leave every file as it was -------------------------------------------------------------
@pytest.mark.parametrize('settings, bad', [
    ({'ClientAliveIntervall': 60}, 'ClientAliveIntervall'),
    ({'ClientAliveInterval': '60 # one minute'}, '60 # one minute'),
    ({'ClientAliveCountMax': -1}, '-1'),
    ({'ClientAliveInterval': 'banana'}, 'banana'),
    ({'TCPKeepAlive': 'sometimes'}, 'sometimes'),
    ({'ClientAliveInterval': [60]}, '[60]'),
    ({'ClientAliveInterval': 60, 'clientaliveinterval': 30}, 'ClientAliveInterval is given twice'),
], ids=['unknown', 'hash', 'negative', 'not-a-time', 'not-a-choice', 'list', 'twice'])
def test_bad_request_fails_and_changes_nothing(tree: Tree, settings: dict, bad: str):
    before = tree.snapshot()
    message = fail({'path': str(tree.main), 'settings': settings})
    assert bad in message and 'nothing was changed' in message
    assert tree.snapshot() == before


def test_tcpkeepalive_refused_in_match(tree: Tree):
    before = tree.snapshot()
    message = fail({'path': str(tree.main), 'settings': {'TCPKeepAlive': 'no'}, 'match': 'User backup'})
    assert 'TCPKeepAlive' in message and 'Match' in message and 'nothing was changed' in message
    assert tree.snapshot() == before


def test_broken_existing_configuration_fails_and_changes_nothing(tmp_path, host_key):
    tree = Tree(tmp_path, host_key, drop_ins={'10-broken.conf': 'ClientAliveInterval banana\n'})
    before = tree.snapshot()
    message = fail({'path': str(tree.main), 'settings': {'ClientAliveInterval': 60}})
    assert 'nothing was changed' in message
    assert '10-broken.conf' in message
    assert 'banana' in message, 'the message names the bad value, not only "invalid time value"'
    assert tree.snapshot() == before


def test_drop_in_without_include_fails(tmp_path, host_key):
    main = tmp_path / 'sshd_config'
    main.write_text('HostKey %s\nClientAliveInterval 5\n' % host_key)
    message = fail({'path': str(main), 'settings': {'ClientAliveInterval': 60}, 'placement': 'drop_in'})
    assert str(main) in message and 'Include' in message and 'nothing was changed' in message
    assert main.read_text() == 'HostKey %s\nClientAliveInterval 5\n' % host_key


def test_missing_sshd_binary_fails_clearly(tree: Tree, tmp_path):
    missing = str(tmp_path / 'no-such-sshd')
    before = tree.snapshot()
    message = fail({'path': str(tree.main), 'settings': KEEPALIVE, 'sshd_binary': missing})
    assert missing in message and 'missing or not executable' in message and 'nothing was changed' in message
    assert tree.snapshot() == before


def test_missing_config_file_fails(tmp_path, host_key):
    missing = str(tmp_path / 'nowhere' / 'sshd_config')
    message = fail({'path': missing, 'settings': KEEPALIVE})
    assert missing in message and 'nothing was changed' in message
