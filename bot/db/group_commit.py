"""Group commit: the only way ratings, and takes (whose score is a rating), are written.

Writes that arrive while a batch is being written wait for the next batch and share its
transaction: one commit for hundreds of members instead of one each. Each caller gets its
answer only after that transaction committed, so nothing is acknowledged that could still
be lost or rolled back. How a batch is written is the backend's; the batching, and who
hears what when a batch fails, is the same for every engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import NamedTuple

from bot.db.matching import gone
from bot.db.models import ScoreSummary, Take
from bot.errors import CannotSaveError, UserFacingError

# Writes that arrive together are committed in one transaction of at most this many.
BATCH = 512
# A batch that lost a race it could not see coming (a deadlock with another process's
# writes) is written again this many times before its callers hear it failed.
CONFLICT_ATTEMPTS = 3


# Named tuples: one of each per rating, so cheap to make, and JSON as they are.
class RatingRow(NamedTuple):
    guild_id: int
    video_id: int
    user_id: int
    score: int
    rated_at: int  # Unix seconds


class TakeRow(NamedTuple):
    guild_id: int
    video_id: int
    user_id: int
    score: int
    text: str
    at: int  # Unix seconds: created_at for a new take, updated_at always


class Saved(NamedTuple):
    """What a caller hears once its write committed: the video's server aggregate, and the
    take as saved when the write was one."""

    summary: ScoreSummary
    take: Take | None


def check_score(score: int) -> None:
    if type(score) is not int or not 1 <= score <= 10:
        raise UserFacingError("A score is a whole number from 1 to 10.")


def take_text(text: str) -> str:
    """The take's words as saved, or UserFacingError when there are none."""
    if not text.strip():
        raise UserFacingError("Write a few words for your take.")
    return text.strip()


# A write waiting for its batch: the rating, the take it belongs to (if any), and its
# caller's future. A plain tuple, as it is made once per rating.
_Pending = tuple[RatingRow, TakeRow | None, "asyncio.Future[Saved]"]


def _settle(future: asyncio.Future[Saved], result: Saved | BaseException) -> None:
    """Answer a waiting caller unless it has gone (cancelled) or was answered already."""
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _as_sent(own: TakeRow | None, saved: Saved) -> Saved:
    """A member who sent two takes in one batch hears of each as they sent it: the stored
    row (its id, creation time, agrees) with their own score and words."""
    if own is None or saved.take is None:
        return saved
    return saved._replace(
        take=replace(saved.take, score=own.score, text=own.text, updated_at=own.at)
    )


def _not_saved(take: TakeRow | None) -> CannotSaveError:
    what = "rating" if take is None else "take"
    return CannotSaveError(f"Your {what} was not saved: try again.")


# Writes a batch in one transaction: the ratings in order, and beside each the take it
# belongs to (None for a plain rating); returns what each caller hears, in order.
WriteBatch = Callable[[list[RatingRow], list[TakeRow | None]], Awaitable[list[Saved]]]
Classifies = Callable[[BaseException], bool]


class GroupCommit:
    """`write_batch` writes a batch in one transaction and returns what each write's caller
    hears, in order (takes as stored); `video_removed` says an error means a write named a
    video no longer in the catalog; `conflicted` that the batch lost a race and may simply
    run again."""

    def __init__(
        self,
        write_batch: WriteBatch,
        *,
        video_removed: Classifies,
        conflicted: Classifies = lambda error: False,
    ) -> None:
        self._write_batch = write_batch
        self._video_removed = video_removed
        self._conflicted = conflicted
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False

    def submit(self, rating: RatingRow, take: TakeRow | None = None) -> asyncio.Future[Saved]:
        """Queue a write; the future is answered once its batch committed (or failed). Not a
        coroutine: one is made per rating, and the caller's own await is enough."""
        if self._closing:
            raise _not_saved(take)
        future: asyncio.Future[Saved] = asyncio.get_running_loop().create_future()
        self._pending.append((rating, take, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return future

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
                    saved = await self._write([p[0] for p in batch], [p[1] for p in batch])
                except Exception as exc:
                    if self._video_removed(exc):
                        # One write for a video removed meanwhile must not sink the others.
                        await self._write_one_by_one(batch)
                    else:
                        # The storage failed (a full disk, a lock held too long): every
                        # write in the batch would fail the same way on its own.
                        for _, _, future in batch:
                            _settle(future, exc)
                else:
                    for (_, take, future), result in zip(batch, saved, strict=True):
                        _settle(future, result if take is None else _as_sent(take, result))
                batch = []
        finally:
            # Whatever stopped this loop (even its cancellation), no caller waits forever.
            stranded = batch + self._pending
            self._pending = []
            for _, take, future in stranded:
                _settle(future, _not_saved(take))

    async def _write(self, ratings: list[RatingRow], takes: list[TakeRow | None]) -> list[Saved]:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await self._write_batch(ratings, takes)
            except Exception as exc:
                if attempt == CONFLICT_ATTEMPTS or not self._conflicted(exc):
                    raise
        raise AssertionError("unreachable")

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        for rating, take, future in batch:
            try:
                [saved] = await self._write([rating], [take])
            except Exception as exc:
                _settle(future, gone() if self._video_removed(exc) else exc)
            else:
                _settle(future, _as_sent(take, saved))
