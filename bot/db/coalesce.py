"""Reads asked for at the same moment, answered by one statement.

When many interactions want the same kind of row at once (200 /review pages under load),
one statement with all their keys costs far less than one statement each: every statement
has a fixed cost in Python's sqlite3 and, on a thread connection, a round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[list[V | None]]],
        missing: Callable[[], Exception] = LookupError,
        batch: int = 200,
    ) -> None:
        self.fetch = fetch  # keys -> values in the same order, None where nothing is found
        self.missing = missing  # what `get` raises where nothing is found
        self.batch = batch
        self._pending: list[tuple[K, asyncio.Future[V | None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        value = await self.get_or_none(key)
        if value is None:
            raise self.missing()
        return value

    async def get_or_none(self, key: K) -> V | None:
        """The value, or None where the fetch found nothing (an answer, not a failure)."""
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._pending:
            batch = self._pending[: self.batch]
            del self._pending[: self.batch]
            try:
                found = await self.fetch([key for key, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:
                # Cancelled (the loop is closing): no caller may wait forever.
                for _, future in batch + self._pending:
                    future.cancel()
                self._pending.clear()
                raise
            for (_, future), value in zip(batch, found, strict=True):
                if not future.done():
                    future.set_result(value)
