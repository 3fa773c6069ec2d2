"""Text folding for search: case-insensitive, accents removed, punctuation ignored."""

from __future__ import annotations

import re
import unicodedata

# Text TakeTwo stores, from a catalog file or from a member: no control characters (line
# breaks and tabs only in what is shown as a paragraph) and no lone surrogates (half of a
# UTF-16 pair: JSON can spell one, but it is no character and SQLite refuses it).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_PARAGRAPH = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")

# \W is Unicode-aware, so titles in other scripts keep their letters.
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """`Beyoncé – "Formation"` -> `beyonce formation`."""
    # Compatibility forms first (𝐋 is L, ℍ is H), then case, then again: casefold can
    # produce letters that decompose.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("&", " and ")
    return _NOT_WORD.sub(" ", stripped).strip()
