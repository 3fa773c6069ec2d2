"""Group commit: the only way ratings, and takes (whose score is a rating), are written.

Writes that arrive while a batch is being written wait for the next batch and share its
transaction: one commit for hundreds of members instead of one each. Each caller gets its
answer only after that transaction committed, so nothing is acknowledged that could still
be lost or rolled back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple

from bot.db.models import ScoreSummary, Take
from bot.db.sqlite.ratings import RatingRow, write_ratings
from bot.db.sqlite.sessions import SQLiteWriteSession
from bot.db.sqlite.takes import TakeRow, write_takes
from bot.db.sqlite.videos import gone
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


Transaction = Callable[[], AbstractAsyncContextManager[SQLiteWriteSession]]


class GroupCommit:
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, rating: RatingRow, take: TakeRow | None = None) -> Saved:
        future: asyncio.Future[Saved] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(rating, take, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def drain(self) -> None:
        """Wait until every write queued so far is written (or refused)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None

    async def _flush(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._pending:
                batch = self._pending[:BATCH]
                del self._pending[:BATCH]
                try:
                    saved = await self._write(batch)
                except sqlite3.IntegrityError:
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
                what = "rating" if pending.take is None else "take"
                _settle(pending.future, CannotSaveError(f"Your {what} was not saved: try again."))

    async def _write(self, batch: list[_Pending]) -> list[Saved]:
        async with self._transaction() as tx:
            takes = [p.take for p in batch if p.take is not None]
            if takes:
                await write_takes(tx.conn, takes)
            await write_ratings(tx.conn, [p.rating for p in batch])
            summaries = await tx.ratings.summaries(
                {(p.rating.guild_id, p.rating.video_id) for p in batch}
            )
            saved = []
            for p in batch:
                take = None
                if p.take is not None:
                    take = await tx.takes.of_member(
                        p.take.guild_id, p.take.video_id, p.take.user_id
                    )
                saved.append(Saved(summaries[(p.rating.guild_id, p.rating.video_id)], take))
            return saved

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        for pending in batch:
            try:
                [saved] = await self._write([pending])
            except sqlite3.IntegrityError:
                _settle(pending.future, gone())
            except Exception as exc:
                _settle(pending.future, exc)
            else:
                _settle(pending.future, saved)
