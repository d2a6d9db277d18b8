# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""PuTTY saved sessions on Unix: one text file of ``Key=Value`` lines per session.

PuTTY (unix/storage.c) keeps a session in ``~/.putty/sessions/NAME``, or under
``~/.config/putty/sessions`` when that directory exists (PuTTY checks it first).  NAME is the
session name with every byte outside ``A-Z a-z 0-9 + - . @ _`` written as ``%XX`` (upper-case
hex of the UTF-8 bytes): ``Default Settings`` becomes ``Default%20Settings``.  PuTTY reads a line
up to the first ``=``; the key is case-sensitive and the first line with a key wins.

The file model is lossless like the OpenSSH one: lines keep their bytes and line endings, a
changed key is rewritten in place, a new key goes at the end.
"""

from __future__ import annotations

import os
import re
import string
import tempfile
from typing import Any, NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._apply import NOTHING_CHANGED
from ansible_collections.keepalive.ssh.plugins.module_utils._editor import EditError
from ansible_collections.keepalive.ssh.plugins.module_utils._ssh_task import (
    Account,
    AccountError,
    ensure_private_dir,
    lookup_account,
    refuse_links,
    secure_file,
)

DEFAULT_SESSION = 'Default Settings'
_SAFE = frozenset(string.ascii_letters + string.digits + '+-.@_')
_KEY = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
_LINES = re.compile(r'[^\n]*\n|[^\n]+')
_TRUE = ('1', 'yes', 'true', 'on')
_FALSE = ('0', 'no', 'false', 'off')
_MAX_FILENAME = 255


class PuttyKey(NamedTuple):
    name: str
    kind: str = 'string'          # int | bool | choice | string
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    choices: tuple[str, ...] = ()


# Keys whose spelling and values the module checks; any other key is written as given.
# PuTTY adds PingInterval (minutes) and PingIntervalSecs to get the keepalive interval, and
# writes them as interval // 60 and interval % 60 itself (settings.c load/save_open_settings).
PUTTY_KEYS = {k.name.lower(): k for k in (
    PuttyKey('PingIntervalSecs', 'int', minimum=0, maximum=2147483647),
    PuttyKey('PingInterval', 'int', minimum=0, maximum=35791394),
    PuttyKey('TCPKeepalives', 'bool'),
    PuttyKey('TCPNoDelay', 'bool'),
    PuttyKey('HostName'),
    PuttyKey('PortNumber', 'int', minimum=0, maximum=65535),
    PuttyKey('UserName'),
    PuttyKey('Protocol', 'choice', choices=('ssh', 'telnet', 'rlogin', 'raw', 'serial', 'supdup', 'ssh-connection')),
)}


class PuttyRequest(NamedTuple):
    key: str
    value: Optional[str]      # None removes the key


# -- session names ------------------------------------------------------------------------------
def session_filename(name: str) -> str:
    """PuTTY's file name for a session (unix/storage.c make_session_filename / mungestr)."""
    data = (name or DEFAULT_SESSION).encode('utf-8', 'surrogateescape')
    return ''.join(chr(byte) if chr(byte) in _SAFE else '%%%02X' % byte for byte in data)


def session_name(filename: str) -> str:
    """The session name a file name stands for (PuTTY's unmungestr)."""
    out, i = bytearray(), 0
    while i < len(filename):
        if filename[i] == '%' and i + 2 < len(filename) and re.match(r'[0-9A-Fa-f]{2}', filename[i + 1:i + 3]):
            out.append(int(filename[i + 1:i + 3], 16))
            i += 3
        else:
            out.extend(filename[i].encode('utf-8', 'surrogateescape'))
            i += 1
    return out.decode('utf-8', 'surrogateescape')


def check_session(name: object) -> str:
    if not isinstance(name, str):
        raise EditError('session must be a string, got %s' % type(name).__name__)
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in name):
        raise EditError('session name %r contains a control character' % name)
    if len(session_filename(name)) > _MAX_FILENAME:
        raise EditError('session name %r is too long for a file name once PuTTY escapes it' % name)
    if session_filename(name) in ('.', '..'):
        # PuTTY's allow-list keeps '.', so these names would be the sessions directory itself.
        raise EditError('session name %r would be the directory %r, not a file' % (name, session_filename(name)))
    return name or DEFAULT_SESSION


# -- values -------------------------------------------------------------------------------------
def _text(key: str, value: object) -> str:
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, (int, str)):
        text = str(value)
    else:
        raise EditError('%s: value %r has type %s; use a string, an integer or a boolean'
                        % (key, value, type(value).__name__))
    for bad in ('\n', '\r', '\0'):
        if bad in text:
            raise EditError('%s: value %r contains a line break or NUL, which a session file cannot hold' % (key, text))
    return text


def _typed(spec: PuttyKey, raw: object) -> str:
    text = _text(spec.name, raw).strip()
    if spec.kind == 'bool':
        if text.lower() in _TRUE:
            return '1'
        if text.lower() in _FALSE:
            return '0'
        raise EditError('%s: value %r is not a boolean (0/1, true/false, yes/no)' % (spec.name, raw))
    if spec.kind == 'int':
        if isinstance(raw, bool) or not re.match(r'^\d+$', text):
            raise EditError('%s: value %r is not a non-negative integer' % (spec.name, raw))
        number = int(text)
        if (spec.minimum is not None and number < spec.minimum) or (spec.maximum is not None and number > spec.maximum):
            raise EditError('%s: value %r is out of range (%s..%s)' % (spec.name, raw, spec.minimum, spec.maximum))
        return str(number)
    if spec.kind == 'choice' and text not in spec.choices:
        raise EditError('%s: value %r is not one of %s' % (spec.name, raw, ', '.join(spec.choices)))
    return text


def parse_putty_requests(settings: dict[str, object]) -> list[PuttyRequest]:
    """Validate keys and values: known keys get PuTTY's spelling and a type check."""
    requests: list[PuttyRequest] = []
    seen = set()
    for name, raw in settings.items():
        if not isinstance(name, str) or not _KEY.match(name):
            raise EditError('%r is not a PuTTY setting name (letters, digits and _, starting with a letter)' % (name,))
        spec = PUTTY_KEYS.get(name.lower())
        key = spec.name if spec else name
        if key in seen:
            raise EditError('%s is given twice in settings' % key)
        seen.add(key)
        if raw is None:
            requests.append(PuttyRequest(key, None))
        else:
            requests.append(PuttyRequest(key, _typed(spec, raw) if spec else _text(key, raw)))
    return requests


# -- the file -----------------------------------------------------------------------------------
class SessionLine:
    __slots__ = ('text', 'eol')

    def __init__(self, text: str, eol: str) -> None:
        self.text, self.eol = text, eol

    @property
    def key(self) -> Optional[str]:
        return self.text.split('=', 1)[0] if '=' in self.text else None

    @property
    def value(self) -> str:
        return self.text.split('=', 1)[1] if '=' in self.text else ''

    def render(self) -> str:
        return self.text + self.eol


class SessionFile:
    """A session file as lines; ``path``, ``existed``, ``original`` and ``render`` as ConfigFile has them."""

    def __init__(self, path: str, text: Optional[str]) -> None:
        self.path = path
        self.existed = text is not None
        self.original = text or ''
        self.lines: list[SessionLine] = []
        for raw in _LINES.findall(self.original):
            body = raw.rstrip('\n')
            eol = raw[len(body):]
            if body.endswith('\r') and eol:
                body, eol = body[:-1], '\r\n'
            self.lines.append(SessionLine(body, eol))

    def render(self) -> str:
        return ''.join(line.render() for line in self.lines)

    @property
    def changed(self) -> bool:
        return self.render() != self.original if self.existed else bool(self.lines)

    def get(self, key: str) -> Optional[str]:
        """The value PuTTY uses: the first line with the key (tree234 add keeps the first)."""
        return next((line.value for line in self.lines if line.key == key), None)

    def set(self, key: str, value: str) -> None:
        line = next((line for line in self.lines if line.key == key), None)
        if line is not None:
            if line.value != value:
                line.text = '%s=%s' % (key, value)
            return
        eol = next((line.eol for line in self.lines if line.eol), '\n')
        if self.lines and not self.lines[-1].eol:
            self.lines[-1].eol = eol
        self.lines.append(SessionLine('%s=%s' % (key, value), eol))

    def remove(self, key: str) -> None:
        self.lines = [line for line in self.lines if line.key != key]

    def ping_interval(self) -> Optional[int]:
        """Seconds between keepalives as PuTTY computes them: PingInterval * 60 + PingIntervalSecs."""
        try:
            return int(self.get('PingInterval') or 0) * 60 + int(self.get('PingIntervalSecs') or 0)
        except ValueError:
            return None


def apply_requests(session: SessionFile, requests: list[PuttyRequest]) -> list[str]:
    """Edit the file; returns notes about keys changed beyond the request (PingInterval)."""
    notes = []
    for request in requests:
        if request.value is None:
            session.remove(request.key)
        else:
            session.set(request.key, request.value)
    asked = {r.key for r in requests}
    minutes = session.get('PingInterval')
    if 'PingIntervalSecs' in asked and 'PingInterval' not in asked and minutes not in (None, '0'):
        # PuTTY adds the minutes to the seconds: leaving them would lengthen the interval asked for.
        session.set('PingInterval', '0')
        notes.append('PingInterval=%s (minutes) was set to 0: PuTTY adds it to PingIntervalSecs' % minutes)
    return notes


def putty_dir(home: str) -> str:
    """``~/.config/putty`` when it exists (PuTTY looks there first), else ``~/.putty``."""
    xdg = os.path.join(home, '.config', 'putty')
    return xdg if os.path.isdir(xdg) else os.path.join(home, '.putty')


def read_text(path: str) -> Optional[str]:
    if os.path.isdir(path):
        raise EditError('%s is a directory, not a session file' % path)
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'surrogateescape')
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EditError('cannot read %s: %s' % (path, exc)) from None


def write_session(module: Any, session: SessionFile, *, backup: bool) -> str:
    """Replace the file atomically (same steps as _apply.write_file); returns the backup path or ''."""
    fd, temp = tempfile.mkstemp(prefix='.keepalive-ssh-', dir=os.path.dirname(session.path))
    with os.fdopen(fd, 'wb') as handle:
        handle.write(session.render().encode('utf-8', 'surrogateescape'))
    backup_path = module.backup_local(session.path) if backup and session.existed else ''
    module.atomic_move(temp, session.path, unsafe_writes=module.params.get('unsafe_writes', False))
    return backup_path


class TaskFailure(Exception):
    """Fails the module; the message already says that nothing was changed."""


class PuttySessionTask:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.params = module.params

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        except (AccountError, EditError) as exc:   # raised before any write
            raise TaskFailure('%s; %s' % (exc, NOTHING_CHANGED)) from None

    def _run(self) -> dict[str, Any]:
        account = lookup_account(self.params['user'])
        name = check_session(self.params['session'])
        requests = parse_putty_requests(self.params['settings'])
        base = putty_dir(account.home)
        sessions = os.path.join(base, 'sessions')
        path = os.path.join(sessions, session_filename(name))
        refuse_links(account, path)
        session = SessionFile(path, read_text(path))
        notes = apply_requests(session, requests)
        changed, backup = self._write(session, account, base, sessions)
        result: dict[str, Any] = {
            'changed': changed, 'path': path, 'backup_file': backup, 'session': name,
            'current': {r.key: session.get(r.key) for r in requests},
            'ping_interval': session.ping_interval(), 'notes': notes,
        }
        if self.module._diff:
            result['diff'] = {'before_header': path if session.existed else '/dev/null', 'after_header': path,
                              'before': session.original, 'after': session.render()}
        return result

    def _write(self, session: SessionFile, account: Account, base: str, sessions: str) -> tuple[bool, str]:
        changed = session.changed
        backup = ''
        if changed:
            changed = ensure_private_dir(self.module, base, account) or changed
            changed = ensure_private_dir(self.module, sessions, account) or changed
            if not self.module.check_mode:
                backup = write_session(self.module, session, backup=self.params['backup'])
        if changed or session.existed:
            # Session files may hold proxy passwords: the user's alone, whatever they were before.
            changed = secure_file(self.module, session.path, owner=account, new_mode=0o600, mode=0o600,
                                  changed=changed)
        return changed, backup


__all__ = [
    'DEFAULT_SESSION', 'PUTTY_KEYS', 'PuttyKey', 'PuttyRequest', 'PuttySessionTask', 'SessionFile', 'SessionLine',
    'TaskFailure', 'apply_requests', 'check_session', 'parse_putty_requests', 'putty_dir', 'read_text',
    'session_filename', 'session_name', 'write_session',
]
