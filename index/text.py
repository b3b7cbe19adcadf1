"""Text normalisation shared by ingest and analysis."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u3000\u200b]+")
_FULL_WIDTH_ASCII = re.compile("[\uff01-\uff5e]")
_FULL_WIDTH_OFFSET = 0xFF01 - 0x21
# Lone surrogates cannot be written as UTF-8; control characters and bidirectional overrides can
# hide or disguise text. Tab and newline stay.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines breaks at
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")


def _half_width(match: re.Match[str]) -> str:
    return chr(ord(match.group()) - _FULL_WIDTH_OFFSET)


def clean(text: str) -> str:
    """Text that is safe to store and show: a lone surrogate becomes U+FFFD, control characters and
    bidirectional overrides go, and every kind of line break becomes a newline."""
    return _INVISIBLE.sub("", _LINE_BREAK.sub("\n", _SURROGATE.sub("\ufffd", text)))


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, fast for Chinese news: the full-width ASCII forms
    (，：（）) are mapped first, and the slow full normalisation runs only if anything else is left."""
    text = _FULL_WIDTH_ASCII.sub(_half_width, text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation to half-width) and collapsed spaces."""
    return _SPACES.sub(" ", nfkc(text)).strip()


def dedupe_key(text: str) -> str:
    """The identity of a paragraph: normalised, case-folded, with no whitespace at all."""
    return "".join(normalize(text).casefold().split())


def longest_shared_run(needle: str, haystack: str) -> int:
    """The length of the longest stretch of ``needle`` that occurs verbatim in ``haystack``."""
    shorter, longer = 0, len(needle)
    while shorter < longer:  # a shared stretch of length n contains one of every shorter length
        middle = (shorter + longer + 1) // 2
        if any(needle[i : i + middle] in haystack for i in range(len(needle) - middle + 1)):
            shorter = middle
        else:
            longer = middle - 1
    return shorter
