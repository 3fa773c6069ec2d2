"""Builds a database at community scale through the real schema (migrations and triggers).

Bulk loading uses the sqlite3 module directly, in big transactions: it is test data, and the
triggers still keep every aggregate exactly as the bot would.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from bot.db.sqlite.database import SQLiteDatabase
from bot.db.text import fold

WORDS = (
    "velvet",
    "night",
    "river",
    "gold",
    "static",
    "neon",
    "paper",
    "ghost",
    "summer",
    "electric",
    "silver",
    "broken",
    "honey",
    "midnight",
    "glass",
    "thunder",
    "ocean",
    "desert",
    "crystal",
    "shadow",
    "wild",
    "fire",
    "blue",
    "heart",
    "city",
    "dream",
    "echo",
    "satellite",
    "mirror",
    "garden",
    "storm",
    "golden",
    "lonely",
    "sugar",
    "diamond",
    "tokyo",
    "paris",
    "runaway",
    "dancing",
    "falling",
    "rising",
    "secret",
    "forever",
    "young",
    "bright",
    "cold",
    "sweet",
    "dark",
)
ROLES = ("Director", "Producer", "Cast")
# Every generated moment (rating, quote, take): 2026-01-01T00:00:00Z in Unix seconds, the one
# way the schema stores times.
WRITTEN_AT = 1_767_225_600


@dataclass(frozen=True)
class Scale:
    videos: int = 20_000
    servers: int = 1_000
    ratings: int = 2_000_000
    quotes: int = 200_000
    takes: int = 100_000
    members_per_server: int = 1_000

    def scaled(self, factor: float) -> Scale:
        return Scale(
            videos=max(50, int(self.videos * factor)),
            servers=max(5, int(self.servers * factor)),
            ratings=max(500, int(self.ratings * factor)),
            quotes=max(100, int(self.quotes * factor)),
            takes=max(50, int(self.takes * factor)),
            members_per_server=max(50, int(self.members_per_server * min(1.0, factor * 10))),
        )


# The server of members who rate a great deal: this many members, each with this many
# ratings spread over the whole catalog.
POWER_RATERS = 20
POWER_RATINGS = 2_000


def power_guild(scale: Scale) -> int:
    return scale.servers + 1


def power_rater(scale: Scale, member: int) -> int:
    return power_guild(scale) * 100_000 + member


def rated_member(scale: Scale, rng: random.Random, guild: int = 1) -> int:
    """A member id the generator gives ratings to in that server (most members of it)."""
    return guild * 100_000 + rng.randrange(scale.members_per_server)


def title_for(rng: random.Random, n: int) -> str:
    words = rng.sample(WORDS, rng.choice((1, 2, 2, 3)))
    return " ".join(w.capitalize() for w in words) + ("" if n % 7 else f" {n}")


async def _schema(path: Path) -> None:
    db = SQLiteDatabase(path)
    await db.open()
    await db.close()


SERVERS_PER_COMMIT = 50


def generate(path: Path, scale: Scale, seed: int = 7) -> dict[str, float]:
    """Create the database at `path`. Returns seconds spent on each part."""
    if path.exists():
        path.unlink()
    asyncio.run(_schema(path))
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("PRAGMA foreign_keys = OFF")  # the generator only writes valid ids

    started = time.perf_counter()
    conn.execute("BEGIN")
    videos = []
    for n in range(1, scale.videos + 1):
        title = title_for(rng, n)
        artist = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()}"
        videos.append(
            (
                n,
                f"bench-{n}",
                title,
                artist,
                f"Album {n % 997}",
                1980 + n % 45,
                fold(title),
                fold(f"{title} {artist}"),
                fold(artist),
            )
        )
    conn.executemany(
        "INSERT INTO videos (id, slug, title, artist, album, year, search_title, search_text, "
        "search_artist) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        videos,
    )
    conn.executemany(
        "INSERT INTO credits (video_id, position, role, name, search_name) VALUES (?, ?, ?, ?, ?)",
        [
            (v, i, ROLES[i], name, fold(name))
            for v in range(1, scale.videos + 1)
            for i in range(3)
            for name in [f"Person {rng.randrange(50_000)}"]
        ],
    )
    conn.executemany(
        "INSERT INTO press_reviews (video_id, position, outlet, headline, summary) "
        "VALUES (?, 0, ?, ?, ?)",
        [
            (
                v,
                f"Outlet {v % 40}",
                f"Headline for video {v}",
                "A generated summary of a generated review, long enough to look like one. " * 3,
            )
            for v in range(1, scale.videos + 1, 5)
        ],
    )
    conn.execute("COMMIT")
    timings["videos"] = time.perf_counter() - started

    # Popularity follows a power law: a few videos get most ratings, as in real servers.
    weights = list(accumulate(1.0 / (rank**0.8) for rank in range(1, scale.videos + 1)))
    per_server = scale.ratings // scale.servers
    started = time.perf_counter()
    conn.execute("BEGIN")
    for guild in range(1, scale.servers + 1):
        if guild % SERVERS_PER_COMMIT == 0:
            # A commit now and then: the triggers' tallies make one transaction of every
            # rating outgrow the page cache, which then spills (twice as slow).
            conn.execute("COMMIT")
            conn.execute("BEGIN")
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < per_server:
            for video in rng.choices(
                range(1, scale.videos + 1), cum_weights=weights, k=per_server - len(pairs)
            ):
                pairs.add((video, guild * 100_000 + rng.randrange(scale.members_per_server)))
        conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            f"VALUES (?, ?, ?, ?, {WRITTEN_AT})",
            [(guild, v, u, rng.randint(1, 10)) for v, u in pairs],
        )
    # One more server whose members rate a great deal: /profile and /taste read every
    # rating of a member, so they are measured on these (bench/measure.py). Its own random
    # stream, so every other row is the same as without it.
    power = random.Random(seed + 1)
    for member in range(POWER_RATERS):
        rated = power.sample(range(1, scale.videos + 1), min(scale.videos, POWER_RATINGS))
        conn.executemany(
            "INSERT INTO ratings (guild_id, video_id, user_id, score, rated_at) "
            f"VALUES (?, ?, ?, ?, {WRITTEN_AT})",
            [
                (power_guild(scale), v, power_rater(scale, member), power.randint(1, 10))
                for v in rated
            ],
        )
    conn.execute("COMMIT")
    timings["ratings"] = time.perf_counter() - started

    started = time.perf_counter()
    conn.execute("BEGIN")
    per_server = scale.quotes // scale.servers
    rows = []
    for guild in range(1, scale.servers + 1):
        video_slots: dict[int, int] = {}
        for slot in range(1, per_server + 1):
            quoted_video = rng.randrange(1, scale.videos + 1) if slot % 3 == 0 else None
            video_slot = None
            if quoted_video is not None:
                video_slot = video_slots[quoted_video] = video_slots.get(quoted_video, 0) + 1
            rows.append(
                (
                    guild,
                    quoted_video,
                    f"Quote {slot} of server {guild}: what a video.",
                    f"Member {slot}",
                    guild * 100_000 + slot,
                    slot,
                    video_slot,
                )
            )
    conn.executemany(
        "INSERT INTO quotes (guild_id, video_id, text, said_by, saved_by, created_at, slot, "
        f"video_slot) VALUES (?, ?, ?, ?, ?, {WRITTEN_AT}, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    timings["quotes"] = time.perf_counter() - started

    started = time.perf_counter()
    conn.execute("BEGIN")
    per_server = scale.takes // scale.servers
    for guild in range(1, scale.servers + 1):
        takes = {
            (
                rng.choices(range(1, scale.videos + 1), cum_weights=weights)[0],
                guild * 100_000 + member,
            )
            for member in range(per_server)
        }
        conn.executemany(
            "INSERT OR IGNORE INTO takes (guild_id, video_id, user_id, score, text, created_at, "
            f"updated_at, agree_count) VALUES (?, ?, ?, ?, ?, {WRITTEN_AT}, {WRITTEN_AT}, ?)",
            [
                (
                    guild,
                    v,
                    u,
                    rng.randint(1, 10),
                    "A generated take on this video.",
                    rng.randrange(20),
                )
                for v, u in takes
            ],
        )
    # The agrees behind each take's count, counted by the triggers as the bot's own writes
    # are: a database a member could have made (migrate to PostgreSQL checks this).
    conn.execute("CREATE TEMP TABLE wanted AS SELECT id, guild_id, agree_count FROM takes")
    conn.execute("UPDATE takes SET agree_count = 0")
    conn.execute(
        "WITH RECURSIVE member (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM member WHERE n < 20) "
        "INSERT INTO take_agrees (take_id, user_id, guild_id) "
        "SELECT w.id, 10000000000 + member.n, w.guild_id FROM temp.wanted AS w "
        "JOIN member ON member.n <= w.agree_count"
    )
    conn.execute("DROP TABLE temp.wanted")
    conn.execute("COMMIT")
    timings["takes"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    timings["analyze"] = time.perf_counter() - started
    return timings
