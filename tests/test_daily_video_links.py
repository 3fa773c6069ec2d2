"""The daily post shows the quoted video's thumbnail and a Watch link, when the video has them,
as Discord receives the post through the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.daily import DailyScheduler
from bot.db.models import Video
from cogs.daily import ChannelSender
from tests.standin_harness import World
from tests.test_daily import MANAGE_GUILD, Clock, daily_posts_in, no_sleep

WATCH = "https://www.youtube.com/watch?v=TkTwFull001"
THUMBNAIL = "https://thumbnails.example/youtube/TkTwFull001.jpg"


async def post_of_the_day(world: World, video: Video | None) -> dict[str, Any]:
    """Sets up a daily quote about `video` (or about no video) and posts it."""
    channel_id = next(iter(world.guild.channels))
    admin = world.member("admin", permissions=MANAGE_GUILD)
    await admin.run("daily set", channel=str(channel_id), time="09:00", timezone="UTC")
    async with world.db.transaction() as tx:
        await tx.quotes.add(
            guild_id=world.guild.id,
            video_id=video.id if video else None,
            text="Said once",
            created_at=1_795_219_200,
            saved_by=admin.id,
        )
    async with world.db.read() as session:
        schedule = await session.daily.schedule(world.guild.id)
    assert schedule is not None
    clock = Clock(datetime.fromtimestamp(schedule.due_at, UTC))
    sender = ChannelSender(world.running_bot)
    assert await DailyScheduler(world.db, sender, clock=clock, sleep=no_sleep).run_due() == {
        "sent": 1
    }
    [post] = daily_posts_in(world, channel_id)
    return post


def buttons(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in post.get("components", []) for c in row["components"]]


async def catalog_video(world: World, *, url: str | None, thumbnail: str | None) -> Video:
    async with world.db.transaction() as tx:
        [video, *_] = await tx.videos.all()
        await tx.videos.upsert(
            slug=video.slug,
            title=video.title,
            artist=video.artist,
            album=video.album,
            year=video.year,
            url=url,
        )
        await tx.videos.set_thumbnail(video.id, thumbnail)
    return video


async def test_daily_post_has_the_videos_thumbnail_and_watch_link(world: World) -> None:
    video = await catalog_video(world, url=WATCH, thumbnail=THUMBNAIL)
    post = await post_of_the_day(world, video)
    [embed] = post["embeds"]
    assert embed["thumbnail"]["url"] == THUMBNAIL
    found = buttons(post)
    assert [c["label"] for c in found] == ["Rate", "Credits", "Quote", "Watch"]
    [watch] = [c for c in found if c["label"] == "Watch"]
    assert watch["url"] == WATCH and watch["style"] == 5 and "custom_id" not in watch


async def test_daily_post_of_a_video_without_link_or_thumbnail_has_neither(world: World) -> None:
    video = await catalog_video(world, url=None, thumbnail=None)
    post = await post_of_the_day(world, video)
    [embed] = post["embeds"]
    assert "thumbnail" not in embed
    assert [c["label"] for c in buttons(post)] == ["Rate", "Credits", "Quote"]


async def test_daily_post_of_a_quote_without_a_video_has_no_buttons(world: World) -> None:
    post = await post_of_the_day(world, None)
    assert "thumbnail" not in post["embeds"][0]
    assert buttons(post) == []
