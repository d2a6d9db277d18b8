# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""What a host will do to an idle or dead SSH session, predicted from its effective settings.

Pure: the input is a ``Facts`` tuple (numbers already read from ``sshd -T``, ``ssh -G``,
``/proc/sys`` and the shell profiles), the output plain dictionaries.  How each mechanism behaves
on which OpenSSH release is DATA in ``RULES`` (one row per mechanism and version range), so that
lab measurements replace the source readings by editing a row, not the code.  docs/predictions.md
explains every row.

Every prediction is a dictionary ``{seconds, low, high, formula, basis, mechanism, rule}``:
``seconds`` counts from the peer's last packet (for an idle session: its last answer to a probe),
``low``/``high`` bound what a measurement that starts when the peer vanishes at an unknown moment
of an idle session can see.  ``seconds`` None means never.
"""

from __future__ import annotations

import fnmatch
from typing import Any, NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import KeywordError, Version, parse_time

UNCALIBRATED = 'source reading, not yet calibrated'
MEASURED = 'measured in the lab (docs/behaviour.md)'

# Mechanisms: the keys of RULES.
SSHD_ALIVE = 'sshd ClientAlive'
SSH_ALIVE = 'ssh ServerAlive'
KERNEL_KEEPALIVE = 'kernel TCP keepalive'
RETRANSMISSION = 'kernel TCP retransmission'
SHELL_TMOUT = 'shell TMOUT'
CHANNEL_TIMEOUT = 'sshd ChannelTimeout'

# What CountMax 0 does.  FORMULA: the formula with CountMax 0, i.e. the side gives up at its first
# check, after one silent interval, without sending a probe.  NEVER: it never gives up for missing
# answers, but keeps sending probes.
FORMULA = 'formula'
NEVER = 'never'

# Linux tcp_model_timeout() (net/ipv4/tcp_timer.c) turns tcp_retries2 into a time: exponential
# backoff from TCP_RTO_MIN, capped at TCP_RTO_MAX; 15 gives 924.6 s.
LINUX_RTO_MIN = 0.2
LINUX_RTO_MAX = 120.0


class Rule(NamedTuple):
    """How one mechanism behaves on a range of OpenSSH releases [since, before).

    Keepalive probes of an idle session leave ``period`` x Interval apart; a side gives up at the
    check that finds more than CountMax probes unanswered, so the nominal time from the peer's
    last answer is ``period x Interval x (CountMax + 1) + slack``.  ``low_period``/``high_period``
    widen the range where the period is not known (not read, or not measured yet).  For the
    other mechanisms ``period`` scales their one number (TMOUT, ChannelTimeout), and ``early`` is how
    much sooner than that number it can act (a whole-second clock): ``low = seconds - early``.
    """

    mechanism: str
    since: Version = (0, 0)
    before: Optional[Version] = None
    period: float = 1.0
    low_period: float = 1.0
    high_period: float = 1.0
    zero_countmax: str = FORMULA
    slack: float = 0.0
    early: float = 0.0
    basis: str = UNCALIBRATED
    names: tuple[str, ...] = ()     # ChannelTimeout: channel type names of an interactive login
    note: str = ''


# THE CALIBRATION TABLE.  A row's `basis` says where its numbers come from: the lab's measurements
# (MEASURED, docs/behaviour.md; tests/behaviour/test_calibration.py holds every row to them) or a
# source reading not checked yet (UNCALIBRATED).  docs/predictions.md explains every row.
RULES: tuple[Rule, ...] = (
    Rule(SSHD_ALIVE, (0, 0), (8, 2), zero_countmax=FORMULA,
         note='serverloop.c: select() waits ClientAliveInterval; every timeout runs client_alive_check(), '
              'which gives up when the unanswered count exceeds ClientAliveCountMax; 0 gives up at the first '
              'check (the old STIG idle-timeout trick).'),
    Rule(SSHD_ALIVE, (8, 2), (8, 9), zero_countmax=NEVER,
         basis=MEASURED + ' on OpenSSH 8.4p1; 8.2 to 8.8 by source reading',
         note='Measured on 8.4p1: probes one Interval apart, a vanished client dropped Interval x CountMax to '
              'Interval x (CountMax + 1) after it vanished; CountMax 0 kept an idle session and a vanished client '
              '(20 s and more). Source: 8.2 added "client_alive_count_max > 0 &&" to the check; the loop is still '
              'select(), whose timeout (ret == 0) probes every Interval.'),
    Rule(SSHD_ALIVE, (8, 9), (9, 2), period=1.0, low_period=1.0, high_period=2.0, zero_countmax=NEVER,
         note='8.9 moved the loop to ppoll(); this range was not read. Nominal as 8.2-8.8, range up to the 9.2 '
              'behaviour.'),
    Rule(SSHD_ALIVE, (9, 2), (9, 3), period=2.0, low_period=2.0, high_period=2.0, zero_countmax=NEVER,
         basis=MEASURED + ' on OpenSSH 9.2p1',
         note='Measured on 9.2p1: idle probes go out 2 x Interval apart, a vanished client is dropped '
              '2 x Interval x CountMax to 2 x Interval x (CountMax + 1) after it vanished, twice the other releases; '
              'CountMax 0 never drops. Source (ptimeout API): ppoll() waits exactly ClientAliveInterval, then probes '
              'only if "now > last_client_time + interval" with a whole-second monotime(), false at the first '
              'timeout.'),
    Rule(SSHD_ALIVE, (9, 3), (10, 0), period=2.0, low_period=1.0, high_period=2.0, zero_countmax=NEVER,
         basis='not measured: between the measured 9.2p1 (2 x Interval) and 10.0p1 (1 x Interval)',
         note='Neither read nor measured; the probe period is 2 x Interval on 9.2p1 and 1 x Interval on 10.0p1, so '
              'the range spans both and the nominal is the slower one.'),
    Rule(SSHD_ALIVE, (10, 0), None, period=1.0, low_period=1.0, high_period=1.0, zero_countmax=NEVER,
         basis=MEASURED + ' on OpenSSH 10.0p1; later releases assumed the same',
         note='Measured on 10.0p1: probes one Interval apart again, a vanished client dropped Interval x CountMax '
              'to Interval x (CountMax + 1) after it vanished; CountMax 0 never drops.'),
    Rule(SSH_ALIVE, (0, 0), (9, 2),
         note='clientloop.c server_alive_check(): gives up when the unanswered count exceeds ServerAliveCountMax; '
              'there is no "> 0" guard, so 0 gives up after one silent Interval. The next check is scheduled '
              'Interval after the last packet from the server.'),
    Rule(SSH_ALIVE, (9, 2), (9, 3),
         basis=MEASURED + ' with the 9.2p1 client (against 8.4p1, 9.2p1 and 10.0p1 servers)',
         note='Measured: ssh quits Interval x CountMax to Interval x (CountMax + 1) after the server vanished, in '
              'whole-second steps; probes one Interval apart (no doubling on the client side).'),
    Rule(SSH_ALIVE, (9, 3), None, note='Not read after 9.2, and the lab\'s only client is 9.2p1; assumed unchanged.'),
    Rule(KERNEL_KEEPALIVE, basis=MEASURED + ' (Linux, sshd and ssh sockets)',
         note='Measured: reset tcp_keepalive_intvl x probes to time + intvl x probes after the peer vanished. Linux '
              'tcp_keepalive_timer(): first probe after tcp_keepalive_time without traffic, then every '
              'tcp_keepalive_intvl; after tcp_keepalive_probes unanswered probes the connection is reset. Only '
              'while no data is waiting for an acknowledgement.'),
    Rule(RETRANSMISSION,
         note='Once a probe is sent to a vanished peer it stays unacknowledged; Linux gives up on it after the '
              'tcp_retries2 timeout (tcp_model_timeout, 924.6 s for 15), whatever the SSH counters say.'),
    Rule(SHELL_TMOUT, basis=MEASURED + ' (bash and zsh; not ksh93)',
         note='Measured: bash and zsh exit exactly TMOUT seconds after printing a prompt without input. ksh93 warns '
              'at TMOUT and exits 60 s later, which this row does not model.'),
    Rule(CHANNEL_TIMEOUT, (9, 2), (9, 3), names=('session:shell',), early=1.0,
         basis=MEASURED + ' on OpenSSH 9.2p1',
         note='Measured: a silent session channel is closed in (N - 1, N] seconds (sshd keeps the last activity in '
              'whole seconds). 9.2: an interactive login is channel type session:shell (sshd_config(5) 9.2); a bare '
              '"session" pattern does not match it, "session:*" does.'),
    Rule(CHANNEL_TIMEOUT, (9, 3), None, names=('session', 'session:shell', 'global'), early=1.0,
         basis=MEASURED + ' on OpenSSH 10.0p1; 9.3 to 9.x not measured',
         note='Measured on 10.0p1: closed in (N - 1, N] seconds, as on 9.2. Later manuals document the "session" '
              'and "global" types; not read.'),
)


class ServerFacts(NamedTuple):
    version: Version
    client_alive_interval: int
    client_alive_count_max: int
    tcp_keepalive: bool
    channel_timeout: str = 'none'            # as sshd -T prints it
    interval_file: str = ''                  # file of the winning ClientAliveInterval ('' = default)
    countmax_file: str = ''
    main_file: str = '/etc/ssh/sshd_config'


class ClientFacts(NamedTuple):
    name: str                                # 'ssh' or 'ssh (user alice)'
    version: Version
    server_alive_interval: int
    server_alive_count_max: int
    tcp_keepalive: bool


class PuttyFacts(NamedTuple):
    name: str                                # 'PuTTY alice/Default Settings'
    ping_interval: int
    tcp_keepalives: bool


class KernelFacts(NamedTuple):
    time: int
    intvl: int
    probes: int
    retries2: int = 15


class ShellFacts(NamedTuple):
    tmout: Optional[int] = None              # effective TMOUT, None when unset
    readonly: bool = False
    where: str = ''


class Facts(NamedTuple):
    server: Optional[ServerFacts] = None
    clients: tuple[ClientFacts, ...] = ()
    putty: tuple[PuttyFacts, ...] = ()
    kernel: Optional[KernelFacts] = None
    shell: ShellFacts = ShellFacts()


class Preset(NamedTuple):
    """What a compliance baseline asks of the idle behaviour (as the collection reads it)."""

    title: str
    interval_max: Optional[int]              # ClientAliveInterval must be 1..interval_max
    countmax_min: int
    countmax_max: Optional[int]
    idle_max: int                            # an idle logout (TMOUT or ChannelTimeout) of at most this
    main_file: bool                          # ClientAlive* set in the main sshd_config itself
    tmout_readonly: bool


PRESETS: dict[str, Preset] = {
    # DISA STIGs for RHEL 8/9 and Ubuntu 22.04: ClientAliveInterval 600 and ClientAliveCountMax 1 in
    # /etc/ssh/sshd_config, shell sessions ended after 15 minutes of inactivity.
    'stig': Preset('DISA STIG', 600, 1, 1, 900, True, True),
    # CIS benchmarks: a non-zero ClientAliveInterval/ClientAliveCountMax pair and a readonly TMOUT of at most 900 s.
    'cis': Preset('CIS', None, 1, None, 900, False, True),
}


class Estimate(NamedTuple):
    seconds: float
    low: float
    high: float
    mechanism: str
    formula: str
    rule: Rule


class Side(NamedTuple):
    """One end's own keepalive settings, server or client."""

    label: str
    mechanism: str
    interval_name: str
    countmax_name: str
    version: Version
    interval: int
    countmax: int
    tcp_keepalive: bool


# -- the table --------------------------------------------------------------------------------
def rule_for(mechanism: str, version: Version = (0, 0)) -> Rule:
    for rule in RULES:
        if rule.mechanism == mechanism and rule.since <= version and (rule.before is None or version < rule.before):
            return rule
    raise KeyError('no rule for %s on OpenSSH %d.%d' % ((mechanism,) + tuple(version)))


def _release(version: Version) -> str:
    return '%d.%d' % version


def rule_label(rule: Rule) -> str:
    if rule.since == (0, 0) and rule.before is None:
        return rule.mechanism
    if rule.since == (0, 0):
        return '%s, OpenSSH before %s' % (rule.mechanism, _release(rule.before or (0, 0)))
    if rule.before is None:
        return '%s, OpenSSH %s and later' % (rule.mechanism, _release(rule.since))
    return '%s, OpenSSH %s to before %s' % (rule.mechanism, _release(rule.since), _release(rule.before))


def retransmission_timeout(retries2: int) -> float:
    """Seconds Linux keeps retransmitting unacknowledged data (tcp_model_timeout with TCP_RTO_MIN)."""
    threshold = 0
    while LINUX_RTO_MIN * (2 ** (threshold + 1)) <= LINUX_RTO_MAX:
        threshold += 1
    if retries2 <= threshold:
        return round(((2 << retries2) - 1) * LINUX_RTO_MIN, 1)
    return round(((2 << threshold) - 1) * LINUX_RTO_MIN + (retries2 - threshold) * LINUX_RTO_MAX, 1)


# -- output -----------------------------------------------------------------------------------
def _number(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    value = round(value, 1)
    return int(value) if value == int(value) else value


def as_dict(estimate: Estimate) -> dict[str, Any]:
    return {'seconds': _number(estimate.seconds), 'low': _number(estimate.low), 'high': _number(estimate.high),
            'formula': estimate.formula, 'basis': estimate.rule.basis, 'mechanism': estimate.mechanism,
            'rule': rule_label(estimate.rule)}


def never(reason: str, rule: Optional[Rule] = None) -> dict[str, Any]:
    return {'seconds': None, 'low': None, 'high': None, 'formula': reason,
            'basis': rule.basis if rule else UNCALIBRATED, 'mechanism': None,
            'rule': rule_label(rule) if rule else None}


def _times(period: float, name: str) -> str:
    return name if period == 1 else '%g x %s' % (period, name)


# -- dead peers -------------------------------------------------------------------------------
def server_side(server: ServerFacts) -> Side:
    return Side('sshd', SSHD_ALIVE, 'ClientAliveInterval', 'ClientAliveCountMax', server.version,
                server.client_alive_interval, server.client_alive_count_max, server.tcp_keepalive)


def client_side(client: ClientFacts) -> Side:
    return Side(client.name, SSH_ALIVE, 'ServerAliveInterval', 'ServerAliveCountMax', client.version,
                client.server_alive_interval, client.server_alive_count_max, client.tcp_keepalive)


def sends_probes(side: Side, rule: Rule) -> bool:
    """False when the side never probes: keepalives off, or CountMax 0 meaning 'give up at the first check'."""
    return side.interval > 0 and not (side.countmax == 0 and rule.zero_countmax == FORMULA)


def probe_spacing(side: Side, rule: Rule, *, worst: bool = False) -> float:
    return (rule.high_period if worst else rule.period) * side.interval


def _exhaustion(side: Side, rule: Rule) -> Estimate:
    count, interval = side.countmax, side.interval
    seconds = rule.period * interval * (count + 1) + rule.slack
    formula = '%s x (%s + 1) = %s x (%d + 1)' % (
        _times(rule.period, side.interval_name), side.countmax_name, _times(rule.period, str(interval)), count)
    if count == 0:
        formula = '%s with %s 0: gives up at the first check, after one silent interval' % (
            _times(rule.period, side.interval_name), side.countmax_name)
    return Estimate(seconds, rule.low_period * interval * count + rule.slack,
                    rule.high_period * interval * (count + 1) + rule.slack, side.mechanism, formula, rule)


def _retransmission(side: Side, rule: Rule, kernel: KernelFacts) -> Estimate:
    timeout = retransmission_timeout(kernel.retries2)
    spacing = probe_spacing(side, rule)
    formula = ('first unanswered probe after %s (%g s) + tcp_retries2 %d retransmission timeout (%g s)'
               % (_times(rule.period, side.interval_name), spacing, kernel.retries2, timeout))
    return Estimate(spacing + timeout, timeout, probe_spacing(side, rule, worst=True) + timeout,
                    RETRANSMISSION, formula, rule_for(RETRANSMISSION))


def kernel_estimate(kernel: KernelFacts, sockets: str) -> Estimate:
    rule = rule_for(KERNEL_KEEPALIVE)
    seconds = kernel.time + kernel.intvl * kernel.probes + rule.slack
    formula = ('tcp_keepalive_time + tcp_keepalive_intvl x tcp_keepalive_probes = %d + %d x %d (sockets of %s)'
               % (kernel.time, kernel.intvl, kernel.probes, sockets))
    return Estimate(seconds, kernel.intvl * kernel.probes + rule.slack, seconds, KERNEL_KEEPALIVE, formula, rule)


def dead_peer(side: Side, kernel: Optional[KernelFacts]) -> dict[str, Any]:
    """When ``side`` drops a peer that vanished from an idle session: the first mechanism to act."""
    rule = rule_for(side.mechanism, side.version)
    candidates: list[Estimate] = []
    probing = sends_probes(side, rule)
    if side.interval > 0 and not (side.countmax == 0 and rule.zero_countmax == NEVER):
        candidates.append(_exhaustion(side, rule))
    if probing and kernel is not None:
        candidates.append(_retransmission(side, rule, kernel))
    if side.tcp_keepalive and kernel is not None:
        estimate = kernel_estimate(kernel, side.label)
        # Kernel keepalive stops as soon as a probe waits for its acknowledgement.
        if not probing or estimate.seconds <= probe_spacing(side, rule):
            candidates.append(estimate)
    if candidates:
        return as_dict(min(candidates, key=lambda e: e.seconds))
    return never(_never_reason(side, rule, kernel), rule)


def _never_reason(side: Side, rule: Rule, kernel: Optional[KernelFacts]) -> str:
    if side.tcp_keepalive and kernel is None:
        return '%s: no keepalive of its own; TCPKeepAlive yes but the kernel settings are unknown' % side.label
    alive = '%s 0' % side.interval_name
    if side.interval > 0:
        alive = '%s 0 (never gives up on OpenSSH %s)' % (side.countmax_name, _release(side.version))
    return '%s never notices a vanished peer of an idle session: %s and TCPKeepAlive no' % (side.label, alive)


def kernel_dead_peer(facts: Facts) -> dict[str, Any]:
    users = [s.label for s in _sides(facts) if s.tcp_keepalive]
    rule = rule_for(KERNEL_KEEPALIVE)
    if not users:
        return never('TCPKeepAlive no for sshd and ssh: the kernel never probes their sockets', rule)
    if facts.kernel is None:
        return never('the tcp_keepalive sysctls could not be read', rule)
    return as_dict(kernel_estimate(facts.kernel, ', '.join(users)))


def _sides(facts: Facts) -> list[Side]:
    sides = [server_side(facts.server)] if facts.server else []
    return sides + [client_side(c) for c in facts.clients]


# -- idle users -------------------------------------------------------------------------------
def channel_timeouts(text: str) -> list[tuple[str, int]]:
    """``type=interval`` pairs of a ChannelTimeout value (``session:*=10m global=1h``)."""
    pairs = []
    for item in (text or '').split():
        kind, sep, interval = item.partition('=')
        if not sep:
            continue
        try:
            pairs.append((kind, parse_time(interval)))
        except KeywordError:
            continue
    return pairs


def _channel_timeout(server: ServerFacts) -> Optional[Estimate]:
    try:
        rule = rule_for(CHANNEL_TIMEOUT, server.version)
    except KeyError:
        return None     # before 9.2: no ChannelTimeout
    applying = [(kind, seconds) for kind, seconds in channel_timeouts(server.channel_timeout)
                if seconds > 0 and any(fnmatch.fnmatchcase(name, kind) for name in rule.names)]
    if not applying:
        return None
    kind, seconds = min(applying, key=lambda pair: pair[1])
    value = rule.period * seconds + rule.slack
    return Estimate(value, max(0.0, value - rule.early), value, CHANNEL_TIMEOUT,
                    'ChannelTimeout %s=%d' % (kind, seconds), rule)


def _countmax_zero_logout(server: ServerFacts) -> Optional[Estimate]:
    side = server_side(server)
    rule = rule_for(SSHD_ALIVE, server.version)
    if side.interval <= 0 or side.countmax != 0 or rule.zero_countmax != FORMULA:
        return None
    value = probe_spacing(side, rule) + rule.slack
    formula = ('ClientAliveInterval %d with ClientAliveCountMax 0 on OpenSSH %s: sshd drops any client silent '
               'for one interval (unless the client sends its own keepalives more often)'
               % (side.interval, _release(server.version)))
    return Estimate(value, value, probe_spacing(side, rule, worst=True) + rule.slack, SSHD_ALIVE, formula, rule)


def idle_estimates(facts: Facts) -> list[Estimate]:
    found: list[Estimate] = []
    if facts.shell.tmout:
        rule = rule_for(SHELL_TMOUT)
        value = rule.period * facts.shell.tmout + rule.slack
        found.append(Estimate(value, max(0.0, value - rule.early), value, SHELL_TMOUT,
                              'TMOUT=%d%s' % (facts.shell.tmout, ' (readonly)' if facts.shell.readonly else ''),
                              rule))
    if facts.server:
        found.extend(e for e in (_channel_timeout(facts.server), _countmax_zero_logout(facts.server)) if e)
    return found


def idle_logout(facts: Facts) -> dict[str, Any]:
    found = idle_estimates(facts)
    if found:
        return as_dict(min(found, key=lambda e: e.seconds))
    return never('nothing logs an idle user out: no TMOUT, no ChannelTimeout for interactive sessions')


# -- NAT ----------------------------------------------------------------------------------------
def _keeper(mechanism: str, side: str, who: str, seconds: float) -> dict[str, Any]:
    return {'mechanism': mechanism, 'side': side, 'who': who, 'seconds': _number(seconds)}


def nat_keepers(facts: Facts, timeout: int) -> list[dict[str, Any]]:
    """Everything that sends a packet through an idle session more often than ``timeout`` (strictly)."""
    keepers = []
    for side in _sides(facts):
        rule = rule_for(side.mechanism, side.version)
        where = 'server' if side.mechanism == SSHD_ALIVE else 'client'
        spacing = probe_spacing(side, rule, worst=True)
        if sends_probes(side, rule) and spacing < timeout:
            keepers.append(_keeper(side.interval_name, where, side.label, spacing))
        if side.tcp_keepalive and facts.kernel is not None and facts.kernel.time < timeout:
            keepers.append(_keeper('tcp_keepalive_time', where, 'kernel, sockets of %s' % side.label,
                                   facts.kernel.time))
    for session in facts.putty:
        if 0 < session.ping_interval < timeout:
            keepers.append(_keeper('PingIntervalSecs', 'client', session.name, session.ping_interval))
    return keepers


def nat_survival(facts: Facts, timeout: int) -> dict[str, Any]:
    keepers = nat_keepers(facts, timeout)
    enders = [e for e in idle_estimates(facts) if e.seconds < timeout]
    ender = min(enders, key=lambda e: e.seconds) if enders else None
    server_kept = any(k['side'] == 'server' for k in keepers)
    if ender is not None:
        verdict = 'ended_by_idle_timeout'
    elif server_kept:
        verdict = 'survives'
    else:
        verdict = 'client_dependent' if keepers else 'dies'
    return {
        'timeout': timeout, 'survives': verdict == 'survives', 'verdict': verdict, 'kept_alive_by': keepers,
        'ended_first_by': None if ender is None else {'mechanism': ender.mechanism, 'seconds': _number(ender.seconds),
                                                      'formula': ender.formula},
        'message': _nat_message(verdict, timeout, keepers, ender),
    }


def _nat_message(verdict: str, timeout: int, keepers: list[dict[str, Any]], ender: Optional[Estimate]) -> str:
    names = ', '.join('%s of %s (a packet every %s s)' % (k['mechanism'], k['who'], k['seconds']) for k in keepers)
    if ender is not None:
        return ('an idle session ends after %s s by %s, before the NAT forgets it after %d s'
                % (_number(ender.seconds), ender.formula, timeout))
    if verdict == 'survives':
        return 'an idle session survives a %d s NAT idle timeout: kept alive by %s' % (timeout, names)
    if verdict == 'client_dependent':
        return ('nothing on the server side is faster than the %d s NAT idle timeout; only these clients keep '
                'their sessions alive: %s' % (timeout, names))
    return 'an idle session dies after %d s behind this NAT: no keepalive is faster than the timeout' % timeout


# -- warnings -----------------------------------------------------------------------------------
def countmax_zero_warnings(facts: Facts) -> list[str]:
    found = []
    for side in _sides(facts):
        if side.countmax != 0 or side.interval <= 0:
            continue
        rule = rule_for(side.mechanism, side.version)
        if rule.zero_countmax == NEVER:
            found.append('%s 0 on OpenSSH %s: %s never drops a client for unanswered probes (changed in 8.2); it '
                         'is not an idle timeout, and a vanished client is dropped only by the kernel once a probe '
                         'stays unacknowledged' % (side.countmax_name, _release(side.version), side.label))
        else:
            found.append('%s 0 on OpenSSH %s: %s gives up after one %s without traffic from the peer, also on an '
                         'idle but healthy session%s' % (
                             side.countmax_name, _release(side.version), side.label, side.interval_name,
                             '; from OpenSSH 8.2 on the same line means never' if side.mechanism == SSHD_ALIVE
                             else ''))
    return found


def ghost_warnings(facts: Facts, predictions: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    if facts.server and predictions['sshd_dead_client']['seconds'] is None:
        found.append('ghost sessions: %s. Sessions of clients that vanished stay open (set ClientAliveInterval, '
                     'or TCPKeepAlive yes)' % predictions['sshd_dead_client']['formula'])
    return found


def compliance_warnings(facts: Facts, preset_name: str) -> list[str]:
    preset = PRESETS.get(preset_name)
    if preset is None or facts.server is None:
        return []
    server, idle = facts.server, idle_estimates(facts)
    found = _pairing_warnings(preset, server, idle)
    found.extend(_range_warnings(preset, server, idle))
    if preset.tmout_readonly and facts.shell.tmout and not facts.shell.readonly:
        found.append('%s: TMOUT (%s) is not readonly: users can unset it' % (preset.title, facts.shell.where))
    return found


def _pairing_warnings(preset: Preset, server: ServerFacts, idle: list[Estimate]) -> list[str]:
    keepalive = server.client_alive_interval > 0
    found = []
    if keepalive and not idle:
        found.append('%s: keepalives are configured (ClientAliveInterval %d) but nothing logs an idle user out; a '
                     'client that answers probes keeps its session forever. Set TMOUT (<= %d, readonly) or '
                     'ChannelTimeout' % (preset.title, server.client_alive_interval, preset.idle_max))
    if not keepalive:
        found.append('%s: ClientAliveInterval is 0 (no keepalives)%s; the baseline asks for a '
                     'ClientAliveInterval/ClientAliveCountMax pair' % (
                         preset.title, ' although an idle timeout is set' if idle else ''))
    return found


def _range_warnings(preset: Preset, server: ServerFacts, idle: list[Estimate]) -> list[str]:
    found = []
    interval, countmax = server.client_alive_interval, server.client_alive_count_max
    if interval > 0 and preset.interval_max is not None and interval > preset.interval_max:
        found.append('%s: ClientAliveInterval %d is above %d' % (preset.title, interval, preset.interval_max))
    if interval > 0 and (countmax < preset.countmax_min or
                         (preset.countmax_max is not None and countmax > preset.countmax_max)):
        allowed = str(preset.countmax_min) if preset.countmax_max == preset.countmax_min else 'at least %d%s' % (
            preset.countmax_min, '' if preset.countmax_max is None else ' and at most %d' % preset.countmax_max)
        found.append('%s: ClientAliveCountMax %d, the baseline asks for %s' % (preset.title, countmax, allowed))
    if idle and min(e.seconds for e in idle) > preset.idle_max:
        found.append('%s: the idle logout comes after %s s, above %d s' % (
            preset.title, _number(min(e.seconds for e in idle)), preset.idle_max))
    if preset.main_file:
        found.extend(_main_file_warnings(preset, server))
    return found


def _main_file_warnings(preset: Preset, server: ServerFacts) -> list[str]:
    found = []
    for name, where in (('ClientAliveInterval', server.interval_file), ('ClientAliveCountMax', server.countmax_file)):
        if where != server.main_file:
            found.append('%s: %s is not set in %s itself (%s)' % (
                preset.title, name, server.main_file, 'it comes from ' + where if where else 'built-in default'))
    return found


# -- everything ---------------------------------------------------------------------------------
def predict(facts: Facts, *, nat_idle_timeout: Optional[int] = None, compliance: str = 'none') -> dict[str, Any]:
    """Predictions, NAT survival and warnings for one host."""
    predictions = {
        'sshd_dead_client': dead_peer(server_side(facts.server), facts.kernel) if facts.server
        else never('no sshd on this host'),
        'ssh_dead_server': dead_peer(client_side(facts.clients[0]), facts.kernel) if facts.clients
        else never('no ssh client on this host'),
        'kernel_dead_peer': kernel_dead_peer(facts),
        'idle_logout': idle_logout(facts),
    }
    warnings = countmax_zero_warnings(facts) + ghost_warnings(facts, predictions)
    warnings += compliance_warnings(facts, compliance)
    nat = nat_survival(facts, nat_idle_timeout) if nat_idle_timeout else None
    return {'predictions': predictions, 'nat': nat, 'warnings': warnings}


__all__ = [
    'CHANNEL_TIMEOUT', 'ClientFacts', 'Estimate', 'FORMULA', 'Facts', 'KERNEL_KEEPALIVE', 'KernelFacts',
    'LINUX_RTO_MAX', 'LINUX_RTO_MIN', 'MEASURED', 'NEVER', 'PRESETS', 'Preset', 'PuttyFacts', 'RETRANSMISSION',
    'RULES', 'Rule', 'SHELL_TMOUT', 'SSHD_ALIVE', 'SSH_ALIVE', 'ServerFacts', 'ShellFacts', 'Side', 'UNCALIBRATED',
    'as_dict', 'channel_timeouts', 'client_side', 'compliance_warnings', 'countmax_zero_warnings', 'dead_peer',
    'ghost_warnings', 'idle_estimates', 'idle_logout', 'kernel_dead_peer', 'kernel_estimate', 'nat_keepers',
    'nat_survival', 'never', 'predict', 'retransmission_timeout', 'rule_for', 'rule_label', 'server_side',
]
