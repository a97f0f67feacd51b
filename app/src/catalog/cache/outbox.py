"""The transactional outbox of invalidations: owed cache deletes that survive the task that owes them.

Every product write inserts a row naming the logical keys it changed, in the same database
transaction as the change (the repository does that). After the commit the writer deletes the keys
from the cache and then its row. A row therefore exists for every committed write whose
invalidation has not been confirmed delivered, whatever happened after the commit: the cache
failing, the task being killed, the request being cancelled.

Rows are delivered again ("drained") by any task:

- on recovery, before the breaker closes: a task that could not use the cache stops trusting it
  until every row it can see is delivered, its own and other tasks' (`RemoteCache` calls `drain`);
- periodically, every `CACHE_OUTBOX_DRAIN_SECONDS` (a fixed rate), by every task whose breaker is
  closed, for rows older than `CLAIM_AFTER_SECONDS`: this is what delivers the rows of a writer that
  died, or whose breaker is still open, to the tasks that kept reading the cache. Hence the bound:
  such a task serves an entry a write could not invalidate for at most `CLAIM_AFTER_SECONDS +
  CACHE_OUTBOX_DRAIN_SECONDS` (plus one round's round trips) after the later of the write's
  acknowledgement and the cache answering again.

A drain claims rows with `SELECT … FOR UPDATE SKIP LOCKED` in batches, deletes their keys from the
cache, deletes the rows and commits; if the cache fails, the transaction rolls back and the rows stay.
Delivering a row twice only costs a miss, so nothing needs to be exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from catalog.cache.resilience import CacheUnavailableError
from catalog.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

Deliver = Callable[[list[str]], Awaitable[object]]
"""Deletes logical keys from the cache; raises when it could not (the claimed rows then stay)."""

CLAIM_AFTER_SECONDS = 0.25
"""The periodic drain leaves younger rows alone: a live writer deletes its own row a few milliseconds
after its commit, and a survivor that re-delivered it would only turn the next read into a miss."""
BATCH_SIZE = 200
"""Rows per drain transaction (a write names about six keys)."""


class OutboxStore(Protocol):
    """Where the rows live (the repository: all SQL is there)."""

    async def deliver_outbox(self, namespace: str, limit: int, min_age_seconds: float, deliver: Deliver) -> int:
        """Claim up to `limit` rows older than `min_age_seconds`, `deliver` their keys, delete them; return how many."""
        ...

    async def forget_outbox_rows(self, row_ids: list[int]) -> int:
        """Delete delivered rows, except those a drain holds (that drain deletes them); return how many."""
        ...

    async def outbox_rows(self, namespace: str) -> int:
        """Rows waiting in `namespace` (ops and tests)."""
        ...


class Outbox:
    """The outbox of one key namespace, and this task's periodic drain of it."""

    def __init__(
        self,
        store: OutboxStore,
        namespace: str,
        *,
        drain_seconds: float,
        claim_after_seconds: float = CLAIM_AFTER_SECONDS,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.drain_seconds = drain_seconds
        self.claim_after_seconds = claim_after_seconds
        self.batch_size = batch_size
        self.delivered_rows = 0
        """Rows this task delivered by draining (not counting its own writes' rows)."""
        self._task: asyncio.Task[None] | None = None
        self._delivered_ids: list[int] = []
        self._forgetting: asyncio.Task[None] | None = None

    async def drain(self, deliver: Deliver, *, min_age_seconds: float = 0.0) -> int:
        """Deliver every row nobody else is delivering; return how many. Raises what `deliver` raises.

        `DatabaseUnavailableError` propagates too: the caller decides whether the cache may be
        trusted without the outbox.
        """
        total = 0
        while True:
            done = await self.store.deliver_outbox(self.namespace, self.batch_size, min_age_seconds, deliver)
            total += done
            self.delivered_rows += done
            if done < self.batch_size:
                return total

    def delivered(self, row_id: int) -> None:
        """The writer delivered its own invalidation: drop its row, off the response path.

        A row left behind is only delivered once more (a miss), so the delete need not delay the
        response; rows of concurrent writes go in one statement.
        """
        self._delivered_ids.append(row_id)
        if self._forgetting is None or self._forgetting.done():
            self._forgetting = asyncio.get_running_loop().create_task(self._forget(), name="cache-outbox-forget")

    async def _forget(self) -> None:
        while self._delivered_ids:
            row_ids, self._delivered_ids = self._delivered_ids, []
            try:
                await self.store.forget_outbox_rows(row_ids)
            except DatabaseUnavailableError as exc:
                log.warning("could not delete delivered outbox rows; a drain will", extra={"error": str(exc)})

    async def settle(self) -> None:
        """Wait until the delivered rows handed to `delivered` so far are deleted (or given up on)."""
        while self._forgetting is not None and not self._forgetting.done():
            await asyncio.shield(self._forgetting)

    def start(self, deliver: Deliver, usable: Callable[[], bool]) -> None:
        """Drain every `drain_seconds` while `usable()` (the breaker is closed); idempotent."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._periodic(deliver, usable), name="cache-outbox")

    async def _periodic(self, deliver: Deliver, usable: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            # A fixed rate, not a pause after each round: a round stuck on a hung cache (it gives up
            # after REDIS_TIMEOUT_SECONDS) does not push the next one back, so once the cache answers
            # the next round starts at most `drain_seconds` later.
            due += self.drain_seconds
            now = loop.time()
            due = max(due, now)  # a round overran the interval: skip the missed slots
            await asyncio.sleep(due - now)
            # With the breaker open this task does not read the cache, and its recovery drains
            # everything before closing it; the guarded `deliver` would be refused anyway.
            if usable():
                try:
                    delivered = await self.drain(deliver, min_age_seconds=self.claim_after_seconds)
                except (CacheUnavailableError, DatabaseUnavailableError) as exc:
                    log.debug("outbox drain failed: %r", exc)
                else:
                    if delivered:
                        log.info("delivered outbox invalidations", extra={"rows": delivered})

    async def close(self) -> None:
        """Delete the rows already delivered, then stop the periodic drain (shutdown)."""
        await self.settle()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
