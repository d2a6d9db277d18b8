#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) keepalive.ssh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: keepalive_info
short_description: Report what a host will do to an idle or dead SSH session, before it happens
version_added: 0.1.0
description:
  - Reads, without changing anything, every setting that decides how long an idle or dead SSH session
    lives on a host, with the file and line each value comes from.
  - The OpenSSH server and client versions; the effective server keepalive and timeout settings as
    C(sshd -T) reports them (optionally for one connection, O(connection)); the client settings as
    C(ssh -G) reports them for O(ssh_host), system-wide and for each of O(users); the kernel's
    C(net.ipv4.tcp_keepalive_*) sysctls; C(TMOUT) as the shell profiles set it; the keepalive keys
    of the PuTTY sessions saved by O(users).
  - Predicts, in seconds, when sshd drops a vanished client, when ssh drops a vanished server, when the
    kernel declares a dead peer, and when an idle user is logged out; and, with O(nat_idle_timeout),
    whether an idle session survives a NAT or firewall that forgets idle flows, and what keeps it alive.
  - Predictions follow a calibration table kept per OpenSSH release, not the manual's arithmetic; each
    one says its formula and its basis (source reading or lab measurement). On OpenSSH 9.2, for example,
    sshd sends its keepalive probes every 2 x C(ClientAliveInterval) on an idle session.
  - Warns about C(ClientAliveCountMax 0) (its meaning flipped in OpenSSH 8.2), sessions nothing would ever
    drop (ghost sessions), a definition shadowed by an earlier one (for example a value in the main file
    that loses to a drop-in), and, with O(compliance), keepalives without an idle timeout or the reverse.
author:
  - keepalive.ssh contributors (!UNKNOWN)
attributes:
  check_mode:
    support: full
    description: The module never changes anything; check mode gives the same report.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with OpenSSH; the kernel sysctls are read on Linux only.
options:
  sshd_config_path:
    description:
      - The main sshd configuration file; its C(Include) directives are followed.
    type: path
    default: /etc/ssh/sshd_config
  connection:
    description:
      - Report the server values for this connection, as C(sshd -T -C) does, so that C(Match) blocks
        for it apply. Without it only global values (and C(Match all)) count.
    type: dict
    suboptions:
      user:
        description: User name of the connection.
        type: str
      host:
        description: Host name the client connects from.
        type: str
      addr:
        description: Address the client connects from.
        type: str
      laddr:
        description: Local address the client connects to.
        type: str
      lport:
        description: Local port the client connects to.
        type: str
      rdomain:
        description: Routing domain of the connection.
        type: str
  ssh_config_path:
    description:
      - The system-wide OpenSSH client configuration.
    type: path
    default: /etc/ssh/ssh_config
  ssh_host:
    description:
      - Host name the client settings are reported for (C(ssh -G HOST)).
      - The default matches only C(Host *)-like blocks.
    type: str
    default: keepalive-ssh-probe.invalid
  users:
    description:
      - Users whose C(~/.ssh/config) (read before O(ssh_config_path), as ssh does) and PuTTY sessions
        (C(~/.config/putty/sessions) when that directory exists, as PuTTY does, else C(~/.putty/sessions))
        are reported. The system-wide client view is always reported.
      - A C(Match exec) in a client configuration is never run; that view then comes from the
        configuration model alone.
    type: list
    elements: str
    default: []
  profile_paths:
    description:
      - Shell startup files searched for C(TMOUT), in the order a login shell would read them; glob
        patterns are expanded (sorted).
      - The last assignment wins until one makes C(TMOUT) readonly; later assignments are then ignored.
      - When empty, C(/etc/environment), C(/etc/bash.bashrc), C(/etc/profile), C(/etc/profile.d/*.sh),
        C(/etc/bashrc), C(/etc/zsh/zshenv), C(/etc/zshenv), C(/etc/zsh/zprofile) and C(/etc/zprofile).
    type: list
    elements: str
    default: []
  proc_sys_root:
    description:
      - Directory holding C(net/ipv4/tcp_keepalive_time), C(tcp_keepalive_intvl), C(tcp_keepalive_probes)
        and C(tcp_retries2). The values are those of the network namespace the module runs in.
    type: path
    default: /proc/sys
  nat_idle_timeout:
    description:
      - Idle timeout, in seconds, of a NAT router or stateful firewall between clients and this host.
        The result RV(nat) then says whether an idle session survives it.
      - A mechanism keeps the session only if it sends a packet strictly more often than this.
    type: int
  compliance:
    description:
      - Also check the idle behaviour against a baseline. C(stig) (DISA STIG) wants C(ClientAliveInterval)
        at most 600 with C(ClientAliveCountMax 1), set in the main sshd_config itself, and an idle logout
        within 900 s; C(cis) wants a non-zero C(ClientAliveInterval)/C(ClientAliveCountMax) pair and an
        idle logout within 900 s. Both want C(TMOUT) readonly.
      - Either warns about keepalives without an idle timeout, and an idle timeout without keepalives.
    type: str
    choices: [none, stig, cis]
    default: none
  sshd_binary:
    description:
      - Path of the sshd program (C(sshd -T) and the version). Found on the host when omitted.
    type: path
  ssh_binary:
    description:
      - Path of the ssh program (C(ssh -G) and the version). Found on the host when omitted.
    type: path
notes:
  - Run with privileges (C(become)) to audit the server; C(sshd -T) reads the host keys. Without them the
    server values come from the configuration model and a warning says so.
  - Predictions are for an idle session. C(seconds) counts from the peer's last packet; C(low) and C(high)
    bound what is seen when the peer vanishes at an unknown moment.
  - The predictions pair this host's sshd with this host's ssh client settings and kernel; a client on
    another host brings its own.
  - The calibration table, the source reading behind each row and the lab measurements are described
    in the collection's C(docs/predictions.md).
seealso:
  - module: keepalive.ssh.sshd_config
  - name: sshd_config(5)
    description: Manual page of the OpenSSH server configuration.
    link: https://man.openbsd.org/sshd_config
"""

EXAMPLES = r"""
- name: Audit keepalives and idle timeouts, for a NAT that forgets idle flows after 15 minutes
  keepalive.ssh.keepalive_info:
    nat_idle_timeout: 900
    users: [alice, deploy]
  become: true
  register: keepalive

- name: Show when a vanished client is dropped
  ansible.builtin.debug:
    msg: "sshd drops a dead client after {{ keepalive.predictions.sshd_dead_client.seconds }} s"

- name: What a backup user connecting from the office network gets, against the STIG
  keepalive.ssh.keepalive_info:
    connection:
      user: backup
      host: office.example.com
      addr: 198.51.100.7
    compliance: stig
  become: true
"""

RETURN = r"""
changed:
  description: Always C(false); the module changes nothing.
  returned: always
  type: bool
  sample: false
openssh:
  description: Installed OpenSSH releases, as C(major.minor).
  returned: always
  type: dict
  sample: {server: '9.2', client: '9.2'}
  contains:
    server:
      description: Release of sshd, C(null) when sshd is not installed.
      type: str
    client:
      description: Release of ssh, C(null) when ssh is not installed.
      type: str
server:
  description: Effective server settings and where they come from; C(null) without sshd or its configuration.
  returned: always
  type: dict
  contains:
    config_path:
      description: The main sshd configuration file read.
      type: str
      sample: /etc/ssh/sshd_config
    connection:
      description: The O(connection) used for C(Match) blocks, or C(null).
      type: dict
      sample: {user: backup, addr: 198.51.100.7}
    source:
      description: C(sshd -T), or C(model) when C(sshd -T) failed and the configuration model alone gave the values.
      type: str
      sample: sshd -T
    settings:
      description: One entry per keyword.
      type: dict
      contains:
        ClientAliveInterval:
          description: Seconds of client silence before sshd sends a keepalive probe; C(0) is off.
          type: dict
          contains: &setting
            value:
              description: The value as C(sshd -T) (or C(ssh -G)) prints it.
              type: str
              sample: '300'
            where:
              description: C(file:line) of the definition in use, or C((default)).
              type: str
              sample: /etc/ssh/sshd_config.d/50-cloud-init.conf:3
            shadowed:
              description:
                - Other definitions that apply but lose to the one in use (read later, or overridden by a
                  C(Match) block).
              type: list
              elements: dict
              contains:
                value:
                  description: The value there.
                  type: str
                where:
                  description: C(file:line).
                  type: str
                by:
                  description: C(file:line) of the definition that wins over it.
                  type: str
            conditional:
              description:
                - Definitions inside C(Match)/C(Host) blocks that do not apply here but do for other
                  connections or hosts.
              type: list
              elements: dict
              contains:
                value:
                  description: The value there.
                  type: str
                where:
                  description: C(file:line).
                  type: str
                match:
                  description: The block line, for example C(Match User backup) or C(Host *.example.com).
                  type: str
        ClientAliveCountMax:
          description: Unanswered probes sshd allows; see RV(predictions.sshd_dead_client) for what that means in time.
          type: dict
          contains: *setting
        TCPKeepAlive:
          description: Whether sshd's sockets use the kernel's TCP keepalive.
          type: dict
          contains: *setting
        ChannelTimeout:
          description: Channel inactivity timeouts (OpenSSH 9.2 or later), C(none) when unset.
          type: dict
          contains: *setting
        UnusedConnectionTimeout:
          description: Timeout of connections without open channels (OpenSSH 9.2 or later).
          type: dict
          contains: *setting
client:
  description: Effective client settings for O(ssh_host); C(null) without ssh.
  returned: always
  type: dict
  contains:
    host:
      description: The host name the settings are for.
      type: str
      sample: keepalive-ssh-probe.invalid
    config_path:
      description: The system-wide client configuration read.
      type: str
      sample: /etc/ssh/ssh_config
    views:
      description: The system-wide view first, then one per user of O(users) that exists.
      type: list
      elements: dict
      contains:
        name:
          description: C(ssh) or C(ssh (user NAME)).
          type: str
        user:
          description: The user, C(null) for the system-wide view.
          type: str
        source:
          description: C(ssh -G), or C(model) when C(ssh -G) was not run or failed.
          type: str
        config_files:
          description: Existing files read, in order (the user's first).
          type: list
          elements: str
        settings:
          description: One entry per keyword.
          type: dict
          contains:
            ServerAliveInterval:
              description: Seconds of server silence before ssh sends a keepalive probe; C(0) is off.
              type: dict
              contains: *setting
            ServerAliveCountMax:
              description: Unanswered probes ssh allows.
              type: dict
              contains: *setting
            TCPKeepAlive:
              description: Whether ssh's sockets use the kernel's TCP keepalive.
              type: dict
              contains: *setting
        dead_server:
          description: When this client drops a server that vanished; same keys as RV(predictions.sshd_dead_client).
          type: dict
          contains: &prediction
            seconds:
              description: Predicted seconds from the peer's last packet; C(null) means never.
              type: float
              sample: 480
            low:
              description: Earliest, counted from the moment the peer vanishes from an idle session.
              type: float
              sample: 360
            high:
              description: Latest, counted the same way.
              type: float
              sample: 480
            formula:
              description: The formula with this host's numbers, or why there is no number.
              type: str
              sample: 2 x ClientAliveInterval x (ClientAliveCountMax + 1) = 2 x 60 x (3 + 1)
            basis:
              description:
                - Where the formula comes from; C(measured in the lab (docs/behaviour.md)) and the releases
                  measured, or C(source reading, not yet calibrated) for a row the lab has not measured.
              type: str
              sample: measured in the lab (docs/behaviour.md) on OpenSSH 9.2p1
            mechanism:
              description:
                - What acts first, C(null) for never.
                - One of C(sshd ClientAlive), C(ssh ServerAlive), C(kernel TCP keepalive),
                  C(kernel TCP retransmission), C(shell TMOUT), C(sshd ChannelTimeout).
              type: str
              sample: sshd ClientAlive
            rule:
              description: The row of the calibration table used.
              type: str
              sample: sshd ClientAlive, OpenSSH 9.2 to before 9.3
sysctl:
  description: The kernel's TCP keepalive and retransmission settings of the module's network namespace.
  returned: always
  type: dict
  contains:
    tcp_keepalive_time:
      description: Seconds without traffic before the first keepalive probe.
      type: dict
      contains: &sysctl
        value:
          description: The number, C(null) when it could not be read.
          type: int
          sample: 7200
        where:
          description: The file read.
          type: str
          sample: /proc/sys/net/ipv4/tcp_keepalive_time
    tcp_keepalive_intvl:
      description: Seconds between unanswered keepalive probes.
      type: dict
      contains: *sysctl
    tcp_keepalive_probes:
      description: Unanswered probes before the connection is reset.
      type: dict
      contains: *sysctl
    tcp_retries2:
      description: Retransmissions of unacknowledged data before the kernel gives up (as a time, 924.6 s for 15).
      type: dict
      contains: *sysctl
tmout:
  description: The shells' TMOUT as the profile files set it.
  returned: always
  type: dict
  contains:
    seconds:
      description: Effective TMOUT in seconds, C(null) when not set (C(0) disables it).
      type: int
      sample: 900
    readonly:
      description: Whether it is made readonly (users cannot unset it).
      type: bool
    where:
      description: C(file:line) of the assignment in effect, or C(null).
      type: str
      sample: /etc/profile.d/tmout.sh:1
    definitions:
      description: Every line that assigns TMOUT or marks it readonly or exported, in reading order.
      type: list
      elements: dict
      contains:
        value:
          description: The assigned text, C(null) for C(readonly TMOUT) / C(export TMOUT) without a value.
          type: str
        seconds:
          description: The assigned seconds, C(null) when not a number.
          type: int
        readonly:
          description: Whether this line makes TMOUT readonly.
          type: bool
        where:
          description: C(file:line).
          type: str
putty:
  description: Keepalive keys of the PuTTY sessions of O(users).
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The owner.
      type: str
    session:
      description: Session name, percent-decoded (C(Default Settings) is the template).
      type: str
    path:
      description: The session file.
      type: str
    ping_interval:
      description:
        - Seconds between PuTTY's keepalives, C(PingInterval) (minutes) x 60 + C(PingIntervalSecs) as PuTTY
          adds them (it saves 60 s as C(PingInterval=1), C(PingIntervalSecs=0)); C(0) is off.
      type: dict
      contains: &putty_key
        value:
          description: The number (PuTTY's default C(0) when the keys are missing).
          type: int
        where:
          description: C(file:line) of each key that counts, comma-separated, or C((default)).
          type: str
    tcp_keepalives:
      description: C(TCPKeepalives), C(1) when PuTTY asks for the kernel's TCP keepalive.
      type: dict
      contains: *putty_key
predictions:
  description: When this host ends an idle or dead session.
  returned: always
  type: dict
  contains:
    sshd_dead_client:
      description:
        - When sshd drops a client that vanished (powered off, cable pulled, NAT entry lost); the first of
          ClientAlive exhaustion, the retransmission timeout of an unanswered probe, or the kernel's keepalive.
      type: dict
      contains: *prediction
    ssh_dead_server:
      description: When the system-wide ssh client drops a server that vanished.
      type: dict
      contains: *prediction
    kernel_dead_peer:
      description: When the kernel's TCP keepalive declares a peer dead (only sockets with C(TCPKeepAlive yes)).
      type: dict
      contains: *prediction
    idle_logout:
      description:
        - When an idle but healthy session is ended (TMOUT, ChannelTimeout, or C(ClientAliveCountMax 0)
          before OpenSSH 8.2).
      type: dict
      contains: *prediction
nat:
  description: Whether an idle session survives O(nat_idle_timeout); C(null) without it.
  returned: always
  type: dict
  contains:
    timeout:
      description: The O(nat_idle_timeout).
      type: int
      sample: 900
    survives:
      description: True when something on the server side keeps every idle session alive and nothing ends it first.
      type: bool
    verdict:
      description:
        - C(survives), C(client_dependent) (only the clients listed keep it), C(dies), or
          C(ended_by_idle_timeout).
      type: str
      sample: survives
    kept_alive_by:
      description: Every mechanism that sends a packet strictly more often than the timeout.
      type: list
      elements: dict
      contains:
        mechanism:
          description: C(ClientAliveInterval), C(ServerAliveInterval), C(tcp_keepalive_time) or C(PingIntervalSecs).
          type: str
        side:
          description: C(server) or C(client).
          type: str
        who:
          description: Which program or session.
          type: str
        seconds:
          description: Seconds between its packets on an idle session (the calibrated probe spacing, not the setting).
          type: float
    ended_first_by:
      description: The idle logout that ends the session before the NAT forgets it, or C(null).
      type: dict
      contains:
        mechanism:
          description: C(shell TMOUT), C(sshd ChannelTimeout) or C(sshd ClientAlive).
          type: str
        seconds:
          description: After how many idle seconds.
          type: float
        formula:
          description: The setting that does it.
          type: str
    message:
      description: One sentence for humans.
      type: str
findings:
  description: Every warning of this run, also shown as Ansible warnings; stable text for reports.
  returned: always
  type: list
  elements: str
  sample:
    - 'sshd: ClientAliveInterval 600 at /etc/ssh/sshd_config:120 is ignored: ClientAliveInterval 0 at
      /etc/ssh/sshd_config.d/50-cloud-init.conf:3 wins'
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.keepalive.ssh.plugins.module_utils._info import (
    PROBE_HOST,
    Gatherer,
    InfoFailure,
)
from ansible_collections.keepalive.ssh.plugins.module_utils._runtime import Runtime, RuntimeFailure

_CONNECTION = dict((name, dict(type='str')) for name in ('user', 'host', 'addr', 'laddr', 'lport', 'rdomain'))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            sshd_config_path=dict(type='path', default='/etc/ssh/sshd_config'),
            connection=dict(type='dict', options=_CONNECTION),
            ssh_config_path=dict(type='path', default='/etc/ssh/ssh_config'),
            ssh_host=dict(type='str', default=PROBE_HOST),
            users=dict(type='list', elements='str', default=[]),
            profile_paths=dict(type='list', elements='str', default=[]),
            proc_sys_root=dict(type='path', default='/proc/sys'),
            nat_idle_timeout=dict(type='int'),
            compliance=dict(type='str', choices=['none', 'stig', 'cis'], default='none'),
            sshd_binary=dict(type='path'),
            ssh_binary=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    runtime = Runtime(lambda argv: module.run_command(list(argv)), sshd=module.params['sshd_binary'],
                      ssh=module.params['ssh_binary'])
    try:
        result = Gatherer(module.params, runtime, module.warn).run()
    except (InfoFailure, RuntimeFailure) as exc:
        module.fail_json(msg='%s; nothing was changed' % exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
