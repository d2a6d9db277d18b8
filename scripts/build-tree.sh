#!/usr/bin/env bash
# Mirror the checkout into BUILD_DIR/ansible_collections/keepalive/ssh, the layout that
# ansible-test, ansible-doc, antsibull-docs and ansible-lint need to find the collection by name.
# Copies what git would commit (tracked files plus untracked files that are not ignored) and
# prunes what is gone, updating in place so a concurrent reader of the tree is not pulled
# from under its feet. tests/output/ (written by ansible-test) is kept.
#
# The tree gets an empty git repository of its own: ansible-test lists a collection's files with
# git from the nearest .git upwards, and the checkout's git would report all of .build/ as ignored
# ("All targets skipped"). In the tree's own repository they are untracked, not ignored, so
# `git ls-files --others --exclude-standard` lists exactly the copied files.
#
# Usage: scripts/build-tree.sh [BUILD_DIR]      (default .build)
set -euo pipefail

cd "$(dirname "$0")/.."
build=${1:-.build}
dest=$build/ansible_collections/keepalive/ssh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --cached also lists tracked files deleted in the work tree: keep only what exists.
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done | sort -z -u >"$tmp/want"

mkdir -p "$dest"
rsync -a --from0 --files-from="$tmp/want" ./ "$dest/"

[ -d "$dest/.git" ] || git init -q "$dest"

(cd "$dest" && find . \( -path ./tests/output -o -path ./.git \) -prune -o \( -type f -o -type l \) -print0) \
    | sed -z 's#^\./##' | sort -z >"$tmp/have"
(cd "$dest" && comm -z -23 "$tmp/have" "$tmp/want" | xargs -0 -r rm -f --)
find "$dest" -mindepth 1 -depth -type d -empty -not -path "$dest/tests/output*" -not -path "$dest/.git*" -delete
