"""One analyzer for documents and questions: normalise, segment with jieba, drop punctuation and stop words."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import jieba

from index.text import normalize

jieba.setLogLevel(logging.WARNING)

ANALYZER_VERSION = "1"


@cache
def stop_words() -> frozenset[str]:
    text = resources.files("index").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_word(token: str) -> bool:
    """A token carries meaning when it has at least one letter or digit."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


@dataclass(frozen=True)
class AnalyzerOptions:
    """Switches of the analysis chain; every switch is recorded in the index manifest."""

    stop_words: bool = True

    def signature(self) -> dict:
        return {"version": ANALYZER_VERSION, **self.__dict__}


class Analyzer:
    """Turns text into index terms, the same way for passages and for questions."""

    def __init__(self, options: AnalyzerOptions = AnalyzerOptions()) -> None:
        self.options = options
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()  # load the dictionary now, not inside the first question
        self._stop = stop_words() if options.stop_words else frozenset()

    def tokens(self, text: str) -> list[str]:
        text = normalize(text).lower()
        return [
            token
            for token in (raw.strip() for raw in self._jieba.cut_for_search(text))
            if token and token not in self._stop and is_word(token)
        ]
