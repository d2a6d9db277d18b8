# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# NOTE: THIS IS PRIVATE TO THE COLLECTION keepalive.ssh. It may change without notice.

"""Everything that touches the managed host's OpenSSH programs.

Finding ``sshd``/``ssh``, reading the OpenSSH version, running ``sshd -t``/``sshd -T`` and
``ssh -G`` on a candidate configuration laid out in a scratch tree, and reloading sshd.  The
configuration model stays pure; the modules get one ``Runtime`` object from here.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import tempfile
from collections.abc import Sequence
from typing import Callable, Optional

from ansible_collections.keepalive.ssh.plugins.module_utils._keywords import Version
from ansible_collections.keepalive.ssh.plugins.module_utils._model import Config, ConfigFile

# run(argv) -> (rc, stdout, stderr); AnsibleModule.run_command fits, tests pass subprocess.
Runner = Callable[[Sequence[str]], tuple[int, str, str]]

_VERSION = re.compile(r'OpenSSH_(\d+)\.(\d+)')
_SEARCH_PATH = ('/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin', '/usr/local/bin', '/bin')


class RuntimeFailure(Exception):
    """An OpenSSH program is missing, refused a configuration, or sshd could not be reloaded."""


def find_binary(name: str, explicit: Optional[str] = None) -> str:
    """Path of ``name`` (explicit path, PATH, then the usual sbin directories)."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RuntimeFailure('%s binary %s is missing or not executable' % (name, explicit))
        return explicit
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SEARCH_PATH))
    if not found:
        raise RuntimeFailure('%s not found (searched PATH and %s); is OpenSSH installed?'
                             % (name, ', '.join(_SEARCH_PATH)))
    return found


def parse_version(text: str) -> Optional[Version]:
    found = _VERSION.search(text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def parse_dump(text: str) -> dict[str, str]:
    """``sshd -T`` / ``ssh -G`` output: one lowercase keyword and its value per line; first wins."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, _sep, value = line.strip().partition(' ')
        if key and key not in values:
            values[key] = value.strip()
    return values


class CandidateTree:
    """A scratch copy of a whole configuration, Include paths rewritten to point inside it.

    sshd validates the configuration it would really read only if the drop-ins it reads are
    the candidate ones too, so every file of the model is laid out under a temporary root.
    """

    def __init__(self, config: Config) -> None:
        self.root = tempfile.mkdtemp(prefix='keepalive-ssh-')
        for config_file in config.files.values():
            if config_file.existed or config_file.lines:
                self._write(config, config_file)
        self.main = self.path_for(config.main.path)

    def path_for(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip('/'))

    def _write(self, config: Config, config_file: ConfigFile) -> None:
        target = self.path_for(config_file.path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'wb') as handle:
            handle.write(self._rendered(config, config_file).encode('utf-8', 'surrogateescape'))

    def _rendered(self, config: Config, config_file: ConfigFile) -> str:
        parts = []
        for line in config_file.lines:
            if line.key == 'include':
                patterns = []
                for pattern in line.args():
                    if not os.path.isabs(pattern) and not pattern.startswith('~'):
                        pattern = os.path.join(config.include_base, pattern)
                    patterns.append('"%s"' % self.path_for(os.path.expanduser(pattern)))
                parts.append('%s%s %s%s' % (line.indent, line.keyword, ' '.join(patterns), line.eol))
            else:
                parts.append(line.render())
        return ''.join(parts)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CandidateTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


class Runtime:
    """The OpenSSH programs of one host."""

    def __init__(self, run: Runner, *, sshd: Optional[str] = None, ssh: Optional[str] = None) -> None:
        self.run = run
        self._sshd, self._ssh = sshd, ssh
        self._versions: dict[str, Version] = {}
        self._config_path = '/etc/ssh/sshd_config'

    @property
    def sshd(self) -> str:
        self._sshd = find_binary('sshd', self._sshd)
        return self._sshd

    @property
    def ssh(self) -> str:
        self._ssh = find_binary('ssh', self._ssh)
        return self._ssh

    def version(self, program: str = 'sshd') -> Version:
        """The OpenSSH release of ``sshd`` (its usage text names it) or ``ssh`` (``ssh -V``)."""
        if program not in self._versions:
            argv = [self.sshd, '-?'] if program == 'sshd' else [self.ssh, '-V']
            _rc, out, err = self.run(argv)
            version = parse_version(err + out)
            if version is None:
                raise RuntimeFailure('cannot read the OpenSSH version from %s: %s' % (argv[0], (err or out).strip()))
            self._versions[program] = version
        return self._versions[program]

    def sshd_test(self, main_path: str) -> None:
        """``sshd -t``; RuntimeFailure with sshd's own message if it refuses the configuration."""
        rc, out, err = self.run([self.sshd, '-t', '-f', main_path])
        if rc != 0:
            raise RuntimeFailure((err or out).strip() or 'sshd -t exited with %d' % rc)

    def sshd_dump(self, main_path: str, info: Optional[dict[str, str]] = None) -> dict[str, str]:
        argv = [self.sshd, '-T', '-f', main_path]
        if info:
            argv += ['-C', ','.join('%s=%s' % item for item in sorted(info.items()))]
        rc, out, err = self.run(argv)
        if rc != 0:
            raise RuntimeFailure((err or out).strip() or 'sshd -T exited with %d' % rc)
        return parse_dump(out)

    def ssh_dump(self, main_path: str, host: str) -> dict[str, str]:
        rc, out, err = self.run([self.ssh, '-G', '-F', main_path, host])
        if rc != 0:
            raise RuntimeFailure((err or out).strip() or 'ssh -G exited with %d' % rc)
        return parse_dump(out)

    # -- reload -----------------------------------------------------------------------------
    def reload_sshd(self, config_path: str = '/etc/ssh/sshd_config') -> str:
        """Reload sshd the way this host runs it; returns the method used.

        A reload (SIGHUP) makes sshd re-execute itself for new connections; sessions that are
        already open keep the settings they started with.
        """
        self._config_path = config_path
        for method in (self._reload_systemd, self._reload_launchd, self._reload_openrc, self._reload_pidfile,
                       self._reload_sysv):
            used = method()
            if used:
                return used
        raise RuntimeFailure('no running sshd found to reload (no systemd unit, init script or live PidFile)')

    def _ok(self, argv: list[str]) -> bool:
        return self.run(argv)[0] == 0

    def _reload_systemd(self) -> Optional[str]:
        if not os.path.isdir('/run/systemd/system'):
            return None
        for unit in ('ssh.service', 'sshd.service'):
            if self._ok(['systemctl', 'is-active', '--quiet', unit]):
                rc, out, err = self.run(['systemctl', 'reload', unit])
                if rc != 0:
                    raise RuntimeFailure('systemctl reload %s failed: %s' % (unit, (err or out).strip()))
                return 'systemd:%s' % unit
        for socket in ('ssh.socket', 'sshd.socket'):
            # Socket activation (Ubuntu 24.04): the next connection starts a fresh sshd that
            # reads the new files, so there is nothing running to reload.
            if self._ok(['systemctl', 'is-active', '--quiet', socket]):
                return 'systemd:%s (socket-activated, nothing to reload)' % socket
        return None

    def _reload_launchd(self) -> Optional[str]:
        if platform.system() != 'Darwin':
            return None
        # macOS starts sshd per connection from launchd; kickstart makes it re-read the plist.
        rc, out, err = self.run(['launchctl', 'kickstart', '-k', 'system/com.openssh.sshd'])
        if rc != 0:
            raise RuntimeFailure('launchctl kickstart com.openssh.sshd failed: %s' % (err or out).strip())
        return 'launchd:com.openssh.sshd'

    def _reload_openrc(self) -> Optional[str]:
        if not os.path.isdir('/run/openrc') or not shutil.which('rc-service'):
            return None
        return 'openrc:sshd' if self._ok(['rc-service', 'sshd', 'reload']) else None

    def _reload_pidfile(self) -> Optional[str]:
        pid = self._sshd_pid()
        if pid is None:
            return None
        os.kill(pid, signal.SIGHUP)
        return 'signal:SIGHUP to pid %d' % pid

    def _sshd_pid(self) -> Optional[int]:
        try:
            pidfile = self.sshd_dump(self._config_path).get('pidfile', '/run/sshd.pid')
        except RuntimeFailure:
            pidfile = '/run/sshd.pid'
        try:
            with open(pidfile) as handle:
                pid = int(handle.read().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def _reload_sysv(self) -> Optional[str]:
        for script in ('/etc/init.d/ssh', '/etc/init.d/sshd'):
            if os.access(script, os.X_OK) and self._ok([script, 'reload']):
                return 'sysv:%s' % script
        return None


__all__ = ['CandidateTree', 'RuntimeFailure', 'Runner', 'Runtime', 'find_binary', 'parse_dump', 'parse_version']
