#!/bin/sh
# Main process of every lab container (keepalive.ssh tests/lab).
# There is no init system: sshd itself is the container's main process, so the
# collection's "bare sshd" reload path (SIGHUP to the pid in sshd's PidFile,
# the default /run/sshd.pid, which sshd -D still writes) is the one exercised.
set -eu
mkdir -p /run/sshd /root/.ssh
chmod 0755 /run/sshd
chmod 0700 /root/.ssh
# The lab mounts this run's keys read-only at /lab (see labkit/topology.py).
if [ -f /lab/authorized_keys ]; then
    install -m 0600 /lab/authorized_keys /root/.ssh/authorized_keys
fi
for key in id_ed25519 id_ed25519.pub known_hosts; do
    if [ -f "/lab/$key" ]; then
        install -m 0600 "/lab/$key" "/root/.ssh/$key"
    fi
done
exec /usr/sbin/sshd -D -e
