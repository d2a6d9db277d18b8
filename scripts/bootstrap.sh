#!/usr/bin/env bash
# Install and configure the Debian packages keepalive.ssh needs on a developer or CI machine.
# Idempotent and quiet: a second run changes nothing and prints one line.
#
# Usage: scripts/bootstrap.sh [all|packages|podman|sshd-rundir]   (default: all)
#
# The lab (mk/lab.mk, tests/lab/) relies on `configure_podman` below: after `make setup` (or
# `scripts/bootstrap.sh podman`) podman runs with runc and ulimits that work on these machines,
# so lab commands need neither `--runtime runc` nor `--ulimit ...`. Change it here, not there.
set -euo pipefail

# openssh-server is installed for its sshd binary (9.2 on Debian 12), which the differential
# tests run as `sshd -t/-T`; this script never leaves an sshd running on the machine.
PACKAGES=(
    openssh-client openssh-server putty-tools
    podman runc uidmap
    debootstrap rsync
    nftables iproute2 conntrack procps
    shellcheck
)

CONTAINERS_CONF=/etc/containers/containers.conf
CONTAINERS_CONF_MARK="# managed by keepalive.ssh scripts/bootstrap.sh"

log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = installed ] || printf '%s\n' "$pkg"
    done
}

# Run quietly; show the captured output only when the command fails.
quietly() {
    local out rc=0
    out=$(mktemp)
    "$@" >"$out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$out" >&2; rm -f "$out"; die "failed ($rc): $*"; }
    rm -f "$out"
}

# A policy-rc.d that exits 101 tells maintainer scripts not to start services (invoke-rc.d,
# deb-systemd-invoke): openssh-server's postinst would otherwise try to start sshd.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0

deny_service_starts() {
    [ -e "$POLICY_RC" ] && return 0
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY_RC && chmod 0755 $POLICY_RC"
    POLICY_RC_OURS=1
}

allow_service_starts() {
    [ "$POLICY_RC_OURS" -eq 1 ] || return 0
    as_root rm -f "$POLICY_RC"
    POLICY_RC_OURS=0
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    log "installing ${missing[*]}"
    trap allow_service_starts EXIT
    deny_service_starts
    export DEBIAN_FRONTEND=noninteractive
    quietly as_root apt-get update -qq
    quietly as_root apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
    allow_service_starts
    trap - EXIT
}

# sshd refuses to start, and `sshd -t`/`-T` refuse to check, without its privilege separation
# directory. /run is emptied at boot, so this runs on every setup.
ensure_sshd_rundir() {
    [ -d /run/sshd ] || as_root install -d -m 0755 /run/sshd
}

containers_conf_text() {
    cat <<EOF
$CONTAINERS_CONF_MARK
# crun fails on these machines ("cgroups in hybrid mode not supported"); runc works.
# Without explicit ulimits the runtime fails with "setrlimit RLIMIT_NOFILE: Operation not permitted".
[containers]
default_ulimits = [
  "nofile=1024:1024",
  "nproc=4096:4096",
]

[engine]
runtime = "runc"
EOF
}

configure_podman() {
    local want
    want=$(containers_conf_text)
    if [ -f "$CONTAINERS_CONF" ] && ! grep -qF "$CONTAINERS_CONF_MARK" "$CONTAINERS_CONF"; then
        # Someone else's file: leave it, but say so when it lacks what the lab needs.
        if ! grep -q '^runtime *= *"runc"' "$CONTAINERS_CONF" || ! grep -q 'default_ulimits' "$CONTAINERS_CONF"; then
            log "warning: $CONTAINERS_CONF is not ours and lacks runtime=runc or default_ulimits; left as is"
        fi
        return 0
    fi
    if [ "$(cat "$CONTAINERS_CONF" 2>/dev/null)" != "$want" ]; then
        as_root install -d -m 0755 "$(dirname "$CONTAINERS_CONF")"
        printf '%s\n' "$want" | as_root tee "$CONTAINERS_CONF" >/dev/null
        log "wrote $CONTAINERS_CONF (runc, default ulimits)"
    fi
}

main() {
    local what=${1:-all}
    case "$what" in
        all)
            install_packages
            ensure_sshd_rundir
            configure_podman
            ;;
        packages) install_packages ;;
        podman) configure_podman ;;
        sshd-rundir) ensure_sshd_rundir ;;
        *) die "unknown step '$what' (all|packages|podman|sshd-rundir)" ;;
    esac
    log "ok ($what)"
}

main "$@"
