# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which sysctl assignment wins at boot, and what would override a role's file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: sysctl_precedence
author: keepalive.ssh contributors
version_added: 0.1.0
short_description: Find sysctl.d definitions that override a file's values at boot
description:
  - Models how C(sysctl --system) and C(systemd-sysctl) read sysctl configuration at boot.
  - Directories are searched in precedence order (by default V(/etc/sysctl.d), V(/run/sysctl.d),
    V(/usr/local/lib/sysctl.d), V(/usr/lib/sysctl.d), V(/lib/sysctl.d)). A file name found in an
    earlier directory shadows the same name in every later directory.
  - The remaining files are read in lexical order of their names, then the O(tail) files
    (V(/etc/sysctl.conf)); for every key the LAST assignment wins.
  - Given the planned settings of one file (O(own_path)), the filter reports every assignment
    that would be applied after that file and set a different value, and proposes a fixed
    content for each such file with the offending lines commented out.
  - A fix for a file under V(/etc) edits that file; a fix for a file elsewhere (V(/run), V(/usr/lib), ...)
    is a copy of the file under V(/etc/sysctl.d) with the same name, which shadows the original.
  - Glob assignments (C(net.ipv4.*)) are reported but never fixed, because commenting them out
    would change other keys too.
  - "Pure function: it reads nothing from the managed host. Feed it C(ansible.builtin.slurp) results."
options:
  _input:
    description:
      - The candidate files, in any order.
      - Each item is a dictionary with the path in C(path) or C(source) (or in the C(path) of the loop
        C(item) of a registered loop result) and the text in C(content).
        When C(encoding) is V(base64) (as returned by C(ansible.builtin.slurp)), C(content) is decoded.
      - Items that carry C(failed) or C(skipped), or have no C(content), count as empty and are
        listed in RV(_value.unreadable).
    type: list
    elements: dict
    required: true
  settings:
    description: >-
      The keys and values the own file sets, for example
      C({"net.ipv4.tcp_keepalive_time": 300}).
    type: dict
    required: true
  own_path:
    description: >-
      Absolute path of the file whose values must win. Its current content is ignored;
      O(settings) is used instead.
    type: str
    required: true
  dirs:
    description: The sysctl.d directories, highest precedence first.
    type: list
    elements: str
    default: [/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d]
  tail:
    description: Files read after all sysctl.d files, in this order.
    type: list
    elements: str
    default: [/etc/sysctl.conf]
  realpaths:
    description:
      - Path of a symbolic link to the file it points to (C(lnk_source) of C(ansible.builtin.stat)).
      - A fix for a link under V(/etc) is written to the file it points to, once, however many links lead there.
    type: dict
    default: {}
  fix_dir:
    description: Directory where shadowing copies of files outside V(/etc) are written.
    type: str
    default: /etc/sysctl.d
"""

EXAMPLES = r"""
- name: Read every candidate file
  ansible.builtin.slurp:
    path: "{{ item }}"
  loop: "{{ sysctl_files }}"
  register: sysctl_slurp

- name: Compute the overrides of our file
  ansible.builtin.set_fact:
    sysctl_report: >-
      {{ sysctl_slurp.results | keepalive.ssh.sysctl_precedence(
           {'net.ipv4.tcp_keepalive_time': 300},
           '/etc/sysctl.d/60-keepalive-ssh.conf') }}

- name: Show what would override the value after a reboot
  ansible.builtin.debug:
    var: sysctl_report.overrides
"""

RETURN = r"""
_value:
  description: The precedence report.
  type: dict
  contains:
    order:
      description: Paths of the files in the order they are applied (shadowed files left out).
      type: list
      elements: str
    shadowed:
      description: Files hidden by a file of the same name in a directory of higher precedence.
      type: list
      elements: dict
      contains:
        path:
          description: The hidden file.
          type: str
        by:
          description: The file that hides it.
          type: str
    effective:
      description: For every key of O(settings), the assignment that wins at boot once the own file is in place.
      type: dict
      contains:
        value:
          description: The value that wins.
          type: str
        path:
          description: The file it comes from.
          type: str
        line:
          description: Line number in that file (1-based).
          type: int
    overrides:
      description: Assignments applied after the own file that set a different value.
      type: list
      elements: dict
      contains:
        key:
          description: The key as written in O(settings).
          type: str
        value:
          description: The value the other file sets.
          type: str
        wanted:
          description: The value in O(settings).
          type: str
        path:
          description: The overriding file.
          type: str
        line:
          description: Line number (1-based).
          type: int
        text:
          description: The line as written.
          type: str
        glob:
          description: Whether the assignment uses a glob pattern (never fixed automatically).
          type: bool
    fixes:
      description: One entry per file to rewrite, with the overriding lines commented out.
      type: list
      elements: dict
      contains:
        path:
          description: The overriding file.
          type: str
        dest:
          description: Where the fixed content goes (the file itself under V(/etc), else a shadowing copy).
          type: str
        content:
          description: The fixed content.
          type: str
    unreadable:
      description: Paths that could not be read and were taken as empty.
      type: list
      elements: str
"""

import base64
import fnmatch
import os.path
import re
import typing as t

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

DEFAULT_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
DEFAULT_TAIL = ("/etc/sysctl.conf",)
FIX_MARK = "# disabled by keepalive.ssh.tcp_keepalive, it overrode {own}: "
_LINE_RE = re.compile(r"^(?P<indent>\s*)(?P<key>-?[^=\s#;][^=]*?)\s*=\s*(?P<value>.*?)\s*$")
_GLOB_CHARS = frozenset("*?[")


class _Assignment(t.NamedTuple):
    key: str
    value: str
    path: str
    line: int
    text: str


def normalize_key(key: str) -> str:
    """Return a key with dots as separators, as sysctl.d(5) reads it.

    When the first separator is a slash, slashes separate and dots are literal, so the two swap.
    """
    key = key.strip().lstrip("-").strip()
    for char in key:
        if char == "/":
            return key.replace(".", "\0").replace("/", ".").replace("\0", "/")
        if char == ".":
            break
    return key


def parse_assignments(text: str, path: str) -> list[_Assignment]:
    """Return the assignments of one sysctl file, comments and blank lines skipped."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        match = _LINE_RE.match(line)
        if match:
            found.append(_Assignment(normalize_key(match["key"]), match["value"], path, number, line))
    return found


def _file_text(item: t.Mapping[str, t.Any]) -> str | None:
    if item.get("failed") or item.get("skipped") or "content" not in item:
        return None
    content = item["content"]
    if item.get("encoding") == "base64":
        return to_text(base64.b64decode(content), errors="surrogate_or_strict")
    return to_text(content)


def _file_path(item: t.Mapping[str, t.Any]) -> str | None:
    """Return the path of a file item: ``path``, ``source`` (slurp) or the loop item's ``path``."""
    loop_item = item.get("item")
    for candidate in (
        item.get("path"),
        item.get("source"),
        loop_item.get("path") if isinstance(loop_item, t.Mapping) else loop_item,
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _same_value(left: t.Any, right: t.Any) -> bool:
    return " ".join(str(left).split()) == " ".join(str(right).split())


def _key_matches(pattern: str, key: str) -> bool:
    if _GLOB_CHARS.intersection(pattern):
        return fnmatch.fnmatchcase(key, pattern)
    return pattern == key


def _effective_files(
    by_path: dict[str, t.Any], dirs: t.Sequence[str], tail: t.Sequence[str]
) -> tuple[list[str], list[dict[str, str]]]:
    """Return (applied paths in order, shadowed files) for the given candidates."""
    winners: dict[str, str] = {}
    shadowed = []
    for directory in dirs:
        for path in sorted(p for p in by_path if os.path.dirname(p) == directory.rstrip("/")):
            name = os.path.basename(path)
            if name in winners:
                shadowed.append({"path": path, "by": winners[name]})
            else:
                winners[name] = path
    order = [winners[name] for name in sorted(winners)]
    order.extend(p for p in tail if p in by_path)
    return order, shadowed


def _fix_dest(path: str, realpath: str | None, fix_dir: str) -> str:
    target = realpath or path
    if target.startswith("/etc/"):
        return target
    return os.path.join(fix_dir, os.path.basename(path))


def _comment_out(text: str, lines: set[int], own_path: str) -> str:
    out = []
    mark = FIX_MARK.format(own=own_path)
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        out.append(mark + line if number in lines else line)
    return "".join(out)


def sysctl_precedence(
    files: t.Sequence[t.Mapping[str, t.Any]],
    settings: t.Mapping[str, t.Any],
    own_path: str,
    dirs: t.Sequence[str] = DEFAULT_DIRS,
    tail: t.Sequence[str] = DEFAULT_TAIL,
    realpaths: t.Mapping[str, str] | None = None,
    fix_dir: str = "/etc/sysctl.d",
) -> dict[str, t.Any]:
    """Report the assignments that beat ``own_path``'s ``settings`` at boot (see DOCUMENTATION)."""
    if not isinstance(settings, t.Mapping):
        raise AnsibleFilterError("sysctl_precedence: settings must be a dictionary of key to value")
    texts: dict[str, str] = {}
    unreadable = []
    for item in files:
        if not isinstance(item, t.Mapping):
            raise AnsibleFilterError("sysctl_precedence: every file must be a dictionary with path and content")
        path = _file_path(item)
        if path is None:
            raise AnsibleFilterError("sysctl_precedence: a file has no path (expected 'path' or 'source')")
        text = _file_text(item)
        if text is None:
            unreadable.append(path)
        texts[path] = text or ""
    own_text = "".join("%s = %s\n" % (key, value) for key, value in settings.items())
    texts[own_path] = own_text
    order, shadowed = _effective_files(texts, dirs, tail)
    wanted = {normalize_key(key): (key, value) for key, value in settings.items()}
    effective: dict[str, dict[str, t.Any]] = {}
    overrides = []
    after_own = False
    for path in order:
        for assignment in parse_assignments(texts[path], path):
            for norm, (key, value) in wanted.items():
                if not _key_matches(assignment.key, norm):
                    continue
                effective[key] = {"value": assignment.value, "path": path, "line": assignment.line}
                if after_own and path != own_path and not _same_value(assignment.value, value):
                    overrides.append(
                        {
                            "key": key,
                            "value": assignment.value,
                            "wanted": str(value),
                            "path": path,
                            "line": assignment.line,
                            "text": assignment.text,
                            "glob": assignment.key != norm,
                        }
                    )
        after_own = after_own or path == own_path
    return {
        "order": order,
        "shadowed": shadowed,
        "effective": effective,
        "overrides": overrides,
        "fixes": _fixes(overrides, texts, dict(realpaths or {}), own_path, fix_dir),
        "unreadable": unreadable,
    }


def _fixes(
    overrides: list[dict[str, t.Any]], texts: dict[str, str], realpaths: dict[str, str], own_path: str, fix_dir: str
) -> list[dict[str, str]]:
    lines_by_path: dict[str, set[int]] = {}
    for override in overrides:
        if not override["glob"]:
            lines_by_path.setdefault(override["path"], set()).add(override["line"])
    fixes = []
    seen = set()
    for path, lines in lines_by_path.items():
        dest = _fix_dest(path, realpaths.get(path), fix_dir)
        if dest in seen:
            continue
        seen.add(dest)
        fixes.append({"path": path, "dest": dest, "content": _comment_out(texts[path], lines, own_path)})
    return fixes


class FilterModule:
    """keepalive.ssh sysctl filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"sysctl_precedence": sysctl_precedence}
