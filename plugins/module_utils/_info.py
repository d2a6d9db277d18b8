# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""The keepalive_info module's work: read what decides the fate of an idle or dead session.

Effective values come from the installed programs (``sshd -T``, ``ssh -G``); the file and line
each value comes from, and the definitions it shadows, come from the configuration model.  The
kernel's keepalive sysctls, the shells' TMOUT and PuTTY's saved sessions are read from files.
Nothing is written outside a scratch directory, nothing is executed but ``sshd``/``ssh``.
The numbers then go to ``_predict``.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any, Callable, NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import EditError
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import (
    CLIENT_KEYWORDS,
    SERVER_KEYWORDS,
    KeywordError,
    Version,
    canonical_value,
    format_version,
    parse_time,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    CLIENT,
    SERVER,
    Config,
    ConfigError,
    ConnInfo,
    Entry,
    Resolved,
    active_in_load_pass,
    client_match,
    criteria_tokens,
    resolve_client,
    resolve_server,
    server_match,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._predict import (
    ClientFacts,
    Facts,
    KernelFacts,
    PuttyFacts,
    ServerFacts,
    ShellFacts,
    client_side,
    dead_peer,
    predict,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._putty import (
    SessionFile,
    putty_dir,
    read_text,
    session_name,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import (
    CandidateTree,
    Runtime,
    RuntimeFailure,
    parse_dump,
)

# A host name that no real Host pattern names (RFC 2606 reserves .invalid): only `Host *`-like
# blocks apply to it.
PROBE_HOST = 'keepalive-ssh-probe.invalid'
# Read in this order, as if one login shell read them all (Debian's /etc/profile sources
# /etc/bash.bashrc first and /etc/profile.d/*.sh last); /etc/environment is pam_env's.
DEFAULT_PROFILE_PATHS = (
    '/etc/environment', '/etc/bash.bashrc', '/etc/profile', '/etc/profile.d/*.sh', '/etc/bashrc',
    '/etc/zsh/zshenv', '/etc/zshenv', '/etc/zsh/zprofile', '/etc/zprofile',
)
SERVER_REPORTED = ('ClientAliveInterval', 'ClientAliveCountMax', 'TCPKeepAlive', 'ChannelTimeout',
                   'UnusedConnectionTimeout')
CLIENT_REPORTED = ('ServerAliveInterval', 'ServerAliveCountMax', 'TCPKeepAlive')
SYSCTLS = ('tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes', 'tcp_retries2')
_SYSCTL_DEFAULTS = {'tcp_retries2': 15}

# One shell statement that names TMOUT: an assignment, or readonly/export/declare/typeset of it.
_STATEMENT = re.compile(r'^(?:(?P<cmd>readonly|export|declare|typeset|local)\b(?P<flags>(?:\s+-\w+)*))?'
                        r'\s*(?P<rest>.*)$')
_TMOUT_WORD = re.compile(r'(?:^|\s)TMOUT(?:=(?P<value>"[^"]*"|\'[^\']*\'|[^\s;&|]*))?(?=\s|$)')
_LEADING_KEYWORDS = re.compile(r'^(?:(?:then|do|else|\{|\()\s+)+')

Warn = Callable[[str], None]


class InfoFailure(Exception):
    """A request the module cannot answer at all (bad option value)."""


def home_of(user: str) -> str:
    """Home directory of ``user``; KeyError when there is no such user (tests replace this)."""
    return pwd.getpwnam(user).pw_dir


def current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return ''


# -- settings with their origin -------------------------------------------------------------------
def _joined(entry: Entry) -> str:
    return ' '.join(entry.line.args())


def _same(keyword: str, table: dict[str, Any], left: Optional[str], right: Optional[str]) -> bool:
    spec = table.get(keyword.lower())
    if left is None or right is None or spec is None:
        return left == right
    try:
        return canonical_value(spec, left) == canonical_value(spec, right)
    except KeywordError:
        return left.strip().lower() == right.strip().lower()


def setting(value: Optional[str], resolved: Resolved, shadowed: list[dict[str, str]],
            conditional: list[dict[str, str]]) -> dict[str, Any]:
    return {'value': value, 'where': resolved.where(), 'shadowed': shadowed, 'conditional': conditional}


def server_others(config: Config, keyword: str, winner: Optional[Entry],
                  info: Optional[ConnInfo]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Definitions that lose to ``winner`` (shadowed) and those for other connections (conditional)."""
    spec = SERVER_KEYWORDS.get(keyword.lower())
    shadowed, conditional = [], []
    for entry in config.definitions(keyword):
        if winner is not None and entry.line is winner.line:
            continue
        item = {'value': _joined(entry), 'where': entry.where()}
        applies = active_in_load_pass(entry) or bool(
            spec and spec.in_match and entry.context and server_match(entry.context[-1].line.value, info or {}))
        if applies:
            shadowed.append(dict(item, by=winner.where() if winner else '(default)'))
        else:
            conditional.append(dict(item, match='Match ' + entry.context[-1].line.value))
    return shadowed, conditional


def client_others(configs: Sequence[Config], keyword: str, winner: Optional[Entry], host: str,
                  user: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    shadowed, conditional = [], []
    for config in configs:
        for entry in config.definitions(keyword):
            if winner is not None and entry.line is winner.line:
                continue
            item = {'value': _joined(entry), 'where': entry.where()}
            if all(client_match(block, host, user) for block in entry.context):
                shadowed.append(dict(item, by=winner.where() if winner else '(default)'))
            else:
                block = entry.context[-1].line
                conditional.append(dict(item, match='%s %s' % (block.keyword, block.value)))
    return shadowed, conditional


def shadow_warnings(name: str, keyword: str, table: dict[str, Any], current: Optional[str],
                    shadowed: list[dict[str, str]]) -> list[str]:
    return ['%s: %s %s at %s is ignored: %s %s at %s wins' % (name, keyword, item['value'], item['where'], keyword,
                                                              current, item['by'])
            for item in shadowed if not _same(keyword, table, item['value'], current)]


def _seconds(text: Optional[str], default: int = 0) -> int:
    try:
        return parse_time((text or '').strip())
    except KeywordError:
        return default


def _integer(text: Optional[str], default: int) -> int:
    try:
        return int((text or '').strip())
    except ValueError:
        return default


# -- the server -----------------------------------------------------------------------------------
class ServerReport(NamedTuple):
    report: dict[str, Any]
    facts: ServerFacts


def connection_spec(connection: Optional[dict[str, Any]]) -> Optional[ConnInfo]:
    if not connection:
        return None
    info = {key: str(value) for key, value in connection.items() if value not in (None, '')}
    return info or None


def gather_server(runtime: Runtime, path: str, connection: Optional[ConnInfo],
                  warn: Warn) -> Optional[ServerReport]:
    try:
        version = runtime.version('sshd')
    except RuntimeFailure as exc:
        warn('no OpenSSH server to audit: %s' % exc)
        return None
    if not os.path.isfile(path):
        warn('sshd is installed but %s does not exist: the server was not audited' % path)
        return None
    try:
        config = Config(path, flavour=SERVER)
    except ConfigError as exc:
        warn('cannot read the sshd configuration: %s; the server was not audited' % exc)
        return None
    try:
        dump: Optional[dict[str, str]] = runtime.sshd_dump(path, connection)
        source = 'sshd -T'
    except RuntimeFailure as exc:
        warn('sshd -T failed (%s); server values come from the configuration model alone' % exc)
        dump, source = None, 'model'
    settings = {keyword: _server_setting(config, keyword, connection, dump, warn) for keyword in SERVER_REPORTED}
    report = {'config_path': path, 'connection': connection, 'source': source, 'settings': settings}
    return ServerReport(report, _server_facts(version, settings, path))


def _server_setting(config: Config, keyword: str, info: Optional[ConnInfo], dump: Optional[dict[str, str]],
                    warn: Warn) -> dict[str, Any]:
    resolved = resolve_server(config, keyword, info)
    value = resolved.value
    if dump is not None:
        dumped = dump.get(keyword.lower(), SERVER_KEYWORDS[keyword.lower()].default)
        if not _same(keyword, SERVER_KEYWORDS, dumped, value):
            warn('sshd: %s is %s for sshd -T but the configuration model found %s at %s; reporting sshd -T'
                 % (keyword, dumped, value, resolved.where()))
        value = dumped
    shadowed, conditional = server_others(config, keyword, resolved.entry, info)
    for message in shadow_warnings('sshd', keyword, SERVER_KEYWORDS, value, shadowed):
        warn(message)
    return setting(value, resolved, shadowed, conditional)


def _file_of(item: dict[str, Any]) -> str:
    where = item['where']
    return '' if where == '(default)' else where.rsplit(':', 1)[0]


def _server_facts(version: Version, settings: dict[str, dict[str, Any]], path: str) -> ServerFacts:
    return ServerFacts(
        version=version,
        client_alive_interval=_seconds(settings['ClientAliveInterval']['value']),
        client_alive_count_max=_integer(settings['ClientAliveCountMax']['value'], 3),
        tcp_keepalive=(settings['TCPKeepAlive']['value'] or 'yes').lower() == 'yes',
        channel_timeout=settings['ChannelTimeout']['value'] or 'none',
        interval_file=_file_of(settings['ClientAliveInterval']),
        countmax_file=_file_of(settings['ClientAliveCountMax']),
        main_file=path,
    )


# -- the client -----------------------------------------------------------------------------------
def has_match_exec(configs: Sequence[Config]) -> Optional[str]:
    """Where a ``Match exec`` is: ``ssh -G`` would run its command, so the module must not call it."""
    for config in configs:
        for block in config.blocks():
            if block.key == 'match' and any(t.lower() == 'exec' for t in criteria_tokens(block.line.value)):
                return block.where()
    return None


def _private_tree(config: Config) -> CandidateTree:
    tree = CandidateTree(config)
    # ssh refuses included files that are group or world writable, whatever the umask was.
    for directory, _subdirs, files in os.walk(tree.root):
        for name in files:
            os.chmod(os.path.join(directory, name), 0o600)
    return tree


def ssh_dump(runtime: Runtime, configs: Sequence[Config], host: str, user: Optional[str]) -> dict[str, str]:
    """``ssh -G`` over copies of ``configs`` read in order (user file first, as ssh does)."""
    trees: list[CandidateTree] = []
    scratch = tempfile.mkdtemp(prefix='keepalive-ssh-')
    try:
        trees = [_private_tree(config) for config in configs]
        wrapper = os.path.join(scratch, 'ssh_config')
        with open(wrapper, 'w') as handle:
            handle.write(''.join('Include "%s"\n' % tree.main for tree in trees))
        argv = [runtime.ssh, '-G', '-F', wrapper] + (['-l', user] if user else []) + [host]
        rc, out, err = runtime.run(argv)
        if rc != 0:
            raise RuntimeFailure((err or out).strip() or 'ssh -G exited with %d' % rc)
        return parse_dump(out)
    finally:
        for tree in trees:
            tree.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


class ClientView(NamedTuple):
    report: dict[str, Any]
    facts: ClientFacts


def client_configs(system_path: str, user: Optional[str]) -> list[Config]:
    configs = []
    if user:
        ssh_dir = os.path.join(home_of(user), '.ssh')
        configs.append(Config(os.path.join(ssh_dir, 'config'), flavour=CLIENT, include_base=ssh_dir))
    configs.append(Config(system_path, flavour=CLIENT))
    return configs


def gather_client_view(runtime: Runtime, version: Version, system_path: str, host: str, user: Optional[str],
                       warn: Warn) -> ClientView:
    name = 'ssh (user %s)' % user if user else 'ssh'
    configs = client_configs(system_path, user)
    remote_user = user or current_user()
    dump, source = _client_dump(runtime, configs, host, user, name, warn)
    settings = {}
    for keyword in CLIENT_REPORTED:
        settings[keyword] = _client_setting(configs, keyword, host, remote_user, dump, name, warn)
    facts = ClientFacts(name, version, _seconds(settings['ServerAliveInterval']['value']),
                        _integer(settings['ServerAliveCountMax']['value'], 3),
                        (settings['TCPKeepAlive']['value'] or 'yes').lower() == 'yes')
    report = {'name': name, 'user': user, 'source': source, 'settings': settings,
              'config_files': [c.main.path for c in configs if c.main.existed]}
    return ClientView(report, facts)


def _client_dump(runtime: Runtime, configs: Sequence[Config], host: str, user: Optional[str], name: str,
                 warn: Warn) -> tuple[Optional[dict[str, str]], str]:
    exec_at = has_match_exec(configs)
    if exec_at:
        warn('%s: Match exec at %s: ssh -G would run its command, so values come from the configuration model'
             % (name, exec_at))
        return None, 'model'
    try:
        return ssh_dump(runtime, configs, host, user), 'ssh -G'
    except (RuntimeFailure, ConfigError, OSError) as exc:
        warn('%s: ssh -G failed (%s); values come from the configuration model' % (name, exc))
        return None, 'model'


def _client_setting(configs: Sequence[Config], keyword: str, host: str, user: str, dump: Optional[dict[str, str]],
                    name: str, warn: Warn) -> dict[str, Any]:
    resolved = Resolved(None, None)
    for config in configs:
        resolved = resolve_client(config, keyword, host, user)
        if resolved.entry is not None:
            break
    value = resolved.value
    if dump is not None:
        dumped = dump.get(keyword.lower(), CLIENT_KEYWORDS[keyword.lower()].default)
        if not _same(keyword, CLIENT_KEYWORDS, dumped, value):
            warn('%s: %s is %s for ssh -G but the configuration model found %s at %s; reporting ssh -G'
                 % (name, keyword, dumped, value, resolved.where()))
        value = dumped
    shadowed, conditional = client_others(configs, keyword, resolved.entry, host, user)
    for message in shadow_warnings(name, keyword, CLIENT_KEYWORDS, value, shadowed):
        warn(message)
    return setting(value, resolved, shadowed, conditional)


# -- the kernel -----------------------------------------------------------------------------------
def read_sysctls(root: str, warn: Warn) -> tuple[dict[str, dict[str, Any]], Optional[KernelFacts]]:
    found: dict[str, dict[str, Any]] = {}
    for name in SYSCTLS:
        path = os.path.join(root, 'net', 'ipv4', name)
        try:
            with open(path) as handle:
                found[name] = {'value': int(handle.read().split()[0]), 'where': path}
        except (OSError, ValueError, IndexError):
            found[name] = {'value': None, 'where': path}
    missing = [n for n in SYSCTLS[:3] if found[n]['value'] is None]
    if missing:
        warn('cannot read %s under %s: no kernel keepalive prediction' % (', '.join(missing), root))
        return found, None
    retries2 = found['tcp_retries2']['value']
    return found, KernelFacts(found['tcp_keepalive_time']['value'], found['tcp_keepalive_intvl']['value'],
                              found['tcp_keepalive_probes']['value'],
                              _SYSCTL_DEFAULTS['tcp_retries2'] if retries2 is None else retries2)


# -- the shells -----------------------------------------------------------------------------------
class TmoutLine(NamedTuple):
    where: str
    text: Optional[str]         # the assigned text, None for `readonly TMOUT` / `export TMOUT`
    readonly: bool


def _statements(line: str) -> list[str]:
    if line.lstrip().startswith('#'):
        return []
    code = re.split(r'\s#', line, maxsplit=1)[0]
    return [_LEADING_KEYWORDS.sub('', part.strip()) for part in re.split(r';|&&|\|\|', code)]


def tmout_lines(text: str, path: str) -> list[TmoutLine]:
    """TMOUT assignments and readonly markings of one file, in order."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for statement in _statements(line):
            parsed = _STATEMENT.match(statement)
            if not parsed:
                continue
            cmd, flags, rest = parsed.group('cmd'), parsed.group('flags') or '', parsed.group('rest')
            word = _TMOUT_WORD.search(rest)
            if word is None or (cmd is None and not rest.startswith('TMOUT=')):
                continue
            readonly = cmd == 'readonly' or (cmd in ('declare', 'typeset') and 'r' in flags.replace('-', ''))
            value = word.group('value')
            found.append(TmoutLine('%s:%d' % (path, number), None if value is None else value.strip('\'"'),
                                   readonly))
    return found


def profile_files(patterns: Sequence[str]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        files.extend(p for p in matches if os.path.isfile(p) and p not in files)
    return files


def read_tmout(patterns: Sequence[str], warn: Warn) -> tuple[dict[str, Any], ShellFacts]:
    lines: list[TmoutLine] = []
    for path in profile_files(patterns):
        try:
            with open(path, 'rb') as handle:
                lines.extend(tmout_lines(handle.read().decode('utf-8', 'surrogateescape'), path))
        except OSError as exc:
            warn('cannot read %s: %s' % (path, exc))
    return effective_tmout(lines, warn)


def effective_tmout(lines: Sequence[TmoutLine], warn: Warn) -> tuple[dict[str, Any], ShellFacts]:
    """The last assignment wins, until one makes TMOUT readonly: later assignments then fail."""
    value, where, readonly, locked_at = None, '', False, ''
    definitions = []
    for line in lines:
        seconds = _tmout_seconds(line, warn)
        definitions.append({'value': line.text, 'seconds': seconds, 'readonly': line.readonly, 'where': line.where})
        if readonly:
            if line.text is not None:
                warn('TMOUT=%s at %s is ignored: TMOUT was made readonly at %s (the shell reports "readonly '
                     'variable")' % (line.text, line.where, locked_at))
            continue
        if line.text is not None:
            value, where = seconds, line.where
        if line.readonly:
            readonly, locked_at = True, line.where
    report = {'seconds': value, 'readonly': readonly, 'where': where or None, 'definitions': definitions}
    return report, ShellFacts(value if value else None, readonly, where)


def _tmout_seconds(line: TmoutLine, warn: Warn) -> Optional[int]:
    if line.text is None:
        return None
    if line.text == '':
        return 0        # TMOUT= (empty) disables the timeout
    if re.match(r'^\d+$', line.text):
        return int(line.text)
    warn('TMOUT=%s at %s is not a number of seconds; it is not used in predictions' % (line.text, line.where))
    return None


# -- PuTTY ----------------------------------------------------------------------------------------
# The putty_session module's reader (_putty): PuTTY's own directory choice, file names and
# PingInterval arithmetic; keepalive_info only reads.
def _where(session: SessionFile, keys: Sequence[str]) -> str:
    """``file:line`` of the line PuTTY uses for each key (the first), or ``(default)``."""
    numbers = [next((n for n, line in enumerate(session.lines, 1) if line.key == key), 0) for key in keys]
    return ', '.join('%s:%d' % (session.path, n) for n in sorted(numbers) if n) or '(default)'


def putty_sessions(user: str, home: str) -> list[dict[str, Any]]:
    directory = os.path.join(putty_dir(home), 'sessions')
    sessions = []
    for path in sorted(glob.glob(os.path.join(directory, '*'))):
        if not os.path.isfile(path):
            continue
        session = SessionFile(path, read_text(path))
        keepalives = _integer(session.get('TCPKeepalives'), 0)
        sessions.append({
            'user': user, 'session': session_name(os.path.basename(path)), 'path': path,
            'ping_interval': {'value': session.ping_interval() or 0,
                              'where': _where(session, ('PingInterval', 'PingIntervalSecs'))},
            'tcp_keepalives': {'value': keepalives, 'where': _where(session, ('TCPKeepalives',))},
        })
    return sessions


def read_putty(users: Sequence[str], warn: Warn) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = []
    for user in users:
        try:
            sessions.extend(putty_sessions(user, home_of(user)))
        except KeyError:
            continue    # reported once by the client views
        except (EditError, OSError) as exc:
            warn('PuTTY sessions of %s: %s' % (user, exc))
    return sessions


def putty_facts(sessions: Sequence[dict[str, Any]]) -> tuple[PuttyFacts, ...]:
    return tuple(PuttyFacts('PuTTY %s/%s' % (s['user'], s['session']), s['ping_interval']['value'],
                            bool(s['tcp_keepalives']['value'])) for s in sessions)


# -- everything -----------------------------------------------------------------------------------
def check_params(params: dict[str, Any]) -> None:
    """Values that end up in argv of ssh/sshd must not read as options or break ``-C`` (comma-separated)."""
    if params['nat_idle_timeout'] is not None and params['nat_idle_timeout'] <= 0:
        raise InfoFailure('nat_idle_timeout must be a positive number of seconds, not %s' % params['nat_idle_timeout'])
    for name, value in [('ssh_host', params['ssh_host'])] + [('users', u) for u in params['users'] or []]:
        if not value or value.startswith('-') or any(c.isspace() for c in value):
            raise InfoFailure('%s: %r is not a host or user name' % (name, value))
    for key, value in (params['connection'] or {}).items():
        if value is not None and (',' in str(value) or any(c.isspace() for c in str(value))):
            raise InfoFailure('connection %s: %r may not contain commas or spaces' % (key, value))


class Gatherer:
    """Reads one host; ``params`` are the module's options."""

    def __init__(self, params: dict[str, Any], runtime: Runtime, warn: Warn) -> None:
        self.params = params
        self.runtime = runtime
        self.findings: list[str] = []
        self._warn = warn

    def warn(self, message: str) -> None:
        if message not in self.findings:
            self.findings.append(message)
            self._warn(message)

    def run(self) -> dict[str, Any]:
        params = self.params
        check_params(params)
        server = gather_server(self.runtime, params['sshd_config_path'], connection_spec(params['connection']),
                               self.warn)
        client, client_facts = self._client()
        sysctl, kernel = read_sysctls(params['proc_sys_root'], self.warn)
        tmout, shell = read_tmout(params['profile_paths'] or DEFAULT_PROFILE_PATHS, self.warn)
        putty = read_putty(params['users'] or [], self.warn)
        facts = Facts(server.facts if server else None, client_facts, putty_facts(putty), kernel, shell)
        outcome = predict(facts, nat_idle_timeout=params['nat_idle_timeout'], compliance=params['compliance'])
        for view, view_facts in zip(client['views'] if client else [], client_facts):
            view['dead_server'] = dead_peer(client_side(view_facts), kernel)
        for message in outcome['warnings']:
            self.warn(message)
        return {
            'changed': False,
            'openssh': {'server': _version(server.facts.version if server else None),
                        'client': _version(client_facts[0].version if client_facts else None)},
            'server': server.report if server else None, 'client': client, 'sysctl': sysctl, 'tmout': tmout,
            'putty': putty, 'predictions': outcome['predictions'], 'nat': outcome['nat'], 'findings': self.findings,
        }

    def _client(self) -> tuple[Optional[dict[str, Any]], tuple[ClientFacts, ...]]:
        try:
            version = self.runtime.version('ssh')
        except RuntimeFailure as exc:
            self.warn('no OpenSSH client to audit: %s' % exc)
            return None, ()
        host, views = self.params['ssh_host'], []
        for user in [None] + list(self.params['users'] or []):
            try:
                views.append(gather_client_view(self.runtime, version, self.params['ssh_config_path'], host, user,
                                                self.warn))
            except KeyError:
                self.warn('user %s does not exist: skipped' % user)
            except ConfigError as exc:
                self.warn('ssh configuration of %s: %s' % (user or 'the system', exc))
        report = {'host': host, 'config_path': self.params['ssh_config_path'], 'views': [v.report for v in views]}
        return report, tuple(v.facts for v in views)


def _version(version: Optional[Version]) -> Optional[str]:
    return format_version(version) if version else None


__all__ = [
    'DEFAULT_PROFILE_PATHS', 'Gatherer', 'InfoFailure', 'PROBE_HOST', 'TmoutLine', 'check_params', 'client_others',
    'connection_spec',
    'current_user', 'effective_tmout', 'gather_client_view', 'gather_server', 'has_match_exec', 'home_of',
    'profile_files', 'putty_sessions', 'read_putty', 'read_sysctls', 'read_tmout', 'server_others',
    'ssh_dump', 'tmout_lines',
]
