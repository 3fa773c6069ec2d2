"""Write limits: a burst, then one write per share of the window; memory bounded by who
wrote recently, whatever the load."""

from __future__ import annotations

import re

import pytest

from bot.errors import UserFacingError
from bot.ui.cooldowns import LIMITS, WriteLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_write_per_share_of_the_window() -> None:
    clock = Clock()
    limits = WriteLimits(clock=clock, wall=lambda: 1_700_000_000.0)
    count, seconds = LIMITS["rating"]
    for _ in range(count):
        limits.check("rating", 1, 2)
    with pytest.raises(UserFacingError) as refused:
        limits.check("rating", 1, 2)
    when = int(re.search(r"<t:(\d+):R>", refused.value.message)[1])  # type: ignore[index]
    assert 1_700_000_000 < when <= 1_700_000_000 + seconds / count + 1
    # Another member, another server and another kind of write are not limited.
    limits.check("rating", 1, 3)
    limits.check("rating", 9, 2)
    limits.check("take", 1, 2)
    clock.now += seconds / count
    limits.check("rating", 1, 2)
    with pytest.raises(UserFacingError):
        limits.check("rating", 1, 2)


def test_members_who_can_no_longer_be_limited_are_forgotten() -> None:
    clock = Clock()
    limits = WriteLimits(clock=clock)
    _, seconds = LIMITS["rating"]
    # 3,000 distinct members a second for two and a half minutes: the table holds at most the last
    # window's writers, never everyone seen.
    per_second = 3000
    largest = 0
    for second in range(150):
        for n in range(per_second):
            limits.check("rating", 1, second * per_second + n)
        clock.now += 1.0
        largest = max(largest, len(limits))
    assert largest <= per_second * (seconds + 1)
    clock.now += seconds + 1
    limits.check("rating", 1, 1)
    assert len(limits) == 1
