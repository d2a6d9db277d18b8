#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sshd_reload
short_description: Reload sshd the way the host runs it
version_added: 0.1.0
description:
  - Makes a running sshd re-read its configuration, whatever starts it on the host.
  - Tries, in this order, a systemd C(ssh) or C(sshd) unit (C(systemctl reload)), systemd socket
    activation (nothing to reload), launchd on macOS, OpenRC, C(SIGHUP) to the pid in the C(PidFile)
    sshd reports (a bare sshd as in containers), and a SysV init script.
  - Sessions that are already open keep the settings they started with; new sessions use the new ones.
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports that a reload would be sent; sends nothing.
  diff_mode:
    support: none
    description: Nothing is written, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host running sshd; the reload method is chosen from what the host runs.
options:
  path:
    description: The sshd configuration file, used to find sshd's C(PidFile).
    type: path
    default: /etc/ssh/sshd_config
  sshd_binary:
    description: Path of the sshd program. Found on the host when omitted.
    type: path
"""

EXAMPLES = r"""
- name: Reload sshd after its configuration changed
  keepalive.ssh.sshd_reload:
"""

RETURN = r"""
method:
  description: How sshd was reloaded (for example C(systemd:ssh.service) or C(signal:SIGHUP to pid 1)).
  returned: success
  type: str
  sample: 'signal:SIGHUP to pid 1'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import Runtime, RuntimeFailure


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/ssh/sshd_config'),
            sshd_binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True, method='(check mode: not reloaded)')
    runtime = Runtime(lambda argv: module.run_command(list(argv)), sshd=module.params['sshd_binary'])
    try:
        method = runtime.reload_sshd(module.params['path'])
    except RuntimeFailure as exc:
        module.fail_json(msg='sshd was not reloaded: %s' % exc)
    module.exit_json(changed=True, method=method)


if __name__ == '__main__':
    main()
