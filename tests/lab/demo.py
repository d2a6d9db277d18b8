"""make demo: the collection on real hosts, end to end, in a few minutes.

Sections (each a function below, run in this order by main()):
  1. lab        bring up a lab run (images are built only the first time)
  2. before     read what every host does now (sshd -T, ssh -G, the kernel's sysctls)
  3. converge   run playbooks/keepalive.yml against the lab, with Ansible's own output
  4. after      read the same values again
  5. report     one small before/after table per host
  6. sessions   live sessions through the NAT router: one without the collection's settings (dies),
                one with them (survives), and a dead-peer detection time (tests/behaviour/demo_sessions.py)
  7. teardown   always, whatever happened above

To add a section, write a function taking the Demo and add it to SECTIONS.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from labkit.api import Lab  # noqa: E402
from labkit.shell import LabError, PhaseClock  # noqa: E402

CHECKOUT = HERE.parent.parent
SYSCTLS = ("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl",
           "net.ipv4.tcp_keepalive_probes")
SSHD_KEYWORDS = ("ClientAliveInterval", "ClientAliveCountMax", "TCPKeepAlive")
SSH_KEYWORDS = ("ServerAliveInterval", "ServerAliveCountMax")


@dataclasses.dataclass
class Demo:
    args: argparse.Namespace
    clock: PhaseClock = dataclasses.field(default_factory=PhaseClock)
    lab_clock: PhaseClock = dataclasses.field(default_factory=PhaseClock)
    lab: Lab | None = None
    before: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    after: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # Rows a later section (live sessions) adds to the report: (host, setting, value).
    extra_rows: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


def banner(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 74 - len(title)), flush=True)


# ----------------------------------------------------------------------------- 1. lab


def section_lab(demo: Demo) -> None:
    banner("1. lab: three OpenSSH releases and a client behind a NAT router")
    demo.lab = Lab.up(servers=demo.args.servers, clock=demo.lab_clock)
    for name, host in demo.lab.hosts.items():
        print(f"  {name:<9} {host['release']:<9} OpenSSH {host.get('openssh_version', '?'):<7} "
              f"data {host['data_address']:<15} management {host['mgmt_address']}")
    print(f"  inventory: {demo.lab.inventory}")


# ----------------------------------------------------------------------------- 2./4. readings


def read_settings(lab: Lab) -> dict[str, dict[str, str]]:
    """{host: {setting: value}} as the programs themselves report them."""
    readings: dict[str, dict[str, str]] = {}
    for name, host in lab.hosts.items():
        values = _sysctls(lab, name)
        if host["role"] == "server":
            values.update(_effective(lab.ssh(name, "/usr/sbin/sshd -T").stdout,
                                     SSHD_KEYWORDS, prefix="sshd "))
            client_view = lab.ssh(lab.client, f"ssh -G {host['data_address']}").stdout
            values.update(_effective(client_view, SSH_KEYWORDS, prefix="client ssh "))
        readings[name] = values
    return readings


def _sysctls(lab: Lab, host: str) -> dict[str, str]:
    out = lab.ssh(host, "sysctl -n " + " ".join(SYSCTLS)).stdout.split()
    return dict(zip(SYSCTLS, out, strict=True))


def _effective(text: str, keywords: tuple[str, ...], *, prefix: str) -> dict[str, str]:
    seen = dict(line.split(None, 1) for line in text.splitlines() if " " in line)
    return {prefix + keyword: seen.get(keyword.lower(), "?").strip() for keyword in keywords}


def section_before(demo: Demo) -> None:
    banner("2. before: what sshd -T, ssh -G and the kernel report now")
    assert demo.lab is not None
    demo.before = read_settings(demo.lab)
    print(f"  read {sum(len(v) for v in demo.before.values())} values on {len(demo.before)} hosts")


def section_after(demo: Demo) -> None:
    banner("4. after: the same readings")
    assert demo.lab is not None
    demo.after = read_settings(demo.lab)
    print(f"  read {sum(len(v) for v in demo.after.values())} values on {len(demo.after)} hosts")


# ----------------------------------------------------------------------------- 3. converge


def section_converge(demo: Demo) -> None:
    banner(f"3. converge: ansible-playbook {demo.args.playbook}")
    assert demo.lab is not None
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(CHECKOUT / ".build"),
        # Implicit localhost: the controller's Python, not a pyenv shim.
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
        "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
    }
    extra = [arg for item in demo.args.extra_vars for arg in ("-e", item)]
    argv = [str(bin_dir / "ansible-playbook"), "-i", str(demo.lab.inventory), *extra,
            str(CHECKOUT / demo.args.playbook)]
    proc = subprocess.run(argv, cwd=CHECKOUT, env=env, check=False)
    if proc.returncode != 0:
        raise LabError(f"ansible-playbook {demo.args.playbook} failed ({proc.returncode})")


# ----------------------------------------------------------------------------- 5. report


def section_report(demo: Demo) -> None:
    banner("5. report: effective keepalive settings per host (* = changed)")
    assert demo.lab is not None
    for name, host in demo.lab.hosts.items():
        print(f"\n  {name}  (Debian {host['release']}, OpenSSH {host.get('openssh_version', '?')}, "
              f"{host['role']})")
        print(f"    {'setting':<34} {'before':>8}  {'after':>8}")
        for setting, old in demo.before.get(name, {}).items():
            new = demo.after.get(name, {}).get(setting, "?")
            mark = "*" if new != old else " "
            print(f"    {setting:<34} {old:>8}  {new:>8} {mark}")
        for row_host, setting, value in demo.extra_rows:
            if row_host == name:
                print(f"    {setting:<34} {'':>8}  {value:>8}")
    print("\n  'client ssh' rows: what ssh on the client uses for that server (ssh -G).")


# ----------------------------------------------------------------------------- 6. sessions


def section_sessions(demo: Demo) -> None:
    """Live sessions on the converged lab; the behaviour harness prints its own table."""
    banner("6. sessions: idle sessions through the NAT, with and without the collection's settings")
    assert demo.lab is not None
    subprocess.run([sys.executable, str(HERE.parent / "behaviour" / "demo_sessions.py"),
                    "--inventory", str(demo.lab.inventory)], check=True)


SECTIONS: list[Callable[[Demo], None]] = [
    section_lab, section_before, section_converge, section_after, section_report,
    section_sessions,
]


# The roles' presets keep sessions alive with 60 s intervals; the demo's NAT forgets flows after a
# few seconds, so the demo converges with intervals of a few seconds to show them working.
DEMO_VARS = ['{"sshd_keepalive_settings": {"ClientAliveInterval": 5},'
             ' "ssh_keepalive_settings": {"ServerAliveInterval": 5}}']


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=lambda s: s.split(","), default=None,
                        help="subset of debian11,debian12,debian13")
    parser.add_argument("--playbook", default="playbooks/keepalive.yml",
                        help="playbook to converge, relative to the checkout")
    parser.add_argument("-e", "--extra-vars", action="append", default=None,
                        help="passed to ansible-playbook (default: DEMO_VARS, short keepalive intervals "
                             "so that the sessions section shows the converged values at work in seconds)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    args = parser.parse_args(argv)
    if args.extra_vars is None:
        args.extra_vars = list(DEMO_VARS)
    return args


def main(argv: list[str]) -> int:
    demo = Demo(parse_args(argv))
    failed: BaseException | None = None
    try:
        for section in SECTIONS:
            name = section.__name__.removeprefix("section_")
            with demo.clock.phase(f"demo {name}"):
                section(demo)
    except (LabError, KeyboardInterrupt, subprocess.SubprocessError) as exc:
        failed = exc
        print(f"\ndemo failed: {exc}", file=sys.stderr)
    finally:
        _teardown(demo)
    print("\n" + demo.lab_clock.report().replace("lab phase timings:", "lab set-up (within 'lab'):"))
    print(demo.clock.report().replace("lab phase timings:", "demo section timings:"))
    return 0 if failed is None else 1


def _teardown(demo: Demo) -> None:
    if demo.lab is None:
        return
    if demo.args.keep:
        print(f"\nlab left up: tests/lab/labctl.py --state {demo.lab.state.path} down")
        return
    banner("7. teardown")
    with demo.clock.phase("teardown"):
        problems = demo.lab.down()
    print("  removed containers, namespaces, links and ssh masters of run "
          f"{demo.lab.run_id}" + (f"; problems: {problems}" if problems else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
