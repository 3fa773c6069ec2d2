"""Group commit: the only way ratings, and takes (whose score is a rating), are written.

Writes that arrive while a batch is being written wait for the next batch and share its
transaction: one commit for hundreds of members instead of one each. Each caller gets its
answer only after that transaction committed, so nothing is acknowledged that could still
be lost or rolled back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import NamedTuple

from bot.db.failures import ReferenceGone
from bot.db.models import ScoreSummary, Take
from bot.db.sqlite.connections import Executes
from bot.db.sqlite.ratings import RatingRow, write_ratings
from bot.db.sqlite.sessions import SQLiteWriteSession
from bot.db.sqlite.takes import TakeRow, saved_takes, write_takes
from bot.errors import CannotSaveError

# Writes that arrive together are committed in one transaction of at most this many.
BATCH = 512


class Saved(NamedTuple):
    """What a caller hears once its write committed: the video's server aggregate, and the
    take as saved when the write was one."""

    summary: ScoreSummary
    take: Take | None


class _Pending(NamedTuple):  # one per rating: a tuple is the cheapest record
    rating: RatingRow
    take: TakeRow | None
    future: asyncio.Future[Saved]


def _settle(future: asyncio.Future[Saved], result: Saved | BaseException) -> None:
    """Answer a waiting caller unless it has gone (cancelled) or was answered already."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


# The writer's unit of work, with its connection for the batch statements.
Batch = Callable[[], AbstractAsyncContextManager[tuple[SQLiteWriteSession, Executes]]]


class GroupCommit:
    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False

    async def write(self, rating: RatingRow, take: TakeRow | None = None) -> Saved:
        if self._closing:
            raise _not_saved(take)
        future: asyncio.Future[Saved] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(rating, take, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def close(self) -> None:
        """Refuse new writes, and wait until every write queued so far is written (or
        refused): none is left without an answer."""
        self._closing = True
        while self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._pending:
                batch = self._pending[:BATCH]
                del self._pending[:BATCH]
                try:
                    saved = await self._write(batch)
                except ReferenceGone:
                    # One write for a video removed meanwhile must not sink the others.
                    await self._write_one_by_one(batch)
                except Exception as exc:
                    # The storage failed (a full disk, a lock held too long): every write in
                    # the batch would fail the same way on its own.
                    for pending in batch:
                        _settle(pending.future, exc)
                else:
                    for pending, result in zip(batch, saved, strict=True):
                        _settle(pending.future, result)
                batch = []
        finally:
            # Whatever stopped this loop (even its cancellation), no caller waits forever.
            stranded = batch + self._pending
            self._pending = []
            for pending in stranded:
                _settle(pending.future, _not_saved(pending.take))

    async def _write(self, batch: list[_Pending]) -> list[Saved]:
        async with self._batch() as (tx, conn):
            takes = [p.take for p in batch if p.take is not None]
            if takes:
                await write_takes(conn, takes)
            await write_ratings(conn, [p.rating for p in batch])
            summaries = await tx.ratings.summaries(
                {(p.rating.guild_id, p.rating.video_id) for p in batch}
            )
            stored = await saved_takes(conn, takes) if takes else {}
        saved = []
        for p in batch:
            take = None
            if p.take is not None:
                # Each caller hears of its own take: a member who sent two in one batch is
                # told of each as sent, the row's id and agrees being the stored ones.
                row = stored[(p.take.guild_id, p.take.video_id, p.take.user_id)]
                take = replace(row, score=p.take.score, text=p.take.text, updated_at=p.take.at)
            saved.append(Saved(summaries[(p.rating.guild_id, p.rating.video_id)], take))
        return saved

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                [saved] = await self._write([pending])
            except Exception as exc:
                _settle(pending.future, exc)
            else:
                _settle(pending.future, saved)


def _not_saved(take: TakeRow | None) -> CannotSaveError:
    return CannotSaveError(f"Your {'rating' if take is None else 'take'} was not saved: try again.")
