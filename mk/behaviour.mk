# mk/behaviour.mk — behavioural scenarios (issue 6, docs/behaviour.md): live SSH sessions on the
# lab through its NAT router, on OpenSSH 8.4, 9.2 and 10.0, measured against expected bounds.
# Results: tests/output/results/behaviour.json (and .yml); the table is printed at the end.
#
#   make behaviour [BEHAVIOUR_SCENARIOS="stay_alive dead_peer"]   each on a fresh lab run
#   make behaviour-units                                          the harness's own tests (no lab)
#   make behaviour-table                                          print the last results
#   make calibration                                              keepalive_info's predictions against the results
#   make demo-sessions LAB_INVENTORY=/tmp/kassh-ID/inventory.yml  the demo's sessions on a lab
# Uses VENV_BIN, venv and build-tree from mk/tooling.mk.

BEHAVIOUR_SCENARIOS ?= stay_alive dead_peer idle_timeout lockout_guard
LAB_INVENTORY       ?=

TEST_EXTRA += behaviour

# Run by `behaviour` after the scenarios. It fails without dead_peer results unless
# KEEPALIVE_CALIBRATION_OPTIONAL=1, which `behaviour` sets when BEHAVIOUR_SCENARIOS leaves dead_peer out.
CALIBRATION = $(VENV_BIN)/pytest -v -p no:cacheprovider tests/behaviour/test_calibration.py

.PHONY: behaviour behaviour-units behaviour-table calibration demo-sessions

behaviour: venv build-tree behaviour-units ## behavioural scenarios on live sessions (BEHAVIOUR_SCENARIOS), results table
	$(VENV_BIN)/python tests/behaviour/run_scenarios.py $(BEHAVIOUR_SCENARIOS)
	$(if $(filter dead_peer,$(BEHAVIOUR_SCENARIOS)),,KEEPALIVE_CALIBRATION_OPTIONAL=1) $(CALIBRATION)

behaviour-units: venv ## unit tests of the behavioural harness (formulas, results file, table, probe)
	$(VENV_BIN)/pytest -q -p no:cacheprovider tests/behaviour --ignore=tests/behaviour/test_calibration.py

calibration: venv ## keepalive_info's predictions against the measured results (issue 7, docs/predictions.md)
	$(CALIBRATION)

behaviour-table: venv ## print the behavioural results table (tests/output/results/behaviour.json)
	$(VENV_BIN)/python tests/behaviour/table.py

demo-sessions: venv ## sessions through the NAT on a lab that is up (LAB_INVENTORY=...), with the table
	@[ -n "$(LAB_INVENTORY)" ] || { echo "give LAB_INVENTORY=/tmp/kassh-ID/inventory.yml (labctl up prints it)" >&2; exit 2; }
	$(VENV_BIN)/python tests/behaviour/demo_sessions.py --inventory $(LAB_INVENTORY)
