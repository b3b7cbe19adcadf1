"""Text normalisation shared by ingest and analysis."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u3000\u200b]+")


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width) and collapsed spaces."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


def dedupe_key(text: str) -> str:
    """The identity of a paragraph: normalised, case-folded, with no whitespace at all."""
    return "".join(normalize(text).casefold().split())
