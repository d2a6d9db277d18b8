# mk/bench.mk — `make bench`: benchmarks (not tests, not part of `make test`) of what the
# collection costs: module CPU, converging and re-checking a fleet of lab hosts against a
# hand-written lineinfile recipe, SSH round trips per role, keepalive bytes on the wire.
# Prints markdown tables and writes tests/output/bench/results.{json,yml}; tears its lab down.
# See docs/performance.md. Needs root (network namespaces, podman), like the lab.
#
#   make bench                                     all sections, fleets of 10, 50 and 100 hosts
#   make bench BENCH_SIZES=5 BENCH_ARGS="--skip traffic --rounds 1"    a quick look
# Uses VENV_BIN, venv and build-tree from mk/tooling.mk.

BENCH_SIZES ?= 10,50,100
BENCH_ARGS  ?=

.PHONY: bench

bench: venv build-tree ## benchmarks: model CPU, fleet converge/no-op vs a lineinfile recipe, round trips, keepalive bytes (~30 min, root)
	$(VENV_BIN)/python tests/bench/run.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)
