#!/usr/bin/env bash
# Put the offline get-pip stand-in where ansible-test looks for its cached bootstrap script.
# The pip version is read from the installed ansible-test, so an ansible-core bump needs no edit.
#
# Usage: scripts/ansible-test-cache.sh PYTHON   (the venv's python, which has ansible-core)
set -euo pipefail

PY=${1:?usage: $0 PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
marker='Offline stand-in for the get-pip.py that ansible-test downloads'

source_file=$("$PY" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$source_file" | head -n 1)
[ -n "$pip_version" ] || { echo "ansible-test-cache: cannot find the pip version in $source_file" >&2; exit 1; }

cache_dir=$HOME/.ansible/test/cache
target=$cache_dir/get_pip_${pip_version//./_}.py
mkdir -p "$cache_dir"
# A real get-pip.py someone put there works too: replace only a missing file or our own.
if [ ! -e "$target" ] || { grep -qF "$marker" "$target" && ! cmp -s "$here/get_pip_standin.py" "$target"; }; then
    cp "$here/get_pip_standin.py" "$target"
    echo "ansible-test-cache: installed get-pip stand-in for pip $pip_version at $target"
fi
