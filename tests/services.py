"""The services stand-in now lives in bot/standin/services.py (the benchmark runs it too);
this name stays for tests written before it moved."""

from bot.standin.services import *  # noqa: F403
