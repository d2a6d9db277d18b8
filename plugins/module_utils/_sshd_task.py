# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""The sshd_config module's work: check the request, plan, validate the candidate, write, reload."""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._apply import NOTHING_CHANGED, file_diffs, write_changed
from ansible_collections.keepalive.ssh.plugins.module_utils._editor import (
    EditError,
    Request,
    ServerEditor,
    countmax_zero_warning,
    parse_requests,
    unmet,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import SERVER_KEYWORDS, format_version
from ansible_collections.keepalive.ssh.plugins.module_utils._model import (
    SERVER,
    Config,
    ConfigError,
    criteria_tokens,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import CandidateTree, Runtime, RuntimeFailure

# sshd -T -C wants a user, a host and an address; fields the Match criteria do not name get
# values from the documentation ranges so that they match nothing real.
_PROBE = {'user': 'keepalive-ssh-probe', 'host': 'probe.invalid', 'addr': '192.0.2.1'}
_CRITERIA_FIELDS = {'user': 'user', 'host': 'host', 'address': 'addr'}
_SSHD_WHERE = re.compile(r'(/\S+) line (\d+):')


class TaskFailure(Exception):
    """Fails the module; the message already says that nothing was changed."""


def connection_for(match: Optional[str]) -> Optional[dict[str, str]]:
    """A ``sshd -T -C`` spec that satisfies simple criteria (User/Host/Address with one plain value)."""
    if not match:
        return None
    tokens = criteria_tokens(match)
    if tokens and tokens[0].lower() == 'all':
        return None
    info = dict(_PROBE)
    for attribute, value in zip(tokens[0::2], tokens[1::2]):
        field = _CRITERIA_FIELDS.get(attribute.lower())
        if field is None or any(c in value for c in '*?!,/'):
            return None
        info[field] = value
    return info


def quote_offending_line(message: str) -> str:
    """sshd names the file and line it refuses ("F line N: ..."); quote that line so the bad value shows."""
    found = _SSHD_WHERE.search(message)
    if not found:
        return ''
    try:
        with open(found.group(1), 'rb') as handle:
            lines = handle.read().decode('utf-8', 'surrogateescape').splitlines()
        return ': %s line %s reads %r' % (found.group(1), found.group(2), lines[int(found.group(2)) - 1].strip())
    except (OSError, IndexError):
        return ''


def shadowed_warning(shadow: dict[str, str], effective: dict[str, str]) -> str:
    """Say that a Match block keeps another value for the connections it matches."""
    return ('%s (Match %s) sets %s %s: connections matching it do not get %s.'
            % (shadow['where'], shadow['match'], shadow['keyword'], shadow['value'],
               effective.get(shadow['keyword']) or 'the new value'))


class SshdConfigTask:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.params = module.params
        self.runtime = Runtime(lambda argv: module.run_command(list(argv)), sshd=self.params['sshd_binary'])

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        except (EditError, RuntimeFailure, ConfigError) as exc:  # raised before any file is written
            raise TaskFailure('%s; %s' % (exc, NOTHING_CHANGED)) from None

    def _run(self) -> dict[str, Any]:
        path = self.params['path']
        if not os.path.isfile(path):
            raise EditError('%s does not exist or is not a file' % path)
        version = self.runtime.version('sshd')
        requests = parse_requests(SERVER_KEYWORDS, self.params['settings'], version=version,
                                  in_match=bool(self.params['match']))
        self._check_existing(path)
        config = Config(path, flavour=SERVER)
        editor = ServerEditor(config, placement=self.params['placement'], drop_in_name=self.params['drop_in_name'],
                              match=self.params['match'])
        editor.apply(requests)
        self._warn(requests, version)
        effective = self._validate(config, requests)
        for shadow in editor.shadowed:
            self.module.warn(shadowed_warning(shadow, effective))
        changed = bool(config.changed_files())
        backups = {} if self.module.check_mode or not changed else write_changed(
            self.module, config, backup=self.params['backup'])
        result: dict[str, Any] = {
            'changed': changed, 'files': [f.path for f in config.changed_files()], 'backups': backups,
            'effective': effective, 'shadowed': editor.shadowed, 'openssh_version': format_version(version),
            'reloaded': self._reload(changed),
        }
        if self.module._diff:
            result['diff'] = file_diffs(config)
        return result

    def _check_existing(self, path: str) -> None:
        try:
            self.runtime.sshd_test(path)
        except RuntimeFailure as exc:
            raise EditError('the existing configuration %s is refused by sshd -t (%s)%s; fix it first'
                            % (path, exc, quote_offending_line(str(exc)))) from None

    def _warn(self, requests: list[Request], version: Any) -> None:
        for request in requests:
            if request.keyword.name == 'ClientAliveCountMax' and request.canonical == '0':
                self.module.warn(countmax_zero_warning(version))

    def _validate(self, config: Config, requests: list[Request]) -> dict[str, str]:
        """sshd -t on the whole candidate, then sshd -T to prove the requested values take effect."""
        info = connection_for(self.params['match'])
        with CandidateTree(config) as tree:
            if config.changed_files():
                try:
                    self.runtime.sshd_test(tree.main)
                except RuntimeFailure as exc:
                    raise EditError('sshd -t refuses the changed configuration: %s' % exc) from None
            dump = self.runtime.sshd_dump(tree.main, info)
        if self.params['match'] is None or info is not None:
            misses = unmet(config, requests, dump)
            if misses:
                raise EditError('after the edit sshd -T would still report %s' % ', '.join(
                    '%s %s (asked for %s)' % (kw, got, want) for kw, want, got in misses))
        return {r.keyword.name: dump.get(r.keyword.name.lower(), '') for r in requests}

    def _reload(self, changed: bool) -> bool:
        if not (self.params['reload'] and changed) or self.module.check_mode:
            return False
        try:
            self.runtime.reload_sshd(self.params['path'])
        except RuntimeFailure as exc:
            raise TaskFailure('the configuration was written but sshd was not reloaded: %s' % exc) from None
        return True


__all__ = ['SshdConfigTask', 'TaskFailure', 'connection_for', 'quote_offending_line', 'shadowed_warning']
