"""Count the SSH round trips of a playbook run from its ``-vvv`` output, per role.

Every ``<host> SSH: EXEC ssh|sftp|scp ...`` line is one ssh process the controller started for
that host: at least one request/response over the (multiplexed) connection. Of those,

- ``module_runs`` run the Python interpreter (one per module execution, loop items included);
- ``transfers`` are sftp/scp file copies (the module payload without pipelining, template sources);
- ``new_logins`` bypass the ControlPersist master (``ControlPath=none``): a whole new SSH login
  with its TCP handshake, key exchange and authentication, not just a round trip.

The minimum a run could do is one round trip to read the host's state ("facts") plus one per
file it writes; :func:`minimum` takes the number of written files from the caller.

    python tests/bench/roundtrips.py LOG [--host ADDRESS]    # the per-role counts of a saved log
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?:(?P<role>[\w.]+) : )?(?P<name>.*)\] \**$")
EXEC = re.compile(r"^<(?P<host>[^>]+)> SSH: EXEC (?P<program>ssh|sftp|scp) ")
# Tasks of the helper role belong to the role that notified or included it.
ROLE_GROUPS = {"keepalive.ssh.sshd_guard": "sshd_keepalive"}


def group_of(role: str | None, current: str, default: str) -> str:
    if role is None:
        return current or default
    return ROLE_GROUPS.get(role, role.rsplit(".", 1)[-1])


def count(text: str, *, default_group: str, host: str | None = None) -> dict[str, dict[str, int]]:
    """{group: {invocations, module_runs, transfers, new_logins, tasks}} for one host's lines."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    current = ""
    for line in text.splitlines():
        header = HEADER.match(line)
        if header:
            current = group_of(header["role"], current, default_group)
            counts[current]["tasks"] += 1
            continue
        match = EXEC.match(line)
        if not match or (host and match["host"] != host):
            continue
        bucket = counts[current or default_group]
        bucket["invocations"] += 1
        if match["program"] != "ssh":
            bucket["transfers"] += 1
        elif "python" in line.rsplit(f" {match['host']} ", 1)[-1]:  # the remote command
            bucket["module_runs"] += 1
        if "ControlPath=none" in line:
            bucket["new_logins"] += 1
    keys = ("invocations", "module_runs", "transfers", "new_logins", "tasks")
    return {group: {k: int(c[k]) for k in keys} for group, c in counts.items()}


def minimum(files_written: int) -> int:
    """One round trip to read the state, one per file written."""
    return 1 + files_written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--host", help="count only this host's address (the <...> prefix)")
    parser.add_argument("--default-group", default="playbook")
    args = parser.parse_args(argv)
    text = args.log.read_text(encoding="utf-8", errors="replace")
    print(json.dumps(count(text, default_group=args.default_group, host=args.host), indent=2))
    return 0


__all__ = ["count", "minimum"]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
