# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalive.ssh.kernel_keepalive as Ansible runs it, on a fake /proc/sys and sysctl tree in a temp dir."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.keepalive.ssh.plugins.modules import kernel_keepalive
from ansible_collections.keepalive.ssh.tests.unit.plugins.modules.harness import ModuleExit, capture_exits

WANT = {'time': 300, 'intvl': 30, 'probes': 5}
KERNEL_DEFAULTS = {'time': '7200', 'intvl': '75', 'probes': '9'}


class Host:
    """A fake host: proc_dir with the three timers, the five sysctl.d directories, sysctl.conf."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.proc = root / 'proc'
        self.proc.mkdir()
        for name, value in KERNEL_DEFAULTS.items():
            (self.proc / ('tcp_keepalive_' + name)).write_text(value + '\n')
        self.dirs = [root / 'etc/sysctl.d', root / 'run/sysctl.d', root / 'usr/local/lib/sysctl.d',
                     root / 'usr/lib/sysctl.d', root / 'lib/sysctl.d']
        for directory in (self.dirs[0], self.dirs[3]):
            directory.mkdir(parents=True)
        self.conf = root / 'etc/sysctl.conf'
        self.conf.write_text('# stock\n')
        self.own = self.dirs[0] / '60-keepalive-ssh.conf'

    def args(self, **extra: object) -> dict:
        return dict(WANT, proc_dir=str(self.proc), sysctl_dirs=[str(d) for d in self.dirs],
                    sysctl_tail=[str(self.conf)], **extra)

    def live(self) -> dict[str, str]:
        return {name: (self.proc / ('tcp_keepalive_' + name)).read_text().strip() for name in KERNEL_DEFAULTS}

    def files(self) -> dict[str, str]:
        return {str(p.relative_to(self.root)): p.read_text() for p in sorted(self.root.rglob('*'))
                if p.is_file() and 'proc' not in p.parts}


@pytest.fixture
def run(monkeypatch):
    """Run the module in-process; its result, with the warnings of that run only."""
    warnings = capture_exits(monkeypatch)

    def runner(args: dict, *, check: bool = False, diff: bool = False) -> dict:
        warnings.clear()
        payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(payload), pytest.raises(ModuleExit) as caught:
            kernel_keepalive.main()
        return dict(caught.value.result, warnings=list(warnings))
    return runner


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setattr(kernel_keepalive.platform, 'system', lambda: 'Linux')
    return Host(tmp_path)


def test_four_steps(run, host):
    files = host.files()
    checked = run(host.args(), check=True, diff=True)
    assert checked['changed'] and host.live() == KERNEL_DEFAULTS and host.files() == files
    assert checked['after'] == {'net.ipv4.tcp_keepalive_time': '300', 'net.ipv4.tcp_keepalive_intvl': '30',
                                'net.ipv4.tcp_keepalive_probes': '5'}
    assert [d['after_header'] for d in checked['diff']] == ['%s (running kernel)' % host.proc, str(host.own)]
    done = run(host.args())
    assert done['changed'] and host.live() == {k: str(v) for k, v in WANT.items()}
    assert done['before']['net.ipv4.tcp_keepalive_time'] == '7200'
    text = host.own.read_text()
    assert text.startswith('# Managed by Ansible') and text.endswith(
        'net.ipv4.tcp_keepalive_time = 300\nnet.ipv4.tcp_keepalive_intvl = 30\nnet.ipv4.tcp_keepalive_probes = 5\n')
    assert stat.S_IMODE(os.stat(host.own).st_mode) == 0o644
    assert not run(host.args())['changed']
    assert not run(host.args(), check=True)['changed']


def test_a_changed_kernel_alone_is_a_change(run, host):
    run(host.args())
    (host.proc / 'tcp_keepalive_time').write_text('7200\n')  # e.g. after `sysctl -w` by someone else
    again = run(host.args())
    assert again['changed'] and host.live()['time'] == '300' and again['fixed'] == []


def test_only_the_timers_given_are_written(run, host):
    result = run(dict(host.args(), intvl=None, probes=None))
    assert result['changed'] and host.live() == dict(KERNEL_DEFAULTS, time='300')
    assert 'tcp_keepalive_intvl' not in host.own.read_text()


def test_own_file_gets_its_mode_back(run, host):
    run(host.args())
    os.chmod(host.own, 0o600)
    assert run(host.args())['changed'] and stat.S_IMODE(os.stat(host.own).st_mode) == 0o644


def test_override_is_reported_not_changed(run, host):
    run(host.args())
    late = host.dirs[0] / '99-zz-test.conf'
    late.write_text('# test\nnet.ipv4.tcp_keepalive_time = 4242\nvm.swappiness = 60\n')
    result = run(host.args())
    assert not result['changed'] and late.read_text().endswith('= 4242\nvm.swappiness = 60\n')
    assert [(o['path'], o['line'], o['value']) for o in result['overrides']] == [(str(late), 2, '4242')]
    assert any('%s line 2' % late in w and 'next boot would bring 4242 back' in w for w in result['warnings'])


def test_an_earlier_file_is_no_override(run, host):
    # Control for the test above: the same line in a file applied BEFORE the own file is harmless.
    (host.dirs[0] / '10-early.conf').write_text('net.ipv4.tcp_keepalive_time = 4242\n')
    result = run(host.args())
    assert result['overrides'] == [] and not result['warnings']


def test_fix_overrides_comments_out_only_the_line(run, host):
    late = host.dirs[0] / '99-zz-test.conf'
    late.write_text('# test\nnet.ipv4.tcp_keepalive_time = 4242\nvm.swappiness = 60\n')
    checked = run(host.args(fix_overrides=True), check=True)
    assert checked['changed'] and checked['fixed'] == [str(late)]
    assert late.read_text().splitlines()[1] == 'net.ipv4.tcp_keepalive_time = 4242'
    result = run(host.args(fix_overrides=True))
    lines = late.read_text().splitlines()
    assert lines[1].startswith('# disabled by keepalive.ssh.tcp_keepalive') and lines[1].endswith('= 4242')
    assert lines[2] == 'vm.swappiness = 60'
    assert Path(result['backups'][str(late)]).read_text().splitlines()[1] == 'net.ipv4.tcp_keepalive_time = 4242'
    again = run(host.args(fix_overrides=True))
    assert not again['changed'] and again['overrides'] == []


def test_package_file_is_shadowed_not_edited(run, host):
    package = host.dirs[3] / '99-vendor.conf'
    package.write_text('net.ipv4.tcp_keepalive_probes = 20\n')
    result = run(host.args(fix_overrides=True))
    shadow = host.dirs[0] / '99-vendor.conf'
    assert result['fixed'] == [str(shadow)] and package.read_text() == 'net.ipv4.tcp_keepalive_probes = 20\n'
    assert shadow.read_text().startswith('# disabled by') and stat.S_IMODE(os.stat(shadow).st_mode) == 0o644
    assert not run(host.args(fix_overrides=True))['changed']


def test_link_to_sysctl_conf_is_fixed_at_its_target(run, host):
    host.conf.write_text('net.ipv4.tcp_keepalive_intvl = 99\n')
    (host.dirs[0] / '99-sysctl.conf').symlink_to('../sysctl.conf')
    result = run(host.args(fix_overrides=True))
    assert result['fixed'] == [str(host.conf)] and (host.dirs[0] / '99-sysctl.conf').is_symlink()
    assert host.conf.read_text().startswith('# disabled by')


def test_glob_is_reported_never_fixed(run, host):
    late = host.dirs[0] / '99-glob.conf'
    late.write_text('net.ipv4.tcp_keepalive_* = 1\n')
    result = run(host.args(fix_overrides=True))
    assert late.read_text() == 'net.ipv4.tcp_keepalive_* = 1\n' and result['fixed'] == []
    assert len(result['overrides']) == 3 and any('glob assignment' in w for w in result['warnings'])


@pytest.mark.parametrize(('args', 'named'), [
    ({'probes': 128}, ['probes=128', 'tcp_keepalive_probes 1..127']),
    ({'time': 0}, ['time=0', 'tcp_keepalive_time 1..32767']),
    ({'intvl': 32768, 'time': -1}, ['intvl=32768', 'time=-1']),
    ({'file': '../evil.conf'}, ["'../evil.conf'", 'ending in .conf']),
    ({'file': 'keepalive.sysctl'}, ["'keepalive.sysctl'"]),
])
def test_bad_input_is_refused_with_nothing_changed(run, host, args, named):
    files = host.files()
    result = run(host.args(**args) if 'file' in args else dict(host.args(), **args))
    assert result['failed'] and all(n in result['msg'] for n in named) and 'Nothing was changed' in result['msg']
    assert host.live() == KERNEL_DEFAULTS and host.files() == files


def test_no_timer_at_all_is_refused(run, host):
    result = run(dict(host.args(), time=None, intvl=None, probes=None))
    assert result['failed'] and 'time, intvl, probes' in result['msg']


def test_kernel_that_does_not_hold_a_value_changes_nothing(run, host, monkeypatch):
    real = kernel_keepalive._read_value
    # The kernel "clamps" tcp_keepalive_time: 300 written, 299 read back.
    monkeypatch.setattr(kernel_keepalive, '_read_value',
                        lambda path: '299' if path.endswith('_time') and real(path) == '300' else real(path))
    files = host.files()
    result = run(host.args())
    assert result['failed'] and "tcp_keepalive_time reads back '299' after writing 300" in result['msg']
    assert 'No file was changed; the running values were restored' in result['msg']
    assert host.live() == KERNEL_DEFAULTS and host.files() == files


def test_missing_proc_file(run, host):
    (host.proc / 'tcp_keepalive_intvl').unlink()
    result = run(host.args())
    assert result['failed'] and 'tcp_keepalive_intvl does not exist' in result['msg'] and not host.own.exists()


def test_readonly_proc_fails_or_skips(run, host, monkeypatch):
    monkeypatch.setattr(kernel_keepalive.os, 'access', lambda path, mode: not str(path).startswith(str(host.proc)))
    failed = run(host.args())
    assert failed['failed'] and 'not writable' in failed['msg']
    assert '--sysctl net.ipv4.tcp_keepalive_time=300' in failed['msg']
    assert 'readonly_action=skip' in failed['msg'] and not host.own.exists()
    skipped = run(host.args(readonly_action='skip'))
    assert not skipped['changed'] and skipped['readonly'] and 'readonly_action=skip' in skipped['warnings'][0]
    assert host.live() == KERNEL_DEFAULTS and not host.own.exists()


def test_other_systems_are_refused(run, host, monkeypatch):
    monkeypatch.setattr(kernel_keepalive.platform, 'system', lambda: 'FreeBSD')
    result = run(host.args())
    assert result['failed'] and 'runs FreeBSD' in result['msg'] and 'Nothing was changed' in result['msg']
    assert host.live() == KERNEL_DEFAULTS
