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
import typing as t

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.keepalive.ssh.plugins.module_utils._sysctl import (
    DEFAULT_DIRS,
    DEFAULT_TAIL,
    normalize_key,
    parse_assignments,
    precedence,
)

# The precedence rules live in module_utils/_sysctl.py, shared with the kernel_keepalive module.
__all__ = ["FilterModule", "normalize_key", "parse_assignments", "sysctl_precedence"]


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
    report = precedence(texts, settings, own_path, dirs=dirs, tail=tail, realpaths=realpaths, fix_dir=fix_dir)
    report["unreadable"] = unreadable
    return report


class FilterModule:
    """keepalive.ssh sysctl filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"sysctl_precedence": sysctl_precedence}
