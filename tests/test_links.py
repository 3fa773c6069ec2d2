"""Video links: every supported form gives one canonical URL; everything else is refused with
a sentence naming what is supported. The ids are made up (right shape, no real video)."""

from __future__ import annotations

import pytest

from bot import links
from bot.errors import UserFacingError
from bot.links import MAX_BUTTON_URL, SUPPORTED, VideoLink, parse_video_link

ID = "AbC_dE-fG12"
WATCH = f"https://www.youtube.com/watch?v={ID}"


@pytest.mark.parametrize(
    "text",
    [
        f"https://www.youtube.com/watch?v={ID}",
        f"http://www.youtube.com/watch?v={ID}",
        f"https://youtube.com/watch?v={ID}",
        f"https://m.youtube.com/watch?v={ID}",
        f"https://music.youtube.com/watch?v={ID}&feature=share",
        f"https://www.youtube.com/watch?v={ID}&t=42s",
        f"https://www.youtube.com/watch?v={ID}&list=PLmadeup123&index=3",
        f"https://www.youtube.com/watch?feature=youtu.be&v={ID}",
        f"https://www.youtube.com/watch?v={ID}#t=1m",
        f"https://youtu.be/{ID}",
        f"https://youtu.be/{ID}?si=madeup&t=10",
        f"https://youtu.be/{ID}/",
        f"https://www.youtube.com/shorts/{ID}",
        f"https://youtube.com/shorts/{ID}?feature=share",
        f"https://www.youtube.com/embed/{ID}?start=5",
        f"https://www.youtube-nocookie.com/embed/{ID}",
        f"https://www.youtube.com/live/{ID}",
        f"https://WWW.YouTube.com/watch?v={ID}",
        f"youtu.be/{ID}",
        f"www.youtube.com/watch?v={ID}",
        f"  https://youtu.be/{ID}  ",
        f"https://www.youtube.com:443/watch?v={ID}",
    ],
)
def test_youtube_forms_give_one_canonical_url(text: str) -> None:
    assert parse_video_link(text) == VideoLink("youtube", ID, WATCH)


@pytest.mark.parametrize(
    "text",
    [
        "https://vimeo.com/76979871",
        "https://www.vimeo.com/76979871",
        "http://vimeo.com/76979871?share=copy",
        "https://vimeo.com/76979871#t=30s",
        "https://player.vimeo.com/video/76979871",
        "https://player.vimeo.com/video/76979871?badge=0",
        "vimeo.com/76979871",
        # The forms Vimeo's oEmbed documentation lists for a channel's and a group's video.
        "https://vimeo.com/channels/staffpicks/76979871",
        "https://vimeo.com/groups/name/videos/76979871",
        "https://vimeo.com/groups/name/videos/76979871/",
    ],
)
def test_vimeo_forms_give_one_canonical_url(text: str) -> None:
    assert parse_video_link(text) == VideoLink("vimeo", "76979871", "https://vimeo.com/76979871")


@pytest.mark.parametrize(
    "text",
    [
        "https://vimeo.com/123456789/abcdef1234",
        "https://vimeo.com/123456789/abcdef1234?share=copy",
        "https://player.vimeo.com/video/123456789?h=abcdef1234&badge=0",
    ],
)
def test_an_unlisted_vimeo_link_keeps_its_hash(text: str) -> None:
    """Vimeo answers an unlisted video's oEmbed only with the hash its link carries."""
    assert parse_video_link(text) == VideoLink(
        "vimeo", "123456789", "https://vimeo.com/123456789/abcdef1234"
    )


@pytest.mark.parametrize(
    ("url", "watchable"),
    [
        ("https://www.youtube.com/watch?v=AbC_dE-fG12", True),
        ("http://videos.example/42", True),
        ("https://videos.example/" + "x" * (MAX_BUTTON_URL - 23), True),
        ("https://videos.example/" + "x" * (MAX_BUTTON_URL - 22), False),
        ("https://[bad", False),
        ("https://localhost/video", False),
        ("https://videos.example:99999/42", False),
        ("ftp://videos.example/42", False),
        ("https://videos .example/42", False),
        ("https:///42", False),
    ],
)
def test_only_well_formed_web_links_get_a_watch_button(url: str, watchable: bool) -> None:
    assert links.watchable(url) is watchable


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a link"),
        ("https://example.org/watch?v=AbC_dE-fG12", "not from YouTube or Vimeo"),
        (f"https://youtube.com.evil.example/watch?v={ID}", "not from YouTube or Vimeo"),
        (f"https://evil-youtube.com/watch?v={ID}", "not from YouTube or Vimeo"),
        (f"https://notyoutu.be/{ID}", "not from YouTube or Vimeo"),
        (f"https://youtube.com@evil.example/watch?v={ID}", "hides its real address"),
        (f"https://user:pass@www.youtube.com/watch?v={ID}", "hides its real address"),
        (f"https://evil.example\\@youtube.com/watch?v={ID}", "not a link TakeTwo can read"),
        (f"https://you\ttube.com/watch?v={ID}", "not a link TakeTwo can read"),
        (f"javascript:alert('{ID}')", "Only web links"),
        (f"ftp://youtube.com/watch?v={ID}", "Only web links"),
        (f"data:text/html,youtu.be/{ID}", "Only web links"),
        (f"https://www.youtube.com:8080/watch?v={ID}", "unusual port"),
        (f"https://www.youtube.com:99999/watch?v={ID}", "malformed"),
        ("https://[bad", "malformed"),
        (f"https://[www.youtube.com/watch?v={ID}", "malformed"),
        ("https://www.youtube.com/watch?v=short", "does not name a single video"),
        (f"https://www.youtube.com/watch?v={ID}X", "does not name a single video"),
        ("https://www.youtube.com/watch?v=AbC_dE-fG1!", "does not name a single video"),
        (f"https://www.youtube.com/watch?v={ID}&v=ZyX_wV-uT98", "does not name a single video"),
        ("https://www.youtube.com/watch", "does not name a single video"),
        ("https://www.youtube.com/playlist?list=PLmadeup123", "does not name a single video"),
        (f"https://www.youtube.com/channel/{ID}", "does not name a single video"),
        (f"https://youtu.be/{ID}/extra", "does not name a single video"),
        (f"https://www.youtube.com/shorts/{ID}/x", "does not name a single video"),
        ("https://vimeo.com/channels/staffpicks", "does not name a single video"),
        ("https://vimeo.com/groups/name/76979871", "does not name a single video"),
        ("https://vimeo.com/76979871/NOT-A-HASH", "does not name a single video"),
        ("https://player.vimeo.com/video/76979871?h=a&h=b", "does not name a single video"),
        ("https://vimeo.com/0123", "does not name a single video"),
        ("https://vimeo.com/١٢٣", "does not name a single video"),
        ("https://player.vimeo.com/76979871", "does not name a single video"),
        ("https://vimeo.com.evil.example/76979871", "not from YouTube or Vimeo"),
        ("x" * 2001, "not a link TakeTwo can read"),
    ],
)
def test_anything_else_is_refused_naming_what_is_supported(text: str, reason: str) -> None:
    with pytest.raises(UserFacingError) as refused:
        parse_video_link(text)
    assert reason in refused.value.message
    assert refused.value.message.endswith(f"TakeTwo reads {SUPPORTED}.")
    assert "YouTube" in SUPPORTED and "Vimeo" in SUPPORTED
