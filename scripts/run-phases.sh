#!/usr/bin/env bash
# Run make targets one after another as the phases of `make test`: announce each, time it,
# keep going after a failure (so one run shows every problem), then print a summary.
# The first phase is a prerequisite (setup): when it fails nothing else runs.
# Exit status: 0 when every phase passed, 1 otherwise.
#
# Usage: scripts/run-phases.sh PHASE...       env: MAKE (default make), FAIL_FAST=1 stops at
#        the first failed phase.
set -uo pipefail

make_cmd=${MAKE:-make}
phases=("$@")
total=${#phases[@]}
[ "$total" -gt 0 ] || { echo "run-phases: no phases given" >&2; exit 2; }

now_ms() { date +%s%3N; }
seconds() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

results=()
durations=()
failed=0
started=$(now_ms)

for i in "${!phases[@]}"; do
    phase=${phases[$i]}
    n=$((i + 1))
    printf '\n==> make test: phase %d/%d: %s\n' "$n" "$total" "$phase"
    t0=$(now_ms)
    if "$make_cmd" --no-print-directory "$phase" </dev/null; then
        result=ok
    else
        result=FAILED
        failed=$((failed + 1))
    fi
    ms=$(($(now_ms) - t0))
    results+=("$result")
    durations+=("$ms")
    printf '<== make test: phase %d/%d: %s %s in %ss\n' "$n" "$total" "$phase" "$result" "$(seconds "$ms")"
    if [ "$result" != ok ] && { [ "$i" -eq 0 ] || [ "${FAIL_FAST:-0}" = 1 ]; }; then
        break
    fi
done

printf '\n== make test summary ==\n'
printf '  %-16s %-8s %9s\n' phase result seconds
for i in "${!phases[@]}"; do
    if [ "$i" -lt "${#results[@]}" ]; then
        printf '  %-16s %-8s %9s\n' "${phases[$i]}" "${results[$i]}" "$(seconds "${durations[$i]}")"
    else
        printf '  %-16s %-8s %9s\n' "${phases[$i]}" "not run" -
    fi
done
printf '  %-16s %-8s %9s\n' total "" "$(seconds $(($(now_ms) - started)))"
passed=$((${#results[@]} - failed))
not_run=$((total - ${#results[@]}))
printf 'phases: %d passed, %d failed' "$passed" "$failed"
[ "$not_run" -eq 0 ] || printf ', %d not run' "$not_run"
printf '\n'
[ "$failed" -eq 0 ] && [ "$not_run" -eq 0 ]
