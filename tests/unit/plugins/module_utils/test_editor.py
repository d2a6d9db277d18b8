# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The editor plans edits on the model so that sshd really uses the requested values.

Everything here runs on in-memory layouts of ``tests/unit/fixtures/sshd``; the differential
test checks the same editor against the real ``sshd -T``.
"""

from __future__ import annotations

import difflib
from typing import NamedTuple

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import (
    DISABLED_MARKER,
    PLACEMENTS,
    EditError,
    ServerEditor,
    countmax_zero_warning,
    parse_requests,
    predicted,
    same_value,
    to_text,
    unmet,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import SERVER_KEYWORDS, KeywordError
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    SERVER,
    Config,
    ConfigFile,
    MemorySource,
    resolve_server,
)

MAIN = '/etc/ssh/sshd_config'
DROP_INS = '/etc/ssh/sshd_config.d'
OURS = DROP_INS + '/00-keepalive-ssh.conf'
HARDENING = DROP_INS + '/40-hardening.conf'
CLOUD_INIT = DROP_INS + '/50-cloud-init.conf'
KEEPALIVE = {'ClientAliveInterval': 60, 'ClientAliveCountMax': 3, 'TCPKeepAlive': True}
WANTED = {'ClientAliveInterval': '60', 'ClientAliveCountMax': '3', 'TCPKeepAlive': 'yes'}
# A drop-in as a hardening script leaves it: it beats the main file of every Include-at-top layout.
HARDENING_DROP_IN = {HARDENING: 'ClientAliveInterval 900\nClientAliveCountMax 0\n'}


def requests_for(settings: dict, *, version=(9, 2), in_match: bool = False):
    return parse_requests(SERVER_KEYWORDS, settings, version=version, in_match=in_match)


def edit(config: Config, settings: dict, **options) -> ServerEditor:
    editor = ServerEditor(config, **options)
    editor.apply(requests_for(settings, in_match=options.get('match') is not None))
    return editor


def rendered(config: Config) -> dict[str, str]:
    return {path: f.render() for path, f in config.files.items() if f.existed or f.lines}


def reread(config: Config) -> Config:
    """The configuration as it would be read back after writing every file."""
    return Config(config.main.path, flavour=SERVER, source=MemorySource(rendered(config)))


def effective(config: Config, keywords: tuple[str, ...] = tuple(WANTED), info=None) -> dict[str, str | None]:
    return {k: resolve_server(config, k, info).value for k in keywords}


def changed_lines(config_file: ConfigFile) -> tuple[list[str], list[str]]:
    """(removed, added) lines of one file."""
    diff = list(difflib.ndiff(config_file.original.splitlines(True), config_file.render().splitlines(True)))
    return ([d[2:] for d in diff if d.startswith('- ')], [d[2:] for d in diff if d.startswith('+ ')])


def lines_of(config: Config, path: str) -> list[str]:
    return config.files[path].render().splitlines()


# -- placements on the stock layouts -----------------------------------------------------------
@pytest.mark.parametrize('placement', PLACEMENTS)
@pytest.mark.parametrize('name', ['debian11', 'debian12', 'debian13', 'rhel9', 'ubuntu'])
@pytest.mark.parametrize('competing', [False, True], ids=['stock', 'with-hardening-drop-in'])
def test_every_placement_gets_the_requested_values(name: str, placement: str, competing: bool, server_config):
    config = server_config(name, HARDENING_DROP_IN if competing else None)
    edit(config, KEEPALIVE, placement=placement)
    assert effective(config) == WANTED
    assert effective(reread(config)) == WANTED
    for config_file in config.files.values():
        removed, added = changed_lines(config_file)
        for line in removed + added:     # nothing but the requested keywords moved
            text = line.strip()
            if text.startswith(DISABLED_MARKER.strip()):
                text = text[len(DISABLED_MARKER.strip()):].strip()
            assert text.split()[0].lower() in {k.lower() for k in KEEPALIVE}, (config_file.path, line)
    again = reread(config)
    edit(again, KEEPALIVE, placement=placement)
    assert again.changed_files() == [], 'a second apply must change nothing'


def test_in_place_edits_the_winning_drop_in_definition(server_config):
    config = server_config('rhel9', HARDENING_DROP_IN)
    edit(config, {'ClientAliveInterval': 60, 'ClientAliveCountMax': 3})
    assert [f.path for f in config.changed_files()] == [HARDENING]
    assert lines_of(config, HARDENING) == ['ClientAliveInterval 60', 'ClientAliveCountMax 3']
    assert len(list(config.definitions('ClientAliveInterval'))) == 1, 'no second definition is added'


def test_in_place_cloud_init_password_authentication(server_config):
    config = server_config('ubuntu')
    edit(config, {'PasswordAuthentication': 'no'})
    assert [f.path for f in config.changed_files()] == [CLOUD_INIT]
    assert lines_of(config, CLOUD_INIT) == ['PasswordAuthentication no']


def test_in_place_new_keyword_goes_after_the_stock_commented_default(server_config):
    config = server_config('debian12')
    edit(config, {'ClientAliveInterval': 60})
    lines = lines_of(config, MAIN)
    at = lines.index('ClientAliveInterval 60')
    assert lines[at - 1] == '#ClientAliveInterval 0'
    assert [f.path for f in config.changed_files()] == [MAIN]


def test_main_file_disables_the_drop_in_and_keeps_the_value_in_main(server_config):
    config = server_config('rhel9', HARDENING_DROP_IN)
    edit(config, {'ClientAliveInterval': 600, 'ClientAliveCountMax': 1}, placement='main_file')
    assert lines_of(config, HARDENING) == [DISABLED_MARKER + 'ClientAliveInterval 900',
                                           DISABLED_MARKER + 'ClientAliveCountMax 0']
    for keyword, value in (('ClientAliveInterval', '600'), ('ClientAliveCountMax', '1')):
        resolved = resolve_server(config, keyword)
        assert (resolved.value, resolved.entry.file.path) == (value, MAIN)
    assert sum(1 for e in config.definitions('ClientAliveInterval')) == 1


def test_main_file_keeps_an_existing_main_definition(server_config):
    config = server_config('crlf', {DROP_INS + '/10-x.conf': 'ClientAliveInterval 5\n'})
    edit(config, {'ClientAliveInterval': 300}, placement='main_file')
    assert 'ClientAliveInterval 300' in lines_of(config, MAIN)
    assert lines_of(config, DROP_INS + '/10-x.conf') == [DISABLED_MARKER + 'ClientAliveInterval 5']
    assert resolve_server(config, 'ClientAliveInterval').where() == MAIN + ':6'


def test_drop_in_creates_our_file_and_disables_earlier_definitions(server_config):
    early = {MAIN: 'ClientAliveInterval 900\nInclude /etc/ssh/sshd_config.d/*.conf\nClientAliveCountMax 0\n',
             DROP_INS + '/0-early.conf': 'ClientAliveCountMax 7\n'}
    config = server_config('debian12', early)
    edit(config, {'ClientAliveInterval': 60, 'ClientAliveCountMax': 3}, placement='drop_in')
    assert config.files[OURS].render() == 'ClientAliveInterval 60\nClientAliveCountMax 3\n'
    assert not config.files[OURS].existed
    assert lines_of(config, MAIN)[0] == DISABLED_MARKER + 'ClientAliveInterval 900'
    assert lines_of(config, DROP_INS + '/0-early.conf') == [DISABLED_MARKER + 'ClientAliveCountMax 7']
    assert lines_of(config, MAIN)[2] == 'ClientAliveCountMax 0', 'a later definition loses anyway; left alone'
    assert {k: resolve_server(config, k).where() for k in ('ClientAliveInterval', 'ClientAliveCountMax')} == {
        'ClientAliveInterval': OURS + ':1', 'ClientAliveCountMax': OURS + ':2'}


def test_drop_in_with_a_relative_include(server_config):
    config = server_config('debian12', {MAIN: 'Include sshd_config.d/*.conf\n'})
    edit(config, {'ClientAliveInterval': 60}, placement='drop_in')
    assert resolve_server(config, 'ClientAliveInterval').where() == OURS + ':1'


@pytest.mark.parametrize('name, drop_in_name', [('no-include', '00-keepalive-ssh.conf'),
                                                ('debian12', 'keepalive.cfg')])
def test_drop_in_without_a_matching_include_fails_naming_the_file(name: str, drop_in_name: str, server_config):
    config = server_config(name)
    before = rendered(config)
    with pytest.raises(EditError) as caught:
        edit(config, {'ClientAliveInterval': 60}, placement='drop_in', drop_in_name=drop_in_name)
    assert MAIN in str(caught.value) and drop_in_name in str(caught.value)
    assert rendered(config) == before


def test_debian11_stock_file_already_has_the_include(server_config):
    # Debian 11 (openssh 1:8.4p1-5) ships `Include /etc/ssh/sshd_config.d/*.conf` at the top.
    config = server_config('debian11')
    edit(config, {'ClientAliveInterval': 60}, placement='drop_in')
    assert resolve_server(config, 'ClientAliveInterval').where() == OURS + ':1'


# -- never inside a Match block ------------------------------------------------------------------
def test_new_global_line_lands_before_the_first_match_block(server_config):
    config = server_config('match-at-end')
    edit(config, {'ClientAliveInterval': 60})
    lines = lines_of(config, MAIN)
    assert lines.index('ClientAliveInterval 60') < lines.index('Match User backup')
    assert lines[lines.index('ClientAliveInterval 60') - 1].startswith('Subsystem'), 'above the comment of the block'
    resolved = resolve_server(config, 'ClientAliveInterval')
    assert (resolved.value, resolved.entry.context) == ('60', ())
    assert resolve_server(config, 'ClientAliveInterval', {'user': 'backup'}).value == '30', 'the block is untouched'


def test_control_naive_append_lands_inside_the_match_block(sshd_layout):
    """What `lineinfile` would do: the appended line is scoped to the last Match block."""
    files = sshd_layout('match-at-end')
    files[MAIN] += 'ClientAliveInterval 60\n'
    config = Config(MAIN, flavour=SERVER, source=MemorySource(files))
    appended = list(config.definitions('ClientAliveInterval'))[-1]
    assert appended.line.text == 'ClientAliveInterval 60'
    assert [b.line.text for b in appended.context] == ['Match User backup']
    assert resolve_server(config, 'ClientAliveInterval').value == '0', 'sshd -T would still say 0'


def test_new_line_in_a_file_without_final_newline(server_config):
    config = server_config('no-final-newline')
    edit(config, {'ClientAliveCountMax': 2})
    assert config.main.render() == ('Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n'
                                    'ClientAliveInterval 60\nSubsystem sftp /usr/lib/openssh/sftp-server\n'
                                    'ClientAliveCountMax 2\n')


def test_crlf_file_keeps_crlf_on_inserted_and_edited_lines(server_config):
    config = server_config('crlf')
    edit(config, {'ClientAliveCountMax': 2, 'ClientAliveInterval': 300})
    text = config.main.render()
    assert 'ClientAliveCountMax 2\r\n' in text and 'ClientAliveInterval 300\r\n' in text
    assert text.count('\n') == text.count('\r\n')


def test_crlf_file_keeps_crlf_in_a_new_match_block(server_config):
    config = server_config('crlf')
    edit(config, {'ClientAliveInterval': 45}, match='User alice')
    text = config.main.render()
    # The editor writes the criteria normalized (`Match user alice`); sshd reads attribute names in any case.
    assert text.lower().endswith('\r\n\r\nmatch user alice\r\n    clientaliveinterval 45\r\n')
    assert text.count('\n') == text.count('\r\n')


# -- Match-scoped settings ---------------------------------------------------------------------
def test_match_creates_the_block_at_the_end(server_config):
    config = server_config('debian12')
    editor = edit(config, {'ClientAliveInterval': 30, 'ClientAliveCountMax': 2}, match='User backup')
    tail = config.main.render()[len(config.main.original):]
    assert tail.lower() == '\nmatch user backup\n    clientaliveinterval 30\n    clientalivecountmax 2\n'
    assert tail.split('\n')[2:4] == ['    ClientAliveInterval 30', '    ClientAliveCountMax 2']
    assert effective(config, info={'user': 'backup'})['ClientAliveInterval'] == '30'
    assert effective(config)['ClientAliveInterval'] == '0', 'the global value is untouched'
    assert editor.shadowed == []


@pytest.mark.parametrize('criteria', ['User backup', 'user backup', '  USER   backup ', 'user\t"backup"'])
def test_match_edits_the_existing_block(criteria: str, server_config):
    config = server_config('match-at-end')
    edit(config, {'ClientAliveInterval': 60, 'ClientAliveCountMax': 1}, match=criteria)
    lines = lines_of(config, MAIN)
    assert lines[-4:] == ['    AllowTcpForwarding no', '    X11Forwarding no', '    ClientAliveInterval 60',
                          '    ClientAliveCountMax 1']
    assert sum(1 for line in lines if line.startswith('Match')) == 1


def test_match_edits_the_block_with_its_own_indent(server_config):
    config = server_config('quirks')
    edit(config, {'ClientAliveCountMax': 1}, match='User backup')
    assert config.main.render().endswith('match   user  "backup"\n\tclientAliveInterval=30\n\tClientAliveCountMax 1\n')


def test_match_values_are_case_sensitive(server_config):
    config = server_config('match-at-end')
    edit(config, {'ClientAliveInterval': 60}, match='User Backup')
    assert lines_of(config, MAIN)[-2:] == ['Match user Backup', '    ClientAliveInterval 60']


def test_match_refuses_a_keyword_sshd_does_not_allow_there():
    with pytest.raises(EditError) as caught:
        requests_for({'TCPKeepAlive': 'yes'}, in_match=True)
    assert 'TCPKeepAlive' in str(caught.value) and 'Match' in str(caught.value)


def test_match_all_definition_follows_a_global_edit(server_config):
    config = server_config('debian12', {MAIN: 'ClientAliveInterval 0\nMatch all\n    ClientAliveInterval 10\n'})
    edit(config, {'ClientAliveInterval': 60})
    assert lines_of(config, MAIN) == ['ClientAliveInterval 60', 'Match all', '    ClientAliveInterval 60']
    assert resolve_server(config, 'ClientAliveInterval').value == '60'


def test_shadowed_lists_match_blocks_that_differ(server_config):
    config = server_config('match-at-end')
    editor = edit(config, {'ClientAliveInterval': 60})
    assert editor.shadowed == [{'keyword': 'ClientAliveInterval', 'value': '30', 'where': MAIN + ':14',
                                'match': 'User backup'}]


def test_empty_match_and_bad_placement_are_refused(server_config):
    config = server_config('debian12')
    with pytest.raises(EditError, match='empty'):
        ServerEditor(config, match='   ')
    with pytest.raises(EditError, match="'everywhere'"):
        ServerEditor(config, placement='everywhere')


# -- values compared by meaning ------------------------------------------------------------------
class Same(NamedTuple):
    keyword: str
    existing: str
    requested: object


# An existing definition that sshd reads as the requested value is left byte for byte.
SAME_VALUE_CASES = [
    Same('ClientAliveInterval', '5m', 300),
    Same('ClientAliveInterval', '300', '5m'),
    Same('ClientAliveInterval', '1h30m', '90m'),
    Same('ClientAliveCountMax', '03', 3),
    Same('TCPKeepAlive', 'YES', True),
    Same('TCPKeepAlive', 'no', False),
    Same('ClientAliveInterval', '"300"', 300),           # sshd -T: clientaliveinterval 300
    Same('TCPKeepAlive', '"yes"', 'yes'),                # sshd -T: tcpkeepalive yes
    Same('ClientAliveInterval', '60 # one minute', 60),  # sshd 9.2 stops at '#' (argv_split)
]


@pytest.mark.parametrize('case', SAME_VALUE_CASES, ids=['%s %s' % c[1:] for c in SAME_VALUE_CASES])
def test_same_value_by_meaning_is_no_change(case: Same, server_config):
    config = server_config('debian12', {MAIN: 'Port 22\n%s %s\n' % (case.keyword, case.existing)})
    edit(config, {case.keyword: case.requested})
    assert config.changed_files() == [], config.main.render()


def test_different_value_keeps_indent_separator_and_trail(server_config):
    config = server_config('quirks')
    edit(config, {'ClientAliveInterval': 120, 'ClientAliveCountMax': 3})
    removed, added = changed_lines(config.main)
    assert (removed, added) == (['clientaliveinterval 5m\t\n', 'CLIENTALIVECOUNTMAX\t=\t2\n'],
                                ['clientaliveinterval 120\t\n', 'CLIENTALIVECOUNTMAX\t=\t3\n'])


@pytest.mark.parametrize('keyword, current, canonical, expected', [
    ('ClientAliveInterval', '5m', '300', True),
    ('ClientAliveInterval', 'banana', '300', False),
    ('TCPKeepAlive', 'Yes', 'yes', True),
    ('ClientAliveCountMax', '2', '3', False),
])
def test_same_value(keyword: str, current: str, canonical: str, expected: bool):
    assert same_value(SERVER_KEYWORDS[keyword.lower()], current, canonical) is expected


# -- removal -------------------------------------------------------------------------------------
def test_null_removes_every_global_definition_and_leaves_match_blocks(server_config):
    config = server_config('crlf', {DROP_INS + '/10-x.conf': 'ClientAliveInterval 5\n'})
    edit(config, {'ClientAliveInterval': None})
    assert 'ClientAliveInterval 120' not in config.main.render()
    assert config.files[DROP_INS + '/10-x.conf'].render() == ''
    assert resolve_server(config, 'ClientAliveInterval').value == '0'
    assert resolve_server(config, 'ClientAliveInterval', {'user': 'backup'}).value == '30'
    again = reread(config)
    edit(again, {'ClientAliveInterval': None})
    assert again.changed_files() == []


def test_null_in_match_removes_only_inside_the_block(server_config):
    config = server_config('crlf')
    edit(config, {'ClientAliveInterval': None}, match='User backup')
    text = config.main.render()
    assert text.endswith('Match User backup\r\n') and 'ClientAliveInterval 120\r\n' in text


def test_null_of_an_absent_keyword_changes_nothing(server_config):
    config = server_config('rhel9')
    edit(config, {'ClientAliveCountMax': None})
    edit(config, {'ClientAliveCountMax': None}, match='User nobody')
    assert config.changed_files() == []


# -- idempotence on every layout ------------------------------------------------------------------
@pytest.mark.parametrize('match', [None, 'User backup'])
@pytest.mark.parametrize('name', ['crlf', 'quirks', 'match-at-end', 'no-final-newline', 'rhel9', 'ubuntu'])
def test_second_apply_is_a_no_op(name: str, match, server_config):
    settings = {'ClientAliveInterval': '2m', 'ClientAliveCountMax': 2}
    config = server_config(name)
    edit(config, settings, match=match)
    again = reread(config)
    edit(again, settings, match=match)
    assert again.changed_files() == []
    info = {'user': 'backup'} if match else None
    got = effective(again, settings, info)
    assert same_value(SERVER_KEYWORDS['clientaliveinterval'], got['ClientAliveInterval'], '120'), got
    assert got['ClientAliveCountMax'] == '2'


# -- requests ------------------------------------------------------------------------------------
@pytest.mark.parametrize('value, text', [(True, 'yes'), (False, 'no'), (60, '60'), (0, '0'), ('5m', '5m')])
def test_to_text(value, text: str):
    assert to_text(value) == text


@pytest.mark.parametrize('value', [[60], {'a': 1}, 1.5, None], ids=repr)
def test_to_text_refuses_other_types(value):
    with pytest.raises(KeywordError) as caught:
        to_text(value)
    assert type(value).__name__ in str(caught.value)


def test_parse_requests_canonical_and_removal():
    requests = requests_for({'clientaliveinterval': '5m', 'TCPKEEPALIVE': False, 'ClientAliveCountMax': None})
    assert [(r.keyword.name, r.value, r.canonical) for r in requests] == [
        ('ClientAliveInterval', '5m', '300'), ('TCPKeepAlive', 'no', 'no'), ('ClientAliveCountMax', None, None)]


class Bad(NamedTuple):
    settings: dict
    version: tuple[int, int] | None
    in_match: bool
    message: tuple[str, ...]


BAD_REQUESTS = [
    Bad({'ClientAliveIntervall': 60}, (9, 2), False, ('ClientAliveIntervall', 'unknown keyword')),
    Bad({'ClientAliveInterval': [60]}, (9, 2), False, ('ClientAliveInterval', '[60]', 'list')),
    Bad({'ClientAliveInterval': {'a': 1}}, (9, 2), False, ('ClientAliveInterval', 'dict')),
    Bad({'ClientAliveCountMax': -1}, (9, 2), False, ('ClientAliveCountMax', "'-1'", 'out of range')),
    Bad({'ClientAliveInterval': '-30'}, (9, 2), False, ('ClientAliveInterval', "'-30'")),
    Bad({'ClientAliveInterval': '60 # x'}, (9, 2), False, ('ClientAliveInterval', '#')),
    Bad({'ClientAliveInterval': '60\nPermitRootLogin yes'}, (9, 2), False, ('ClientAliveInterval', 'line break')),
    Bad({'TCPKeepAlive': 'sometimes'}, (9, 2), False, ('TCPKeepAlive', "'sometimes'")),
    Bad({'ClientAliveInterval': ''}, (9, 2), False, ('ClientAliveInterval', 'empty')),
    Bad({'ChannelTimeout': 'session=5m'}, (8, 4), False, ('ChannelTimeout', '9.2', '8.4')),
    Bad({'UnusedConnectionTimeout': '5m'}, (9, 1), False, ('UnusedConnectionTimeout', '9.2', '9.1')),
    Bad({'Include': '/etc/x'}, (9, 2), False, ('Include', 'structures the file')),
    Bad({'Match': 'all'}, (9, 2), False, ('Match',)),
    Bad({'TCPKeepAlive': 'yes'}, (9, 2), True, ('TCPKeepAlive', 'Match')),
]


@pytest.mark.parametrize('bad', BAD_REQUESTS, ids=[repr(b.settings)[:40] for b in BAD_REQUESTS])
def test_parse_requests_refuses(bad: Bad):
    with pytest.raises(EditError) as caught:
        parse_requests(SERVER_KEYWORDS, bad.settings, version=bad.version, in_match=bad.in_match)
    for part in bad.message:
        assert part in str(caught.value)


def test_channel_timeout_accepted_on_9_2():
    assert requests_for({'ChannelTimeout': 'session:*=5m'})[0].canonical == 'session:*=300'


def test_countmax_zero_warning_depends_on_the_version():
    old, new, boundary = (countmax_zero_warning(v) for v in ((8, 1), (9, 2), (8, 2)))
    assert old != new and boundary.replace('8.2', '9.2', 1) == new
    assert '8.1' in old and 'disconnects a client after one ClientAliveInterval' in old
    assert '9.2' in new and 'never' in new and 'not an idle timeout' in new


def test_predicted_and_unmet(server_config):
    config = server_config('rhel9', HARDENING_DROP_IN)
    requests = requests_for({'ClientAliveInterval': '1m', 'TCPKeepAlive': 'no'})
    assert predicted(config, requests) == {'ClientAliveInterval': '900', 'TCPKeepAlive': 'yes'}
    dump = {'clientaliveinterval': '60', 'tcpkeepalive': 'yes'}
    assert unmet(config, requests, dump) == [('TCPKeepAlive', 'no', 'yes')]
