# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""A lossless model of OpenSSH configuration files (sshd_config and ssh_config).

Every line keeps its original text and is re-rendered only when edited, so
``render(parse(text)) == text`` byte for byte.  On top of the lines the model expands
``Include`` in place, tracks ``Match``/``Host`` blocks and resolves the value a keyword
takes, with the file and line it comes from.  It never runs a program: reading files goes
through a small ``Source`` so tests can feed it from memory.
"""

from __future__ import annotations

import fnmatch
import glob
import ipaddress
import os
import re
from collections.abc import Iterator, Sequence
from typing import Callable, NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import (
    CLIENT_KEYWORDS,
    SERVER_KEYWORDS,
    Keyword,
)

# sshd and ssh split a line at whitespace or one '=' (misc.c strdelim); they strip trailing
# whitespace, CR included, before parsing.
_WS = ' \t\f\r'
_DIRECTIVE = re.compile(r'^(?P<indent>[ \t\f]*)(?P<kw>[^ \t\f\r=#][^ \t\f\r=]*)'
                        r'(?P<sep>[ \t\f]*=[ \t\f]*|[ \t\f]+|)(?P<value>.*?)(?P<trail>[ \t\f\r]*)$', re.S)
_LINES = re.compile(r'[^\n]*\n|[^\n]+')
MAX_INCLUDE_DEPTH = 16   # readconf.c / servconf.c READCONF_MAX_DEPTH


class ConfigError(Exception):
    """A configuration the model cannot read (unreadable file, Include loop)."""


class Line:
    """One physical line. ``keyword`` is None for comments and blank lines."""

    __slots__ = ('text', 'eol', 'indent', 'keyword', 'key', 'sep', 'value', 'trail')

    def __init__(self, text: str, eol: str) -> None:
        self.text, self.eol = text, eol
        self.indent = self.sep = self.value = self.trail = ''
        self.keyword: Optional[str] = None
        self.key: Optional[str] = None     # lowercase keyword: OpenSSH keywords ignore case
        found = _DIRECTIVE.match(text)
        if found:
            self.indent, self.keyword, self.sep = found.group('indent'), found.group('kw'), found.group('sep')
            self.value, self.trail = found.group('value'), found.group('trail')
            self.key = self.keyword.lower()

    @classmethod
    def new(cls, keyword: str, value: str, *, indent: str = '', sep: str = ' ', eol: str = '\n') -> Line:
        return cls(indent + keyword + sep + value, eol)

    def args(self) -> list[str]:
        return split_args(self.value)

    def set_value(self, value: str) -> None:
        sep = self.sep or ' '
        self.value, self.sep = value + comment_suffix(self.value), sep
        self.text = self.indent + (self.keyword or '') + sep + self.value + self.trail

    def render(self) -> str:
        return self.text + self.eol


def split_args(text: str) -> list[str]:
    """Split arguments exactly as OpenSSH's argv_split (misc.c) with terminate_on_comment.

    Single and double quotes group, a backslash escapes a quote, a backslash or (outside quotes)
    a space, and a '#' where a new argument would start ends the line.
    """
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in ' \t':
            i += 1
            continue
        if text[i] == '#':
            break
        buf, quote = [], ''
        while i < n:
            char = text[i]
            if char == '\\' and i + 1 < n and (text[i + 1] in '\'"\\' or (not quote and text[i + 1] == ' ')):
                buf.append(text[i + 1])
                i += 2
                continue
            if not quote and char in ' \t':
                break
            if not quote and char in '"\'':
                quote = char
            elif quote and char == quote:
                quote = ''
            else:
                buf.append(char)
            i += 1
        args.append(''.join(buf))
    return args


def comment_suffix(text: str) -> str:
    """The trailing ``# comment`` of a value (with the whitespace before it), kept when the value changes."""
    i, n, quote = 0, len(text), ''
    while i < n:
        char = text[i]
        if char == '\\':
            i += 2
            continue
        if quote:
            quote = '' if char == quote else quote
        elif char in '"\'':
            quote = char
        elif char == '#' and (i == 0 or text[i - 1] in ' \t'):
            start = i
            while start > 0 and text[start - 1] in ' \t':
                start -= 1
            return text[start:]
        i += 1
    return ''


def split_lines(text: str) -> list[Line]:
    lines = []
    for raw in _LINES.findall(text):
        if raw.endswith('\r\n'):
            lines.append(Line(raw[:-2], '\r\n'))
        elif raw.endswith('\n'):
            lines.append(Line(raw[:-1], '\n'))
        else:
            lines.append(Line(raw, ''))
    return lines


class ConfigFile:
    """A file as a list of lines, with its original text for change detection and diff."""

    def __init__(self, path: str, text: Optional[str]) -> None:
        self.path = path
        self.existed = text is not None
        self.original = text or ''
        self.lines = split_lines(self.original)

    def render(self) -> str:
        return ''.join(line.render() for line in self.lines)

    @property
    def changed(self) -> bool:
        return self.render() != self.original if self.existed else bool(self.lines)

    @property
    def eol(self) -> str:
        """The line ending new lines get: the file's own (CRLF files stay CRLF)."""
        return self.lines[0].eol if self.lines and self.lines[0].eol else '\n'

    def ensure_final_newline(self) -> None:
        if self.lines and not self.lines[-1].eol:
            self.lines[-1].eol = self.eol


class Entry(NamedTuple):
    """A directive in the expanded walk: where it is and which blocks enclose it."""

    file: ConfigFile
    line: Line
    context: tuple[Entry, ...]    # enclosing Match/Host entries, outermost first

    @property
    def key(self) -> str:
        return self.line.key or ''

    @property
    def index(self) -> int:
        return next(i for i, candidate in enumerate(self.file.lines) if candidate is self.line)

    @property
    def lineno(self) -> int:
        return self.index + 1

    def where(self) -> str:
        return '%s:%d' % (self.file.path, self.lineno)


class Source:
    """Reads files and expands globs; tests replace it with an in-memory dictionary."""

    def read(self, path: str) -> Optional[str]:
        try:
            with open(path, 'rb') as handle:
                return handle.read().decode('utf-8', 'surrogateescape')
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError('cannot read %s: %s' % (path, exc)) from exc

    def glob(self, pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))


class MemorySource(Source):
    """An in-memory file system: path -> text."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, path: str) -> Optional[str]:
        return self.files.get(path)

    def glob(self, pattern: str) -> list[str]:
        return sorted(p for p in self.files if fnmatch.fnmatchcase(p, pattern) and
                      p.count('/') == pattern.count('/'))


class Flavour(NamedTuple):
    """What differs between the server and the client files."""

    name: str
    keywords: dict[str, Keyword]
    block_words: tuple[str, ...]
    include_base: str


SERVER = Flavour('server', SERVER_KEYWORDS, ('match',), '/etc/ssh')
CLIENT = Flavour('client', CLIENT_KEYWORDS, ('host', 'match'), '/etc/ssh')

# Connection information for sshd's Match evaluation (sshd -T -C user=..,host=..,addr=..).
ConnInfo = dict[str, str]


class Config:
    """A whole configuration: the main file and everything it includes, in reading order."""

    def __init__(self, main_path: str, *, flavour: Flavour = SERVER, source: Optional[Source] = None,
                 include_base: Optional[str] = None) -> None:
        self.flavour = flavour
        self.source = source or Source()
        self.include_base = include_base or flavour.include_base
        self.files: dict[str, ConfigFile] = {}
        self.main = self._load(main_path)
        self.entries: list[Entry] = []
        self.rewalk()

    # -- reading ------------------------------------------------------------------------------
    def _load(self, path: str) -> ConfigFile:
        if path not in self.files:
            self.files[path] = ConfigFile(path, self.source.read(path))
        return self.files[path]

    def add_file(self, path: str) -> ConfigFile:
        """Register a file that does not exist yet (a new drop-in); globs will see it."""
        return self._load(path)

    def _glob(self, pattern: str) -> list[str]:
        found = set(self.source.glob(pattern))
        found.update(p for p, f in self.files.items() if not f.existed and fnmatch.fnmatchcase(p, pattern))
        return sorted(found)

    def include_paths(self, line: Line) -> list[str]:
        """Files an Include line reads, in order: each pattern's matches sorted, as glob(3) does."""
        paths: list[str] = []
        for pattern in line.args():
            if self.flavour is CLIENT and pattern.startswith('~'):
                pattern = os.path.expanduser(pattern)
            if not os.path.isabs(pattern):
                pattern = os.path.join(self.include_base, pattern)
            paths.extend(self._glob(pattern))
        return paths

    def rewalk(self) -> None:
        """Recompute the expanded walk after an edit."""
        self.entries = []
        self._walk(self.main, (), 0, [self.main.path])

    def _walk(self, config_file: ConfigFile, context: tuple[Entry, ...], depth: int, stack: list[str]) -> None:
        current = context
        for line in config_file.lines:
            key = line.key
            if key is None:
                continue
            if key in self.flavour.block_words:
                block = Entry(config_file, line, context)
                self.entries.append(block)
                current = context + (block,)
                continue
            self.entries.append(Entry(config_file, line, current))
            if key == 'include':
                self._include(line, current, depth, stack)

    def _include(self, line: Line, context: tuple[Entry, ...], depth: int, stack: list[str]) -> None:
        if depth + 1 > MAX_INCLUDE_DEPTH:
            raise ConfigError('Include nested deeper than %d levels' % MAX_INCLUDE_DEPTH)
        for path in self.include_paths(line):
            if path in stack:
                raise ConfigError('Include loop: %s' % ' -> '.join(stack + [path]))
            # A Match/Host opened inside an included file ends with that file (servconf.c and
            # readconf.c restore the including file's state after the Include).
            self._walk(self._load(path), context, depth + 1, stack + [path])

    # -- queries ------------------------------------------------------------------------------
    def definitions(self, keyword: str) -> Iterator[Entry]:
        key = keyword.lower()
        return (e for e in self.entries if e.key == key)

    def blocks(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.key in self.flavour.block_words)

    def changed_files(self) -> list[ConfigFile]:
        return [f for f in self.files.values() if f.changed]


# -- pattern matching (match.c) ---------------------------------------------------------------
def match_pattern_list(name: str, patterns: str, *, fold_case: bool = False) -> bool:
    """OpenSSH match_pattern_list: any positive pattern matches and no negated one does."""
    if fold_case:
        name = name.lower()
    matched = False
    for pattern in patterns.split(','):
        negated = pattern.startswith('!')
        pattern = pattern[1:] if negated else pattern
        if fold_case:
            pattern = pattern.lower()
        if fnmatch.fnmatchcase(name, pattern.replace('[', '[[]')):
            if negated:
                return False
            matched = True
    return matched


def _address_matches(addr: str, patterns: str) -> bool:
    matched = False
    for pattern in patterns.split(','):
        negated = pattern.startswith('!')
        pattern = pattern[1:] if negated else pattern
        try:
            hit = ipaddress.ip_address(addr) in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            hit = fnmatch.fnmatchcase(addr, pattern)
        if hit:
            if negated:
                return False
            matched = True
    return matched


_SERVER_CRITERIA: dict[str, tuple[str, Callable[[str, str], bool]]] = {
    'user': ('user', match_pattern_list),
    'host': ('host', lambda value, pats: match_pattern_list(value, pats, fold_case=True)),
    'address': ('addr', _address_matches),
    'localaddress': ('laddr', _address_matches),
    'localport': ('lport', lambda value, pats: value in pats.split(',')),
    'rdomain': ('rdomain', match_pattern_list),
}


def criteria_tokens(text: str) -> list[str]:
    return split_args(text)


def normalize_criteria(text: str) -> str:
    """Criteria compared by meaning: attribute names fold case, whitespace collapses."""
    tokens = criteria_tokens(text)
    out = []
    for i, token in enumerate(tokens):
        out.append(token.lower() if i % 2 == 0 or token.lower() == 'all' else token)
    return ' '.join(out)


def server_match(criteria: str, info: Optional[ConnInfo]) -> bool:
    """Does a sshd ``Match`` line apply?  ``info`` None is the load pass (servconf.c match_cfg_line)."""
    tokens = criteria_tokens(criteria)
    if tokens and tokens[0].lower() == 'all':
        return True
    if info is None:
        return False
    result = bool(tokens)
    for attribute, patterns in zip(tokens[0::2], tokens[1::2]):
        field, test = _SERVER_CRITERIA.get(attribute.lower(), ('', lambda v, p: False))
        value = info.get(field) if field else None
        # sshd -T fills only the -C fields it was given; a criterion on a missing one fails.
        if value is None or not test(value, patterns):
            result = False
    return result


# Match criteria that need a running ssh (a command, the network, a later pass): undecidable here.
_UNDECIDABLE = ('exec', 'localnetwork', 'tagged', 'canonical', 'final')


def host_line_matches(host: str, patterns: Sequence[str]) -> bool:
    """readconf.c ``Host``: case-sensitive match_pattern per argument; a negated match vetoes."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith('!')
        glob = (pattern[1:] if negated else pattern).replace('[', '[[]')
        if fnmatch.fnmatchcase(host, glob):
            if negated:
                return False
            matched = True
    return matched


def _criterion(attribute: str, argument: str, host: str, user: str, local_user: str) -> Optional[bool]:
    if attribute in ('host', 'originalhost'):
        return match_pattern_list(host, argument, fold_case=True)
    if attribute == 'user':
        return match_pattern_list(user, argument)
    if attribute == 'localuser':
        return match_pattern_list(local_user, argument)
    return None


def match_line_matches(tokens: Sequence[str], host: str, user: str, local_user: str = '') -> bool:
    """A ``Match`` line for ``host``; criteria that need a running ssh (exec...) count as not matching."""
    if not tokens:
        return False
    result, i = True, 0
    while i < len(tokens):
        attribute = tokens[i].lower()
        negate = attribute.startswith('!')
        attribute = attribute[1:] if negate else attribute
        if attribute == 'all':
            return len(tokens) == 1 and not negate
        if attribute in _UNDECIDABLE[3:]:
            return False
        if i + 1 >= len(tokens):
            return False   # ssh: "Missing Match criteria"
        hit = _criterion(attribute, tokens[i + 1], host, user, local_user)
        if hit is None:
            return False
        if hit == negate:
            result = False
        i += 2
    return result


def client_match(block: Entry, host: str, user: str = '', local_user: str = '') -> bool:
    """Does a ``Host`` or ``Match`` block of ssh_config apply to ``host`` (and the remote ``user``)?"""
    tokens = split_args(block.line.value)
    if block.key == 'host':
        return host_line_matches(host, tokens)
    return match_line_matches(tokens, host, user, local_user)


# -- resolution ---------------------------------------------------------------------------------
class Resolved(NamedTuple):
    """The value a keyword takes and the definition it comes from (None: the built-in default)."""

    value: Optional[str]
    entry: Optional[Entry]

    def where(self) -> str:
        return self.entry.where() if self.entry else '(default)'


def active_in_load_pass(entry: Entry) -> bool:
    """sshd's first pass reads global lines and lines under ``Match all`` (match_cfg_line without a connection)."""
    return all(server_match(block.line.value, None) for block in entry.context)


def resolve_server(config: Config, keyword: str, info: Optional[ConnInfo] = None) -> Resolved:
    """The value ``sshd -T [-C ...]`` reports for ``keyword``.

    sshd reads the files twice: a load pass where only ``Match all`` blocks are active and the
    first value wins, then a pass over Match blocks only, whose first value (for keywords
    allowed in Match) overrides the global one.  A keyword not allowed in Match is ignored in
    the second pass, so e.g. TCPKeepAlive under ``Match all`` loses to a global definition.
    """
    spec = config.flavour.keywords.get(keyword.lower())
    winner: Optional[Entry] = None
    for entry in config.definitions(keyword):
        if active_in_load_pass(entry):
            winner = entry
            break
    if spec is not None and spec.in_match:
        probe = info if info is not None else {}
        for entry in config.definitions(keyword):
            if entry.context and all(server_match(b.line.value, probe) for b in entry.context):
                winner = entry
                break
    if winner is None:
        return Resolved(spec.default if spec else None, None)
    return Resolved(' '.join(winner.line.args()), winner)


def resolve_client(config: Config, keyword: str, host: str, user: str = '') -> Resolved:
    """The value ``ssh -G -F main host`` reports: the first definition in an applying block."""
    spec = config.flavour.keywords.get(keyword.lower())
    for entry in config.definitions(keyword):
        if all(client_match(block, host, user) for block in entry.context):
            return Resolved(' '.join(entry.line.args()), entry)
    return Resolved(spec.default if spec else None, None)


def global_scope(entry: Entry) -> bool:
    return not entry.context


def block_span(config_file: ConfigFile, block_line: Line, block_words: Sequence[str]) -> tuple[int, int]:
    """Line indexes [start, end) of a block's body inside its file: up to the next block word."""
    start = next(i for i, line in enumerate(config_file.lines) if line is block_line) + 1
    end = start
    while end < len(config_file.lines) and config_file.lines[end].key not in block_words:
        end += 1
    return start, end


__all__ = [
    'CLIENT', 'SERVER', 'Config', 'ConfigError', 'ConfigFile', 'ConnInfo', 'Entry', 'Flavour', 'Line', 'MemorySource',
    'Resolved', 'Source', 'active_in_load_pass', 'block_span', 'client_match', 'comment_suffix', 'global_scope',
    'host_line_matches', 'match_line_matches', 'match_pattern_list', 'normalize_criteria', 'resolve_client',
    'resolve_server', 'server_match', 'split_args', 'split_lines',
]
