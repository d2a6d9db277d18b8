# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keepalive_info module in-process, on a host laid out in a temporary directory.

The module runs the real ``/usr/sbin/sshd -T`` and ``/usr/bin/ssh -G``; every path option points
into the temporary directory, users' home directories too, so nothing of this machine is read
for the report and nothing at all is written.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.keepalive.ssh.plugins.module_utils import _info
from ansible_collections.keepalive.ssh.plugins.module_utils import _predict as p
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import parse_version
from ansible_collections.keepalive.ssh.plugins.modules import keepalive_info
from ansible_collections.keepalive.ssh.tests.unit.plugins.modules.harness import (
    SSH,
    SSHD,
    FailJson,
    ModuleExit,
    capture_exits,
    make_host_key,
)


@pytest.fixture(autouse=True)
def capture_module_exit(monkeypatch):
    """exit_json/fail_json raise instead of printing and exiting; warnings are collected."""
    return capture_exits(monkeypatch)


@pytest.fixture(scope='module')
def host_key(tmp_path_factory) -> str:
    return make_host_key(tmp_path_factory)


def installed(program: str) -> tuple[int, int]:
    out = subprocess.run([program, '-V'], capture_output=True, text=True, check=False)
    version = parse_version(out.stderr + out.stdout)
    assert version is not None
    return version


class Host:
    """A Debian-like host: sshd_config with drop-ins read first, ssh_config, profiles, /proc/sys, homes."""

    def __init__(self, root: Path, host_key: str) -> None:
        self.root = root
        self.sshd_config = self._write('etc/ssh/sshd_config', (
            'Include %s/etc/ssh/sshd_config.d/*.conf\n'
            'HostKey %s\n'
            'PidFile %s/sshd.pid\n'
            'ClientAliveInterval 600\n'
            'ClientAliveCountMax 1\n'
            '\n'
            'Match User backup\n'
            '    ClientAliveInterval 30\n') % (root, host_key, root))
        self._write('etc/ssh/sshd_config.d/50-cloud-init.conf', 'PasswordAuthentication no\nClientAliveInterval 300\n')
        self.ssh_config = self._write('etc/ssh/ssh_config', 'Host *\n    ServerAliveInterval 60\n')
        self._write('etc/profile.d/10-tmout.sh', 'TMOUT=900\nreadonly TMOUT\nexport TMOUT\n')
        self._write('etc/profile.d/20-late.sh', '# a later, longer timeout\nTMOUT=3600  # ignored\n')
        for name, value in (('tcp_keepalive_time', 7200), ('tcp_keepalive_intvl', 75),
                            ('tcp_keepalive_probes', 9), ('tcp_retries2', 15)):
            self._write('proc/sys/net/ipv4/' + name, '%d\n' % value)
        self.alice = root / 'home' / 'alice'
        self._write('home/alice/.ssh/config', 'Host *\n    ServerAliveInterval 15\n    ServerAliveCountMax 2\n',
                    mode=0o600)
        self._write('home/alice/.putty/sessions/work%20vpn', 'HostName=vpn.example\nPingIntervalSecs=30\n'
                    'TCPKeepalives=1\n')
        # how PuTTY saves a 60 s interval: minutes and the remaining seconds, added when loaded
        self._write('home/alice/.putty/sessions/Default%20Settings', 'PingInterval=1\nPingIntervalSecs=0\n')

    def _write(self, relative: str, text: str, mode: int = 0o644) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return str(path)

    def args(self, **extra: Any) -> dict[str, Any]:
        return dict({
            'sshd_config_path': self.sshd_config, 'ssh_config_path': self.ssh_config, 'users': ['alice'],
            'profile_paths': [str(self.root / 'etc/profile.d/*.sh')], 'proc_sys_root': str(self.root / 'proc/sys'),
            'nat_idle_timeout': 900, 'sshd_binary': SSHD, 'ssh_binary': SSH,
        }, **extra)

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in sorted(self.root.rglob('*')) if f.is_file()}


@pytest.fixture
def host(tmp_path, host_key, monkeypatch) -> Host:
    made = Host(tmp_path, host_key)
    homes = {'alice': str(made.alice)}

    def home_of(user: str) -> str:
        return homes[user]   # KeyError, like pwd, for anyone else

    monkeypatch.setattr(_info, 'home_of', home_of)
    return made


def run_module(args: dict, *, check: bool = False) -> dict:
    with patch_module_args(dict(args, _ansible_check_mode=check)), pytest.raises(ModuleExit) as caught:
        keepalive_info.main()
    if isinstance(caught.value, FailJson):
        raise caught.value
    return caught.value.result


@pytest.fixture
def scratch(tmp_path_factory, monkeypatch) -> Path:
    """A private temporary directory for the module's scratch copies (other tests share /tmp)."""
    private = tmp_path_factory.mktemp('scratch')
    monkeypatch.setattr(tempfile, 'tempdir', str(private))
    return private


# -- the report ---------------------------------------------------------------------------------
def test_report(host: Host, scratch: Path, capture_module_exit):
    before = host.snapshot()
    result = run_module(host.args())
    assert host.snapshot() == before    # read only
    assert list(scratch.iterdir()) == []   # scratch copies for ssh -G removed
    assert result['changed'] is False
    sshd_version, ssh_version = installed(SSHD), installed(SSH)
    assert result['openssh'] == {'server': '%d.%d' % sshd_version, 'client': '%d.%d' % ssh_version}

    server = result['server']
    assert server['source'] == 'sshd -T'
    interval = server['settings']['ClientAliveInterval']
    drop_in = '%s/etc/ssh/sshd_config.d/50-cloud-init.conf' % host.root
    assert (interval['value'], interval['where']) == ('300', drop_in + ':2')
    assert interval['shadowed'] == [{'value': '600', 'where': host.sshd_config + ':4', 'by': drop_in + ':2'}]
    assert interval['conditional'] == [{'value': '30', 'where': host.sshd_config + ':8',
                                        'match': 'Match User backup'}]
    assert server['settings']['ClientAliveCountMax']['where'] == host.sshd_config + ':5'
    assert server['settings']['TCPKeepAlive'] == {'value': 'yes', 'where': '(default)', 'shadowed': [],
                                                  'conditional': []}
    assert server['settings']['ChannelTimeout']['value'] == 'none'
    shadow = 'sshd: ClientAliveInterval 600 at %s:4 is ignored: ClientAliveInterval 300 at %s:2 wins' % (
        host.sshd_config, drop_in)
    assert shadow in result['findings'] and shadow in capture_module_exit

    system, alice = result['client']['views']
    assert (system['name'], system['source'], system['config_files']) == ('ssh', 'ssh -G', [host.ssh_config])
    assert system['settings']['ServerAliveInterval'] == {'value': '60', 'where': host.ssh_config + ':2',
                                                         'shadowed': [], 'conditional': []}
    alice_config = str(host.alice / '.ssh/config')
    assert (alice['source'], alice['config_files']) == ('ssh -G', [alice_config, host.ssh_config])
    assert not [f for f in result['findings'] if 'configuration model found' in f]   # model agrees with -G
    assert alice['settings']['ServerAliveInterval']['value'] == '15'
    assert alice['settings']['ServerAliveInterval']['where'] == alice_config + ':2'
    assert alice['settings']['ServerAliveInterval']['shadowed'] == [
        {'value': '60', 'where': host.ssh_config + ':2', 'by': alice_config + ':2'}]
    assert (alice['dead_server']['seconds'], alice['dead_server']['mechanism']) == (45, p.SSH_ALIVE)

    assert {k: v['value'] for k, v in result['sysctl'].items()} == {
        'tcp_keepalive_time': 7200, 'tcp_keepalive_intvl': 75, 'tcp_keepalive_probes': 9, 'tcp_retries2': 15}
    tmout = result['tmout']
    assert (tmout['seconds'], tmout['readonly'], tmout['where']) == (900, True,
                                                                     '%s/etc/profile.d/10-tmout.sh:1' % host.root)
    assert any('TMOUT=3600 at %s/etc/profile.d/20-late.sh:2 is ignored' % host.root in f for f in result['findings'])

    default, work = (str(host.alice / '.putty/sessions' / name) for name in ('Default%20Settings', 'work%20vpn'))
    assert result['putty'] == [{
        'user': 'alice', 'session': 'Default Settings', 'path': default,
        'ping_interval': {'value': 60, 'where': '%s:1, %s:2' % (default, default)},
        'tcp_keepalives': {'value': 0, 'where': '(default)'},
    }, {
        'user': 'alice', 'session': 'work vpn', 'path': work,
        'ping_interval': {'value': 30, 'where': work + ':2'},
        'tcp_keepalives': {'value': 1, 'where': work + ':3'},
    }]

    expected = p.dead_peer(p.server_side(p.ServerFacts(sshd_version, 300, 1, True)), p.KernelFacts(7200, 75, 9, 15))
    assert result['predictions']['sshd_dead_client'] == expected
    if sshd_version == (9, 2):     # the machines this project runs on
        assert (expected['seconds'], expected['formula']) == (
            1200, '2 x ClientAliveInterval x (ClientAliveCountMax + 1) = 2 x 300 x (1 + 1)')
    assert result['predictions']['idle_logout']['seconds'] == 900
    assert result['predictions']['kernel_dead_peer']['seconds'] == 7875
    assert result['nat']['survives'] is True
    assert result['nat']['kept_alive_by'][0]['mechanism'] == 'ClientAliveInterval'


def test_check_mode_gives_the_same_report(host: Host):
    assert run_module(host.args(), check=True) == run_module(host.args())


def test_connection_applies_match_blocks(host: Host):
    result = run_module(host.args(connection={'user': 'backup', 'host': 'office.example', 'addr': '198.51.100.7'}))
    interval = result['server']['settings']['ClientAliveInterval']
    assert (interval['value'], interval['where']) == ('30', host.sshd_config + ':8')
    assert [s['where'] for s in interval['shadowed']] == [
        '%s/etc/ssh/sshd_config.d/50-cloud-init.conf:2' % host.root, host.sshd_config + ':4']
    assert result['server']['connection'] == {'user': 'backup', 'host': 'office.example', 'addr': '198.51.100.7'}


def test_match_exec_is_never_run(host: Host, capture_module_exit):
    marker = host.root / 'exec-ran'
    Path(host.alice / '.ssh/config').write_text('Match exec "touch %s"\n    ServerAliveInterval 5\n'
                                                'Host *\n    ServerAliveInterval 15\n' % marker)
    result = run_module(host.args())
    alice = result['client']['views'][1]
    assert not marker.exists()
    assert alice['source'] == 'model'
    assert any('Match exec' in w for w in capture_module_exit)
    # control: ssh -G itself does run it, so the assertion above can fail
    subprocess.run([SSH, '-G', '-F', str(host.alice / '.ssh/config'), 'example.invalid'], capture_output=True,
                   check=False)
    assert marker.exists()


def test_what_cannot_be_read_is_reported(host: Host, tmp_path_factory):
    empty = tmp_path_factory.mktemp('no-proc')
    result = run_module(host.args(proc_sys_root=str(empty), users=['alice', 'nobody-here'], profile_paths=[]))
    assert result['sysctl']['tcp_keepalive_time'] == {'value': None,
                                                      'where': '%s/net/ipv4/tcp_keepalive_time' % empty}
    assert result['predictions']['kernel_dead_peer']['seconds'] is None
    assert 'user nobody-here does not exist: skipped' in result['findings']
    assert len(result['client']['views']) == 2


def test_sshd_T_failure_falls_back_to_the_model(host: Host, tmp_path_factory):
    fake = tmp_path_factory.mktemp('bin') / 'sshd'
    fake.write_text('#!/bin/sh\necho "OpenSSH_8.4p1 Debian-5" >&2\nexit 1\n')
    fake.chmod(0o755)
    result = run_module(host.args(sshd_binary=str(fake), compliance='stig'))
    assert result['openssh']['server'] == '8.4'
    assert result['server']['source'] == 'model'
    assert result['server']['settings']['ClientAliveInterval']['value'] == '300'
    assert result['predictions']['sshd_dead_client']['seconds'] == 600     # 8.4: 300 x (1 + 1)
    assert any(f.startswith('sshd -T failed') for f in result['findings'])
    assert any('DISA STIG: ClientAliveInterval is not set in' in f for f in result['findings'])


BAD_ARGS = [
    pytest.param({'nat_idle_timeout': 0}, 'nat_idle_timeout must be a positive number', id='nat-zero'),
    pytest.param({'ssh_host': '-oProxyCommand=touch x'}, "ssh_host: '-oProxyCommand=touch x' is not", id='host-option'),
    pytest.param({'users': ['alice', '-v']}, "users: '-v' is not a host or user name", id='user-option'),
    pytest.param({'connection': {'user': 'a,host=b'}}, 'may not contain commas', id='connection-comma'),
]


@pytest.mark.parametrize(('extra', 'message'), BAD_ARGS)
def test_bad_arguments_fail(host: Host, extra: dict, message: str):
    with pytest.raises(FailJson) as caught:
        run_module(host.args(**extra))
    assert message in caught.value.result['msg'] and 'nothing was changed' in caught.value.result['msg']


# -- RETURN documents every key it returns -------------------------------------------------------
_TYPES = {'str': str, 'int': int, 'float': (int, float), 'bool': bool, 'dict': dict, 'list': list}


def _documented(entry: dict, path: str) -> None:
    assert entry.get('description') and entry.get('type') in _TYPES, path
    for name, child in (entry.get('contains') or {}).items():
        _documented(child, '%s.%s' % (path, name))


def _conforms(value: Any, entry: dict, path: str) -> None:
    if value is None:
        return
    assert isinstance(value, _TYPES[entry['type']]) and not (entry['type'] != 'bool' and isinstance(value, bool)), \
        (path, value)
    contains = entry.get('contains')
    if contains and isinstance(value, dict):
        for key, item in value.items():
            assert key in contains, 'undocumented: %s.%s' % (path, key)
            _conforms(item, contains[key], '%s.%s' % (path, key))
    if contains and isinstance(value, list):
        for item in value:
            _conforms(item, {'type': entry['elements'], 'contains': contains, 'description': '-'}, path + '[]')


def test_return_documents_every_key(host: Host):
    documented = yaml.safe_load(keepalive_info.RETURN)
    for name, entry in documented.items():
        _documented(entry, name)
    result = run_module(host.args(connection={'user': 'backup'}))
    result.pop('warnings', None)
    for key, value in result.items():
        assert key in documented, 'undocumented: %s' % key
        _conforms(value, documented[key], key)


# -- what playbooks/audit.yml writes from these results ------------------------------------------
def load_report_script():
    path = Path(__file__).resolve().parents[4] / 'playbooks' / 'files' / 'keepalive_audit_report.py'
    spec = importlib.util.spec_from_file_location('keepalive_audit_report', path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_audit_report_is_stable_and_readable(host: Host, tmp_path_factory, monkeypatch, capsys):
    script = load_report_script()
    results = {'web1': run_module(host.args()), 'down': {'unreachable': True, 'msg': 'Connection refused'},
               'absent': None}
    out = tmp_path_factory.mktemp('report')
    outputs = []
    for _run in range(2):
        monkeypatch.setattr('sys.stdin', io.StringIO(json.dumps(results)))
        assert script.main(['--output-dir', str(out)]) == 0
        outputs.append(capsys.readouterr().out.splitlines())
    first, second = outputs
    assert first[-2:] == ['%s/keepalive-audit.yml: written' % out, '%s/keepalive-audit.json: written' % out]
    assert second[-2:] == ['%s/keepalive-audit.yml: unchanged' % out, '%s/keepalive-audit.json: unchanged' % out]
    table = first[:-2]
    assert [line.split()[0] for line in table] == ['HOST', 'absent', 'down', 'web1']
    assert table[3].split()[4:6] == ['7200/75/9', '%ss' % results['web1']['predictions']['sshd_dead_client']['seconds']]
    text = (out / 'keepalive-audit.yml').read_text()
    report = json.loads((out / 'keepalive-audit.json').read_text())
    assert yaml.safe_load(text) == report      # a YAML 1.1 reader sees the same data (quoted 'yes')
    assert list(report['hosts']) == ['absent', 'down', 'web1']
    assert report['hosts']['down'] == {'status': 'unreachable', 'msg': 'Connection refused'}
    web1 = report['hosts']['web1']
    assert set(web1) == {'status', *script.REPORTED} and 'warnings' not in web1
    assert web1['server']['settings']['TCPKeepAlive']['value'] == 'yes'
