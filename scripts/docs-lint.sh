#!/usr/bin/env bash
# Check the collection's documentation the way users will see it: antsibull-docs' collection
# lint (plugin docs, role argument specs, links), then `ansible-doc` renders every module with
# neither an error nor a warning. Runs both checks and fails if either fails.
#
# Usage: scripts/docs-lint.sh COLLECTION_TREE   (with ansible-doc and antsibull-docs on PATH and
#        ANSIBLE_COLLECTIONS_PATH covering the tree, as `make docs-lint` sets them)
set -uo pipefail

tree=${1:?usage: $0 COLLECTION_TREE}
cd "$tree" || exit 1
rc=0

echo "antsibull-docs lint-collection-docs --plugin-docs"
antsibull-docs lint-collection-docs --plugin-docs . || rc=1

mapfile -t modules < <(find plugins/modules -name '*.py' ! -name '__init__.py' 2>/dev/null | sort)
[ "${#modules[@]}" -gt 0 ] || echo "plugins/modules: no modules yet"
for path in "${modules[@]}"; do
    name=keepalive.ssh.$(basename "$path" .py)
    if ! err=$(ansible-doc -t module "$name" 2>&1 >/dev/null); then
        printf 'ansible-doc %s: FAILED\n%s\n' "$name" "$err" >&2
        rc=1
    elif [ -n "$err" ]; then
        printf 'ansible-doc %s: warnings\n%s\n' "$name" "$err" >&2
        rc=1
    else
        echo "ansible-doc $name: ok"
    fi
done
exit "$rc"
