"""The soak over HTTP: two real app processes, a private Redis paused and resumed, the writer killed.

The phases and the counting live in `bench/soak.py` (also `python -m bench.soak`, which prints the
same table); this test runs them once (about 30 s) and holds the figures to the stated guarantees.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest

from bench.soak import SCHEDULING_ALLOWANCE_SECONDS, SoakConfig, run, table
from tests.app.helpers import admin_sql, create_seeded_database


@pytest.fixture
def soak_database() -> Iterator[str]:
    """A database of the soak's own: it rewrites product prices."""
    name = f"catalog_soak_{secrets.token_hex(4)}"
    asyncio.run(create_seeded_database(name, products=100))
    try:
        yield name
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_stale_reads_after_acknowledged_writes_over_http(soak_database: str) -> None:
    config = SoakConfig()
    results = run(soak_database, config)
    print()
    print(table(results))
    healthy, paused, killed = results
    allowed = config.bound_seconds + SCHEDULING_ALLOWANCE_SECONDS
    for phase in results:
        assert phase.writes > 20, phase
        assert phase.write_errors == 0, phase
        assert phase.b.post_ack_reads > 50, phase
        assert (phase.a.errors, phase.b.errors) == (0, 0), phase  # fail open: every read answered 200
        assert phase.final_stale == 0, phase  # every stale entry ended
        assert phase.outbox_rows_after == 0, phase  # every owed invalidation delivered

    assert (healthy.a.stale, healthy.b.stale) == (0, 0)
    assert healthy.a.post_ack_reads > 50
    assert paused.a.stale == 0  # the writing process never serves stale data
    assert paused.a.post_ack_reads > 20
    assert paused.b.worst_age_s <= allowed, f"worst stale age {paused.b.worst_age_s} s > {allowed} s"
    assert killed.b.worst_age_s <= allowed, f"worst stale age {killed.b.worst_age_s} s > {allowed} s"
