"""Seams that pause the service at a chosen point, so tests force interleavings with events, not sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from catalog.cache import ProductChange, WriteThrough
from catalog.models import CategorySummary, Product
from catalog.repository import CatalogRepository

T = TypeVar("T")


class Gate:
    """Armed, the next caller signals `reached` and waits until the test calls `open()`."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = asyncio.Event()
        self._open = asyncio.Event()

    def arm(self) -> None:
        """Pause the next caller."""
        self.armed = True

    def open(self) -> None:
        """Let the paused caller (and any later one) go on."""
        self._open.set()

    async def __call__(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            await self._open.wait()

    async def pause(self, request: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Arm, start `request` as a task and return it once it waits at this gate."""
        self.arm()
        task = asyncio.create_task(request)
        await asyncio.wait_for(self.reached.wait(), 5)
        return task


class GatedRepository(CatalogRepository):
    """A repository whose product and summary reads pause *after* reading the row, when armed."""

    gate: Gate

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = Gate()

    async def get_product(self, product_id: int) -> Product | None:
        product = await super().get_product(product_id)
        await self.gate()
        return product

    async def category_summary(self, category_id: int) -> CategorySummary | None:
        summary = await super().category_summary(category_id)
        await self.gate()
        return summary


class GatedWriteThrough(WriteThrough):
    """Write-through that pauses before updating the cache, when armed (a writer delayed after its commit)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = Gate()

    async def written(self, change: ProductChange) -> bool:
        await self.gate()
        return await super().written(change)
