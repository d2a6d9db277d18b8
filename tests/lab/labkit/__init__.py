"""The keepalive.ssh test lab: images, namespaces, a NAT router, hooks and teardown.

The command line is ``tests/lab/labctl.py``; Python tests use :class:`labkit.api.Lab`.
Everything the lab makes carries a per-run id, is written to the run's state file
before it is made, and is removed by ``labctl.py down`` from whatever state a run is in.
"""

from __future__ import annotations

__all__: list[str] = []
