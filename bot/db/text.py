"""Text folding for search: case-insensitive, accents removed, punctuation ignored."""

from __future__ import annotations

import re
import unicodedata

# \W is Unicode-aware, so titles in other scripts keep their letters.
_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """`Beyoncé – "Formation"` -> `beyonce formation`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("&", " and ")
    return _NOT_WORD.sub(" ", stripped).strip()
