# mk/lab.mk — the test lab (tests/lab/, docs/lab.md): real sshd hosts of three OpenSSH
# releases and a client behind a NAT router, molecule scenarios on them, and the demo.
#
#   make lab-up [LAB_SERVERS=debian12,debian13] [LAB_NAT_TIMEOUT=300]
#   make lab-down             remove every lab run of this checkout, from any state
#   make lab-selftest         the lab's own behaviour (NAT timeout, blackhole, loss, teardown)
#   make molecule [MOLECULE_ARGS="test -s default"]
#   make demo
# Uses VENV_BIN, venv and build-tree from mk/tooling.mk.

LAB_PYTHON      = $(VENV_BIN)/python
LABCTL          = $(LAB_PYTHON) tests/lab/labctl.py
LAB_SERVERS     ?=
LAB_NAT_TIMEOUT ?= 300
# The lab's own scenarios (default, roles) share one lab run; the behavioural scenarios run
# each on a lab of their own under `make behaviour` (mk/behaviour.mk), so they are left out here.
MOLECULE_ARGS   ?= test --all --exclude stay_alive --exclude dead_peer --exclude idle_timeout \
                   --exclude lockout_guard

TEST_EXTRA += lab-selftest molecule

.PHONY: lab-up lab-down lab-status lab-images lab-selftest molecule demo

lab-up: venv ## build a lab run (images cached) and print its inventory and state file
	$(LABCTL) up --nat-timeout $(LAB_NAT_TIMEOUT) $(if $(LAB_SERVERS),--servers $(LAB_SERVERS))

lab-down: venv ## remove every lab run of this checkout (containers, namespaces, links)
	$(LABCTL) down --checkout

lab-status: venv ## list the lab runs on this machine
	$(LABCTL) status

lab-images: venv ## build the three lab images in parallel unless cached (lab-up does it too)
	$(LABCTL) images

lab-selftest: venv lab-images ## the lab's hooks proven on real ssh sessions through the NAT router (~1 min)
	$(VENV_BIN)/pytest -p no:cacheprovider -v tests/lab

molecule: venv build-tree ## molecule scenarios default and roles (MOLECULE_ARGS) on a fresh lab run, torn down afterwards
	$(LAB_PYTHON) tests/lab/run_molecule.py $(MOLECULE_ARGS)

demo: venv build-tree ## lab up, playbooks/keepalive.yml, before/after table per host, teardown
	$(LAB_PYTHON) tests/lab/demo.py
