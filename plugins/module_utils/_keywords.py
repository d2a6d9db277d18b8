# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""Keyword knowledge of sshd_config(5) and ssh_config(5), kept as data.

Each keyword has a canonical spelling, a value type, whether it may appear inside a
Match block (server), whether repeated definitions add up or the first one wins, and the
OpenSSH release that introduced it.  Everything the editor and the resolver need to know
about a keyword is looked up here instead of being spread through ``if`` chains.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

Version = tuple[int, int]


class KeywordError(ValueError):
    """A keyword or value that OpenSSH would not accept."""


class Keyword(NamedTuple):
    name: str                   # canonical spelling, as in the manual page
    kind: str = 'string'        # time | time_or_none | int | yesno | choice | string | channel_timeout
    in_match: bool = False      # server: allowed inside Match (sshd_config(5) "Match" section)
    additive: bool = False      # repeated definitions accumulate instead of first-wins
    since: Version = (0, 0)     # first OpenSSH release that knows the keyword
    minimum: Optional[int] = None
    choices: tuple[str, ...] = ()
    default: Optional[str] = None   # as `sshd -T` / `ssh -G` prints it when unset


_INT_MAX = 2147483647
_YES_NO = ('yes', 'no')
_M = {'in_match': True}


def _table(*keywords: Keyword) -> dict[str, Keyword]:
    return {k.name.lower(): k for k in keywords}


# Keepalive-relevant keywords carry full type information; the rest are listed so that a typo
# is caught with a clear message while any real keyword passes to `sshd -t` for the final word.
SERVER_KEYWORDS = _table(
    Keyword('ClientAliveInterval', 'time', minimum=0, default='0', **_M),
    Keyword('ClientAliveCountMax', 'int', minimum=0, default='3', **_M),
    Keyword('TCPKeepAlive', 'yesno', choices=_YES_NO, default='yes'),
    Keyword('ChannelTimeout', 'channel_timeout', since=(9, 2), default='none', **_M),
    Keyword('UnusedConnectionTimeout', 'time_or_none', since=(9, 2), default='none', **_M),
    Keyword('LoginGraceTime', 'time', minimum=0, default='120'),
    Keyword('MaxSessions', 'int', minimum=0, **_M),
    Keyword('MaxAuthTries', 'int', minimum=0, **_M),
    Keyword('MaxStartups'),
    Keyword('PasswordAuthentication', 'yesno', choices=_YES_NO, **_M),
    Keyword('KbdInteractiveAuthentication', 'yesno', choices=_YES_NO, **_M),
    Keyword('PubkeyAuthentication', 'yesno', choices=_YES_NO, **_M),
    Keyword('PermitRootLogin', 'choice',
            choices=('yes', 'no', 'prohibit-password', 'without-password', 'forced-commands-only'), **_M),
    Keyword('UsePAM', 'yesno', choices=_YES_NO),
    Keyword('UseDNS', 'yesno', choices=_YES_NO),
    Keyword('X11Forwarding', 'yesno', choices=_YES_NO, **_M),
    Keyword('PrintMotd', 'yesno', choices=_YES_NO),
    Keyword('PrintLastLog', 'yesno', choices=_YES_NO),
    Keyword('StrictModes', 'yesno', choices=_YES_NO),
    Keyword('Compression', 'choice', choices=('yes', 'no', 'delayed')),
    Keyword('AcceptEnv', additive=True, **_M),
    Keyword('AllowUsers', additive=True, **_M),
    Keyword('AllowGroups', additive=True, **_M),
    Keyword('DenyUsers', additive=True, **_M),
    Keyword('DenyGroups', additive=True, **_M),
    Keyword('HostKey', additive=True),
    Keyword('HostCertificate', additive=True),
    Keyword('ListenAddress', additive=True),
    Keyword('Port', additive=True),
    Keyword('Subsystem', additive=True),
    Keyword('SetEnv', additive=True, since=(8, 7), **_M),
    Keyword('Include', additive=True, since=(8, 2)),
    Keyword('Match'),
    Keyword('AddressFamily'),
    Keyword('AllowAgentForwarding', **_M),
    Keyword('AllowStreamLocalForwarding', **_M),
    Keyword('AllowTcpForwarding', **_M),
    Keyword('AuthenticationMethods', **_M),
    Keyword('AuthorizedKeysCommand', **_M),
    Keyword('AuthorizedKeysCommandUser', **_M),
    Keyword('AuthorizedKeysFile', **_M),
    Keyword('AuthorizedPrincipalsCommand', **_M),
    Keyword('AuthorizedPrincipalsCommandUser', **_M),
    Keyword('AuthorizedPrincipalsFile', **_M),
    Keyword('Banner', **_M),
    Keyword('CASignatureAlgorithms'),
    Keyword('ChallengeResponseAuthentication'),
    Keyword('ChrootDirectory', **_M),
    Keyword('Ciphers'),
    Keyword('DebianBanner'),
    Keyword('DisableForwarding', **_M),
    Keyword('ExposeAuthInfo', **_M),
    Keyword('FingerprintHash'),
    Keyword('ForceCommand', **_M),
    Keyword('GatewayPorts', **_M),
    Keyword('GSSAPIAuthentication', **_M),
    Keyword('GSSAPICleanupCredentials'),
    Keyword('GSSAPIKeyExchange'),
    Keyword('GSSAPIKexAlgorithms'),
    Keyword('GSSAPIStoreCredentialsOnRekey'),
    Keyword('GSSAPIStrictAcceptorCheck'),
    Keyword('HostbasedAcceptedAlgorithms', **_M),
    Keyword('HostbasedAuthentication', **_M),
    Keyword('HostbasedUsesNameFromPacketOnly', **_M),
    Keyword('HostKeyAgent'),
    Keyword('HostKeyAlgorithms'),
    Keyword('IgnoreRhosts', **_M),
    Keyword('IgnoreUserKnownHosts', **_M),
    Keyword('IPQoS', **_M),
    Keyword('KerberosAuthentication', **_M),
    Keyword('KerberosGetAFSToken'),
    Keyword('KerberosOrLocalPasswd'),
    Keyword('KerberosTicketCleanup'),
    Keyword('KexAlgorithms'),
    Keyword('LogLevel', **_M),
    Keyword('LogVerbose', **_M),
    Keyword('MACs'),
    Keyword('ModuliFile'),
    Keyword('PermitEmptyPasswords', **_M),
    Keyword('PermitListen', **_M),
    Keyword('PermitOpen', **_M),
    Keyword('PermitTTY', **_M),
    Keyword('PermitTunnel', **_M),
    Keyword('PermitUserEnvironment'),
    Keyword('PermitUserRC', **_M),
    Keyword('PerSourceMaxStartups', since=(8, 5)),
    Keyword('PerSourceNetBlockSize', since=(8, 5)),
    Keyword('PerSourcePenalties', since=(9, 8)),
    Keyword('PerSourcePenaltyExemptList', since=(9, 8)),
    Keyword('PidFile'),
    Keyword('PubkeyAcceptedAlgorithms', since=(8, 5), **_M),
    Keyword('PubkeyAcceptedKeyTypes', **_M),
    Keyword('PubkeyAuthOptions', **_M),
    Keyword('RDomain', **_M),
    Keyword('RefuseConnection', since=(10, 0), **_M),
    Keyword('RekeyLimit', **_M),
    Keyword('RequiredRSASize', since=(9, 1), **_M),
    Keyword('RevokedKeys', **_M),
    Keyword('SecurityKeyProvider'),
    Keyword('SshdSessionPath', since=(9, 8)),
    Keyword('SshdAuthPath', since=(10, 0)),
    Keyword('StreamLocalBindMask', **_M),
    Keyword('StreamLocalBindUnlink', **_M),
    Keyword('SyslogFacility'),
    Keyword('TrustedUserCAKeys', **_M),
    Keyword('VersionAddendum'),
    Keyword('X11DisplayOffset', **_M),
    Keyword('X11UseLocalhost', **_M),
    Keyword('XAuthLocation'),
)

# ssh_config(5): every keyword may appear under Host or Match; the first value obtained wins.
CLIENT_KEYWORDS = _table(
    Keyword('ServerAliveInterval', 'time', minimum=0, default='0'),
    Keyword('ServerAliveCountMax', 'int', minimum=0, default='3'),
    Keyword('TCPKeepAlive', 'yesno', choices=_YES_NO, default='yes'),
    Keyword('ConnectTimeout', 'time_or_none', minimum=0, default='none'),
    # sshd learnt ChannelTimeout in 9.2; Debian's ssh 9.2 still refuses it, so the client entry
    # is dated later and the installed ssh has the last word (the module asks it).
    Keyword('ChannelTimeout', 'channel_timeout', since=(9, 3), default='none'),
    Keyword('ConnectionAttempts', 'int', minimum=1),
    Keyword('BatchMode', 'yesno', choices=_YES_NO),
    Keyword('Compression', 'yesno', choices=_YES_NO),
    Keyword('ForwardAgent'),
    Keyword('ForwardX11', 'yesno', choices=_YES_NO),
    Keyword('IdentitiesOnly', 'yesno', choices=_YES_NO),
    Keyword('CertificateFile', additive=True),
    Keyword('DynamicForward', additive=True),
    Keyword('IdentityFile', additive=True),
    Keyword('LocalForward', additive=True),
    Keyword('RemoteForward', additive=True),
    Keyword('SendEnv', additive=True),
    Keyword('SetEnv', additive=True),
    Keyword('Include', additive=True, since=(7, 3)),
    Keyword('Host'),
    Keyword('Match'),
    Keyword('AddKeysToAgent'),
    Keyword('AddressFamily'),
    Keyword('BindAddress'),
    Keyword('BindInterface'),
    Keyword('CanonicalDomains'),
    Keyword('CanonicalizeFallbackLocal'),
    Keyword('CanonicalizeHostname'),
    Keyword('CanonicalizeMaxDots'),
    Keyword('CanonicalizePermittedCNAMEs'),
    Keyword('CASignatureAlgorithms'),
    Keyword('ChallengeResponseAuthentication'),
    Keyword('CheckHostIP'),
    Keyword('Ciphers'),
    Keyword('ClearAllForwardings'),
    Keyword('ControlMaster'),
    Keyword('ControlPath'),
    Keyword('ControlPersist'),
    Keyword('EnableEscapeCommandline', since=(9, 3)),
    Keyword('EnableSSHKeysign'),
    Keyword('EscapeChar'),
    Keyword('ExitOnForwardFailure'),
    Keyword('FingerprintHash'),
    Keyword('ForkAfterAuthentication', since=(8, 7)),
    Keyword('ForwardX11Timeout'),
    Keyword('ForwardX11Trusted'),
    Keyword('GatewayPorts'),
    Keyword('GlobalKnownHostsFile'),
    Keyword('GSSAPIAuthentication'),
    Keyword('GSSAPIDelegateCredentials'),
    Keyword('HashKnownHosts'),
    Keyword('HostbasedAcceptedAlgorithms'),
    Keyword('HostbasedAuthentication'),
    Keyword('HostKeyAlgorithms'),
    Keyword('HostKeyAlias'),
    Keyword('Hostname'),
    Keyword('IdentityAgent'),
    Keyword('IgnoreUnknown'),
    Keyword('IPQoS'),
    Keyword('KbdInteractiveAuthentication'),
    Keyword('KbdInteractiveDevices'),
    Keyword('KexAlgorithms'),
    Keyword('KnownHostsCommand', since=(8, 5)),
    Keyword('LocalCommand'),
    Keyword('LogLevel'),
    Keyword('LogVerbose'),
    Keyword('MACs'),
    Keyword('NoHostAuthenticationForLocalhost'),
    Keyword('NumberOfPasswordPrompts'),
    Keyword('ObscureKeystrokeTiming', since=(9, 5)),
    Keyword('PasswordAuthentication'),
    Keyword('PermitLocalCommand'),
    Keyword('PermitRemoteOpen'),
    Keyword('PKCS11Provider'),
    Keyword('Port'),
    Keyword('PreferredAuthentications'),
    Keyword('ProxyCommand'),
    Keyword('ProxyJump'),
    Keyword('ProxyUseFdpass'),
    Keyword('PubkeyAcceptedAlgorithms', since=(8, 5)),
    Keyword('PubkeyAcceptedKeyTypes'),
    Keyword('PubkeyAuthentication'),
    Keyword('RekeyLimit'),
    Keyword('RemoteCommand'),
    Keyword('RequestTTY'),
    Keyword('RequiredRSASize', since=(9, 1)),
    Keyword('RevokedHostKeys'),
    Keyword('SecurityKeyProvider'),
    Keyword('SessionType', since=(8, 7)),
    Keyword('StdinNull', since=(8, 7)),
    Keyword('StreamLocalBindMask'),
    Keyword('StreamLocalBindUnlink'),
    Keyword('StrictHostKeyChecking'),
    Keyword('SyslogFacility'),
    Keyword('Tag', since=(9, 4)),
    Keyword('Tunnel'),
    Keyword('TunnelDevice'),
    Keyword('UpdateHostKeys'),
    Keyword('User'),
    Keyword('UserKnownHostsFile'),
    Keyword('VerifyHostKeyDNS'),
    Keyword('VisualHostKey'),
    Keyword('XAuthLocation'),
)

# What a value of ClientAliveCountMax 0 does, by release: OpenSSH 8.2 changed it from
# "disconnect after one silent interval" to "never disconnect" (release notes of 8.2).
COUNTMAX_ZERO_CHANGED_IN: Version = (8, 2)

_TIME_PART = re.compile(r'(\d+)([sSmMhHdDwW]?)')
_TIME_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


def lookup(table: dict[str, Keyword], name: str) -> Keyword:
    """Return the keyword spec for ``name`` (any case) or raise KeywordError."""
    try:
        return table[name.lower()]
    except KeyError:
        raise KeywordError('unknown keyword %r' % name) from None


def parse_time(text: str) -> int:
    """Seconds for an sshd TIME FORMAT value (``90``, ``5m``, ``1h30m``); KeywordError if invalid."""
    pos, total = 0, 0
    for part in _TIME_PART.finditer(text):
        if part.start() != pos:
            break
        total += int(part.group(1)) * _TIME_UNITS[part.group(2).lower()]
        pos = part.end()
    if pos != len(text) or not text:
        raise KeywordError('%r is not a time value (seconds, or a number with s/m/h/d/w, e.g. 5m or 1h30m)'
                           % text)
    return total


def _canonical_channel_timeout(text: str) -> str:
    parts = []
    for item in text.split():
        kind, sep, interval = item.partition('=')
        if not sep or not kind:
            raise KeywordError('%r is not a ChannelTimeout entry (type=interval, e.g. session=5m)' % item)
        parts.append('%s=%d' % (kind, parse_time(interval)))
    if not parts:
        raise KeywordError('ChannelTimeout needs at least one type=interval entry')
    return ' '.join(parts)


def canonical_value(keyword: Keyword, text: str) -> str:
    """A normal form of ``text`` for comparing by meaning (``5m`` == ``300``, ``YES`` == ``yes``)."""
    stripped = text.strip()
    if keyword.kind == 'time':
        return str(parse_time(stripped))
    if keyword.kind == 'time_or_none':
        return 'none' if stripped.lower() == 'none' else str(parse_time(stripped))
    if keyword.kind == 'int':
        if not re.match(r'^-?\d+$', stripped):
            raise KeywordError('%r is not an integer' % text)
        return str(int(stripped))
    if keyword.kind in ('yesno', 'choice'):
        return stripped.lower()
    if keyword.kind == 'channel_timeout':
        return 'none' if stripped.lower() == 'none' else _canonical_channel_timeout(stripped)
    return ' '.join(stripped.split())


def check_value(keyword: Keyword, text: str) -> str:
    """Validate a requested value; return its canonical form or raise KeywordError naming it."""
    if '\n' in text or '\r' in text:
        raise KeywordError('value %r for %s contains a line break' % (text, keyword.name))
    if '#' in text:
        raise KeywordError('value %r for %s contains "#", which OpenSSH reads as a comment' % (text, keyword.name))
    if not text.strip():
        raise KeywordError('value for %s is empty' % keyword.name)
    canon = canonical_value(keyword, text)
    if keyword.minimum is not None and keyword.kind in ('int', 'time', 'time_or_none') and canon != 'none':
        number = int(canon)
        if number < keyword.minimum or number > _INT_MAX:
            raise KeywordError('value %r for %s is out of range (%d..%d)'
                               % (text, keyword.name, keyword.minimum, _INT_MAX))
    if keyword.choices and canon not in keyword.choices:
        raise KeywordError('value %r for %s is not one of %s' % (text, keyword.name, ', '.join(keyword.choices)))
    return canon


def format_version(version: Version) -> str:
    return '%d.%d' % version


__all__ = [
    'CLIENT_KEYWORDS', 'COUNTMAX_ZERO_CHANGED_IN', 'Keyword', 'KeywordError', 'SERVER_KEYWORDS', 'Version',
    'canonical_value', 'check_value', 'format_version', 'lookup', 'parse_time',
]
