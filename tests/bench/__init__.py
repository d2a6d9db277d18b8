"""`make bench`: what converging and re-checking many hosts costs, and what keepalives cost on
the wire (docs/performance.md). Benchmarks, not tests: they print a table and write
tests/output/bench/results.{json,yml}; nothing here fails on a slow number.
"""

from __future__ import annotations

__all__: list[str] = []
