# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""Plan an edit of an ssh_config so that ``ssh -G`` reports the requested values for a Host pattern.

ssh keeps the FIRST value it obtains for a keyword, reading ``Host`` and ``Match`` blocks in file
order with ``Include`` expanded in place (ssh_config(5)).  ``ClientEditor`` therefore works out,
for a host name that matches the requested pattern (the probe), which definition ssh uses today
and edits that one, or inserts a new line where it will be read first for the probe and after
the definitions that belong to other hosts.  It never moves, reorders or drops a line it does not
edit.  Like ``ServerEditor`` it works on the model only; validation with the real ``ssh -G`` and
writing live in the task.

Decisions, for a keyword that no definition in scope sets yet:

* ``host: '*'`` (the default for every host): a file without any block gets a plain global line
  at its end; otherwise the line goes at the end of the last ``Host *`` / ``Match all`` block that
  comes after every host-specific definition of the keyword, or into a new ``Host *`` block at the
  end of the file.  Defaults belong after the specific blocks (ssh_config(5), DESCRIPTION).
* a specific pattern: into the first ``Host <pattern>`` block that is read before the definition
  ssh uses today for the probe; otherwise a new ``Host <pattern>`` block is inserted right before
  that definition's outermost block.  When that definition is a global line (no block), nothing
  written after it can win, so the new block goes right above it and is closed with ``Host *``,
  which puts the following global lines under a block that applies to every host: same meaning,
  same bytes.  Without any definition the new block goes before the first ``Host *`` /
  ``Match all`` of the file (or at its end).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import EditError, Request, same_value
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    Config,
    ConfigFile,
    Entry,
    Line,
    block_span,
    client_match,
    host_line_matches,
    split_args,
)

# A host name no real Host pattern names: RFC 2606 reserves .invalid.
DEFAULT_PROBE = 'keepalive-ssh-probe.invalid'
# `Match user` compares the remote user; tests and validation pass it to `ssh -G -l`.
PROBE_USER = 'keepalive-ssh-probe'
DEFAULT_INDENT = '    '
# Characters ssh accepts in a host name (ssh.c valid_hostname) that are safe in a Host line,
# plus the two pattern characters of ssh_config(5) PATTERNS.
_PATTERN = re.compile(r'^!?[A-Za-z0-9_.*?:%][A-Za-z0-9_.*?:%-]*$')
_FILLERS = ('keepalive-ssh-probe', 'x', '0')


# -- Host patterns ------------------------------------------------------------------------------
def parse_host(host: object) -> list[str]:
    """The patterns of a requested ``Host`` line; EditError with the reason when ssh would misread it."""
    if not isinstance(host, str):
        raise EditError('host must be a string of Host patterns, got %s' % type(host).__name__)
    for bad, why in (('\n', 'a line break'), ('\r', 'a line break'), ('#', '"#", which ssh reads as a comment'),
                     ('"', 'a double quote'), ('=', '"="'),
                     (',', 'a comma (Host patterns are separated by spaces; ssh reads "a,b" as one pattern)')):
        if bad in host:
            raise EditError('host %r contains %s' % (host, why))
    tokens = host.split()
    if not tokens:
        raise EditError('host is empty; give a Host pattern such as "*" or "*.example.com"')
    for token in tokens:
        if not _PATTERN.match(token):
            raise EditError('host pattern %r is not valid: use letters, digits and . _ - : %% with the wildcards '
                            '* and ?, optionally negated with a leading !' % token)
    if all(token.startswith('!') for token in tokens):
        raise EditError('host %r has only negated patterns; ssh never applies such a Host block' % host)
    return tokens


def probe_hosts(patterns: Sequence[str]) -> list[str]:
    """One host name per positive pattern that the whole pattern list matches."""
    if list(patterns) == ['*']:
        return [DEFAULT_PROBE]
    probes: list[str] = []
    for pattern in patterns:
        if pattern.startswith('!'):
            continue
        candidates = [pattern.replace('*', filler).replace('?', filler[0]) for filler in _FILLERS]
        found = next((c for c in candidates if host_line_matches(c, patterns)), None)
        if found is None:
            raise EditError('no host name matches %r together with the negated patterns of %r'
                            % (pattern, ' '.join(patterns)))
        if found not in probes:
            probes.append(found)
    return probes


def is_universal_block(block: Entry) -> bool:
    """``Host *`` (without negations) or ``Match all``: applies to every host by its words alone."""
    tokens = split_args(block.line.value)
    if block.key == 'host':
        return '*' in tokens and not any(t.startswith('!') for t in tokens)
    return [t.lower() for t in tokens] == ['all']


def universal(entry: Entry) -> bool:
    return all(is_universal_block(block) for block in entry.context)


def criteria_attributes(tokens: Sequence[str]) -> list[str]:
    """The attribute words of a ``Match`` line (lowercase, without ``!``), skipping their arguments."""
    attributes, i = [], 0
    while i < len(tokens):
        attribute = tokens[i].lower().lstrip('!')
        attributes.append(attribute)
        i += 1 if attribute in ('all', 'canonical', 'final') else 2
    return attributes


def has_exec(config: Config) -> Optional[Entry]:
    """The first ``Match`` that would make ``ssh -G`` run a command."""
    for block in config.blocks():
        if block.key == 'match' and 'exec' in criteria_attributes(split_args(block.line.value)):
            return block
    return None


def first_definition(config: Config, keyword: str, host: str, user: str = PROBE_USER,
                     local_user: str = '') -> Optional[Entry]:
    """The definition ``ssh -G -F main host`` uses: the first one whose blocks all apply."""
    for entry in config.definitions(keyword):
        if all(client_match(block, host, user, local_user) for block in entry.context):
            return entry
    return None


def effective_value(config: Config, request_keyword: str, host: str, user: str = PROBE_USER,
                    local_user: str = '') -> Optional[str]:
    entry = first_definition(config, request_keyword, host, user, local_user)
    return ' '.join(entry.line.args()) if entry else None


class ClientEditor:
    """Edits a client Config in memory for one Host pattern.

    ``shadowed`` lists host-specific definitions left alone that ssh reads before the requested
    value (they win for the hosts they match); ``touched`` holds the head lines of blocks whose
    body was edited or extended, for callers that check every other block stayed byte-identical.
    """

    def __init__(self, config: Config, *, host: str = '*', user: str = PROBE_USER, local_user: str = '') -> None:
        self.config = config
        self.patterns = parse_host(host)
        self.host = ' '.join(self.patterns)
        self.default = self.patterns == ['*']
        self.user, self.local_user = user, local_user
        self.probes = probe_hosts(self.patterns)
        self.shadowed: list[dict[str, str]] = []
        self.touched: list[Line] = []

    # -- entry point ------------------------------------------------------------------------
    def apply(self, requests: list[Request]) -> None:
        for request in requests:
            if request.value is None:
                self._remove(request)
            else:
                for probe in self.probes:
                    self._set(request, probe)
                    self.config.rewalk()
            self.config.rewalk()
        for request in requests:
            self._report_shadowed(request)

    def applies(self, entry: Entry, probe: str) -> bool:
        return all(client_match(block, probe, self.user, self.local_user) for block in entry.context)

    def first(self, keyword: str, probe: str) -> Optional[Entry]:
        return first_definition(self.config, keyword, probe, self.user, self.local_user)

    def is_target_block(self, block: Entry) -> bool:
        return block.key == 'host' and split_args(block.line.value) == self.patterns

    def in_target(self, entry: Entry) -> bool:
        return bool(entry.context) and self.is_target_block(entry.context[-1])

    # -- setting ------------------------------------------------------------------------------
    def _set(self, request: Request, probe: str) -> None:
        current = self.first(request.keyword.name, probe)
        if request.keyword.additive:
            self._add(request, probe)
        elif current is not None and (self.default or self.in_target(current)):
            self._edit(current, request)
        elif self.default:
            self._insert_default(request)
        else:
            self._insert_specific(request, probe, current)

    def _add(self, request: Request, probe: str) -> None:
        """Accumulating keywords (SendEnv, IdentityFile...): add the value unless an applying line has it."""
        for entry in self.config.definitions(request.keyword.name):
            if self.applies(entry, probe) and same_value(request.keyword, ' '.join(entry.line.args()),
                                                         request.canonical or ''):
                return
        if self.default:
            self._insert_default(request)
        else:
            self._insert_specific(request, probe, None)

    def _edit(self, entry: Entry, request: Request) -> None:
        if not same_value(request.keyword, ' '.join(entry.line.args()), request.canonical or ''):
            entry.line.set_value(request.value or '')
            self._touch(entry)

    def _insert_default(self, request: Request) -> None:
        main = self.config.main
        words = self.config.flavour.block_words
        if not any(line.key in words for line in main.lines):
            self._append_lines(main, [Line.new(request.keyword.name, request.value or '', eol=main.eol)])
            return
        last_definition = max((self._position(e) for e in self.config.definitions(request.keyword.name)),
                              default=-1)
        blocks = [b for b in self.config.blocks() if is_universal_block(b) and universal(b)]
        if blocks and self._body_end(blocks[-1]) >= last_definition:
            self._insert_in_block(blocks[-1], request)
        else:
            self._append_block(request)

    def _insert_specific(self, request: Request, probe: str, current: Optional[Entry]) -> None:
        limit = self._position(current) if current is not None else len(self.config.entries)
        for block in self.config.blocks():
            if self.is_target_block(block) and self.applies(block, probe) and self._body_end(block) < limit:
                self._insert_in_block(block, request)
                return
        if current is None:
            anchor = next((b for b in self.config.blocks() if not b.context and b.file is self.config.main
                           and is_universal_block(b)), None)
            if anchor is None:
                self._append_block(request)
            else:
                self._insert_block_before(anchor.file, anchor.line, request, reset=False)
        elif current.context:
            outer = current.context[0]
            self._insert_block_before(outer.file, outer.line, request, reset=False)
        else:
            self._insert_block_before(current.file, current.line, request, reset=True)

    # -- removing -----------------------------------------------------------------------------
    def _remove(self, request: Request) -> None:
        for entry in reversed(list(self.config.definitions(request.keyword.name))):
            if (universal(entry) if self.default else self.in_target(entry)):
                self._touch(entry)
                entry.file.lines.pop(entry.index)

    # -- positions in the expanded walk ----------------------------------------------------------
    def _position(self, entry: Entry) -> int:
        return next(i for i, candidate in enumerate(self.config.entries) if candidate.line is entry.line)

    def _body_end(self, block: Entry) -> int:
        """Walk position of the last entry read inside ``block`` (the block itself when empty)."""
        end = self._position(block)
        for i, entry in enumerate(self.config.entries):
            if any(outer.line is block.line for outer in entry.context):
                end = i
        return end

    # -- line operations ----------------------------------------------------------------------
    def _touch(self, entry: Entry) -> None:
        if entry.context and entry.context[-1].line not in self.touched:
            self.touched.append(entry.context[-1].line)

    def _indent(self, config_file: ConfigFile) -> str:
        inside, indent = False, ''
        for line in config_file.lines:
            if line.key in self.config.flavour.block_words:
                inside = True
            elif inside and line.keyword and line.indent:
                indent = line.indent
                break
        return indent or DEFAULT_INDENT

    def _insert_in_block(self, block: Entry, request: Request) -> None:
        lines = block.file.lines
        start, end = block_span(block.file, block.line, self.config.flavour.block_words)
        body = [i for i in range(start, end) if lines[i].keyword]
        indent = lines[body[0]].indent if body else self._indent(block.file)
        at = body[-1] + 1 if body else start
        if at == len(lines):
            block.file.ensure_final_newline()
        lines.insert(at, Line.new(request.keyword.name, request.value or '', indent=indent, eol=block.file.eol))
        if block.line not in self.touched:
            self.touched.append(block.line)

    def _new_block(self, config_file: ConfigFile, request: Request) -> list[Line]:
        eol = config_file.eol
        return [Line('Host ' + self.host, eol),
                Line.new(request.keyword.name, request.value or '', indent=self._indent(config_file), eol=eol)]

    def _append_lines(self, config_file: ConfigFile, new: list[Line]) -> None:
        config_file.ensure_final_newline()
        config_file.lines.extend(new)

    def _append_block(self, request: Request) -> None:
        main = self.config.main
        new = self._new_block(main, request)
        if main.lines and main.lines[-1].text.strip():
            new.insert(0, Line('', main.eol))
        self._append_lines(main, new)

    def _insert_block_before(self, config_file: ConfigFile, line: Line, request: Request, *, reset: bool) -> None:
        """A new block right above ``line`` and the comments directly above it."""
        lines = config_file.lines
        at = next(i for i, candidate in enumerate(lines) if candidate is line)
        while at > 0 and not lines[at - 1].keyword and lines[at - 1].text.strip():
            at -= 1
        new = self._new_block(config_file, request)
        new.append(Line('Host *', config_file.eol) if reset else Line('', config_file.eol))
        lines[at:at] = new

    # -- reporting ----------------------------------------------------------------------------
    def _report_shadowed(self, request: Request) -> None:
        """Definitions for other hosts that ssh reads before the requested value."""
        if request.value is None or request.keyword.additive:
            return
        probe = self.probes[0]
        winner = self.first(request.keyword.name, probe)
        for entry in self.config.definitions(request.keyword.name):
            if winner is not None and entry.line is winner.line:
                break
            value = ' '.join(entry.line.args())
            if not self.applies(entry, probe) and not same_value(request.keyword, value, request.canonical or ''):
                self.shadowed.append({'keyword': request.keyword.name, 'value': value, 'where': entry.where(),
                                      'block': entry.context[-1].line.text.strip() if entry.context else ''})


def predicted(config: Config, requests: list[Request], host: str, user: str = PROBE_USER,
              local_user: str = '') -> dict[str, Optional[str]]:
    """What the model says ``ssh -G host`` reports for the requested (first-wins) keywords."""
    return {r.keyword.name: effective_value(config, r.keyword.name, host, user, local_user)
            for r in requests if not r.keyword.additive}


__all__ = [
    'DEFAULT_PROBE', 'PROBE_USER', 'ClientEditor', 'criteria_attributes', 'effective_value',
    'first_definition',
    'has_exec', 'is_universal_block', 'parse_host', 'predicted',
    'probe_hosts', 'universal',
]
