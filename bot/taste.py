"""How well two members' ratings agree (/taste), from the videos both rated."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.models import TASTE_MIN_SHARED, SharedRating

# The widest gap two scores on the 1..10 scale can have.
WIDEST_GAP = 9
# How many videos /taste lists as agreed and disagreed on most.
SHOWN = 3


@dataclass(frozen=True)
class Taste:
    shared: list[SharedRating]

    @property
    def needed(self) -> int:
        """How many more videos both must rate before a percentage means anything."""
        return max(0, TASTE_MIN_SHARED - len(self.shared))

    @property
    def agreement(self) -> int | None:
        """100 % when every shared video got the same score from both, 0 % when every one
        got 1 from one and 10 from the other: 100 x (1 - mean gap / 9), rounded half up."""
        if self.needed or not self.shared:
            return None
        # 100 x (9n - G) / 9n for n videos with gaps adding up to G, in whole numbers: a
        # float would lose an exact half (57.5 % read as 57.4999…).
        n, gaps = len(self.shared), sum(_gap(s) for s in self.shared)
        widest = WIDEST_GAP * n
        return (200 * (widest - gaps) + widest) // (2 * widest)

    def agreed_most(self) -> list[SharedRating]:
        """The smallest gaps first; between equal gaps, the videos both liked more."""
        ranked = sorted(self.shared, key=lambda s: (_gap(s), -(s.first + s.second), s.video.id))
        return ranked[:SHOWN]

    def disagreed_most(self) -> list[SharedRating]:
        """The largest gaps first; a video both scored the same is no disagreement."""
        ranked = sorted((s for s in self.shared if _gap(s)), key=lambda s: (-_gap(s), s.video.id))
        return ranked[:SHOWN]

    def histograms(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Each member's scores over the shared videos, as counts of 1..10."""
        first, second = [0] * 10, [0] * 10
        for s in self.shared:
            first[s.first - 1] += 1
            second[s.second - 1] += 1
        return tuple(first), tuple(second)


def _gap(shared: SharedRating) -> int:
    return abs(shared.first - shared.second)
