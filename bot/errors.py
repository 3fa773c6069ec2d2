"""Errors that carry a sentence meant for the member who ran the command.

Any layer may raise :class:`UserFacingError`; the command tree's error handler turns it
into one ephemeral reply. This module does not import discord, so the data layer can use it.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure whose message is shown to the member as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(UserFacingError):
    """Something the member named does not exist (a video, a quote)."""


class CannotSaveError(UserFacingError):
    """The database refused a write for a reason that is not the member's (a full disk, a
    lock held too long, a damaged or read-only file). Nothing was saved."""
