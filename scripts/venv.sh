#!/usr/bin/env bash
# Create or refresh the project's virtualenv (.venv) with Python 3.12 and requirements/*.txt.
# The venv is re-created only when the requirement files or the interpreter change: their
# checksum is kept in .venv/.requirements.sha256 (mtimes alone change on every checkout).
#
# Usage: scripts/venv.sh [VENV_DIR]        env: PYTHON312=/path/to/python3.12 to choose one
#        scripts/venv.sh --print-python    only print the interpreter it would use
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${1:-.venv}
REQS=(requirements/dev.txt requirements/constraints.txt)
STAMP=$VENV/.requirements.sha256

log() { printf 'venv: %s\n' "$*"; }
die() { printf 'venv: error: %s\n' "$*" >&2; exit 1; }

# ansible-core 2.20+ needs Python >= 3.12 on the controller; pyenv's 3.12.1 first, then any 3.12.
find_python312() {
    local root candidate
    if [ -n "${PYTHON312:-}" ]; then
        printf '%s\n' "$PYTHON312"
        return 0
    fi
    if command -v pyenv >/dev/null 2>&1 && root=$(pyenv root 2>/dev/null); then
        for candidate in "$root/versions/3.12.1/bin/python3" "$root"/versions/3.12.*/bin/python3; do
            [ -x "$candidate" ] && { printf '%s\n' "$candidate"; return 0; }
        done
    fi
    for candidate in /usr/bin/python3.12 /usr/local/bin/python3.12 "$(command -v python3.12 || true)"; do
        # A pyenv shim for a version that is not selected prints "command not found": try it.
        [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c '' 2>/dev/null \
            && { printf '%s\n' "$candidate"; return 0; }
    done
    return 1
}

PY=$(find_python312) || die "no Python 3.12 found (pyenv install 3.12.1, or set PYTHON312)"
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 12), sys.version' \
    || die "$PY is not Python 3.12"
if [ "$VENV" = --print-python ]; then
    printf '%s\n' "$PY"
    exit 0
fi

want=$( { "$PY" -c 'import sys; print(sys.version)'; cat "${REQS[@]}"; } | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    log "up to date ($VENV)"
    exit 0
fi

log "creating $VENV with $PY (one to two minutes)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
logfile=$VENV/pip-install.log
# pip.conf on these machines names local indexes that may be absent; their warnings go to the log.
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
        -r requirements/dev.txt -c requirements/constraints.txt >"$logfile" 2>&1; then
    grep -v '^WARNING: Location ' "$logfile" | tail -n 40 >&2
    die "pip install failed (full log: $logfile)"
fi
printf '%s\n' "$want" >"$STAMP"
log "ready: $("$VENV/bin/ansible" --version | sed -n 1p)"
