#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sshd_config
short_description: Set sshd_config keywords so that sshd really uses the values asked for
version_added: 0.1.0
description:
  - Sets keywords of the OpenSSH server configuration (for example C(ClientAliveInterval),
    C(ClientAliveCountMax), C(TCPKeepAlive), C(ChannelTimeout), C(UnusedConnectionTimeout)) so that
    the value C(sshd -T) reports is the one requested.
  - Reads the whole configuration the way sshd does, following C(Include) (globs sorted, relative
    paths under C(/etc/ssh), nested, also inside C(Match)) and C(Match) blocks. sshd keeps the B(first)
    value it obtains, so the module edits the definition that wins, wherever it is, instead of
    appending a line that would be shadowed or land inside a C(Match) block.
  - Values are compared by meaning (C(5m) equals C(300), C(YES) equals C(yes)); an equal value is
    never rewritten.
  - Before any file is replaced the whole candidate configuration (main file and drop-ins as they
    will be) is checked with the installed C(sshd -t), and C(sshd -T) must report the requested
    values. Files are then replaced atomically, keeping their owner, mode and SELinux context.
  - Every line the module does not need to touch stays byte for byte as it was (comments, blank
    lines, tabs, CRLF line endings, C(Keyword=value) spellings).
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports what would change and the predicted C(sshd -T) values; writes nothing.
  diff_mode:
    support: full
    description: One diff per file that changes.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with the OpenSSH server installed.
options:
  path:
    description:
      - The main sshd configuration file; its C(Include) directives are followed.
    type: path
    default: /etc/ssh/sshd_config
  settings:
    description:
      - Keywords to set, as a mapping of keyword (any case) to value.
      - A value may be a string, an integer or a boolean (C(true) becomes C(yes)).
      - C(null) removes every definition of the keyword in the scope (global, or the C(match) block).
      - Time values accept the sshd TIME FORMAT (C(90), C(5m), C(1h30m)).
      - A keyword newer than the installed OpenSSH (for example C(ChannelTimeout) or
        C(UnusedConnectionTimeout) below 9.2) is refused.
      - C(ClientAliveCountMax 0) is accepted with a warning that says what it means on the installed
        version; from OpenSSH 8.2 on it disables the dead-client disconnect.
    type: dict
    required: true
  match:
    description:
      - Set the values inside the C(Match) block with these criteria (for example C(User backup)),
        creating the block at the end of O(path) if there is none.
      - Criteria are compared by meaning (attribute names ignore case, whitespace is collapsed).
      - Only keywords that sshd allows inside C(Match) can be set here.
    type: str
  placement:
    description:
      - Where a global value lives.
      - C(in_place) edits the definition that wins today, in whichever file it is; a keyword not
        defined anywhere is added to O(path) before its first C(Match) block.
      - C(main_file) keeps the value in O(path) (as the DISA STIG asks) and disables, by commenting
        out with a marker naming this collection, definitions in drop-ins that would otherwise win.
      - C(drop_in) keeps the value in O(drop_in_name) inside the drop-in directory that O(path)
        includes, and disables earlier definitions that would win over it.
    type: str
    choices: [in_place, main_file, drop_in]
    default: in_place
  drop_in_name:
    description:
      - File name of the drop-in used with O(placement=drop_in). It must match the C(Include)
        pattern of O(path); a name that sorts first (C(00-...)) is read first.
    type: str
    default: 00-keepalive-ssh.conf
  backup:
    description:
      - Keep a timestamped copy of every file before it is replaced.
    type: bool
    default: false
  reload:
    description:
      - Reload sshd after a change, the way the host runs it (systemd C(ssh)/C(sshd) unit or socket
        activation, OpenRC, SysV init script, launchd on macOS, or C(SIGHUP) to the pid in sshd's
        C(PidFile) for a bare sshd as in containers).
      - Sessions that are already open keep the settings they started with.
    type: bool
    default: false
  sshd_binary:
    description:
      - Path of the sshd program used for C(sshd -t), C(sshd -T) and the version. Found on the host when omitted.
    type: path
notes:
  - Requires the C(sshd) program on the managed host; the installed version decides which keywords are accepted.
  - C(Match) blocks for particular users, hosts or addresses that set a requested keyword to
    another value are left alone, listed in RV(shadowed) and named in a warning.
seealso:
  - name: sshd_config(5)
    description: Manual page of the OpenSSH server configuration.
    link: https://man.openbsd.org/sshd_config
  - module: keepalive.ssh.sshd_reload
"""

EXAMPLES = r"""
- name: Keep idle sessions alive through NAT and drop dead clients after about three minutes
  keepalive.ssh.sshd_config:
    settings:
      ClientAliveInterval: 60
      ClientAliveCountMax: 3
      TCPKeepAlive: true
    backup: true
    reload: true

- name: DISA STIG, the value lives in the main file and drop-ins that would override it are disabled
  keepalive.ssh.sshd_config:
    settings:
      ClientAliveInterval: 600
      ClientAliveCountMax: 1
    placement: main_file

- name: Close idle sessions of one user after 15 minutes (OpenSSH 9.2 or later)
  keepalive.ssh.sshd_config:
    match: User backup
    settings:
      ChannelTimeout: session=15m

- name: Remove every global ClientAliveInterval line
  keepalive.ssh.sshd_config:
    settings:
      ClientAliveInterval: null
"""

RETURN = r"""
files:
  description: Files that were (or in check mode would be) written.
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/sshd_config.d/50-cloud-init.conf]
backups:
  description: Backup file of each replaced file, when O(backup=true).
  returned: always
  type: dict
  sample: {/etc/ssh/sshd_config: /etc/ssh/sshd_config.12345.2026-11-21@10:00:00~}
effective:
  description:
    - The requested keywords as C(sshd -T) reports them for the configuration after the change
      (in check mode, for the candidate that would be written). Keys use the canonical spelling.
    - For O(match) settings with simple criteria the values are those of a connection matching them.
  returned: always
  type: dict
  sample: {ClientAliveInterval: '60', ClientAliveCountMax: '3', TCPKeepAlive: 'yes'}
shadowed:
  description: Definitions in C(Match) blocks for particular connections that set a requested keyword to another value.
  returned: always
  type: list
  elements: dict
  contains:
    keyword:
      description: Canonical keyword name.
      type: str
    value:
      description: The value there.
      type: str
    where:
      description: File and line number.
      type: str
    match:
      description: The criteria of the enclosing C(Match) block.
      type: str
openssh_version:
  description: Release of the installed sshd, as C(major.minor).
  returned: always
  type: str
  sample: '9.2'
reloaded:
  description: Whether sshd was reloaded.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._editor import PLACEMENTS
from ansible_collections.keepalive.ssh.plugins.module_utils._sshd_task import SshdConfigTask, TaskFailure


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/etc/ssh/sshd_config'),
            settings=dict(type='dict', required=True),
            match=dict(type='str'),
            placement=dict(type='str', choices=list(PLACEMENTS), default='in_place'),
            drop_in_name=dict(type='str', default='00-keepalive-ssh.conf'),
            backup=dict(type='bool', default=False),
            reload=dict(type='bool', default=False),
            sshd_binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    try:
        result = SshdConfigTask(module).run()
    except TaskFailure as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
