"""The lab's own behaviour, on a real lab run (one server and the client).

Each hook is checked by what a real ssh session does through the router, with a control
case that shows the same check can fail. Run with `make lab-selftest` (root, ~1 min).
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labkit.api import Lab  # noqa: E402
from labkit.state import dump_yaml, load_yaml, registered_runs  # noqa: E402
from labkit.topology import write_inventory  # noqa: E402

SERVER = "debian12"
BENCHMARK_RANGE = ipaddress.ip_network("198.18.0.0/15")


@pytest.fixture(scope="module")
def lab():
    lab = Lab.up(servers=[SERVER])
    try:
        yield lab
    finally:
        lab.down()


@pytest.fixture
def clean_path(lab):
    yield
    lab.restore("all")
    lab.nat_timeout(300)


def test_every_address_is_in_the_benchmarking_range(lab):
    for host in lab.hosts.values():
        for key in ("mgmt_root", "mgmt_address", "data_gateway", "data_address"):
            assert ipaddress.ip_address(str(host[key])) in BENCHMARK_RANGE, (key, host[key])


def test_nat_forgets_an_idle_session_unless_keepalives_flow(lab, clean_path):
    lab.nat_timeout(6)
    with ThreadPoolExecutor(max_workers=2) as pool:
        idle = pool.submit(lab.probe, SERVER, idle=12, timeout=25)
        kept = pool.submit(lab.probe, SERVER, idle=12, timeout=25,
                           options=["ServerAliveInterval=2"])
        idle_result, kept_result = idle.result(), kept.result()
    assert not idle_result["survived"], idle_result
    assert kept_result["survived"], kept_result


def _flow_timeouts_once_tracked(lab, deadline: float = 15) -> list[int]:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        timeouts = lab.status()["tcp_flow_timeouts"]
        if timeouts:
            return timeouts
        time.sleep(0.2)
    raise AssertionError("no TCP flow through the router")


def test_lowering_the_nat_timeout_shortens_flows_already_idle(lab, clean_path):
    # A session that went idle under a long timeout must not keep it: the scenarios log in
    # under a long timeout and shorten it once every session is idle.
    lab.nat_timeout(300)
    with ThreadPoolExecutor(max_workers=1) as pool:
        session = pool.submit(lab.probe, SERVER, idle=14, timeout=30)
        before = _flow_timeouts_once_tracked(lab)
        time.sleep(3)  # the login is over: from now on the flow is silent
        lab.nat_timeout(6)
        after = lab.status()["tcp_flow_timeouts"]
        result = session.result()
    assert min(before) > 200, before  # control: the flow had the long timeout
    assert after and max(after) <= 6, after
    assert not result["survived"], result


def test_a_short_idle_period_survives_the_same_nat(lab, clean_path):
    lab.nat_timeout(6)
    assert lab.probe(SERVER, idle=2, timeout=20)["survived"]


def test_blackhole_cuts_the_host_off_and_restore_brings_it_back(lab, clean_path):
    lab.blackhole(SERVER)
    assert not lab.probe(SERVER, idle=0, timeout=6)["survived"]
    assert lab.status()["hosts"][SERVER]["blackholed"]
    lab.restore(SERVER)
    assert lab.probe(SERVER, idle=0, timeout=20)["survived"]


def test_loss_drops_packets_and_zero_loss_lifts_it(lab, clean_path):
    lab.loss(SERVER, 100)
    assert not lab.probe(SERVER, idle=0, timeout=6)["survived"]
    lab.loss(SERVER, 0)
    assert lab.probe(SERVER, idle=0, timeout=20)["survived"]


def test_management_path_ignores_the_data_path(lab, clean_path):
    lab.blackhole(SERVER)
    assert lab.ssh(SERVER, "echo mgmt-ok").stdout.strip() == "mgmt-ok"


def test_sysctls_are_per_host_namespace(lab):
    lab.ssh(SERVER, "sysctl -q -w net.ipv4.tcp_keepalive_time=123")
    assert lab.ssh(SERVER, "sysctl -n net.ipv4.tcp_keepalive_time").stdout.strip() == "123"
    assert lab.ssh(lab.client, "sysctl -n net.ipv4.tcp_keepalive_time").stdout.strip() != "123"
    lab.ssh(SERVER, "sysctl -q -w net.ipv4.tcp_keepalive_time=7200")


def test_inventory_keeps_a_persons_comments(lab, tmp_path):
    path = tmp_path / "inventory.yml"
    write_inventory(lab.state, path)
    data = load_yaml(path)
    data["all"]["children"]["servers"]["hosts"][SERVER].yaml_set_comment_before_after_key(
        "lab_data_address", before="kept: a note a person wrote", indent=10)
    dump_yaml(data, path)
    write_inventory(lab.state, path)
    text = path.read_text(encoding="utf-8")
    assert "# kept: a note a person wrote" in text
    contract = load_yaml(path)["all"]["children"]
    assert set(contract) == {"servers", "clients"}
    assert contract["clients"]["hosts"]["client"]["lab_servers"] == {
        SERVER: str(lab.hosts[SERVER]["data_address"])}


def test_teardown_leaves_nothing_behind():
    lab = Lab.up(servers=[SERVER])
    run_id, slot = lab.run_id, lab.state.data["slot"]
    lab.down()
    assert not list(Path("/run/netns").glob(f"kassh-{run_id}-*"))
    containers = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", f"label=keepalive-ssh-lab.run={run_id}"],
        capture_output=True, text=True, check=True).stdout
    assert containers.strip() == ""
    assert not list(Path("/sys/class/net").glob(f"ks{run_id}*"))
    assert not Path(f"/tmp/kassh-{run_id}").exists()
    assert slot not in [r["slot"] for r in registered_runs()]
