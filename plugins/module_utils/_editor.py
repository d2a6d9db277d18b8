# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""Plan an edit of a whole sshd configuration so that sshd really uses the requested values.

``ServerEditor`` works on the model only: it decides which line of which file to change,
insert, remove or disable.  Validation with the real ``sshd`` and writing files live in
``apply_candidate`` and the runtime module, so the planning is testable without a host.
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import (
    COUNTMAX_ZERO_CHANGED_IN,
    Keyword,
    KeywordError,
    Version,
    canonical_value,
    check_value,
    format_version,
    lookup,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    Config,
    ConfigFile,
    Entry,
    Line,
    active_in_load_pass,
    block_span,
    global_scope,
    normalize_criteria,
    resolve_server,
)

PLACEMENTS = ('in_place', 'main_file', 'drop_in')
DISABLED_MARKER = '# disabled by keepalive.ssh: '


class EditError(Exception):
    """A request the editor refuses; the message names the bad value."""


class Request(NamedTuple):
    keyword: Keyword
    value: Optional[str]        # None removes the keyword
    canonical: Optional[str]


def to_text(value: object) -> str:
    """YAML gives booleans and numbers; sshd wants yes/no and decimal text."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (int, str)):
        return str(value)
    raise KeywordError('value %r has type %s; use a string, an integer or a boolean'
                       % (value, type(value).__name__))


def parse_requests(table: dict[str, Keyword], settings: dict[str, object], *, version: Optional[Version],
                   in_match: bool) -> list[Request]:
    """Validate every requested keyword and value before anything is planned."""
    requests = []
    for name, raw in settings.items():
        try:
            keyword = lookup(table, name)
            if any(r.keyword.name == keyword.name for r in requests):
                raise KeywordError('%s is given twice in settings (keywords are case-insensitive)' % keyword.name)
            if keyword.name in ('Include', 'Match', 'Host'):
                raise KeywordError('%s cannot be set with settings; it structures the file' % keyword.name)
            if version is not None and keyword.since > version:
                raise KeywordError('%s needs OpenSSH %s or later; this host has %s'
                                   % (keyword.name, format_version(keyword.since), format_version(version)))
            if in_match and table.get('match') and not keyword.in_match:
                raise KeywordError('%s is not allowed inside a Match block (sshd_config(5))' % keyword.name)
            if raw is None:
                requests.append(Request(keyword, None, None))
                continue
            text = to_text(raw).strip()
            requests.append(Request(keyword, text, check_value(keyword, text)))
        except KeywordError as exc:
            raise EditError('%s: %s' % (name, exc)) from None
    return requests


def countmax_zero_warning(version: Version) -> str:
    if version >= COUNTMAX_ZERO_CHANGED_IN:
        return ('ClientAliveCountMax 0 on OpenSSH %s disables the dead-client disconnect entirely: sshd never '
                'drops an unresponsive or idle client for it (changed in 8.2). It is not an idle timeout.'
                % format_version(version))
    return ('ClientAliveCountMax 0 on OpenSSH %s disconnects a client after one ClientAliveInterval without '
            'client traffic; from OpenSSH 8.2 on the same line means never disconnect.' % format_version(version))


def same_value(keyword: Keyword, current: str, canonical: str) -> bool:
    try:
        return canonical_value(keyword, current) == canonical
    except KeywordError:
        return False


class ServerEditor:
    """Edits a sshd Config in memory.  ``shadowed`` lists definitions left deliberately alone."""

    def __init__(self, config: Config, *, placement: str = 'in_place', drop_in_name: str = '00-keepalive-ssh.conf',
                 match: Optional[str] = None) -> None:
        if placement not in PLACEMENTS:
            raise EditError('placement %r is not one of %s' % (placement, ', '.join(PLACEMENTS)))
        self.config = config
        self.placement = placement
        self.drop_in_name = drop_in_name
        self.match = normalize_criteria(match) if match is not None and match.strip() else None
        if match is not None and self.match is None:
            raise EditError('match %r is empty; give criteria such as "User backup" or omit it' % match)
        self.shadowed: list[dict[str, str]] = []

    # -- entry point ------------------------------------------------------------------------
    def apply(self, requests: list[Request]) -> None:
        for request in requests:
            if self.match is not None:
                self._apply_in_match(request)
            elif request.value is None:
                self._remove(self._global_definitions(request.keyword))
            else:
                self._apply_global(request)
            self.config.rewalk()
        if self.match is None:
            for request in requests:
                self._report_shadowed(request)

    # -- global settings --------------------------------------------------------------------
    def _global_definitions(self, keyword: Keyword) -> list[Entry]:
        """Definitions sshd's load pass reads, in order: the first one is the global value."""
        return [e for e in self.config.definitions(keyword.name) if active_in_load_pass(e)]

    def _apply_global(self, request: Request) -> None:
        target = self._target_file()
        if target is None:
            self._set_in_place(request)
        else:
            self._set_in_file(request, target)
        self._fix_match_all(request)

    def _target_file(self) -> Optional[ConfigFile]:
        if self.placement == 'main_file':
            return self.config.main
        if self.placement == 'drop_in':
            return self._drop_in_file()
        return None

    def _set_in_place(self, request: Request) -> None:
        definitions = self._global_definitions(request.keyword)
        if definitions:
            self._set_value(definitions[0].line, request)
        else:
            self._insert_global(self.config.main, request)

    def _set_in_file(self, request: Request, target: ConfigFile) -> None:
        """Keep the value in ``target`` and disable earlier definitions elsewhere that would win."""
        own = [e for e in self._global_definitions(request.keyword) if e.file is target]
        if own:
            self._set_value(own[0].line, request)
        else:
            self._insert_global(target, request)
        self.config.rewalk()
        while True:
            first = self._global_definitions(request.keyword)[0]
            if first.file is target:
                break
            self._disable(first)
            self.config.rewalk()

    def _fix_match_all(self, request: Request) -> None:
        """``Match all`` blocks apply to every connection: a definition there overrides the global one."""
        if not request.keyword.in_match:
            return
        for entry in self.config.definitions(request.keyword.name):
            if entry.context and active_in_load_pass(entry):
                self._set_value(entry.line, request)

    def _drop_in_file(self) -> ConfigFile:
        for entry in self.config.entries:
            if entry.key == 'include' and global_scope(entry) and entry.file is self.config.main:
                for pattern in entry.line.args():
                    if not os.path.isabs(pattern):
                        pattern = os.path.join(self.config.include_base, pattern)
                    candidate = os.path.join(os.path.dirname(pattern), self.drop_in_name)
                    if fnmatch.fnmatchcase(candidate, pattern):
                        drop_in = self.config.add_file(candidate)
                        self.config.rewalk()
                        return drop_in
        raise EditError('placement drop_in needs an Include of a drop-in directory in %s whose pattern '
                        'matches %r; none found' % (self.config.main.path, self.drop_in_name))

    # -- Match-scoped settings ----------------------------------------------------------------
    def _match_block(self) -> Optional[Entry]:
        for block in self.config.blocks():
            if normalize_criteria(block.line.value) == self.match:
                return block
        return None

    def _apply_in_match(self, request: Request) -> None:
        block = self._match_block()
        inside = [e for e in self.config.definitions(request.keyword.name) if e.context and e.context[-1] is block]
        if request.value is None:
            self._remove(inside if block is not None else [])
        elif inside:
            self._set_value(inside[0].line, request)
        elif block is not None:
            self._insert_in_block(block, request)
        else:
            self._append_block(request)

    def _insert_in_block(self, block: Entry, request: Request) -> None:
        lines = block.file.lines
        start, end = block_span(block.file, block.line, self.config.flavour.block_words)
        body = [i for i in range(start, end) if lines[i].keyword]
        indent = lines[body[0]].indent if body else '    '
        at = body[-1] + 1 if body else start
        if at == len(lines):
            block.file.ensure_final_newline()
        lines.insert(at, Line.new(request.keyword.name, request.value or '', indent=indent, eol=block.file.eol))

    def _append_block(self, request: Request) -> None:
        main = self.config.main
        main.ensure_final_newline()
        eol = main.eol
        if main.lines and main.lines[-1].text.strip():
            main.lines.append(Line('', eol))
        main.lines.append(Line('Match ' + (self.match or ''), eol))
        main.lines.append(Line.new(request.keyword.name, request.value or '', indent='    ', eol=eol))

    # -- line operations ----------------------------------------------------------------------
    def _set_value(self, line: Line, request: Request) -> None:
        if not same_value(request.keyword, ' '.join(line.args()), request.canonical or ''):
            line.set_value(request.value or '')

    def _insert_global(self, target: ConfigFile, request: Request) -> None:
        """A new global line goes after the stock commented default, else before the first Match."""
        at = self._commented_default(target, request.keyword) or self._global_insert_point(target)
        if at == len(target.lines):
            target.ensure_final_newline()
        target.lines.insert(at, Line.new(request.keyword.name, request.value or '', eol=target.eol))

    def _commented_default(self, target: ConfigFile, keyword: Keyword) -> Optional[int]:
        """Index after a ``#Keyword value`` line of the global section (stock files list defaults so)."""
        pattern = re.compile(r'^[ \t]*#[ \t]*%s([ \t=]|$)' % re.escape(keyword.name), re.IGNORECASE)
        for index, line in enumerate(target.lines):
            if line.key in self.config.flavour.block_words:
                return None
            if not line.keyword and pattern.match(line.text):
                return index + 1
        return None

    def _global_insert_point(self, target: ConfigFile) -> int:
        lines = target.lines
        words = self.config.flavour.block_words
        at = next((i for i, line in enumerate(lines) if line.key in words), len(lines))
        if at == len(lines):
            return at
        # Comments and blank lines right above a Match belong to it; stay above them.
        while at > 0 and not lines[at - 1].keyword:
            at -= 1
        return at

    def _disable(self, entry: Entry) -> None:
        lines = entry.file.lines
        index = entry.index
        lines[index] = Line(DISABLED_MARKER + lines[index].text, lines[index].eol)

    def _remove(self, entries: list[Entry]) -> None:
        for entry in entries:
            entry.file.lines.pop(entry.index)

    # -- reporting ----------------------------------------------------------------------------
    def _report_shadowed(self, request: Request) -> None:
        """Match blocks for particular users or hosts that set the keyword differently are left alone."""
        if request.value is None:
            return
        for entry in self.config.definitions(request.keyword.name):
            if not entry.context or active_in_load_pass(entry):
                continue
            if not same_value(request.keyword, ' '.join(entry.line.args()), request.canonical or ''):
                self.shadowed.append({'keyword': request.keyword.name, 'value': ' '.join(entry.line.args()),
                                      'where': entry.where(), 'match': entry.context[-1].line.value})


def predicted(config: Config, requests: list[Request]) -> dict[str, str]:
    """What the model says sshd -T will report for the requested keywords (global scope)."""
    return {r.keyword.name: str(resolve_server(config, r.keyword.name).value) for r in requests}


def unmet(config: Config, requests: list[Request], dump: dict[str, str]) -> list[tuple[str, str, str]]:
    """Requested global values that ``sshd -T`` does not report: (keyword, wanted, reported)."""
    misses = []
    for request in requests:
        reported = dump.get(request.keyword.name.lower())
        if request.value is None or reported is None:
            continue
        if not same_value(request.keyword, reported, request.canonical or ''):
            misses.append((request.keyword.name, request.value, reported))
    return misses


__all__ = [
    'DISABLED_MARKER', 'EditError', 'PLACEMENTS', 'Request', 'ServerEditor', 'countmax_zero_warning',
    'parse_requests', 'predicted', 'same_value', 'to_text', 'unmet',
]
