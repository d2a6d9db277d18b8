# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module tests share: running a module in-process, the real sshd, fake users."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
from types import ModuleType

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

SSHD = '/usr/sbin/sshd' if os.access('/usr/sbin/sshd', os.X_OK) else (shutil.which('sshd') or '/usr/sbin/sshd')
SSH = shutil.which('ssh') or '/usr/bin/ssh'


class ModuleExit(Exception):
    def __init__(self, result: dict) -> None:
        super().__init__(result)
        self.result = result


class ExitJson(ModuleExit):
    pass


class FailJson(ModuleExit):
    pass


def capture_exits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """exit_json/fail_json raise ExitJson/FailJson instead of exiting; returns the warnings list."""
    warnings: list[str] = []

    def exit_json(self, **result):
        result.setdefault('warnings', warnings)
        raise ExitJson(result)

    def fail_json(self, msg, **result):
        raise FailJson(dict(result, msg=msg, failed=True))

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, warning, **kw: warnings.append(warning))
    return warnings


def make_host_key(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh ed25519 host key for the real sshd (which also wants /run/sshd to exist)."""
    if not os.access(SSHD, os.X_OK):
        pytest.fail('sshd is not installed at %s: run `make setup`' % SSHD)
    os.makedirs('/run/sshd', exist_ok=True)
    key = tmp_path_factory.mktemp('hostkey') / 'ssh_host_ed25519_key'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True)
    return str(key)


def json_runner(capsys: pytest.CaptureFixture, module: ModuleType):
    """Run ``module.main()`` as Ansible would and return the JSON it prints."""
    def runner(args: dict, *, check: bool = False, diff: bool = False) -> dict:
        payload = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(payload), pytest.raises(SystemExit):
            module.main()
        return json.loads(capsys.readouterr().out)
    return runner


def fake_user(monkeypatch: pytest.MonkeyPatch, home_root, name: str, uid: int) -> pwd.struct_passwd:
    """``pwd.getpwnam(name)`` answers an account whose home is a temp directory."""
    home = home_root / 'home' / name
    home.mkdir(parents=True)
    entry = pwd.struct_passwd((name, 'x', uid, uid, '', str(home), '/bin/sh'))
    real = pwd.getpwnam
    monkeypatch.setattr(pwd, 'getpwnam', lambda wanted: entry if wanted == name else real(wanted))
    return entry
