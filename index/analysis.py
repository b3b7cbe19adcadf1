"""One analyzer for documents and questions: normalise, segment with jieba, drop punctuation and stop words.

Beside jieba's words it can emit the Chinese character bigrams that jieba did not already produce,
so that a name jieba splits (林俊旸 → 林俊 + 旸) is still found by its pieces (林俊, 俊旸).

jieba defines the segmentation. Without its HMM (the default) the cut runs in jieba-rs, jieba's
algorithm and dictionary compiled, which cuts exactly as jieba does (tests/test_analysis.py checks
that on real news) about fifteen times faster; with the HMM on, where the two differ, jieba runs.
"""

from __future__ import annotations

import logging
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources

import jieba
import opencc
import rjieba

from index.text import normalize

jieba.setLogLevel(logging.WARNING)

ANALYZER_VERSION = "6"
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")


@cache
def stop_words() -> frozenset[str]:
    text = resources.files("index").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _traditional_to_simplified() -> opencc.OpenCC:
    """Traditional → Simplified with phrases (軟體 → 软件); mainland text passes through unchanged."""
    return opencc.OpenCC("tw2sp")


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def is_word(token: str) -> bool:
    """A token carries meaning when it has at least one letter or digit."""
    return _LETTER_OR_DIGIT.search(token) is not None


def is_cjk(token: str) -> bool:
    return bool(token) and _CJK_RUN.fullmatch(token) is not None


def has_cjk(text: str) -> bool:
    return _CJK_RUN.search(text) is not None


@dataclass(frozen=True)
class AnalyzerOptions:
    """Switches of the analysis chain; every switch is recorded in the index manifest."""

    stop_words: bool = True
    simplified: bool = True  # Traditional Chinese is matched as Simplified (OpenCC tw2sp)
    bigrams: bool = True  # Chinese character bigrams beside jieba's words
    hmm: bool = False  # jieba's HMM guessing words its dictionary lacks; the bigrams find those better

    def signature(self) -> dict:
        return {"version": ANALYZER_VERSION, **self.__dict__}


Cut = Callable[[str], Iterable[str]]


def jieba_cuts(hmm: bool) -> tuple[Cut, Cut]:
    """jieba's whole-word cut and its search-engine cut (whole words and the dictionary words inside them)."""
    if not hmm:
        return partial(rjieba.cut, hmm=False), partial(rjieba.cut_for_search, hmm=False)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()  # load the dictionary now, not inside the first question
    return partial(tokenizer.cut, HMM=True), partial(tokenizer.cut_for_search, HMM=True)


class Analyzer:
    """Turns text into index terms, the same way for passages and for questions."""

    def __init__(self, options: AnalyzerOptions = AnalyzerOptions()) -> None:
        self.options = options
        self._cut, self._cut_for_search = jieba_cuts(options.hmm)
        self._stop = stop_words() if options.stop_words else frozenset()
        stop_chars = "".join(sorted(word for word in self._stop if len(word) == 1 and is_cjk(word)))
        # Runs of Chinese characters that hold no stop character: bigrams never straddle one.
        self._bigram_runs = re.compile(f"[{_CJK_CLASS}]+" if not stop_chars else f"(?:(?![{re.escape(stop_chars)}])[{_CJK_CLASS}])+")

    def normalize(self, text: str) -> str:
        text = normalize(text).lower()
        return _traditional_to_simplified().convert(text) if self.options.simplified else text

    def letters_and_digits(self, text: str) -> str:
        """Normalised text without spaces or punctuation (in Simplified when that is on): what
        verbatim phrases are compared on."""
        text = _NOT_LETTER_OR_DIGIT.sub("", text.lower())
        return _traditional_to_simplified().convert(text) if self.options.simplified else text

    def tokens(self, text: str) -> list[str]:
        words, bigrams = self.analyze(text)
        return words + bigrams

    def analyze(self, text: str, precise: bool = False) -> tuple[list[str], list[str]]:
        """jieba's words at search-engine granularity (or, ``precise``, its whole-word cut, used for
        questions: the index holds those whole words too) and, if enabled, the extra bigrams."""
        text = self.normalize(text)
        cut = self._cut if precise else self._cut_for_search
        words = [word for word in map(self.word, cut(text)) if word]
        return words, self._bigrams(text, set(words)) if self.options.bigrams else []

    def search_cut(self, normalized: str) -> Iterable[str]:
        """jieba's raw search-engine tokens of normalised text; ``word`` tells which are index words."""
        return self._cut_for_search(normalized)

    def word(self, token: str) -> str | None:
        """A jieba token as an index word: stripped; None for spaces, punctuation and stop words."""
        token = token.strip()
        return token if token and token not in self._stop and is_word(token) else None

    def bigram_pairs(self, normalized: str) -> list[str]:
        """Every character bigram of the Chinese runs of normalised text (a run breaks at a stop character)."""
        return [pair for run in self._bigram_runs.findall(normalized) for pair in map(operator.add, run, run[1:])]

    def _bigrams(self, text: str, words: set[str]) -> list[str]:
        return [pair for pair in self.bigram_pairs(text) if pair not in words]
