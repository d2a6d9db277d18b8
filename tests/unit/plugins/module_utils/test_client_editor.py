# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ClientEditor and the client side of the model: matching, placement decisions, bad input."""

from __future__ import annotations

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._client_editor import (
    DEFAULT_PROBE,
    ClientEditor,
    effective_value,
    has_exec,
    parse_host,
    probe_hosts,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._editor import EditError, parse_requests
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import CLIENT_KEYWORDS
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    CLIENT,
    Config,
    MemorySource,
    client_match,
    host_line_matches,
    match_line_matches,
)

DEBIAN_SSH_CONFIG = """\

# This is the ssh client system-wide configuration file.  See
# ssh_config(5) for more information.  This file provides defaults for
# users, and the values can be changed in per-user configuration files
# or on the command line.

Include /etc/ssh/ssh_config.d/*.conf

Host *
#   ForwardAgent no
#   ForwardX11 no
#   PasswordAuthentication yes
#   Port 22
#   Protocol 2
    SendEnv LANG LC_*
    HashKnownHosts yes
    GSSAPIAuthentication yes
"""

ROUND_TRIP = {
    'debian': DEBIAN_SSH_CONFIG,
    'crlf': 'Host foo\r\n\tServerAliveInterval=30\r\nMatch all\r\n  TCPKeepAlive no\r\n',
    'no-final-newline': 'ServerAliveInterval 5\nHost *\n  ConnectTimeout 10',
    'odd-spacing': 'HOST = foo bar\n  serveraliveinterval   "30"  \n\f\n#c\n   \n',
    'empty': '',
}


def config_of(text: str, files: dict | None = None, main: str = '/home/u/.ssh/config') -> Config:
    sources = dict(files or {})
    sources[main] = text
    return Config(main, flavour=CLIENT, source=MemorySource(sources), include_base='/home/u/.ssh')


def edit(text: str, host: str, settings: dict, files: dict | None = None) -> ClientEditor:
    editor = ClientEditor(config_of(text, files), host=host)
    editor.apply(parse_requests(CLIENT_KEYWORDS, settings, version=None, in_match=False))
    return editor


@pytest.mark.parametrize('name', sorted(ROUND_TRIP))
def test_round_trip_is_lossless(name):
    config = config_of(ROUND_TRIP[name])
    assert config.main.render() == ROUND_TRIP[name]
    assert not config.changed_files()


# -- Host patterns --------------------------------------------------------------------------------
VALID_HOSTS = [
    ('*', ['*']),
    ('  bastion  ', ['bastion']),
    ('*.example.com !legacy.example.com', ['*.example.com', '!legacy.example.com']),
    ('10.0.0.? fe80::1%eth0', ['10.0.0.?', 'fe80::1%eth0']),
    ('db-01 db_02', ['db-01', 'db_02']),
]
INVALID_HOSTS = [
    ('', 'empty'),
    ('   ', 'empty'),
    ('a,b', 'comma'),
    ('foo\nServerAliveInterval 0', 'line break'),
    ('foo # x', 'comment'),
    ('"foo bar"', 'double quote'),
    ('!foo', 'only negated'),
    ('-oProxyCommand=x', '"="'),
    ('-foo', 'not valid'),
    ('foo$bar', 'not valid'),
    ('host=foo', '"="'),
    (7, 'must be a string'),
]


@pytest.mark.parametrize(('host', 'tokens'), VALID_HOSTS)
def test_parse_host_valid(host, tokens):
    assert parse_host(host) == tokens


@pytest.mark.parametrize(('host', 'message'), INVALID_HOSTS)
def test_parse_host_invalid(host, message):
    with pytest.raises(EditError, match=message):
        parse_host(host)


PROBES = [
    ('*', [DEFAULT_PROBE]),
    ('bastion', ['bastion']),
    ('*.example.com', ['keepalive-ssh-probe.example.com']),
    ('web? db*', ['webk', 'dbkeepalive-ssh-probe']),
    ('* !keepalive-ssh-probe', ['x']),
]


@pytest.mark.parametrize(('host', 'probes'), PROBES)
def test_probe_hosts(host, probes):
    patterns = parse_host(host)
    assert probe_hosts(patterns) == probes
    assert all(host_line_matches(p, patterns) for p in probes)


HOST_LINES = [
    ('foo', ['foo'], True),
    ('FOO', ['foo'], False),               # Host patterns are case-sensitive (readconf.c match_pattern)
    ('bar', ['foo,bar'], False),           # a comma is not a separator on a Host line
    ('bar', ['*', '!foo'], True),
    ('foo', ['*', '!foo'], False),
    ('foo', ['!foo'], False),
    ('web1', ['web?'], True),
    ('web10', ['web?'], False),
    ('a[1]', ['a[1]'], True),              # brackets are literal in ssh patterns
]


@pytest.mark.parametrize(('host', 'patterns', 'expected'), HOST_LINES)
def test_host_line_matches(host, patterns, expected):
    assert host_line_matches(host, patterns) is expected


MATCH_LINES = [
    (['all'], 'foo', True),
    (['all', 'host', 'foo'], 'foo', False),     # ssh refuses it; never matches here
    (['host', 'FOO'], 'foo', True),             # Match host folds case
    (['host', 'db*,!db2'], 'db1', True),
    (['host', 'db*,!db2'], 'db2', False),
    (['!host', 'foo'], 'bar', True),
    (['!host', 'foo'], 'foo', False),
    (['originalhost', 'bar'], 'bar', True),
    (['host', 'foo', 'user', 'nobody'], 'foo', False),
    (['user', 'keepalive-ssh-probe'], 'foo', True),
    (['localuser', 'me'], 'foo', True),
    (['exec', 'true'], 'foo', False),           # needs a running ssh: never assumed
    (['final', 'host', 'foo'], 'foo', False),
    (['host'], 'foo', False),
    ([], 'foo', False),
]


@pytest.mark.parametrize(('tokens', 'host', 'expected'), MATCH_LINES)
def test_match_line_matches(tokens, host, expected):
    assert match_line_matches(tokens, host, 'keepalive-ssh-probe', 'me') is expected


# -- placement ------------------------------------------------------------------------------------
# (case, text before, host, settings, text after)
EDITS = [
    ('new file, default: a plain global line', '', '*', {'ServerAliveInterval': 60},
     'ServerAliveInterval 60\n'),
    ('new file, specific host: a Host block', '', 'bastion', {'ServerAliveInterval': 15},
     'Host bastion\n    ServerAliveInterval 15\n'),
    ('file without blocks: a global line at the end', 'ForwardAgent no', '*', {'ServerAliveCountMax': 2},
     'ForwardAgent no\nServerAliveCountMax 2\n'),
    ('global definition edited in place, separator and quotes kept',
     'ServerAliveInterval="30"\nHost foo\n  User x\n', '*', {'ServerAliveInterval': '1m'},
     'ServerAliveInterval=1m\nHost foo\n  User x\n'),
    ('same meaning is not rewritten', 'ServerAliveInterval 5m\n', '*', {'ServerAliveInterval': 300},
     'ServerAliveInterval 5m\n'),
    ('Debian default: into the trailing Host * block', DEBIAN_SSH_CONFIG, '*', {'ServerAliveInterval': 60},
     DEBIAN_SSH_CONFIG + '    ServerAliveInterval 60\n'),
    ('Debian default, specific host: a block before Host *', DEBIAN_SSH_CONFIG, 'bastion',
     {'ServerAliveInterval': 15},
     DEBIAN_SSH_CONFIG.replace('\nHost *\n', '\nHost bastion\n    ServerAliveInterval 15\n\nHost *\n')),
    ('Match all that sets the keyword is edited, not duplicated',
     'Host db\n  ServerAliveInterval 5\nMatch all\n  ServerAliveInterval 7\n', '*', {'ServerAliveInterval': 60},
     'Host db\n  ServerAliveInterval 5\nMatch all\n  ServerAliveInterval 60\n'),
    ('first of two Host * definitions is the one edited',
     'Host *\n  ServerAliveInterval 7\nHost *\n  ServerAliveInterval 9\n', '*', {'ServerAliveInterval': 60},
     'Host *\n  ServerAliveInterval 60\nHost *\n  ServerAliveInterval 9\n'),
    ('default after the specific blocks: Host * at the top precedes them, so a new block at the end',
     'Host *\n  User me\nHost db\n  ServerAliveInterval 5\n', '*', {'ServerAliveInterval': 60},
     'Host *\n  User me\nHost db\n  ServerAliveInterval 5\n\nHost *\n  ServerAliveInterval 60\n'),
    ('specific value lands in its own Host block when that is read first',
     'Host bastion\n  User ops\nHost *\n  ServerAliveInterval 60\n', 'bastion', {'ServerAliveInterval': 15},
     'Host bastion\n  User ops\n  ServerAliveInterval 15\nHost *\n  ServerAliveInterval 60\n'),
    ('specific value after a Host * that sets it: new block above Host *, comments stay attached',
     'Host *\n  ServerAliveInterval 60\n# old bastion\nHost bastion\n  ServerAliveInterval 5\n', 'bastion',
     {'ServerAliveInterval': 15},
     'Host bastion\n  ServerAliveInterval 15\n\nHost *\n  ServerAliveInterval 60\n# old bastion\n'
     'Host bastion\n  ServerAliveInterval 5\n'),
    ('a global line is read first for every host: the block goes above it and Host * reopens global scope',
     '# keepalive\nServerAliveInterval 60\nForwardAgent no\nHost foo\n  User x\n', 'bastion',
     {'ServerAliveInterval': 15},
     'Host bastion\n  ServerAliveInterval 15\nHost *\n# keepalive\nServerAliveInterval 60\nForwardAgent no\n'
     'Host foo\n  User x\n'),
    ('several patterns: one block for them all',
     'Host a\n ServerAliveInterval 3\n', 'a b', {'ServerAliveInterval': 60},
     'Host a b\n ServerAliveInterval 60\n\nHost a\n ServerAliveInterval 3\n'),
    ('CRLF and a missing final newline are kept',
     'Host *\r\n  ForwardAgent no', '*', {'ServerAliveInterval': 60},
     'Host *\r\n  ForwardAgent no\r\n  ServerAliveInterval 60\r\n'),
    ('Match blocks around are untouched',
     'Match host foo exec "true"\n  # keep me\n  ServerAliveInterval 1\n\nMatch user x\n  ServerAliveInterval 2\n',
     '*', {'ServerAliveInterval': 60},
     'Match host foo exec "true"\n  # keep me\n  ServerAliveInterval 1\n\nMatch user x\n  ServerAliveInterval 2\n'
     '\nHost *\n  ServerAliveInterval 60\n'),
    ('accumulating keyword: added once',
     'Host *\n  SendEnv LANG\n', '*', {'SendEnv': 'LC_ALL'},
     'Host *\n  SendEnv LANG\n  SendEnv LC_ALL\n'),
    ('accumulating keyword already present: unchanged',
     'Host *\n  SendEnv LANG\n', '*', {'SendEnv': 'LANG'},
     'Host *\n  SendEnv LANG\n'),
    ('remove, default scope: global, Host * and Match all lines go, specific ones stay',
     'ServerAliveInterval 1\nHost db\n  ServerAliveInterval 2\nHost *\n  ServerAliveInterval 3\n'
     'Match all\n  ServerAliveInterval 4\n', '*', {'ServerAliveInterval': None},
     'Host db\n  ServerAliveInterval 2\nHost *\nMatch all\n'),
    ('remove, specific scope: only the Host block with these patterns',
     'Host db\n  ServerAliveInterval 2\nHost *\n  ServerAliveInterval 3\n', 'db', {'serveraliveinterval': None},
     'Host db\nHost *\n  ServerAliveInterval 3\n'),
]


@pytest.mark.parametrize(('case', 'before', 'host', 'settings', 'after'), EDITS, ids=[e[0] for e in EDITS])
def test_edit(case, before, host, settings, after):
    assert edit(before, host, settings).config.main.render() == after


@pytest.mark.parametrize(('case', 'before', 'host', 'settings', 'after'), EDITS, ids=[e[0] for e in EDITS])
def test_edit_twice_changes_nothing_more(case, before, host, settings, after):
    assert edit(after, host, settings).config.main.render() == after


@pytest.mark.parametrize(('case', 'before', 'host', 'settings', 'after'), EDITS, ids=[e[0] for e in EDITS])
def test_edit_gives_the_value_to_the_probe(case, before, host, settings, after):
    editor = edit(before, host, settings)
    config = editor.config
    for probe in editor.probes:
        for keyword, value in settings.items():
            spec = CLIENT_KEYWORDS[keyword.lower()]
            if value is not None and not spec.additive:
                got = effective_value(config, keyword, probe)
                assert got is not None and parse_requests(CLIENT_KEYWORDS, {keyword: got}, version=None,
                                                          in_match=False)[0].canonical == parse_requests(
                    CLIENT_KEYWORDS, {keyword: value}, version=None, in_match=False)[0].canonical


def test_drop_in_definition_is_edited_where_it_is():
    files = {'/etc/ssh/ssh_config.d/50-site.conf': 'ServerAliveInterval 30\n'}
    config = edit('Include /etc/ssh/ssh_config.d/*.conf\nHost *\n  User x\n', '*', {'ServerAliveInterval': 60},
                  files).config
    assert [f.path for f in config.changed_files()] == ['/etc/ssh/ssh_config.d/50-site.conf']
    assert config.files['/etc/ssh/ssh_config.d/50-site.conf'].render() == 'ServerAliveInterval 60\n'


def test_include_inside_a_host_block_follows_that_block():
    files = {'/home/u/.ssh/hosts/db.conf': 'ServerAliveInterval 5\n'}
    editor = edit('Host db\n  Include hosts/*.conf\n', 'db', {'ServerAliveInterval': 20}, files)
    config = editor.config
    assert config.files['/home/u/.ssh/hosts/db.conf'].render() == 'ServerAliveInterval 20\n'
    assert config.main.render() == 'Host db\n  Include hosts/*.conf\n'
    assert editor.touched and editor.touched[0].text == 'Host db'


def test_shadowed_lists_earlier_values_for_other_hosts():
    editor = edit('Host db\n  ServerAliveInterval 5\nHost web\n  ServerAliveInterval 60\n', '*',
                  {'ServerAliveInterval': 60})
    assert editor.shadowed == [{'keyword': 'ServerAliveInterval', 'value': '5', 'where': '/home/u/.ssh/config:2',
                                'block': 'Host db'}]


def test_untouched_blocks_keep_their_bytes():
    text = 'Match host x\n\tSendEnv A\n# c\nHost y\n  ServerAliveInterval 3\n'
    editor = edit(text, '*', {'ServerAliveInterval': 60, 'ServerAliveCountMax': 2})
    config = editor.config
    assert config.main.render().startswith(text)
    assert editor.touched[0].text == 'Host *'


def test_block_applies_uses_the_right_matcher():
    config = config_of('Host Foo\n  User a\nMatch host Foo\n  User b\n')
    host_block, match_block = list(config.blocks())
    assert not client_match(host_block, 'foo')
    assert client_match(match_block, 'foo')


def test_has_exec_finds_the_block():
    config = config_of('Host a\nMatch !exec "test -e /x" host b\n  User y\n')
    found = has_exec(config)
    assert found is not None and found.lineno == 2
    assert has_exec(config_of('Match host exec\n')) is None


# -- bad input ------------------------------------------------------------------------------------
BAD_SETTINGS = [
    ({'ServerAliveIntervall': 5}, 'unknown keyword'),
    ({'Host': 'x'}, 'structures the file'),
    ({'Include': '/tmp/x'}, 'structures the file'),
    ({'ServerAliveInterval': '5\nHost *'}, 'line break'),
    ({'ServerAliveInterval': '5 # x'}, 'comment'),
    ({'ServerAliveInterval': 'soon'}, 'not a time value'),
    ({'ServerAliveInterval': -1}, 'not a time value'),
    ({'ServerAliveCountMax': 'x'}, 'not an integer'),
    ({'TCPKeepAlive': 'maybe'}, 'not one of'),
    ({'ServerAliveInterval': [1]}, 'type list'),
    ({'ServerAliveInterval': 1.5}, 'type float'),
    ({'ServerAliveInterval': ''}, 'empty'),
]


@pytest.mark.parametrize(('settings', 'message'), BAD_SETTINGS)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(EditError, match=message):
        parse_requests(CLIENT_KEYWORDS, settings, version=(9, 2), in_match=False)


def test_keyword_newer_than_the_client_is_refused():
    with pytest.raises(EditError, match='needs OpenSSH 9.3'):
        parse_requests(CLIENT_KEYWORDS, {'ChannelTimeout': 'session=5m'}, version=(9, 2), in_match=False)


def test_bad_host_leaves_the_config_alone():
    config = config_of('Host *\n  User x\n')
    with pytest.raises(EditError):
        ClientEditor(config, host='a,b')
    assert not config.changed_files()
