# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lossless model: parse/render, lines, arguments, Include, and effective-value resolution.

Expected values in the resolution and pattern tables were checked against ``sshd -T`` and
``ssh -G`` of OpenSSH 9.2 on this machine; the row's comment says so where it is not obvious.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    CLIENT,
    MAX_INCLUDE_DEPTH,
    SERVER,
    Config,
    ConfigError,
    ConfigFile,
    Line,
    MemorySource,
    match_pattern_list,
    normalize_criteria,
    resolve_client,
    resolve_server,
    split_args,
    split_lines,
)

FIXTURES = Path(__file__).resolve().parents[2] / 'fixtures' / 'sshd'
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob('*') if p.is_file() and p.suffix != '.md')
LAYOUTS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
MAIN = '/etc/ssh/sshd_config'


def server(files: dict[str, str], **kwargs) -> Config:
    return Config(MAIN, flavour=SERVER, source=MemorySource(files), **kwargs)


# -- lossless round trip ----------------------------------------------------------------------
def test_fixtures_are_there():
    assert len(FIXTURE_FILES) >= 12
    assert {'debian11', 'debian12', 'debian13', 'rhel9', 'ubuntu', 'crlf', 'match-at-end', 'quirks',
            'no-final-newline', 'no-include'} <= set(LAYOUTS)


@pytest.mark.parametrize('path', FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_round_trip_is_byte_identical(path: Path):
    raw = path.read_bytes()
    text = raw.decode('utf-8', 'surrogateescape')
    config_file = ConfigFile(str(path), text)
    assert config_file.render() == text
    assert config_file.render().encode('utf-8', 'surrogateescape') == raw
    assert not config_file.changed


@pytest.mark.parametrize('name', LAYOUTS)
def test_round_trip_through_a_whole_configuration(name: str, server_config):
    config = server_config(name)
    assert config.files, name
    for config_file in config.files.values():
        assert config_file.render() == config_file.original, config_file.path
    assert config.changed_files() == []


def test_fixture_drop_ins_are_read(server_config):
    assert '/etc/ssh/sshd_config.d/50-redhat.conf' in server_config('rhel9').files
    assert '/etc/ssh/sshd_config.d/50-cloud-init.conf' in server_config('ubuntu').files


def test_undecodable_bytes_survive():
    raw = b'Banner /etc/issue.\xff\xfe\r\nClientAliveInterval 60'
    text = raw.decode('utf-8', 'surrogateescape')
    assert ConfigFile('/x', text).render().encode('utf-8', 'surrogateescape') == raw


class LineCase(NamedTuple):
    text: str
    indent: str
    keyword: str | None
    sep: str
    value: str
    trail: str


LINE_CASES = [
    LineCase('ClientAliveInterval 60', '', 'ClientAliveInterval', ' ', '60', ''),
    LineCase('\tPort\t22', '\t', 'Port', '\t', '22', ''),
    LineCase('PermitRootLogin=no', '', 'PermitRootLogin', '=', 'no', ''),
    LineCase('PasswordAuthentication = no   ', '', 'PasswordAuthentication', ' = ', 'no', '   '),
    LineCase('CLIENTALIVECOUNTMAX\t=\t2', '', 'CLIENTALIVECOUNTMAX', '\t=\t', '2', ''),
    LineCase('TcpKeepAlive "yes"', '', 'TcpKeepAlive', ' ', '"yes"', ''),
    LineCase('    ClientAliveInterval 30\r', '    ', 'ClientAliveInterval', ' ', '30', '\r'),
    LineCase('AcceptEnv LANG LC_*  \t', '', 'AcceptEnv', ' ', 'LANG LC_*', '  \t'),
    LineCase('Subsystem\tsftp\t/usr/lib/sftp-server', '', 'Subsystem', '\t', 'sftp\t/usr/lib/sftp-server', ''),
    LineCase('A==b', '', 'A', '=', '=b', ''),
    LineCase('Keyword', '', 'Keyword', '', '', ''),
    LineCase('# ClientAliveInterval 60', '', None, '', '', ''),
    LineCase('   # indented comment', '', None, '', '', ''),
    LineCase('#ClientAliveInterval 0', '', None, '', '', ''),
    LineCase('', '', None, '', '', ''),
    LineCase(' \t ', '', None, '', '', ''),
    LineCase('=value', '', None, '', '', ''),
]


@pytest.mark.parametrize('case', LINE_CASES, ids=lambda c: repr(c.text))
def test_line_parsing(case: LineCase):
    line = Line(case.text, '\n')
    assert (line.indent, line.keyword, line.sep, line.value, line.trail) == case[1:]
    assert line.render() == case.text + '\n'
    if case.keyword:
        assert line.indent + line.keyword + line.sep + line.value + line.trail == case.text


def test_set_value_keeps_indent_separator_and_trail():
    line = Line('\tclientaliveinterval = 5m  ', '\r\n')
    line.set_value('300')
    assert line.render() == '\tclientaliveinterval = 300  \r\n'
    bare = Line('ClientAliveInterval', '\n')
    bare.set_value('60')
    assert bare.render() == 'ClientAliveInterval 60\n'


@pytest.mark.parametrize('text, eols', [
    ('a\nb\n', ['\n', '\n']),
    ('a\r\nb\r\n', ['\r\n', '\r\n']),
    ('a\nb', ['\n', '']),
    ('a\r\nb\n\n', ['\r\n', '\n', '\n']),
    ('', []),
    ('\n', ['\n']),
])
def test_split_lines_keeps_line_endings(text: str, eols: list[str]):
    lines = split_lines(text)
    assert [line.eol for line in lines] == eols
    assert ''.join(line.render() for line in lines) == text


# sshd 9.2 reads arguments with argv_split(..., terminate_on_comment=1) (misc.c).
SPLIT_ARGS_CASES = [
    ('60', ['60']),
    ('LANG LC_*', ['LANG', 'LC_*']),
    ('sftp\t/usr/lib/openssh/sftp-server', ['sftp', '/usr/lib/openssh/sftp-server']),
    ('"yes"', ['yes']),
    ('"a b" c', ['a b', 'c']),
    ('LANG "LC_*"', ['LANG', 'LC_*']),
    ('"" x', ['', 'x']),
    ('a\\"b', ['a"b']),
    ('60 # one minute', ['60']),        # sshd -T: clientaliveinterval 60
    ('a#b', ['a#b']),                   # sshd -T: banner .../a#b
    ('# all comment', []),
    ('', []),
    ('  \t ', []),
    ("'A B' C", ['A B', 'C']),          # sshd -T: acceptenv "A B" then "C"
    ('C\\ D', ['C D']),                 # sshd -T: acceptenv "C D"
]


@pytest.mark.parametrize('text, expected', SPLIT_ARGS_CASES, ids=[repr(c[0]) for c in SPLIT_ARGS_CASES])
def test_split_args(text: str, expected: list[str]):
    assert split_args(text) == expected


# -- Include ------------------------------------------------------------------------------------
def entries_of(config: Config) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(e.where(), e.line.text.strip(), tuple(b.line.text for b in e.context)) for e in config.entries]


def test_include_globs_sorted_and_relative_to_include_base():
    config = server({
        MAIN: 'Include sshd_config.d/*.conf\nClientAliveInterval 99\n',
        '/etc/ssh/sshd_config.d/20-b.conf': 'ClientAliveInterval 20\n',
        '/etc/ssh/sshd_config.d/10-a.conf': 'ClientAliveInterval 10\n',
        '/etc/ssh/sshd_config.d/README': 'ClientAliveInterval 1\n',
        '/etc/ssh/sshd_config.d/sub/05.conf': 'ClientAliveInterval 5\n',   # '*' does not cross '/'
    })
    assert [e.where() for e in config.definitions('clientaliveinterval')] == [
        '/etc/ssh/sshd_config.d/10-a.conf:1', '/etc/ssh/sshd_config.d/20-b.conf:1', MAIN + ':2']
    assert resolve_server(config, 'ClientAliveInterval').value == '10'


def test_include_base_can_be_moved():
    config = Config('/srv/cfg/sshd_config', source=MemorySource({
        '/srv/cfg/sshd_config': 'Include d/*.conf\n', '/srv/cfg/d/a.conf': 'ClientAliveCountMax 7\n'}),
        include_base='/srv/cfg')
    assert resolve_server(config, 'ClientAliveCountMax').where() == '/srv/cfg/d/a.conf:1'


def test_include_several_patterns_in_order_and_missing_files_ignored():
    config = server({
        MAIN: 'Include /etc/ssh/b.conf /etc/ssh/missing.conf /etc/ssh/a.conf\n',
        '/etc/ssh/a.conf': 'ClientAliveCountMax 1\n', '/etc/ssh/b.conf': 'ClientAliveCountMax 2\n'})
    assert [e.where() for e in config.definitions('ClientAliveCountMax')] == ['/etc/ssh/b.conf:1', '/etc/ssh/a.conf:1']


def test_include_nested():
    config = server({
        MAIN: 'Include /etc/ssh/a.conf\n',
        '/etc/ssh/a.conf': 'Include b.conf\nClientAliveInterval 1\n',
        '/etc/ssh/b.conf': 'ClientAliveInterval 2\n'})
    assert entries_of(config) == [
        (MAIN + ':1', 'Include /etc/ssh/a.conf', ()),
        ('/etc/ssh/a.conf:1', 'Include b.conf', ()),
        ('/etc/ssh/b.conf:1', 'ClientAliveInterval 2', ()),
        ('/etc/ssh/a.conf:2', 'ClientAliveInterval 1', ()),
    ]


def test_include_inside_match_is_scoped_to_the_block_and_match_ends_with_the_file():
    config = server({
        MAIN: 'Include /etc/ssh/top.conf\nMatch User bob\n  Include /etc/ssh/m.conf\n',
        '/etc/ssh/top.conf': 'Match User carol\n  ClientAliveInterval 1\n',
        '/etc/ssh/m.conf': 'ClientAliveCountMax 9\n'})
    assert entries_of(config) == [
        (MAIN + ':1', 'Include /etc/ssh/top.conf', ()),
        ('/etc/ssh/top.conf:1', 'Match User carol', ()),
        ('/etc/ssh/top.conf:2', 'ClientAliveInterval 1', ('Match User carol',)),
        (MAIN + ':2', 'Match User bob', ()),                       # carol's block ended with top.conf
        (MAIN + ':3', 'Include /etc/ssh/m.conf', ('Match User bob',)),
        ('/etc/ssh/m.conf:1', 'ClientAliveCountMax 9', ('Match User bob',)),
    ]
    assert resolve_server(config, 'ClientAliveCountMax', {'user': 'bob'}).value == '9'
    assert resolve_server(config, 'ClientAliveCountMax', {'user': 'alice'}).value == '3'


@pytest.mark.parametrize('files', [
    {MAIN: 'Include /etc/ssh/sshd_config\n'},
    {MAIN: 'Include /etc/ssh/a.conf\n', '/etc/ssh/a.conf': 'Include /etc/ssh/b.conf\n',
     '/etc/ssh/b.conf': 'Include /etc/ssh/a.conf\n'},
    {MAIN: 'Include /etc/ssh/d/*.conf\n', '/etc/ssh/d/x.conf': 'Include /etc/ssh/d/*.conf\n'},
], ids=['self', 'a-b-a', 'glob'])
def test_include_loop_raises(files: dict[str, str]):
    with pytest.raises(ConfigError, match='Include loop'):
        server(files)


def include_chain(levels: int) -> dict[str, str]:
    """A main file and ``levels`` files, each including the next."""
    files = {MAIN: 'Include /etc/ssh/n1.conf\n'}
    for n in range(1, levels + 1):
        files['/etc/ssh/n%d.conf' % n] = 'Include /etc/ssh/n%d.conf\n' % (n + 1) if n < levels else 'Port 22\n'
    return files


def test_include_depth_limit():
    # servconf.c: a file at depth SERVCONF_MAX_DEPTH (16) is read, one deeper is fatal.
    assert resolve_server(server(include_chain(MAX_INCLUDE_DEPTH)), 'Port').value == '22'
    with pytest.raises(ConfigError, match='deeper than 16'):
        server(include_chain(MAX_INCLUDE_DEPTH + 1))


def test_unreadable_file_raises_config_error(tmp_path):
    directory = tmp_path / 'sshd_config'
    directory.mkdir()    # reading a directory fails with IsADirectoryError, not FileNotFoundError
    with pytest.raises(ConfigError, match='cannot read'):
        Config(str(directory), flavour=SERVER)


def test_missing_main_file_is_an_empty_configuration():
    config = server({})
    assert not config.main.existed and config.entries == []


# -- server resolution ------------------------------------------------------------------------------
class ResolveCase(NamedTuple):
    id: str
    files: dict[str, str]
    keyword: str
    info: dict[str, str] | None
    value: str | None
    where: str


DROP_IN = '/etc/ssh/sshd_config.d/50-cloud-init.conf'
RESOLVE_CASES = [
    ResolveCase('default', {MAIN: 'Port 22\n'}, 'ClientAliveInterval', None, '0', '(default)'),
    ResolveCase('unknown-keyword', {MAIN: 'Port 22\n'}, 'NoSuchKeyword', None, None, '(default)'),
    ResolveCase('first-wins', {MAIN: 'ClientAliveInterval 10\nClientAliveInterval 20\n'}, 'clientaliveinterval',
                None, '10', MAIN + ':1'),
    ResolveCase('drop-in-beats-main',
                {MAIN: 'Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n',
                 DROP_IN: 'PasswordAuthentication yes\n'}, 'PasswordAuthentication', None, 'yes', DROP_IN + ':1'),
    ResolveCase('quoted-and-odd-case', {MAIN: '# x\nCLIENTALIVEINTERVAL = "5m"\n'}, 'ClientAliveInterval', None,
                '5m', MAIN + ':2'),
    ResolveCase('match-all-overrides',
                {MAIN: 'ClientAliveInterval 0\nMatch all\n    ClientAliveInterval 60\n'},
                'ClientAliveInterval', None, '60', MAIN + ':3'),
    ResolveCase('match-all-overrides-with-info',
                {MAIN: 'ClientAliveInterval 0\nMatch all\n    ClientAliveInterval 60\n'},
                'ClientAliveInterval', {'user': 'bob'}, '60', MAIN + ':3'),
    ResolveCase('tcpkeepalive-match-all-ignored-when-global',
                {MAIN: 'TCPKeepAlive yes\nMatch all\n    TCPKeepAlive no\n'}, 'TCPKeepAlive', None, 'yes', MAIN + ':1'),
    ResolveCase('tcpkeepalive-match-all-used-without-global',
                {MAIN: 'Port 22\nMatch all\n    TCPKeepAlive no\n'}, 'TCPKeepAlive', None, 'no', MAIN + ':3'),
    ResolveCase('match-user-not-in-load-pass',
                {MAIN: 'ClientAliveInterval 0\nMatch User backup\n    ClientAliveInterval 30\n'},
                'ClientAliveInterval', None, '0', MAIN + ':1'),
    ResolveCase('match-user-with-info',
                {MAIN: 'ClientAliveInterval 0\nMatch User backup\n    ClientAliveInterval 30\n'},
                'ClientAliveInterval', {'user': 'backup'}, '30', MAIN + ':3'),
    ResolveCase('match-user-other-user',
                {MAIN: 'ClientAliveInterval 0\nMatch User backup\n    ClientAliveInterval 30\n'},
                'ClientAliveInterval', {'user': 'alice'}, '0', MAIN + ':1'),
    ResolveCase('match-user-first-matching-block-wins',
                {MAIN: 'Match User b*\n  ClientAliveCountMax 1\nMatch User backup\n  ClientAliveCountMax 2\n'},
                'ClientAliveCountMax', {'user': 'backup'}, '1', MAIN + ':2'),
    ResolveCase('match-user-negated',
                {MAIN: 'Match User *,!root\n  ClientAliveCountMax 1\n'}, 'ClientAliveCountMax', {'user': 'root'},
                '3', '(default)'),
    ResolveCase('match-address-cidr',
                {MAIN: 'Match Address 10.0.0.0/8\n  ClientAliveInterval 15\n'}, 'ClientAliveInterval',
                {'addr': '10.1.2.3'}, '15', MAIN + ':2'),
    ResolveCase('match-address-outside',
                {MAIN: 'Match Address 10.0.0.0/8\n  ClientAliveInterval 15\n'}, 'ClientAliveInterval',
                {'addr': '192.0.2.1'}, '0', '(default)'),
    ResolveCase('match-criterion-missing-from-info',
                {MAIN: 'Match User bob Address 10.0.0.0/8\n  ClientAliveInterval 15\n'}, 'ClientAliveInterval',
                {'user': 'bob'}, '0', '(default)'),
    ResolveCase('match-user-in-drop-in',
                {MAIN: 'Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 5\n',
                 DROP_IN: 'Match User bob\n  ClientAliveInterval 7\n'}, 'ClientAliveInterval', {'user': 'bob'},
                '7', DROP_IN + ':2'),
    # sshd -T -C user=alice on OpenSSH 9.2 reports 3: a Match inside a file included from an
    # inactive Match is never active (servconf.c SSHCFG_NEVERMATCH).
    ResolveCase('nested-match-in-include-under-inactive-match',
                {MAIN: 'Match User bob\n  Include /etc/ssh/m.conf\n',
                 '/etc/ssh/m.conf': 'ClientAliveCountMax 9\nMatch User alice\nClientAliveCountMax 11\n'},
                'ClientAliveCountMax', {'user': 'alice'}, '3', '(default)'),
]


@pytest.mark.parametrize('case', RESOLVE_CASES, ids=[c.id for c in RESOLVE_CASES])
def test_resolve_server(case: ResolveCase):
    resolved = resolve_server(server(case.files), case.keyword, case.info)
    assert (resolved.value, resolved.where()) == (case.value, case.where)


@pytest.mark.parametrize('name, value, where', [
    ('debian12', '0', '(default)'),
    ('crlf', '120', MAIN + ':6'),
    ('quirks', '5m', MAIN + ':5'),
    ('no-final-newline', '60', MAIN + ':3'),
    ('match-at-end', '0', '(default)'),
])
def test_resolve_server_on_fixtures(name: str, value: str, where: str, server_config):
    resolved = resolve_server(server_config(name), 'ClientAliveInterval')
    assert (resolved.value, resolved.where()) == (value, where)


def test_ubuntu_cloud_init_drop_in_wins(server_config):
    resolved = resolve_server(server_config('ubuntu'), 'PasswordAuthentication')
    assert (resolved.value, resolved.where()) == ('yes', DROP_IN + ':1')


# -- patterns --------------------------------------------------------------------------------
MATCH_PATTERN_CASES = [
    ('alice', 'alice', False, True),
    ('alice', 'bob,alice', False, True),
    ('alice', 'bob', False, False),
    ('alice', 'a*', False, True),
    ('alice', 'a?ice', False, True),
    ('alice', 'a?', False, False),
    ('alice', '*,!alice', False, False),
    ('bob', '*,!alice', False, True),
    ('alice', '!bob', False, False),          # only a negation: nothing matched positively
    ('alice', '!alice,alice', False, False),  # a negated hit wins wherever it stands
    ('Alice', 'alice', False, False),
    ('Alice', 'alice', True, True),
    ('alice', 'ALICE', True, True),
    ('host.EXAMPLE.com', '*.example.com', True, True),
    ('host.example.com', '*.example.com,!host.EXAMPLE.COM', True, False),
    ('a[b]', 'a[b]', False, True),            # '[' is literal in OpenSSH patterns
    ('ab', 'a[b]', False, False),
]


@pytest.mark.parametrize('name, patterns, fold_case, expected', MATCH_PATTERN_CASES,
                         ids=['%s~%s%s' % (c[0], c[1], '/i' if c[2] else '') for c in MATCH_PATTERN_CASES])
def test_match_pattern_list(name: str, patterns: str, fold_case: bool, expected: bool):
    assert match_pattern_list(name, patterns, fold_case=fold_case) is expected


@pytest.mark.parametrize('text, normal', [
    ('User backup', 'user backup'),
    ('  USER\tbackup  ', 'user backup'),
    ('user Backup', 'user Backup'),          # values keep their case: User names are case-sensitive
    ('All', 'all'),
    ('User bob Address 10.0.0.0/8', 'user bob address 10.0.0.0/8'),
])
def test_normalize_criteria(text: str, normal: str):
    assert normalize_criteria(text) == normal


# -- client resolution --------------------------------------------------------------------------
CLIENT_FILE = '''ServerAliveCountMax 5
Host *.example.com !bad.example.com
    ServerAliveInterval 11
Host EXAMPLE.org
    ServerAliveInterval 44
Host *
    ServerAliveInterval 22
    ServerAliveInterval 33
    ServerAliveCountMax 9
'''


# Expected values are what `ssh -G -F FILE HOST` of OpenSSH 9.2 prints.
@pytest.mark.parametrize('host, keyword, value, lineno', [
    ('good.example.com', 'ServerAliveInterval', '11', 3),
    ('other.org', 'ServerAliveInterval', '22', 7),               # first value wins inside a block
    ('other.org', 'ServerAliveCountMax', '5', 1),                # a global line before any Host wins
    ('bad.example.com', 'ServerAliveInterval', '22', 7),         # a negated Host pattern skips the block
    ('EXAMPLE.org', 'ServerAliveInterval', '44', 5),
    ('example.org', 'ServerAliveInterval', '22', 7),             # Host patterns do not fold case
    ('other.org', 'ConnectTimeout', 'none', 0),
])
def test_resolve_client(host: str, keyword: str, value: str, lineno: int):
    config = Config('/etc/ssh/ssh_config', flavour=CLIENT, source=MemorySource({'/etc/ssh/ssh_config': CLIENT_FILE}))
    resolved = resolve_client(config, keyword, host)
    assert (resolved.value, resolved.entry.lineno if resolved.entry else 0) == (value, lineno)


def test_resolve_client_match_user():
    text = 'Match user alice host *.lan\n  ServerAliveInterval 7\nHost *\n  ServerAliveInterval 1\n'
    config = Config('/c', flavour=CLIENT, source=MemorySource({'/c': text}))
    assert resolve_client(config, 'ServerAliveInterval', 'pc.lan', 'alice').value == '7'
    assert resolve_client(config, 'ServerAliveInterval', 'pc.lan', 'bob').value == '1'
