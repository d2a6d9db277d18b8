# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prediction logic of keepalive_info (pure: no host, no program).

Expected numbers follow the calibration table in _predict.RULES; when the lab's measurements
change a row, the rows of these tables that use it change with it (docs/predictions.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.keepalive.ssh.plugins.module_utils import _predict as p
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import COUNTMAX_ZERO_CHANGED_IN

V81, V84, V92, V94, V100 = (8, 1), (8, 4), (9, 2), (9, 4), (10, 0)
DEFAULT_KERNEL = p.KernelFacts(7200, 75, 9, 15)
RETRANS = 924.6     # tcp_retries2 15


def server(version=V92, interval=0, countmax=3, tcp=True, channel='none', **kw) -> p.ServerFacts:
    return p.ServerFacts(version, interval, countmax, tcp, channel, **kw)


def client(version=V92, interval=0, countmax=3, tcp=True, name='ssh') -> p.ClientFacts:
    return p.ClientFacts(name, version, interval, countmax, tcp)


def facts(srv=None, clients=(), putty=(), kernel=DEFAULT_KERNEL, tmout=None, readonly=True) -> p.Facts:
    return p.Facts(srv, tuple(clients), tuple(putty), kernel, p.ShellFacts(tmout, readonly, '/etc/profile.d/t.sh:1'))


def triple(prediction: dict[str, Any]) -> tuple[Any, Any, Any]:
    return prediction['seconds'], prediction['low'], prediction['high']


# -- the table itself ---------------------------------------------------------------------------
def test_rules_cover_every_release_once():
    for mechanism in {rule.mechanism for rule in p.RULES}:
        rows = sorted((r for r in p.RULES if r.mechanism == mechanism), key=lambda r: r.since)
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier.before == later.since, (mechanism, earlier, later)
        assert rows[-1].before is None, mechanism
        assert all(r.low_period <= r.period <= r.high_period for r in rows), mechanism
        assert all(r.zero_countmax in (p.FORMULA, p.NEVER) and r.basis and r.note for r in rows), mechanism


def test_rules_agree_with_the_keyword_table_on_countmax_zero():
    before = (COUNTMAX_ZERO_CHANGED_IN[0], COUNTMAX_ZERO_CHANGED_IN[1] - 1)
    assert p.rule_for(p.SSHD_ALIVE, before).zero_countmax == p.FORMULA
    assert p.rule_for(p.SSHD_ALIVE, COUNTMAX_ZERO_CHANGED_IN).zero_countmax == p.NEVER


# The rows the lab measured (docs/behaviour.md); tests/behaviour/test_calibration.py holds them to
# the measurements. Fails on purpose when a row's basis changes: update docs/predictions.md with it.
MEASURED_ROWS = {
    'sshd ClientAlive, OpenSSH 8.2 to before 8.9': 'on OpenSSH 8.4p1; 8.2 to 8.8 by source reading',
    'sshd ClientAlive, OpenSSH 9.2 to before 9.3': 'on OpenSSH 9.2p1',
    'sshd ClientAlive, OpenSSH 10.0 and later': 'on OpenSSH 10.0p1; later releases assumed the same',
    'ssh ServerAlive, OpenSSH 9.2 to before 9.3': 'with the 9.2p1 client (against 8.4p1, 9.2p1 and 10.0p1 servers)',
    'kernel TCP keepalive': '(Linux, sshd and ssh sockets)',
    'shell TMOUT': '(bash and zsh; not ksh93)',
    'sshd ChannelTimeout, OpenSSH 9.2 to before 9.3': 'on OpenSSH 9.2p1',
    'sshd ChannelTimeout, OpenSSH 9.3 and later': 'on OpenSSH 10.0p1; 9.3 to 9.x not measured',
}


def test_measured_rows_say_so_and_the_others_do_not():
    measured = {p.rule_label(r): r.basis for r in p.RULES if r.basis.startswith(p.MEASURED)}
    assert measured == {label: '%s %s' % (p.MEASURED, where) for label, where in MEASURED_ROWS.items()}
    unmeasured = {p.rule_label(r): r.basis for r in p.RULES if not r.basis.startswith(p.MEASURED)}
    assert unmeasured.pop('sshd ClientAlive, OpenSSH 9.3 to before 10.0').startswith('not measured: between')
    assert set(unmeasured.values()) == {p.UNCALIBRATED}


def test_unmeasured_gap_spans_its_measured_neighbours():
    gap = p.rule_for(p.SSHD_ALIVE, V94)
    assert (gap.low_period, gap.high_period) == (p.rule_for(p.SSHD_ALIVE, V100).period,
                                                 p.rule_for(p.SSHD_ALIVE, V92).period)


RETRIES = [(0, 0.2), (1, 0.6), (9, 204.6), (10, 324.6), (15, 924.6)]


@pytest.mark.parametrize(('retries2', 'seconds'), RETRIES)
def test_retransmission_timeout(retries2: int, seconds: float):
    assert p.retransmission_timeout(retries2) == pytest.approx(seconds)


# -- sshd and a vanished client ------------------------------------------------------------------
# (version, interval, countmax, TCPKeepAlive, kernel, (seconds, low, high), mechanism)
DEAD_CLIENT = [
    pytest.param(V81, 60, 3, True, DEFAULT_KERNEL, (240, 180, 240), p.SSHD_ALIVE, id='8.1-60x3'),
    pytest.param(V84, 60, 3, True, DEFAULT_KERNEL, (240, 180, 240), p.SSHD_ALIVE, id='8.4-60x3'),
    pytest.param(V92, 60, 3, True, DEFAULT_KERNEL, (480, 360, 480), p.SSHD_ALIVE, id='9.2-60x3-probes-2x-apart'),
    pytest.param(V100, 60, 3, True, DEFAULT_KERNEL, (240, 180, 240), p.SSHD_ALIVE, id='10.0-60x3-one-interval-apart'),
    pytest.param(V94, 60, 3, True, DEFAULT_KERNEL, (480, 180, 480), p.SSHD_ALIVE, id='9.4-60x3-not-measured-range'),
    pytest.param(V92, 15, 3, False, DEFAULT_KERNEL, (120, 90, 120), p.SSHD_ALIVE, id='9.2-tcpkeepalive-no'),
    # countmax 0: before 8.2 drop after one silent interval; from 8.2 on only the kernel ends it
    pytest.param(V81, 60, 0, True, DEFAULT_KERNEL, (60, 0, 60), p.SSHD_ALIVE, id='8.1-countmax0'),
    pytest.param(V84, 60, 0, True, DEFAULT_KERNEL, (60 + RETRANS, RETRANS, 60 + RETRANS), p.RETRANSMISSION,
                 id='8.4-countmax0'),
    pytest.param(V92, 60, 0, True, DEFAULT_KERNEL, (120 + RETRANS, RETRANS, 120 + RETRANS), p.RETRANSMISSION,
                 id='9.2-countmax0'),
    pytest.param(V100, 60, 0, True, DEFAULT_KERNEL, (60 + RETRANS, RETRANS, 60 + RETRANS), p.RETRANSMISSION,
                 id='10.0-countmax0'),
    # the STIG pair on 9.2: the unanswered first probe times out before the second check
    pytest.param(V92, 600, 1, True, DEFAULT_KERNEL, (1200 + RETRANS, RETRANS, 1200 + RETRANS), p.RETRANSMISSION,
                 id='9.2-stig-600x1'),
    pytest.param(V84, 600, 1, True, DEFAULT_KERNEL, (1200, 600, 1200), p.SSHD_ALIVE, id='8.4-stig-600x1'),
    pytest.param(V100, 600, 1, True, DEFAULT_KERNEL, (1200, 600, 1200), p.SSHD_ALIVE, id='10.0-stig-600x1'),
    # no ClientAlive: the kernel keepalive alone, or nothing at all
    pytest.param(V92, 0, 3, True, DEFAULT_KERNEL, (7875, 675, 7875), p.KERNEL_KEEPALIVE, id='kernel-only'),
    pytest.param(V92, 0, 3, False, DEFAULT_KERNEL, (None, None, None), None, id='ghost'),
    pytest.param(V84, 60, 0, False, None, (None, None, None), None, id='countmax0-no-kernel-facts'),
    # a fast kernel keepalive wins while no probe is waiting for its acknowledgement
    pytest.param(V84, 60, 3, True, p.KernelFacts(30, 5, 3), (45, 15, 45), p.KERNEL_KEEPALIVE, id='fast-kernel'),
    pytest.param(V84, 30, 3, True, p.KernelFacts(30, 5, 3), (120, 90, 120), p.SSHD_ALIVE,
                 id='kernel-suspended-by-probe'),
]


@pytest.mark.parametrize(('version', 'interval', 'countmax', 'tcp', 'kernel', 'expected', 'mechanism'), DEAD_CLIENT)
def test_sshd_dead_client(version, interval, countmax, tcp, kernel, expected, mechanism):
    prediction = p.dead_peer(p.server_side(server(version, interval, countmax, tcp)), kernel)
    assert triple(prediction) == pytest.approx(expected) if expected[0] is not None else triple(prediction) == expected
    assert prediction['mechanism'] == mechanism
    assert prediction['basis'] == (p.rule_for(mechanism, version).basis if mechanism else
                                   p.rule_for(p.SSHD_ALIVE, version).basis)
    assert prediction['formula']


# (version, basis of the sshd prediction for 60x3)
BASIS = [
    pytest.param(V81, p.UNCALIBRATED, id='8.1-source-reading'),
    pytest.param(V84, p.MEASURED + ' on OpenSSH 8.4p1; 8.2 to 8.8 by source reading', id='8.4-measured'),
    pytest.param(V92, p.MEASURED + ' on OpenSSH 9.2p1', id='9.2-measured'),
    pytest.param(V94, 'not measured: between the measured 9.2p1 (2 x Interval) and 10.0p1 (1 x Interval)',
                 id='9.4-not-measured'),
    pytest.param(V100, p.MEASURED + ' on OpenSSH 10.0p1; later releases assumed the same', id='10.0-measured'),
]


@pytest.mark.parametrize(('version', 'basis'), BASIS)
def test_basis_names_the_measured_release(version, basis):
    assert p.dead_peer(p.server_side(server(version, 60, 3)), DEFAULT_KERNEL)['basis'] == basis


def test_formula_names_the_period_and_the_numbers():
    prediction = p.dead_peer(p.server_side(server(V92, 60, 3)), DEFAULT_KERNEL)
    assert prediction['formula'] == '2 x ClientAliveInterval x (ClientAliveCountMax + 1) = 2 x 60 x (3 + 1)'
    assert prediction['rule'] == 'sshd ClientAlive, OpenSSH 9.2 to before 9.3'
    older = p.dead_peer(p.server_side(server(V84, 60, 3)), DEFAULT_KERNEL)
    assert older['formula'] == 'ClientAliveInterval x (ClientAliveCountMax + 1) = 60 x (3 + 1)'


# The lab's settings (docs/behaviour.md): low/high are the measured formulas P x CountMax .. P x (CountMax + 1).
LAB_SSHD = [
    pytest.param(V84, 2, 3, (8, 6, 8), id='8.4-2x3'),
    pytest.param(V84, 3, 1, (6, 3, 6), id='8.4-3x1'),
    pytest.param(V92, 2, 3, (16, 12, 16), id='9.2-2x3'),
    pytest.param(V92, 3, 1, (12, 6, 12), id='9.2-3x1'),
    pytest.param(V100, 2, 3, (8, 6, 8), id='10.0-2x3'),
    pytest.param(V100, 3, 1, (6, 3, 6), id='10.0-3x1'),
]


@pytest.mark.parametrize(('version', 'interval', 'countmax', 'expected'), LAB_SSHD)
def test_sshd_dead_client_lab_settings(version, interval, countmax, expected):
    prediction = p.dead_peer(p.server_side(server(version, interval, countmax)), DEFAULT_KERNEL)
    assert triple(prediction) == expected
    assert prediction['mechanism'] == p.SSHD_ALIVE


# -- ssh and a vanished server --------------------------------------------------------------------
DEAD_SERVER = [
    pytest.param(V84, 15, 3, (60, 45, 60), p.SSH_ALIVE, id='8.4-15x3'),
    pytest.param(V92, 15, 3, (60, 45, 60), p.SSH_ALIVE, id='9.2-15x3-one-interval-apart'),
    pytest.param(V100, 15, 3, (60, 45, 60), p.SSH_ALIVE, id='10.0-15x3'),
    pytest.param(V92, 15, 0, (15, 0, 15), p.SSH_ALIVE, id='countmax0-quits-after-one-interval'),
    pytest.param(V92, 2, 3, (8, 6, 8), p.SSH_ALIVE, id='lab-9.2-2x3'),
    pytest.param(V92, 3, 1, (6, 3, 6), p.SSH_ALIVE, id='lab-9.2-3x1'),
    pytest.param(V92, 0, 3, (7875, 675, 7875), p.KERNEL_KEEPALIVE, id='kernel-only'),
]


@pytest.mark.parametrize(('version', 'interval', 'countmax', 'expected', 'mechanism'), DEAD_SERVER)
def test_ssh_dead_server(version, interval, countmax, expected, mechanism):
    prediction = p.dead_peer(p.client_side(client(version, interval, countmax)), DEFAULT_KERNEL)
    assert triple(prediction) == pytest.approx(expected)
    assert prediction['mechanism'] == mechanism


def test_kernel_dead_peer_only_with_tcpkeepalive():
    both_off = facts(server(tcp=False), [client(tcp=False)])
    assert p.kernel_dead_peer(both_off)['seconds'] is None
    assert 'TCPKeepAlive no' in p.kernel_dead_peer(both_off)['formula']
    one_on = p.kernel_dead_peer(facts(server(tcp=False), [client(tcp=True)]))
    assert triple(one_on) == (7875, 675, 7875)
    assert one_on['formula'].endswith('= 7200 + 75 x 9 (sockets of ssh)')
    assert p.kernel_dead_peer(facts(server(), kernel=None))['seconds'] is None


def test_kernel_lab_settings():
    # measured: between intvl x probes and time + intvl x probes after the peer vanished
    assert triple(p.kernel_dead_peer(facts(server(interval=0), kernel=p.KernelFacts(3, 1, 4)))) == (7, 4, 7)
    assert triple(p.kernel_dead_peer(facts(server(interval=0), kernel=p.KernelFacts(2, 2, 2)))) == (6, 4, 6)


# -- idle users ---------------------------------------------------------------------------------
# (facts, seconds, mechanism)
IDLE = [
    pytest.param(facts(server(), tmout=900), 900, p.SHELL_TMOUT, id='tmout'),
    pytest.param(facts(server(V92, channel='session:*=5m'), tmout=900), 300, p.CHANNEL_TIMEOUT, id='channel-9.2'),
    pytest.param(facts(server(V92, channel='session=5m'), tmout=900), 900, p.SHELL_TMOUT,
                 id='bare-session-type-does-not-match-on-9.2'),
    pytest.param(facts(server(V100, channel='session=5m')), 300, p.CHANNEL_TIMEOUT, id='channel-10.0'),
    pytest.param(facts(server(V84, channel='session:*=5m')), None, None, id='no-channeltimeout-before-9.2'),
    pytest.param(facts(server(V92, channel='direct-tcpip=1m')), None, None, id='other-channel-types'),
    pytest.param(facts(server(V81, 600, 0)), 600, p.SSHD_ALIVE, id='8.1-countmax0-is-an-idle-timeout'),
    pytest.param(facts(server(V84, 600, 0)), None, None, id='8.4-countmax0-is-not'),
    pytest.param(facts(server(V92, 600, 1)), None, None, id='stig-pair-is-not-an-idle-timeout'),
]


@pytest.mark.parametrize(('host', 'seconds', 'mechanism'), IDLE)
def test_idle_logout(host: p.Facts, seconds, mechanism):
    prediction = p.idle_logout(host)
    assert (prediction['seconds'], prediction['mechanism']) == (seconds, mechanism)


# measured: ChannelTimeout N closes in (N - 1, N]; TMOUT exactly (bash, zsh)
IDLE_RANGE = [
    pytest.param(facts(server(V92, channel='session*=70')), (70, 69, 70), p.CHANNEL_TIMEOUT, id='channel-9.2'),
    pytest.param(facts(server(V100, channel='session*=70')), (70, 69, 70), p.CHANNEL_TIMEOUT, id='channel-10.0'),
    pytest.param(facts(server(V92), tmout=5), (5, 5, 5), p.SHELL_TMOUT, id='tmout-exact'),
]


@pytest.mark.parametrize(('host', 'expected', 'mechanism'), IDLE_RANGE)
def test_idle_logout_range(host: p.Facts, expected, mechanism):
    prediction = p.idle_logout(host)
    assert (triple(prediction), prediction['mechanism']) == (expected, mechanism)
    assert prediction['basis'].startswith(p.MEASURED)


def test_channel_timeouts_parse_time_formats():
    assert p.channel_timeouts('session:*=10m global=1h bad x=y') == [('session:*', 600), ('global', 3600)]
    assert p.channel_timeouts('none') == []


# -- NAT ----------------------------------------------------------------------------------------
# (facts, NAT timeout, survives, verdict, mechanisms keeping it)
NAT = [
    pytest.param(facts(server(V84, 600, 3)), 900, True, 'survives', ['ClientAliveInterval'], id='8.4-600<900'),
    pytest.param(facts(server(V92, 600, 3)), 900, False, 'dies', [], id='9.2-600-probes-every-1200'),
    pytest.param(facts(server(V100, 600, 3)), 900, True, 'survives', ['ClientAliveInterval'], id='10.0-600<900'),
    pytest.param(facts(server(V94, 600, 3)), 900, False, 'dies', [], id='9.4-600-may-probe-every-1200'),
    # stay_alive in the lab: NAT 6 s, ClientAliveInterval 4 keeps 8.4 and 10.0, not 9.2
    pytest.param(facts(server(V84, 4, 3)), 6, True, 'survives', ['ClientAliveInterval'], id='lab-8.4-4<6'),
    pytest.param(facts(server(V92, 4, 3)), 6, False, 'dies', [], id='lab-9.2-8>6'),
    pytest.param(facts(server(V100, 4, 3)), 6, True, 'survives', ['ClientAliveInterval'], id='lab-10.0-4<6'),
    pytest.param(facts(server(V92, 300, 3)), 900, True, 'survives', ['ClientAliveInterval'], id='9.2-300'),
    pytest.param(facts(server(V84, 900, 3)), 900, False, 'dies', [], id='strictly-below'),
    pytest.param(facts(server(V92, 300, 0)), 900, True, 'survives', ['ClientAliveInterval'],
                 id='countmax0-still-probes-from-8.2'),
    pytest.param(facts(server(V81, 300, 0)), 900, False, 'ended_by_idle_timeout', [],
                 id='countmax0-before-8.2-ends-it'),
    pytest.param(facts(server(V92, 0, 3, True), kernel=p.KernelFacts(300, 75, 9)), 900, True, 'survives',
                 ['tcp_keepalive_time'], id='kernel-keepalive'),
    pytest.param(facts(server(V92, 0, 3, False), kernel=p.KernelFacts(300, 75, 9)), 900, False, 'dies', [],
                 id='kernel-keepalive-not-asked-for'),
    pytest.param(facts(server(V92, 0, 3, False), [client(V92, 60, 3, False)]), 900, False, 'client_dependent',
                 ['ServerAliveInterval'], id='only-a-client-keeps-it'),
    pytest.param(facts(server(V92, 0, 3, False), [client(V92, 60, 0, False)]), 900, False, 'dies', [],
                 id='client-countmax0-quits-instead'),
    pytest.param(facts(server(V92, 0, 3, False), putty=[p.PuttyFacts('PuTTY a/s', 60, False)]), 900, False,
                 'client_dependent', ['PingIntervalSecs'], id='putty'),
    pytest.param(facts(server(V92, 300, 3), tmout=600), 900, False, 'ended_by_idle_timeout',
                 ['ClientAliveInterval'], id='tmout-first'),
    pytest.param(facts(server(V92, 300, 3), tmout=900), 900, True, 'survives', ['ClientAliveInterval'],
                 id='tmout-equal-is-not-first'),
    pytest.param(facts(server(V92, 300, 3, channel='session:*=10m')), 900, False, 'ended_by_idle_timeout',
                 ['ClientAliveInterval'], id='channeltimeout-first'),
]


@pytest.mark.parametrize(('host', 'timeout', 'survives', 'verdict', 'mechanisms'), NAT)
def test_nat_survival(host: p.Facts, timeout: int, survives: bool, verdict: str, mechanisms: list[str]):
    nat = p.nat_survival(host, timeout)
    assert (nat['survives'], nat['verdict']) == (survives, verdict)
    assert [k['mechanism'] for k in nat['kept_alive_by']] == mechanisms
    assert (nat['ended_first_by'] is not None) == (verdict == 'ended_by_idle_timeout')
    assert nat['message']


def test_nat_names_the_calibrated_spacing_and_the_idle_logout():
    nat = p.nat_survival(facts(server(V92, 300, 3), tmout=600), 900)
    assert nat['kept_alive_by'] == [{'mechanism': 'ClientAliveInterval', 'side': 'server', 'who': 'sshd',
                                     'seconds': 600}]
    assert nat['ended_first_by'] == {'mechanism': p.SHELL_TMOUT, 'seconds': 600, 'formula': 'TMOUT=600 (readonly)'}
    assert 'before the NAT forgets it' in nat['message']


# -- warnings -----------------------------------------------------------------------------------
# (facts, compliance, expected fragments: each must appear in exactly one warning)
WARNINGS = [
    pytest.param(facts(server(V81, 60, 0)), 'none',
                 ['gives up after one ClientAliveInterval without traffic from the peer, also on an idle but '
                  'healthy session; from OpenSSH 8.2 on the same line means never'], id='countmax0-8.1'),
    pytest.param(facts(server(V92, 60, 0)), 'none', ['never drops a client for unanswered probes'],
                 id='countmax0-9.2'),
    pytest.param(facts(server(V92, 0, 0)), 'none', [], id='countmax0-without-interval-is-silent'),
    pytest.param(facts(server(V92, 0, 3, False)), 'none', ['ghost sessions'], id='ghost'),
    pytest.param(facts(server(V92, 0, 3, True)), 'none', [], id='kernel-catches-dead-clients'),
    pytest.param(facts(server(V92, 0, 3, True)), 'cis', ['ClientAliveInterval is 0'], id='cis-no-keepalive'),
    pytest.param(facts(server(V92, 0, 3, True), tmout=600), 'cis', ['although an idle timeout is set'],
                 id='cis-idle-timeout-without-keepalive'),
    pytest.param(facts(server(V92, 300, 3), tmout=None), 'cis', ['nothing logs an idle user out'],
                 id='cis-keepalive-without-idle-timeout'),
    pytest.param(facts(server(V92, 300, 3), tmout=600, readonly=False), 'cis', ['is not readonly'],
                 id='cis-tmout-not-readonly'),
    pytest.param(facts(server(V92, 300, 3), tmout=600), 'cis', [], id='cis-clean'),
    pytest.param(facts(server(V92, 300, 3), tmout=600), 'none', [], id='no-preset-no-pairing-warning'),
    pytest.param(facts(server(V92, 900, 3, interval_file='/etc/ssh/sshd_config',
                              countmax_file='/etc/ssh/sshd_config.d/50.conf'), tmout=1800),
                 'stig', ['ClientAliveInterval 900 is above 600', 'ClientAliveCountMax 3, the baseline asks for 1',
                          'idle logout comes after 1800 s', 'ClientAliveCountMax is not set in /etc/ssh/sshd_config'],
                 id='stig-everything-wrong'),
    pytest.param(facts(server(V92, 600, 1, interval_file='/etc/ssh/sshd_config',
                              countmax_file='/etc/ssh/sshd_config'), tmout=600), 'stig', [], id='stig-clean'),
]


@pytest.mark.parametrize(('host', 'compliance', 'fragments'), WARNINGS)
def test_warnings(host: p.Facts, compliance: str, fragments: list[str]):
    warnings = p.predict(host, compliance=compliance)['warnings']
    for fragment in fragments:
        assert sum(fragment in w for w in warnings) == 1, (fragment, warnings)
    assert len(warnings) == len(fragments), warnings


def test_predict_without_programs():
    outcome = p.predict(p.Facts(), nat_idle_timeout=600)
    assert outcome['predictions']['sshd_dead_client']['formula'] == 'no sshd on this host'
    assert outcome['predictions']['ssh_dead_server']['formula'] == 'no ssh client on this host'
    assert outcome['nat']['verdict'] == 'dies'
    assert p.predict(p.Facts())['nat'] is None


def test_docs_describe_every_row():
    docs = (Path(__file__).resolve().parents[4] / 'docs' / 'predictions.md').read_text()
    rows = {line.split(' | ')[0][2:]: line for line in docs.splitlines() if line.startswith('| ')}
    for rule in p.RULES:
        assert '| %s |' % p.rule_label(rule) in docs, p.rule_label(rule)
        assert '| %s |' % rule.basis in rows[p.rule_label(rule)], (p.rule_label(rule), rule.basis)
