#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: putty_session
short_description: Set keepalive and other settings of a user's saved PuTTY session on Unix
version_added: 0.1.0
description:
  - Sets keys of a PuTTY saved session (used by C(putty), C(plink), C(pscp) and C(psftp) on Unix)
    for a user, for example C(PingIntervalSecs) (seconds between keepalives, C(0) for none) and
    C(TCPKeepalives) (C(1) to ask the kernel for TCP keepalives).
  - PuTTY on Unix keeps a session as a text file of C(Key=Value) lines in C(~/.putty/sessions/NAME),
    or in C(~/.config/putty/sessions/NAME) when C(~/.config/putty) exists (PuTTY looks there first).
    NAME is the session name with every character other than letters, digits and C(+ - . @ _)
    written as C(%XX), as PuTTY does (C(Default Settings) is C(Default%20Settings)).
  - Other keys and their order are kept byte for byte; a changed key is rewritten where it is,
    a new key is added at the end. PuTTY uses the first line of a key.
  - PuTTY adds C(PingInterval) (minutes, written by PuTTY itself for intervals of a minute or more)
    to C(PingIntervalSecs). When O(settings) sets C(PingIntervalSecs) but not C(PingInterval), a
    non-zero C(PingInterval) in the file is set to C(0) so that the interval is the one asked for.
  - The directories are created with mode C(0700) and the file is left with mode C(0600), all owned
    by the user.
  - On Windows PuTTY keeps the same keys in the registry under
    C(HKCU\Software\SimonTatham\PuTTY\Sessions\NAME); this module manages the Unix files only.
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: Reports what would change; writes nothing.
  diff_mode:
    support: full
    description: The session file before and after.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host; PuTTY itself need not be installed to write the files.
options:
  user:
    description:
      - The user whose session is set. Their home directory comes from the user database.
      - When the task does not run as that user, symbolic links in the session path are refused.
    type: str
    required: true
  session:
    description:
      - Name of the saved session, as shown by PuTTY.
      - C(Default Settings) (the default) is the template PuTTY copies into new sessions and that
        C(plink HOST) uses without C(-load); it does not change sessions saved before.
    type: str
    default: Default Settings
  settings:
    description:
      - Keys to set, as a mapping of key to value. C(null) removes the key (PuTTY then uses its
        built-in default).
      - C(PingIntervalSecs), C(PingInterval), C(TCPKeepalives), C(TCPNoDelay), C(HostName), C(PortNumber),
        C(UserName) and C(Protocol) may be written in any case and their values are checked
        (booleans become C(1)/C(0)). Other keys are written exactly as given; PuTTY compares keys
        case-sensitively.
      - Values cannot contain line breaks.
    type: dict
    required: true
  backup:
    description:
      - Keep a timestamped copy of the session file before it is replaced.
    type: bool
    default: false
seealso:
  - module: keepalive.ssh.ssh_config
  - name: PuTTY manual, the Connection panel
    description: PingIntervalSecs is "Seconds between keepalives", TCPKeepalives is "Enable TCP keepalives".
    link: https://the.earth.li/~sgtatham/putty/latest/htmldoc/Chapter4.html#config-connection
"""

EXAMPLES = r"""
- name: Keepalives every 30 seconds for new sessions and for plink without -load
  keepalive.ssh.putty_session:
    user: alice
    settings:
      PingIntervalSecs: 30
      TCPKeepalives: true

- name: Keepalives for one saved session
  keepalive.ssh.putty_session:
    user: alice
    session: prod bastion
    settings:
      PingIntervalSecs: 15
    backup: true

- name: Create a session for plink -load with its host and port
  keepalive.ssh.putty_session:
    user: alice
    session: lab
    settings:
      HostName: 198.18.0.10
      PortNumber: 22
      Protocol: ssh
      PingIntervalSecs: 60
"""

RETURN = r"""
path:
  description: The session file.
  returned: always
  type: str
  sample: /home/alice/.putty/sessions/prod%20bastion
session:
  description: The session name.
  returned: always
  type: str
  sample: prod bastion
backup_file:
  description: The backup taken, empty when none.
  returned: always
  type: str
  sample: /home/alice/.putty/sessions/prod%20bastion.12345.2026-11-21@10:00:00~
current:
  description: Value of each requested key after the change (null when absent).
  returned: always
  type: dict
  sample: {PingIntervalSecs: '30', TCPKeepalives: '1'}
ping_interval:
  description: Seconds between keepalives PuTTY will use (PingInterval * 60 + PingIntervalSecs); null if unreadable.
  returned: always
  type: int
  sample: 30
notes:
  description: Keys changed beyond the request, and why.
  returned: always
  type: list
  elements: str
  sample: ['PingInterval=1 (minutes) was set to 0: PuTTY adds it to PingIntervalSecs']
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._putty import (
    DEFAULT_SESSION,
    PuttySessionTask,
    TaskFailure,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            user=dict(type='str', required=True),
            session=dict(type='str', default=DEFAULT_SESSION),
            settings=dict(type='dict', required=True),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        result = PuttySessionTask(module).run()
    except TaskFailure as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
