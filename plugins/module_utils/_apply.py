# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""The write path shared by the configuration modules: diff, backup, atomic replace, attributes."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ansible_collections.keepalive.ssh.plugins.module_utils._model import Config, ConfigFile

NOTHING_CHANGED = 'nothing was changed'


def file_diffs(config: Config) -> list[dict[str, str]]:
    """One before/after diff per changed file, as Ansible's diff callback expects."""
    return [{'before_header': f.path if f.existed else '/dev/null', 'after_header': f.path,
             'before': f.original, 'after': f.render()} for f in config.changed_files()]


def write_file(module: Any, config_file: ConfigFile, *, backup: bool, mode: int = 0o644) -> str:
    """Replace one file atomically; returns the backup path ('' when none was taken)."""
    return write_text(module, config_file.path, config_file.render(), existed=config_file.existed,
                      backup=backup, mode=mode)


def write_text(module: Any, path: str, text: str, *, existed: bool, backup: bool, mode: int = 0o644) -> str:
    """Replace one file atomically with ``text``; returns the backup path ('' when none was taken)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    fd, temp = tempfile.mkstemp(prefix='.keepalive-ssh-', dir=directory)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(text.encode('utf-8', 'surrogateescape'))
    backup_path = module.backup_local(path) if backup and existed else ''
    # atomic_move keeps the destination's owner, mode and SELinux context when it exists; a new
    # file gets the umask default from it, so its mode is set afterwards.
    module.atomic_move(temp, path, unsafe_writes=module.params.get('unsafe_writes', False))
    if not existed:
        os.chmod(path, mode)
    return backup_path


def write_changed(module: Any, config: Config, *, backup: bool) -> dict[str, str]:
    """Write every changed file of the configuration; returns path -> backup path."""
    backups = {}
    for config_file in config.changed_files():
        backup_path = write_file(module, config_file, backup=backup)
        if backup_path:
            backups[config_file.path] = backup_path
    return backups


__all__ = ['NOTHING_CHANGED', 'file_diffs', 'write_changed', 'write_file', 'write_text']
