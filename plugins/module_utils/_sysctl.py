# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""Linux sysctl knowledge: the keepalive timers, their limits, and which file wins at boot.

Pure functions over file texts; reading the host is the module's job. Used by the
``kernel_keepalive`` module (on the managed host) and the ``sysctl_precedence`` filter (on the
controller), so both apply the same precedence rules.
"""

from __future__ import annotations

import fnmatch
import os.path
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Optional

# sysctl.d(5), procps `sysctl --system`, systemd-sysctl: directories by precedence, highest first;
# /etc/sysctl.conf is read after all of them.
DEFAULT_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
DEFAULT_TAIL = ('/etc/sysctl.conf',)
PROC_DIR = '/proc/sys/net/ipv4'


class Timer(NamedTuple):
    option: str      # module option name
    key: str         # sysctl key
    maximum: int     # the kernel's limit (net/ipv4/sysctl_net_ipv4.c)
    meaning: str


# In the order they are written to the file.
TIMERS = (
    Timer('time', 'net.ipv4.tcp_keepalive_time', 32767, 'idle seconds before the first probe'),
    Timer('intvl', 'net.ipv4.tcp_keepalive_intvl', 32767, 'seconds between unanswered probes'),
    Timer('probes', 'net.ipv4.tcp_keepalive_probes', 127, 'unanswered probes before the reset'),
)

FIX_MARK = '# disabled by keepalive.ssh.tcp_keepalive, it overrode {own}: '
_FILE_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*\.conf$')
_LINE_RE = re.compile(r'^(?P<indent>\s*)(?P<key>-?[^=\s#;][^=]*?)\s*=\s*(?P<value>.*?)\s*$')
_GLOB_CHARS = frozenset('*?[')


class Assignment(NamedTuple):
    key: str
    value: str
    path: str
    line: int
    text: str


def range_problems(values: Mapping[str, Optional[int]]) -> list[str]:
    """One message per timer outside the kernel's range, naming the option, the value and the range."""
    problems = []
    for timer in TIMERS:
        value = values.get(timer.option)
        if value is not None and not 1 <= value <= timer.maximum:
            problems.append('%s=%s is out of range: the kernel accepts %s 1..%d (%s)'
                            % (timer.option, value, timer.key.rsplit('.', 1)[1], timer.maximum, timer.meaning))
    return problems


def file_name_problem(name: str) -> Optional[str]:
    if _FILE_NAME_RE.match(name):
        return None
    return ('file must be a plain file name ending in .conf (sysctl.d reads only *.conf), '
            'e.g. 60-keepalive-ssh.conf; got %r' % name)


def proc_path(proc_dir: str, key: str) -> str:
    return os.path.join(proc_dir, key.rsplit('.', 1)[1])


def own_file_text(settings: Mapping[str, Any]) -> str:
    """The content of the module's own sysctl.d file."""
    header = ('# Managed by Ansible (keepalive.ssh.tcp_keepalive); local edits are overwritten.\n'
              '# Kernel TCP keepalive for sockets that ask for it (ssh and sshd with TCPKeepAlive yes).\n'
              '# A silent peer is declared dead after time + intvl * probes seconds.\n')
    return header + ''.join('%s = %s\n' % (key, value) for key, value in settings.items())


def normalize_key(key: str) -> str:
    """Return a key with dots as separators, as sysctl.d(5) reads it.

    When the first separator is a slash, slashes separate and dots are literal, so the two swap.
    """
    key = key.strip().lstrip('-').strip()
    for char in key:
        if char == '/':
            return key.replace('.', '\0').replace('/', '.').replace('\0', '/')
        if char == '.':
            break
    return key


def parse_assignments(text: str, path: str) -> list[Assignment]:
    """Return the assignments of one sysctl file, comments and blank lines skipped."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in '#;':
            continue
        match = _LINE_RE.match(line)
        if match:
            found.append(Assignment(normalize_key(match['key']), match['value'], path, number, line))
    return found


def _same_value(left: Any, right: Any) -> bool:
    return ' '.join(str(left).split()) == ' '.join(str(right).split())


def _key_matches(pattern: str, key: str) -> bool:
    if _GLOB_CHARS.intersection(pattern):
        return fnmatch.fnmatchcase(key, pattern)
    return pattern == key


def effective_files(paths: Sequence[str], dirs: Sequence[str],
                    tail: Sequence[str]) -> tuple[list[str], list[dict[str, str]]]:
    """Return (applied paths in order, shadowed files) for the given candidates.

    A name in an earlier directory hides the same name in every later one; the winners are
    applied in lexical order of their names, then the tail files.
    """
    winners: dict[str, str] = {}
    shadowed = []
    for directory in dirs:
        for path in sorted(p for p in paths if os.path.dirname(p) == directory.rstrip('/')):
            name = os.path.basename(path)
            if name in winners:
                shadowed.append({'path': path, 'by': winners[name]})
            else:
                winners[name] = path
    order = [winners[name] for name in sorted(winners)]
    order.extend(p for p in tail if p in paths)
    return order, shadowed


def _fix_dest(path: str, realpath: Optional[str], fix_dir: str, tail: Sequence[str]) -> str:
    # The admin's tree is the one holding fix_dir (/etc): a file there is edited in place, through
    # its link. A file elsewhere belongs to a package or is generated: it is hidden behind a
    # same-named copy in fix_dir that upgrades do not touch (for a link in fix_dir or a tail file
    # pointing elsewhere, the copy replaces the link).
    admin_root = os.path.dirname(fix_dir.rstrip('/')) + '/'
    target = realpath or path
    if target.startswith(admin_root):
        return target
    if path in tail:
        return path
    return os.path.join(fix_dir, os.path.basename(path))


def _comment_out(text: str, lines: set[int], own_path: str) -> str:
    mark = FIX_MARK.format(own=own_path)
    return ''.join(mark + line if number in lines else line
                   for number, line in enumerate(text.splitlines(keepends=True), start=1))


def precedence(texts: Mapping[str, str], settings: Mapping[str, Any], own_path: str, *,
               dirs: Sequence[str] = DEFAULT_DIRS, tail: Sequence[str] = DEFAULT_TAIL,
               realpaths: Optional[Mapping[str, str]] = None, fix_dir: str = '/etc/sysctl.d') -> dict[str, Any]:
    """Which assignments beat ``own_path``'s ``settings`` at boot, and how to disable them.

    ``texts`` maps every candidate file to its content; the own file's content is ignored and
    replaced by ``settings``.
    """
    texts = dict(texts)
    texts[own_path] = ''.join('%s = %s\n' % (key, value) for key, value in settings.items())
    order, shadowed = effective_files(list(texts), dirs, tail)
    wanted = {normalize_key(key): (key, value) for key, value in settings.items()}
    effective: dict[str, dict[str, Any]] = {}
    overrides = []
    after_own = False
    for path in order:
        for assignment in parse_assignments(texts[path], path):
            for norm, (key, value) in wanted.items():
                if not _key_matches(assignment.key, norm):
                    continue
                effective[key] = {'value': assignment.value, 'path': path, 'line': assignment.line}
                if after_own and path != own_path and not _same_value(assignment.value, value):
                    overrides.append({'key': key, 'value': assignment.value, 'wanted': str(value),
                                      'path': path, 'line': assignment.line, 'text': assignment.text,
                                      'glob': assignment.key != norm})
        after_own = after_own or path == own_path
    return {
        'order': order,
        'shadowed': shadowed,
        'effective': effective,
        'overrides': overrides,
        'fixes': _fixes(overrides, texts, dict(realpaths or {}), own_path, fix_dir, tail),
    }


def _fixes(overrides: list[dict[str, Any]], texts: Mapping[str, str], realpaths: Mapping[str, str],
           own_path: str, fix_dir: str, tail: Sequence[str]) -> list[dict[str, str]]:
    # Globs are never fixed: commenting out `net.ipv4.*` would change keys the caller never asked about.
    lines_by_path: dict[str, set[int]] = {}
    for override in overrides:
        if not override['glob']:
            lines_by_path.setdefault(override['path'], set()).add(override['line'])
    fixes = []
    seen = set()
    for path, lines in lines_by_path.items():
        dest = _fix_dest(path, realpaths.get(path), fix_dir, tail)
        if dest in seen:  # two links to one file: fix the target once
            continue
        seen.add(dest)
        fixes.append({'path': path, 'dest': dest, 'content': _comment_out(texts[path], lines, own_path)})
    return fixes


def override_message(override: Mapping[str, Any], own_path: str, fixing: bool) -> str:
    """The warning for one definition that would win over the own file at the next boot."""
    if override['glob']:
        advice = 'A glob assignment is never fixed automatically: edit it by hand.'
    elif fixing:
        advice = 'It was commented out (fix_overrides=true).'
    else:
        advice = 'Set fix_overrides=true (role: tcp_keepalive_fix_overrides) to comment it out.'
    return ('%s line %d (%s) is applied after %s and sets %s to %s instead of %s: the running kernel has '
            '%s now, but the next boot would bring %s back. %s'
            % (override['path'], override['line'], override['text'].strip(), own_path, override['key'],
               override['value'], override['wanted'], override['wanted'], override['value'], advice))


__all__ = ['DEFAULT_DIRS', 'DEFAULT_TAIL', 'FIX_MARK', 'PROC_DIR', 'TIMERS', 'Assignment', 'Timer',
           'effective_files', 'file_name_problem', 'normalize_key', 'override_message', 'own_file_text',
           'parse_assignments', 'precedence', 'proc_path', 'range_problems']
