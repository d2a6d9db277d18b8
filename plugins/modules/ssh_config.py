#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ssh_config
short_description: Set ssh_config keywords so that the OpenSSH client really uses the values asked for
version_added: 0.1.0
description:
  - Sets keywords of the OpenSSH client configuration (for example C(ServerAliveInterval),
    C(ServerAliveCountMax), C(TCPKeepAlive), C(ConnectTimeout)) for the hosts that match a C(Host)
    pattern, in the system-wide file, in a user's C(~/.ssh/config) or in any file.
  - Client-side keepalives are what users control when they cannot change the server.
  - ssh keeps the B(first) value it obtains for a keyword, reading C(Host) and C(Match) blocks in
    order with C(Include) expanded in place. The module works out which definition ssh uses today
    for a host name matching O(host) and edits that one; a keyword not set yet is added where ssh
    reads it first for that host and after the blocks of other hosts.
  - For O(host=*) an earlier C(Host *) block, C(Match all) block or global line that sets the keyword
    is edited, never duplicated; a new default goes at the end of the last C(Host *) block that
    follows the host-specific blocks, or into a new C(Host *) block at the end of the file (a file
    without any block gets a plain line at its end). A second run never adds another C(Host *) block.
  - For a specific pattern the value goes into the C(Host) block with exactly these patterns when
    that block is read before any other definition that applies; otherwise a new C(Host) block is
    inserted right before the definition that would win. A global line (before any block) is read
    for every host, so a block placed after it can never win; the new block then goes right above
    that line and is closed with C(Host *), which keeps the following global lines applying to
    every host.
  - Definitions for other hosts that set the keyword differently are left alone and listed in
    RV(shadowed). Lines and blocks the module does not need to touch (C(Match) blocks included)
    stay byte for byte as they were, in their order.
  - Before any file is replaced the whole candidate configuration (with its C(Include) files) is
    checked with the installed C(ssh -G -F candidate HOST) for a host matching every pattern of
    O(host), and ssh must report the requested values. Files are replaced atomically.
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports what would change and the values C(ssh -G) would report; writes nothing.
  diff_mode:
    support: full
    description: One diff per file that changes.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with the OpenSSH client.
options:
  path:
    description:
      - The client configuration file to edit; its C(Include) directives are followed.
      - Defaults to C(/etc/ssh/ssh_config) without O(user), and to C(~user/.ssh/config) with O(user).
      - With O(user) as well, O(path) is treated as that user's file (owner, mode, relative C(Include)
        paths under C(~user/.ssh)).
      - A missing file is created (mode C(0644), or C(0600) owned by O(user)).
    type: path
  user:
    description:
      - Edit the configuration of this user, C(~user/.ssh/config) unless O(path) is given.
      - C(~/.ssh) is created with mode C(0700) and the file with mode C(0600), both owned by the user,
        when they are missing. An existing file is given to the user and loses group and other
        write permission, because ssh refuses a configuration file that others can change.
      - ssh reads the user's file before the system-wide C(/etc/ssh/ssh_config), so its values win.
        RV(effective) reports C(ssh -G) on the user's file alone.
      - When the task does not run as that user, a configuration containing C(Match exec) is refused,
        because checking it would run the user's command with the task's rights; so are symbolic
        links in the path of a file to write.
    type: str
  host:
    description:
      - C(Host) patterns, separated by spaces, as they appear in the C(Host) line (for example
        C(*.example.com), C(bastion 10.0.0.*), C(* !legacy)). Patterns are case sensitive, as ssh
        compares them to the name given on the command line.
      - C(*) (the default) sets the default for every host.
    type: str
    default: '*'
  settings:
    description:
      - Keywords to set, as a mapping of keyword (any case) to value. Any client keyword of
        ssh_config(5) known to the collection may be used; the installed ssh must know it
        (C(ChannelTimeout) needs a client that supports it).
      - A value may be a string, an integer or a boolean (C(true) becomes C(yes)). Line breaks and
        C(#) are refused.
      - Time values accept the TIME FORMAT of ssh_config(5) (C(90), C(5m), C(1h30m)); values are
        compared by meaning, so an equal value is never rewritten.
      - C(null) removes the keyword from the scope of O(host) (global lines, C(Host *) and C(Match all)
        for C(*); the C(Host) blocks with exactly these patterns otherwise).
      - For keywords that accumulate (C(SendEnv), C(IdentityFile), C(LocalForward)...) the value is
        added unless a line that applies to the host already has it.
    type: dict
    required: true
  backup:
    description:
      - Keep a timestamped copy of every file before it is replaced.
    type: bool
    default: false
  ssh_binary:
    description:
      - Path of the ssh program used for C(ssh -G) and the version. Found on the host when omitted.
    type: path
notes:
  - Requires the C(ssh) program on the managed host; it is the judge of every keyword and value.
  - C(Match) criteria that need a running connection (C(exec), C(canonical), C(final), C(localnetwork),
    C(tagged)) are taken as not matching when placing a value; C(ssh -G) then decides whether the
    requested values are really used, and the task fails without writing if they are not.
  - C(Match user) is checked for the O(user) (or a placeholder user for the system-wide file).
seealso:
  - name: ssh_config(5)
    description: Manual page of the OpenSSH client configuration.
    link: https://man.openbsd.org/ssh_config
  - module: keepalive.ssh.sshd_config
  - module: keepalive.ssh.putty_session
"""

EXAMPLES = r"""
- name: Keep every client session alive through NAT; give up on a dead server after about 3 minutes
  keepalive.ssh.ssh_config:
    settings:
      ServerAliveInterval: 60
      ServerAliveCountMax: 3
      TCPKeepAlive: true

- name: A faster keepalive and a short connect timeout for one user's bastion hosts
  keepalive.ssh.ssh_config:
    user: alice
    host: "bastion-* *.jump.example.com"
    settings:
      ServerAliveInterval: 15
      ConnectTimeout: 10s
    backup: true

- name: Manage a drop-in file of the system-wide configuration
  keepalive.ssh.ssh_config:
    path: /etc/ssh/ssh_config.d/50-keepalive.conf
    settings:
      ServerAliveInterval: 30

- name: Remove the keepalive default again
  keepalive.ssh.ssh_config:
    settings:
      ServerAliveInterval: null
"""

RETURN = r"""
path:
  description: The main file that was edited.
  returned: always
  type: str
  sample: /home/alice/.ssh/config
files:
  description: Files that were (or in check mode would be) written.
  returned: always
  type: list
  elements: str
  sample: [/etc/ssh/ssh_config]
backups:
  description: Backup file of each replaced file, when O(backup=true).
  returned: always
  type: dict
  sample: {/etc/ssh/ssh_config: /etc/ssh/ssh_config.12345.2026-11-21@10:00:00~}
effective:
  description:
    - The requested keywords as C(ssh -G -F path HOST) reports them for the configuration after the
      change (in check mode, for the candidate), where HOST is the first name in RV(probe_hosts).
    - Keys use the canonical spelling; keywords that accumulate give a list.
  returned: always
  type: dict
  sample: {ServerAliveInterval: '60', ServerAliveCountMax: '3', TCPKeepAlive: 'yes'}
probe_hosts:
  description:
    - Host names, one per positive pattern of O(host), for which C(ssh -G) was checked.
  returned: always
  type: list
  elements: str
  sample: [keepalive-ssh-probe.invalid]
shadowed:
  description:
    - Definitions for other hosts that ssh reads before the requested value and that set it to
      something else; they still win for the hosts they match and were left alone.
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
    block:
      description: The C(Host) or C(Match) line of the enclosing block.
      type: str
openssh_version:
  description: Release of the installed ssh, as C(major.minor).
  returned: always
  type: str
  sample: '9.2'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._ssh_task import SshConfigTask, TaskFailure


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            user=dict(type='str'),
            host=dict(type='str', default='*'),
            settings=dict(type='dict', required=True),
            backup=dict(type='bool', default=False),
            ssh_binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    try:
        result = SshConfigTask(module).run()
    except TaskFailure as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
