# keepalive.ssh — the entry point for developers and CI.
#
# Targets stay thin here: each area keeps its own in mk/<area>.mk (tooling, lab, bench, ...),
# all included below in sorted order. `make help` lists what the fragments provide.
#   make demo    the lab's end-to-end demonstration (mk/lab.mk)
#   make test    every check CI runs (mk/tooling.mk)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# Phases that `make test` runs after its own. A fragment appends its phase with
#   TEST_EXTRA += molecule
# and `make test TEST_EXTRA=` on the command line skips them all.
TEST_EXTRA ?=

-include $(sort $(wildcard mk/*.mk))

.PHONY: help
help: ## list the targets that have a description
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) \
	  | sort -u | awk 'BEGIN {FS = ":.*## "} {printf "  make %-16s %s\n", $$1, $$2}'
