#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kernel_keepalive
short_description: Set Linux's TCP keepalive timers in the running kernel and for the next boot
version_added: 0.1.0
description:
  - Sets C(net.ipv4.tcp_keepalive_time), C(net.ipv4.tcp_keepalive_intvl) and C(net.ipv4.tcp_keepalive_probes)
    in the running kernel (through C(/proc/sys)) and in a file under C(/etc/sysctl.d), in one module run.
  - Writes the running values first and reads them back; if the kernel does not hold one of them, the
    values it had are written back and the module fails without touching any file.
  - Knows the precedence of sysctl files at boot (C(sysctl --system), C(systemd-sysctl)) and reports
    every other definition that would bring a different value back at the next boot; with O(fix_overrides)
    it comments such lines out.
  - These timers only act on sockets that ask for keepalive (C(TCPKeepAlive yes), the default of ssh and sshd).
    A peer that stops answering is declared dead after time + intvl x probes seconds.
  - The timers belong to a network namespace, so in a container they apply to that container only.
  - The role C(keepalive.ssh.tcp_keepalive) is a thin wrapper around this module.
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports what would be written to the kernel and the files; writes nothing.
  diff_mode:
    support: full
    description: One diff per file written, and one of the running values.
  platform:
    support: full
    platforms: posix
    description: Linux only; other systems are refused with nothing changed.
options:
  time:
    description:
      - Seconds a connection may stay idle before the kernel sends the first keepalive probe
        (kernel default 7200). Must be lower than the idle timeout of the NAT routers and firewalls
        on the way, or they forget the session.
      - Range 1..32767, the kernel's limit.
    type: int
  intvl:
    description:
      - Seconds between two probes that get no answer (kernel default 75). Range 1..32767.
    type: int
  probes:
    description:
      - Unanswered probes after which the kernel declares the peer dead and resets the connection
        (kernel default 9). Range 1..127.
    type: int
  file:
    description:
      - Name of the file written in the first directory of O(sysctl_dirs) (V(/etc/sysctl.d)).
        Files are applied in lexical order of their names and the last assignment wins.
      - A plain file name ending in C(.conf).
      - Only the timers given are written to it; a timer left out keeps whatever sets it today.
    type: str
    default: 60-keepalive-ssh.conf
  fix_overrides:
    description:
      - Comment out other definitions that would set a different value after O(file) at the next boot,
        with a backup of each file changed. A file under C(/etc) is edited in place (through its link);
        a file elsewhere (C(/run), C(/usr/lib), ...) is shadowed by a copy of the same name in V(/etc/sysctl.d).
      - Glob assignments (C(net.ipv4.*)) are only reported, never changed.
      - When false, such definitions are only reported as warnings.
    type: bool
    default: false
  readonly_action:
    description:
      - What to do where the running values cannot be written (an unprivileged container mounts C(/proc/sys)
        read-only; a play without become).
      - V(fail) stops with an explanation; V(skip) changes nothing (neither the kernel nor the files) and warns.
    type: str
    choices: [fail, skip]
    default: fail
  proc_dir:
    description: Where the running kernel exposes the timers. Only changed for tests or unusual mounts.
    type: path
    default: /proc/sys/net/ipv4
  sysctl_dirs:
    description: The sysctl.d directories, highest precedence first; O(file) goes into the first.
    type: list
    elements: path
    default: [/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d]
  sysctl_tail:
    description: Files read after every sysctl.d file, in this order.
    type: list
    elements: path
    default: [/etc/sysctl.conf]
notes:
  - Check mode reads the same files and reports the same warnings as a real run.
seealso:
  - module: keepalive.ssh.sshd_config
  - name: sysctl.d(5)
    description: Precedence of sysctl configuration files.
    link: https://man7.org/linux/man-pages/man5/sysctl.d.5.html
"""

EXAMPLES = r"""
- name: Probe idle connections after 5 minutes, every 30 s, give up after 5 unanswered probes
  keepalive.ssh.kernel_keepalive:
    time: 300
    intvl: 30
    probes: 5

- name: The same, and comment out later sysctl files that would undo it at the next boot
  keepalive.ssh.kernel_keepalive:
    time: 300
    intvl: 30
    probes: 5
    fix_overrides: true
"""

RETURN = r"""
path:
  description: The file the module writes.
  returned: always
  type: str
  sample: /etc/sysctl.d/60-keepalive-ssh.conf
before:
  description: The running kernel's values before the run, by sysctl key.
  returned: always
  type: dict
  sample: {net.ipv4.tcp_keepalive_time: 7200, net.ipv4.tcp_keepalive_intvl: 75, net.ipv4.tcp_keepalive_probes: 9}
after:
  description: The running kernel's values after the run (the planned values in check mode).
  returned: always
  type: dict
  sample: {net.ipv4.tcp_keepalive_time: 300, net.ipv4.tcp_keepalive_intvl: 30, net.ipv4.tcp_keepalive_probes: 5}
readonly:
  description: Whether the running values could not be written (only with O(readonly_action=skip)).
  returned: always
  type: bool
overrides:
  description: Definitions applied after RV(path) at boot that set a different value.
  returned: success
  type: list
  elements: dict
  contains:
    key: {description: The sysctl key., type: str}
    value: {description: The value the other file sets., type: str}
    wanted: {description: The value asked for., type: str}
    path: {description: The overriding file., type: str}
    line: {description: Line number (1-based)., type: int}
    text: {description: The line as written., type: str}
    glob: {description: Whether the assignment is a glob pattern (never fixed)., type: bool}
fixed:
  description: Files written to disable overriding lines (O(fix_overrides=true)).
  returned: success
  type: list
  elements: str
effective:
  description: For every timer, the assignment that wins at boot once RV(path) is in place.
  returned: success
  type: dict
backups:
  description: Path of every file backed up before it was replaced, to its backup.
  returned: success
  type: dict
unreadable:
  description: Candidate files that could not be read and were taken as empty.
  returned: success
  type: list
  elements: str
"""

import os
import platform
from typing import Any, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._apply import NOTHING_CHANGED, write_text
from ansible_collections.keepalive.ssh.plugins.module_utils._sysctl import (
    DEFAULT_DIRS,
    DEFAULT_TAIL,
    PROC_DIR,
    TIMERS,
    file_name_problem,
    override_message,
    own_file_text,
    precedence,
    proc_path,
    range_problems,
)


def _read(path: str) -> Optional[str]:
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'surrogateescape')
    except OSError:
        return None


def _read_value(path: str) -> str:
    text = _read(path)
    return '' if text is None else text.strip()


def _candidates(dirs: list[str], tail: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(path -> text, link path -> target, unreadable paths) of every file sysctl reads at boot."""
    paths = []
    for directory in dirs:
        try:
            names = os.listdir(directory)
        except OSError:  # a directory that does not exist takes no part
            continue
        paths += [os.path.join(directory, n) for n in names
                  if n.endswith('.conf') and not os.path.isdir(os.path.join(directory, n))]
    paths += [p for p in tail if os.path.lexists(p)]
    texts, links, unreadable = {}, {}, []
    for path in paths:
        if os.path.islink(path):
            links[path] = os.path.realpath(path)
        text = _read(path)
        if text is None:  # a dangling link counts as empty
            unreadable.append(path)
        texts[path] = text or ''
    return texts, links, unreadable


def _current(path: str, texts: dict[str, str], unreadable: list[str]) -> Optional[str]:
    """A file's text as the candidates read it, else from disk; None when it does not exist or cannot be read."""
    if path in texts and path not in unreadable:
        return texts[path]
    return _read(path) if os.path.lexists(path) else None


def _write_live(paths: dict[str, str], values: dict[str, str]) -> None:
    for key, value in values.items():
        try:
            with open(paths[key], 'w') as handle:
                handle.write('%s\n' % value)
        except OSError as exc:
            raise RuntimeError('writing %s to %s failed: %s' % (value, paths[key], exc)) from exc


def _set_live(module: AnsibleModule, paths: dict[str, str], before: dict[str, str], wanted: dict[str, str],
              todo: dict[str, str]) -> None:
    """Write ``todo`` (the values that differ), read every wanted one back; on any mismatch put the old values back."""
    try:
        _write_live(paths, todo)
        held = {key: _read_value(paths[key]) for key in wanted}
        wrong = ['%s reads back %r after writing %s' % (key, held[key], value)
                 for key, value in wanted.items() if held[key] != value]
        if wrong:
            raise RuntimeError('; '.join(wrong) + ' (the kernel clamped or refused it, or something rewrote it)')
    except RuntimeError as exc:
        try:
            _write_live(paths, {key: before[key] for key in todo})
            restored = 'the running values were restored'
        except RuntimeError as again:
            restored = 'restoring the running values failed too: %s' % again
        module.fail_json(msg='%s. No file was changed; %s.' % (exc, restored), before=before)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            time=dict(type='int'),
            intvl=dict(type='int'),
            probes=dict(type='int'),
            file=dict(type='str', default='60-keepalive-ssh.conf'),
            fix_overrides=dict(type='bool', default=False),
            readonly_action=dict(type='str', choices=['fail', 'skip'], default='fail'),
            proc_dir=dict(type='path', default=PROC_DIR),
            sysctl_dirs=dict(type='list', elements='path', default=list(DEFAULT_DIRS)),
            sysctl_tail=dict(type='list', elements='path', default=list(DEFAULT_TAIL)),
        ),
        required_one_of=[['time', 'intvl', 'probes']],
        supports_check_mode=True,
    )
    params = module.params
    problems = range_problems(params) + [p for p in [file_name_problem(params['file'])] if p]
    if all(params[timer.option] is None for timer in TIMERS):  # required_one_of lets explicit nulls through
        problems.append('one of time, intvl, probes must be set')
    if not params['sysctl_dirs']:
        problems.append('sysctl_dirs must name at least one directory')
    if problems:
        module.fail_json(msg='%s. %s.' % ('; '.join(problems), NOTHING_CHANGED.capitalize()))
    if platform.system() != 'Linux':
        system = platform.system() or 'an unknown system'
        module.fail_json(msg="keepalive.ssh.kernel_keepalive manages Linux's net.ipv4.tcp_keepalive_* sysctls; "
                             'this host runs %s. %s.' % (system, NOTHING_CHANGED.capitalize()))

    wanted = {timer.key: str(params[timer.option]) for timer in TIMERS if params[timer.option] is not None}
    paths = {key: proc_path(params['proc_dir'], key) for key in wanted}
    missing = [p for p in paths.values() if not os.path.exists(p)]
    if missing:
        module.fail_json(msg='%s does not exist: /proc is not mounted or IPv4 is disabled in this network '
                             'namespace. %s.' % (missing[0], NOTHING_CHANGED.capitalize()))
    before = {key: _read_value(path) for key, path in paths.items()}
    result: dict[str, Any] = dict(changed=False, path=os.path.join(params['sysctl_dirs'][0], params['file']),
                                  before=before, after=dict(before), readonly=False)
    readonly = [p for p in paths.values() if not os.access(p, os.W_OK)]
    if readonly:
        why = ('%s is not writable: an unprivileged container mounts /proc/sys read-only (its runtime must '
               'set the sysctls, e.g. podman/docker --sysctl %s), or the play runs without become. These '
               'sysctls belong to the network namespace, so a privileged container sets them for itself only.'
               % (os.path.dirname(readonly[0]), ' --sysctl '.join('%s=%s' % kv for kv in wanted.items())))
        if params['readonly_action'] == 'fail':
            module.fail_json(msg='%s %s; set readonly_action=skip to skip such hosts.'
                                 % (why, NOTHING_CHANGED.capitalize()), **result)
        module.warn('%s readonly_action=skip: neither the running kernel nor %s was changed.'
                    % (why, params['sysctl_dirs'][0]))
        result['readonly'] = True
        module.exit_json(**result)
    _converge(module, result, wanted, paths)


def _converge(module: AnsibleModule, result: dict[str, Any], wanted: dict[str, str], paths: dict[str, str]) -> None:
    params = module.params
    own = result['path']
    texts, links, unreadable = _candidates(params['sysctl_dirs'], params['sysctl_tail'])
    report = precedence(texts, wanted, own, dirs=params['sysctl_dirs'], tail=params['sysctl_tail'],
                        realpaths=links, fix_dir=params['sysctl_dirs'][0])
    # (path, old text or None, new text, back up?) for every file that changes.
    writes = []
    own_text = own_file_text(wanted)
    own_old = _current(own, texts, unreadable)
    if own_old != own_text:
        writes.append((own, own_old, own_text, False))
    if params['fix_overrides']:
        for fix in report['fixes']:
            old = _current(fix['dest'], texts, unreadable)
            if old != fix['content']:
                writes.append((fix['dest'], old, fix['content'], True))
    for override in report['overrides']:
        module.warn(override_message(override, own, params['fix_overrides']))
    for path in unreadable:
        module.warn('%s could not be read (a dangling link?); it was taken as empty.' % path)

    live_changes = {key: value for key, value in wanted.items() if result['before'][key] != value}
    result.update(changed=bool(writes or live_changes), after=dict(result['before'], **wanted),
                  overrides=report['overrides'], effective=report['effective'], unreadable=unreadable,
                  fixed=[w[0] for w in writes if w[3]], backups={})
    if module._diff:
        result['diff'] = [{'before_header': '%s (running kernel)' % params['proc_dir'],
                           'after_header': '%s (running kernel)' % params['proc_dir'],
                           'before': ''.join('%s = %s\n' % kv for kv in result['before'].items()),
                           'after': ''.join('%s = %s\n' % kv for kv in result['after'].items())}]
        result['diff'] += [{'before_header': path if old is not None else '/dev/null', 'after_header': path,
                            'before': old or '', 'after': new} for path, old, new, _backup in writes]
    if not module.check_mode:
        # The kernel first: if it refuses a value, no file has been touched yet.
        _set_live(module, paths, result['before'], wanted, live_changes)
        for path, old, new, backup in writes:
            backup_path = write_text(module, path, new, existed=old is not None, backup=backup)
            if backup_path:
                result['backups'][path] = backup_path
    if os.path.exists(own):
        # The own file is the module's: whatever mode or owner someone gave it, it is root's and
        # world-readable (set_fs_attributes_if_different only reports in check mode).
        file_args = module.load_file_common_arguments(dict(path=own, mode='0644', owner='root', group='root'))
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
