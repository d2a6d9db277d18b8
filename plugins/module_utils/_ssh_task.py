# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""The ssh_config module's work: check the request, plan, validate the candidate with ``ssh -G``, write.

Also the small pieces both client modules need for files that belong to a user: looking the
user up, creating their private directory, and leaving owner and mode so that the client
accepts the file (ssh refuses a user's config that another user owns or that others can write).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import stat
from collections.abc import Iterator
from typing import Any, NamedTuple, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._apply import NOTHING_CHANGED, file_diffs, write_file
from ansible_collections.keepalive.ssh.plugins.module_utils._client_editor import (
    PROBE_USER,
    ClientEditor,
    effective_value,
    has_exec,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._editor import (
    EditError,
    Request,
    parse_requests,
    same_value,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import CLIENT_KEYWORDS, format_version
from ansible_collections.keepalive.ssh.plugins.module_utils._model import CLIENT, Config, ConfigError, ConfigFile
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import CandidateTree, Runtime, RuntimeFailure

SYSTEM_CONFIG = '/etc/ssh/ssh_config'
SYSTEM_INCLUDE_BASE = '/etc/ssh'
_UNKNOWN_OPTION = re.compile(r'Bad configuration option: (\S+)')
# ssh -G prints these kinds in the same units the keyword table canonicalises to.
_COMPARABLE_KINDS = ('time', 'time_or_none', 'int', 'yesno', 'choice', 'channel_timeout')
_GROUP_OTHER_WRITE = 0o022


class TaskFailure(Exception):
    """Fails the module; the message already says that nothing was changed."""


class AccountError(Exception):
    """The user named in the task does not exist or has no usable home directory."""


class Account(NamedTuple):
    name: str
    uid: int
    gid: int
    home: str


def lookup_account(name: object) -> Account:
    if not isinstance(name, str) or not name or name != name.strip() or '/' in name:
        raise AccountError('user %r is not a valid user name' % (name,))
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise AccountError('user %r does not exist on this host' % name) from None
    if not entry.pw_dir or not os.path.isabs(entry.pw_dir) or not os.path.isdir(entry.pw_dir):
        raise AccountError('the home directory %r of user %s does not exist' % (entry.pw_dir, name))
    return Account(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def running_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def ensure_private_dir(module: Any, path: str, account: Account) -> bool:
    """Create ``path`` (0700, owned by the account) when missing; True when it was (or would be) created."""
    if os.path.isdir(path):
        return False
    if module.check_mode:   # the parent may be one this run would create first
        return True
    if not os.path.isdir(os.path.dirname(path)):
        raise EditError('%s cannot be created: %s does not exist' % (path, os.path.dirname(path)))
    os.mkdir(path, 0o700)
    os.chmod(path, 0o700)   # mkdir's mode is filtered by the umask
    os.chown(path, account.uid, account.gid)
    return True


def secure_file(module: Any, path: str, *, owner: Optional[Account], new_mode: int, changed: bool,
                mode: Optional[int] = None) -> bool:
    """Owner and mode a client accepts: owned by ``owner`` (when given), not writable by group or others.

    ``mode`` forces a mode; otherwise an existing file keeps its other mode bits and a new one gets
    ``new_mode``.  Works in check mode (reports what would change) through AnsibleModule's helpers.
    """
    if mode is None:
        mode = stat.S_IMODE(os.stat(path).st_mode) & ~_GROUP_OTHER_WRITE if os.path.exists(path) else new_mode
    if owner is not None:
        changed = module.set_owner_if_different(path, str(owner.uid), changed, expand=False)
        changed = module.set_group_if_different(path, str(owner.gid), changed, expand=False)
    return module.set_mode_if_different(path, mode, changed, expand=False)


def refuse_links(account: Account, path: str) -> None:
    """Refuse a symbolic link between the user's home and ``path`` when acting for another user.

    A link there is under the user's control and could point at a file they must not change or
    read (the diff would show it); run the task as the user to edit a linked file.
    """
    if account.uid == os.geteuid():
        return
    relative = os.path.relpath(path, account.home)
    parts = [] if relative.startswith(os.pardir) else relative.split(os.sep)
    candidates = [os.path.join(account.home, *parts[:i + 1]) for i in range(len(parts))] or [path]
    for candidate in candidates:
        if os.path.islink(candidate):
            raise EditError('%s is a symbolic link; acting for user %s as %s the module does not follow links '
                            'in their files. Run the task as that user (become_user: %s) instead'
                            % (candidate, account.name, running_user(), account.name))


@contextlib.contextmanager
def home_directory(account: Optional[Account]) -> Iterator[None]:
    """``~`` in an Include of a user's file means that user's home (readconf.c tilde_expand)."""
    if account is None:
        yield
        return
    saved = os.environ.get('HOME')
    os.environ['HOME'] = account.home
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop('HOME', None)
        else:
            os.environ['HOME'] = saved


@contextlib.contextmanager
def candidate_tree(config: Config) -> Iterator[CandidateTree]:
    """A CandidateTree whose files nobody else can write: ssh refuses included files others can change."""
    saved = os.umask(0o077)
    try:
        tree = CandidateTree(config)
    finally:
        os.umask(saved)
    with tree:
        yield tree


def parse_ssh_dump(text: str) -> dict[str, list[str]]:
    """``ssh -G`` output: lowercase keyword -> every value printed (several for accumulating keywords)."""
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, value = (line.strip().split(' ', 1) + [''])[:2]
        if key:
            values.setdefault(key, []).append(value.strip())
    return values


class SshConfigTask:
    def __init__(self, module: Any) -> None:
        self.module = module
        self.params = module.params
        self.runtime = Runtime(lambda argv: module.run_command(list(argv)), ssh=self.params['ssh_binary'])
        self.account: Optional[Account] = None

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        except (AccountError, EditError, RuntimeFailure, ConfigError) as exc:  # raised before any write
            raise TaskFailure('%s; %s' % (exc, NOTHING_CHANGED)) from None

    # -- the steps ------------------------------------------------------------------------------
    def _run(self) -> dict[str, Any]:
        if self.params['user'] is not None:
            self.account = lookup_account(self.params['user'])
        path, include_base = self._target()
        if self.account is not None:
            refuse_links(self.account, path)
        version = self.runtime.version('ssh')
        requests = parse_requests(CLIENT_KEYWORDS, self.params['settings'], version=version, in_match=False)
        self._check_requests(requests)
        with home_directory(self.account):
            config = Config(path, flavour=CLIENT, include_base=include_base)
            self._check_exec(config)
            if config.main.existed:
                self._check_existing(config)
            editor = ClientEditor(config, host=self.params['host'], user=self._probe_user(),
                                  local_user=running_user())
            editor.apply(requests)
            dump = self._validate(config, editor, requests)
            result = self._write(config)
        result.update({
            'path': path, 'effective': self._effective(requests, dump), 'shadowed': editor.shadowed,
            'probe_hosts': editor.probes, 'openssh_version': format_version(version),
        })
        return result

    def _target(self) -> tuple[str, str]:
        path = self.params['path']
        if self.account is None:
            return path or SYSTEM_CONFIG, SYSTEM_INCLUDE_BASE
        ssh_dir = os.path.join(self.account.home, '.ssh')
        return path or os.path.join(ssh_dir, 'config'), ssh_dir

    def _probe_user(self) -> str:
        return self.account.name if self.account else PROBE_USER

    def _check_requests(self, requests: list[Request]) -> None:
        """Duplicates, then the installed ssh's own verdict on every keyword and value (-o on an empty config)."""
        seen: dict[str, str] = {}
        for request in requests:
            if request.keyword.name in seen:
                raise EditError('%s is given twice in settings' % request.keyword.name)
            seen[request.keyword.name] = request.value or ''
        options = [arg for r in requests if r.value is not None for arg in ('-o', '%s=%s' % (r.keyword.name, r.value))]
        if not options:
            return
        rc, out, err = self.runtime.run([self.runtime.ssh, '-G', '-F', '/dev/null'] + options + ['localhost'])
        if rc != 0:
            message = (err or out).strip()
            unknown = _UNKNOWN_OPTION.search(message)
            if unknown:
                raise EditError('%s is not supported by the installed ssh (OpenSSH %s): %s' % (
                    unknown.group(1), format_version(self.runtime.version('ssh')), message))
            raise EditError('ssh refuses the requested values: %s' % message)

    def _check_exec(self, config: Config) -> None:
        if self.account is None or self.account.uid == os.geteuid():
            return
        block = has_exec(config)
        if block is not None:
            raise EditError('%s contains "%s"; checking it with ssh -G as %s would run the command of user %s '
                            'with the rights of %s. Run the task as that user (become_user: %s) instead'
                            % (block.where(), block.line.text.strip(), running_user(), self.account.name,
                               running_user(), self.account.name))

    def _dump(self, main: str, host: str) -> dict[str, list[str]]:
        rc, out, err = self.runtime.run([self.runtime.ssh, '-G', '-F', main, '-l', self._probe_user(), host])
        if rc != 0:
            raise RuntimeFailure((err or out).strip() or 'ssh -G exited with %d' % rc)
        return parse_ssh_dump(out)

    def _check_existing(self, config: Config) -> None:
        with candidate_tree(config) as tree:
            try:
                self._dump(tree.main, 'localhost')
            except RuntimeFailure as exc:
                raise EditError('the existing configuration %s is refused by ssh -G (%s); fix it first'
                                % (config.main.path, exc)) from None

    def _validate(self, config: Config, editor: ClientEditor, requests: list[Request]) -> dict[str, list[str]]:
        """ssh -G on the whole candidate for every probe host; the requested values must be the ones used."""
        dumps = {}
        with candidate_tree(config) as tree:
            for probe in editor.probes:
                try:
                    dumps[probe] = self._dump(tree.main, probe)
                except RuntimeFailure as exc:
                    raise EditError('ssh -G refuses the changed configuration: %s' % exc) from None
        for probe, dump in dumps.items():
            misses = self._unmet(config, editor, requests, probe, dump)
            if misses:
                raise EditError('after the edit ssh -G %s would still report %s' % (probe, ', '.join(misses)))
        return dumps[editor.probes[0]]

    def _unmet(self, config: Config, editor: ClientEditor, requests: list[Request], probe: str,
               dump: dict[str, list[str]]) -> list[str]:
        misses = []
        for request in requests:
            keyword = request.keyword
            if request.value is None or keyword.additive:
                continue
            if keyword.kind in _COMPARABLE_KINDS:
                reported = (dump.get(keyword.name.lower()) or [''])[0]
            else:   # ssh -G rewrites free-form values (paths, lists): the model is the judge there
                reported = effective_value(config, keyword.name, probe, editor.user, editor.local_user) or ''
            if not same_value(keyword, reported, request.canonical or ''):
                misses.append('%s %s (asked for %s)' % (keyword.name, reported, request.value))
        return misses

    def _effective(self, requests: list[Request], dump: dict[str, list[str]]) -> dict[str, Any]:
        effective: dict[str, Any] = {}
        for request in requests:
            values = dump.get(request.keyword.name.lower(), [])
            effective[request.keyword.name] = values if request.keyword.additive else (values[0] if values else '')
        return effective

    # -- writing --------------------------------------------------------------------------------
    def _write(self, config: Config) -> dict[str, Any]:
        changed_files = config.changed_files()
        changed = self._prepare(config, changed_files)
        backups: dict[str, str] = {}
        for config_file in changed_files:
            if not self.module.check_mode:
                backup = write_file(self.module, config_file, backup=self.params['backup'])
                if backup:
                    backups[config_file.path] = backup
        for config_file in config.files.values():
            is_main = config_file is config.main
            if config_file in changed_files or (is_main and config_file.existed):
                new_mode = 0o600 if self.account else 0o644
                changed = secure_file(self.module, config_file.path, owner=self._owner(config_file.path, is_main),
                                      new_mode=new_mode, mode=None if config_file.existed else new_mode,
                                      changed=changed)
        result: dict[str, Any] = {'changed': changed, 'files': [f.path for f in changed_files], 'backups': backups}
        if self.module._diff:
            result['diff'] = file_diffs(config)
        return result

    def _prepare(self, config: Config, changed_files: list[ConfigFile]) -> bool:
        """Every check before the first write, then the user's ~/.ssh; True when something changes."""
        if not changed_files:
            return False
        directory = os.path.dirname(config.main.path)
        if self.account is None:
            if not os.path.isdir(directory):
                raise EditError('directory %s does not exist' % directory)
            return True
        for config_file in changed_files:
            refuse_links(self.account, config_file.path)
        ensure_private_dir(self.module, directory, self.account)
        return True

    def _owner(self, path: str, is_main: bool) -> Optional[Account]:
        """The user's main file is theirs; another file of theirs may stay root's (ssh accepts both)."""
        if self.account is None:
            return None
        if is_main or not os.path.exists(path):
            return self.account
        return None if os.stat(path).st_uid in (0, self.account.uid) else self.account


__all__ = [
    'Account', 'AccountError', 'SshConfigTask', 'TaskFailure', 'candidate_tree', 'ensure_private_dir', 'home_directory',
    'lookup_account', 'parse_ssh_dump', 'refuse_links', 'running_user', 'secure_file',
]
