# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keyword knowledge: TIME FORMAT, canonical values, request validation, the tables themselves."""

from __future__ import annotations

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import (
    CLIENT_KEYWORDS,
    SERVER_KEYWORDS,
    KeywordError,
    canonical_value,
    check_value,
    format_version,
    lookup,
    parse_time,
)

# sshd_config(5) TIME FORMATS: a sequence of time[qualifier], qualifiers s m h d w in any case.
VALID_TIMES = [
    ('0', 0),
    ('90', 90),
    ('5m', 300),
    ('5M', 300),
    ('30s', 30),
    ('1h30m', 5400),
    ('10m30s', 630),
    ('1d', 86400),
    ('1W', 604800),
    ('1w2d', 777600),
    ('007', 7),
]
INVALID_TIMES = ['', 'm5', '-1', '5x', '1.5m', ' 5m', '5m ', '5 m', 'm', '0x10', '1h-5m']


@pytest.mark.parametrize('text, seconds', VALID_TIMES)
def test_parse_time_valid(text: str, seconds: int):
    assert parse_time(text) == seconds


@pytest.mark.parametrize('text', INVALID_TIMES, ids=repr)
def test_parse_time_invalid(text: str):
    with pytest.raises(KeywordError) as caught:
        parse_time(text)
    assert repr(text) in str(caught.value)


def spec(name: str):
    return lookup(SERVER_KEYWORDS, name)


CANONICAL = [
    ('ClientAliveInterval', '5m', '300'),
    ('ClientAliveInterval', ' 300 ', '300'),
    ('ClientAliveInterval', '1h30m', '5400'),
    ('ClientAliveCountMax', '03', '3'),
    ('ClientAliveCountMax', '-1', '-1'),                  # canonical, not validated: check_value refuses it
    ('TCPKeepAlive', 'YES', 'yes'),
    ('PermitRootLogin', 'Prohibit-Password', 'prohibit-password'),
    ('UnusedConnectionTimeout', 'None', 'none'),
    ('UnusedConnectionTimeout', '2m', '120'),
    ('ChannelTimeout', 'session=5m', 'session=300'),
    ('ChannelTimeout', 'session:*=5m  agent-connection=1h', 'session:*=300 agent-connection=3600'),
    ('ChannelTimeout', 'NONE', 'none'),
    ('AcceptEnv', 'LANG   LC_*', 'LANG LC_*'),
]


@pytest.mark.parametrize('name, text, canonical', CANONICAL)
def test_canonical_value(name: str, text: str, canonical: str):
    assert canonical_value(spec(name), text) == canonical


@pytest.mark.parametrize('name, text', [
    ('ClientAliveInterval', '5 minutes'),
    ('ClientAliveCountMax', 'three'),
    ('ClientAliveCountMax', '1.5'),
    ('UnusedConnectionTimeout', 'never'),
    ('ChannelTimeout', 'session'),
    ('ChannelTimeout', '=5m'),
    ('ChannelTimeout', 'session=5x'),
])
def test_canonical_value_invalid(name: str, text: str):
    with pytest.raises(KeywordError):
        canonical_value(spec(name), text)


VALID_VALUES = [
    ('ClientAliveInterval', '60', '60'),
    ('ClientAliveInterval', '0', '0'),
    ('ClientAliveInterval', '5m', '300'),
    ('ClientAliveInterval', '2147483647', '2147483647'),
    ('ClientAliveCountMax', '0', '0'),
    ('ClientAliveCountMax', '3', '3'),
    ('TCPKeepAlive', 'No', 'no'),
    ('ChannelTimeout', 'session=15m', 'session=900'),
    ('UnusedConnectionTimeout', 'none', 'none'),
    ('PermitRootLogin', 'without-password', 'without-password'),
    ('Banner', '/etc/issue.net', '/etc/issue.net'),
]


@pytest.mark.parametrize('name, text, canonical', VALID_VALUES)
def test_check_value_valid(name: str, text: str, canonical: str):
    assert check_value(spec(name), text) == canonical


INVALID_VALUES = [
    ('ClientAliveInterval', '60\nPermitRootLogin yes', 'line break'),
    ('ClientAliveInterval', '60\r', 'line break'),
    ('ClientAliveInterval', '60 # a minute', '"#"'),
    ('Banner', '/etc/#issue', '"#"'),
    ('ClientAliveInterval', '', 'empty'),
    ('ClientAliveInterval', '   ', 'empty'),
    ('ClientAliveInterval', '-5', 'not a time value'),
    ('ClientAliveCountMax', '-1', 'out of range'),
    ('ClientAliveCountMax', '2147483648', 'out of range'),
    ('ClientAliveInterval', '99999999999', 'out of range'),
    ('ClientAliveInterval', 'banana', 'not a time value'),
    ('ClientAliveCountMax', 'banana', 'not an integer'),
    ('TCPKeepAlive', 'maybe', 'not one of yes, no'),
    ('PermitRootLogin', 'sometimes', 'not one of'),
    ('ChannelTimeout', 'session', 'not a ChannelTimeout entry'),
]


@pytest.mark.parametrize('name, text, message', INVALID_VALUES, ids=[repr(c[:2]) for c in INVALID_VALUES])
def test_check_value_invalid(name: str, text: str, message: str):
    with pytest.raises(KeywordError) as caught:
        check_value(spec(name), text)
    assert message in str(caught.value)
    if text.strip():     # the message names the bad value as the user wrote it
        assert repr(text) in str(caught.value) or repr(text.strip()) in str(caught.value)


@pytest.mark.parametrize('table, name, canonical', [
    (SERVER_KEYWORDS, 'clientaliveinterval', 'ClientAliveInterval'),
    (SERVER_KEYWORDS, 'TCPKEEPALIVE', 'TCPKeepAlive'),
    (CLIENT_KEYWORDS, 'serveralivecountmax', 'ServerAliveCountMax'),
])
def test_lookup_any_case(table, name: str, canonical: str):
    assert lookup(table, name).name == canonical


def test_lookup_unknown_names_it():
    with pytest.raises(KeywordError, match="'ClientAliveIntervall'"):
        lookup(SERVER_KEYWORDS, 'ClientAliveIntervall')


@pytest.mark.parametrize('name, in_match', [
    ('ClientAliveInterval', True), ('ClientAliveCountMax', True), ('ChannelTimeout', True),
    ('UnusedConnectionTimeout', True), ('TCPKeepAlive', False), ('LoginGraceTime', False), ('UsePAM', False),
])
def test_match_allowed_follows_sshd_config_5(name: str, in_match: bool):
    assert spec(name).in_match is in_match


@pytest.mark.parametrize('table', [SERVER_KEYWORDS, CLIENT_KEYWORDS], ids=['server', 'client'])
def test_tables_are_consistent(table):
    for key, keyword in table.items():
        assert key == keyword.name.lower()
        assert keyword.kind in ('time', 'time_or_none', 'int', 'yesno', 'choice', 'string', 'channel_timeout')
        if keyword.kind in ('yesno', 'choice'):
            assert keyword.choices, keyword.name
        if keyword.default is not None:
            canonical_value(keyword, keyword.default)    # the documented default is a valid value


def test_keepalive_defaults_are_sshd_T_output():
    assert {k: spec(k).default for k in ('ClientAliveInterval', 'ClientAliveCountMax', 'TCPKeepAlive')} == {
        'ClientAliveInterval': '0', 'ClientAliveCountMax': '3', 'TCPKeepAlive': 'yes'}


def test_format_version():
    assert format_version((9, 2)) == '9.2'
    assert format_version((10, 0)) == '10.0'
