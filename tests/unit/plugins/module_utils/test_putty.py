# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PuTTY session files: names as PuTTY escapes them, lossless Key=Value lines, checked values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import EditError
from ansible_collections.keepalive.ssh.plugins.module_utils._putty import (
    PuttyRequest,
    SessionFile,
    apply_requests,
    check_session,
    parse_putty_requests,
    putty_dir,
    session_filename,
    session_name,
)

# The last row was seen with strace on plink 0.78 (open of ~/.putty/sessions/<name>).
FILENAMES = [
    ('Default Settings', 'Default%20Settings'),
    ('', 'Default%20Settings'),
    ('web-01.example.com', 'web-01.example.com'),
    ('root@host_1+x', 'root@host_1+x'),
    ('100%', '100%25'),
    ('a/b\\c', 'a%2Fb%5Cc'),
    ('a b:c*/é~x', 'a%20b%3Ac%2A%2F%C3%A9%7Ex'),
]


@pytest.mark.parametrize(('name', 'filename'), FILENAMES)
def test_session_filename(name, filename):
    assert session_filename(name) == filename


@pytest.mark.parametrize(('name', 'filename'), FILENAMES[2:])
def test_session_name_inverts_filename(name, filename):
    assert session_name(filename) == name


@settings(derandomize=True, database=None)
@given(st.text(alphabet=st.characters(blacklist_categories=('Cs',)), min_size=1))
def test_session_names_round_trip(name):
    filename = session_filename(name)
    assert session_name(filename) == name
    assert '/' not in filename


@pytest.mark.parametrize('name', ['.', '..'])
def test_dot_names_are_refused(name):
    # Control: PuTTY's own escaping keeps them as they are, i.e. the directory.
    assert session_filename(name) == name
    with pytest.raises(EditError, match='would be the directory'):
        check_session(name)


@pytest.mark.parametrize(('name', 'message'), [
    ('two\nlines', 'control character'),
    ('tab\there', 'control character'),
    ('é' * 50, 'too long'),
    (5, 'must be a string'),
])
def test_bad_session_names(name, message):
    with pytest.raises(EditError, match=message):
        check_session(name)


ROUND_TRIP = [
    'HostName=example.org\nPortNumber=22\nPingIntervalSecs=0\n',
    'HostName=a\r\nTCPKeepalives=0\r\n',
    'no equals sign here\n\nKey=with=equals\nLast=1',
    '',
]


@pytest.mark.parametrize('text', ROUND_TRIP)
def test_session_file_is_lossless(text):
    session = SessionFile('/x', text)
    assert session.render() == text and not session.changed


def test_first_line_of_a_key_wins_and_is_the_one_edited():
    session = SessionFile('/x', 'PingIntervalSecs=5\nPingIntervalSecs=7\n')
    assert session.get('PingIntervalSecs') == '5'
    session.set('PingIntervalSecs', '30')
    assert session.render() == 'PingIntervalSecs=30\nPingIntervalSecs=7\n'


def test_value_keeps_everything_after_the_first_equals():
    assert SessionFile('/x', 'Key=a=b\n').get('Key') == 'a=b'


def test_keys_are_case_sensitive():
    session = SessionFile('/x', 'pingintervalsecs=5\n')
    assert session.get('PingIntervalSecs') is None


def test_new_key_goes_at_the_end_with_the_files_line_ending():
    session = SessionFile('/x', 'HostName=a\r\nPortNumber=22')
    session.set('TCPKeepalives', '1')
    assert session.render() == 'HostName=a\r\nPortNumber=22\r\nTCPKeepalives=1\r\n'


def test_remove_drops_every_line_of_the_key():
    session = SessionFile('/x', 'A=1\nPingIntervalSecs=5\nB=2\nPingIntervalSecs=7\n')
    session.remove('PingIntervalSecs')
    assert session.render() == 'A=1\nB=2\n'


VALID = [
    ({'PingIntervalSecs': 30}, [PuttyRequest('PingIntervalSecs', '30')]),
    ({'pingintervalsecs': '0'}, [PuttyRequest('PingIntervalSecs', '0')]),
    ({'TCPKeepalives': True}, [PuttyRequest('TCPKeepalives', '1')]),
    ({'tcpkeepalives': 'no'}, [PuttyRequest('TCPKeepalives', '0')]),
    ({'PortNumber': '2222'}, [PuttyRequest('PortNumber', '2222')]),
    ({'Protocol': 'ssh'}, [PuttyRequest('Protocol', 'ssh')]),
    ({'WinTitle': 'my box', 'CloseOnExit': 1}, [PuttyRequest('WinTitle', 'my box'), PuttyRequest('CloseOnExit', '1')]),
    ({'SomeFlag': False}, [PuttyRequest('SomeFlag', '0')]),
    ({'PingIntervalSecs': None}, [PuttyRequest('PingIntervalSecs', None)]),
]
INVALID = [
    ({'PingIntervalSecs': -1}, 'non-negative integer'),
    ({'PingIntervalSecs': 'soon'}, 'non-negative integer'),
    ({'PingIntervalSecs': True}, 'non-negative integer'),
    ({'PortNumber': 70000}, 'out of range'),
    ({'TCPKeepalives': 'maybe'}, 'not a boolean'),
    ({'Protocol': 'ftp'}, 'not one of'),
    ({'HostName': 'a\nPingIntervalSecs=0'}, 'line break'),
    ({'HostName': ['a']}, 'type list'),
    ({'Bad=Key': 1}, 'not a PuTTY setting name'),
    ({'': 1}, 'not a PuTTY setting name'),
    ({'PingIntervalSecs': 1, 'pingintervalsecs': 2}, 'given twice'),
]


@pytest.mark.parametrize(('settings', 'requests'), VALID)
def test_valid_requests(settings, requests):
    assert parse_putty_requests(settings) == requests


@pytest.mark.parametrize(('settings', 'message'), INVALID)
def test_invalid_requests(settings, message):
    with pytest.raises(EditError, match=message):
        parse_putty_requests(settings)


def test_ping_interval_minutes_are_cleared_when_seconds_are_set():
    session = SessionFile('/x', 'PingInterval=1\nPingIntervalSecs=0\n')
    assert session.ping_interval() == 60
    notes = apply_requests(session, parse_putty_requests({'PingIntervalSecs': 30}))
    assert session.render() == 'PingInterval=0\nPingIntervalSecs=30\n'
    assert session.ping_interval() == 30 and 'PingInterval=1' in notes[0]


def test_ping_interval_minutes_given_explicitly_are_kept():
    session = SessionFile('/x', 'PingInterval=1\n')
    assert apply_requests(session, parse_putty_requests({'PingIntervalSecs': 30, 'PingInterval': 1})) == []
    assert session.ping_interval() == 90


def test_putty_dir_prefers_the_xdg_directory(tmp_path):
    assert putty_dir(str(tmp_path)) == str(tmp_path / '.putty')
    (tmp_path / '.config' / 'putty').mkdir(parents=True)
    assert putty_dir(str(tmp_path)) == str(tmp_path / '.config' / 'putty')
