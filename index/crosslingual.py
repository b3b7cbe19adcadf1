"""English words as keys, and Chinese terms as pinyin: what the lexicon and the name lookup match on.

* An English key is a word's lemma, Snowball-stemmed (leads/led → lead, resignation → resign); a
  phrase's key is its words' keys (secretary of state → secretari of state).
* Every 2-4 character Chinese term has a toneless pinyin key (通义 → tongyi, 林俊 → linjun), and an
  English word that reads as pinyin is split into syllables to find it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache

import Stemmer

from index.analysis import is_cjk

MAX_PHRASE_WORDS = 4  # dictionary phrases of up to this many words are kept (People's Bank of China → 中国人民银行)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
POSSESSIVE = re.compile(r"(?<=[A-Za-z])['’]s\b")


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


def name_key(words: Iterable[str]) -> str:
    """A name's key: its words in lower case, never stemmed (Manning is not man, Hastings not haste)."""
    return " ".join(w.lower() for w in words)


def name_keys(word: str) -> list[str]:
    """The keys a name in a question may be filed under: as written, and without a plural s
    (Panthers → panther, Americans → american)."""
    key = word.lower()
    return [key, key[:-1]] if len(key) > 3 and key.endswith("s") and not key.endswith("ss") else [key]


def english_words(text: str) -> list[str]:
    """The Latin words of a text, in order, as written (without a possessive 's)."""
    return _LATIN_WORD.findall(POSSESSIVE.sub("", text))


def split_latin(text: str) -> tuple[str, list[str]]:
    """The text with its Latin words blanked out, and those words as written."""
    text = POSSESSIVE.sub("", text)
    return _LATIN_WORD.sub(" ", text), _LATIN_WORD.findall(text)


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


# Sound keys: how a foreign name and its Chinese transliteration are matched (Kearney → 科尔尼,
# Rousseff → 罗塞夫). Both sides become their consonants in a few broad classes; vowels, w and y,
# which transliteration spells freely, are left out.
_INITIAL_SOUND = {"b": "P", "p": "P", "d": "T", "t": "T", "g": "K", "k": "K", "h": "H", "f": "F",
                  "l": "L", "r": "L", "m": "M", "n": "N", "j": "S", "q": "S", "x": "S", "z": "S",
                  "c": "S", "s": "S", "zh": "S", "ch": "S", "sh": "S"}
_ENGLISH_SPELLING = [("sch", "s"), ("ph", "f"), ("ck", "k"), ("sh", "s"), ("ch", "s"), ("th", "t"), ("gh", ""),
                     ("qu", "k"), ("wh", "w"), ("ng", "n"), ("x", "ks")]
_ENGLISH_SOUND = {"b": "P", "p": "P", "d": "T", "t": "T", "g": "K", "k": "K", "q": "K", "h": "H", "f": "F",
                  "v": "F", "l": "L", "r": "L", "m": "M", "n": "N", "s": "S", "z": "S", "j": "S"}
_SOFT_C = re.compile(r"c(?=[eiy])")
_SILENT_R = re.compile(r"(?<=[aeiou])r(?![aeiouy])")
MIN_SOUND_CONSONANTS = 2  # a key of one consonant class matches too many names


def _collapse(classes: str) -> str:
    return "".join(c for i, c in enumerate(classes) if i == 0 or c != classes[i - 1])


def pinyin_sound(syllables: Iterable[str]) -> str:
    """The sound key of a transliteration from its pinyin (科尔尼: ke er ni → KLN; 罗塞夫 → LSF)."""
    classes = []
    for syllable in syllables:
        if syllable == "er":
            classes.append("L")
            continue
        initial = syllable[:2] if syllable[:2] in _INITIAL_SOUND else syllable[:1]
        classes.append(_INITIAL_SOUND.get(initial, ""))
        if syllable.endswith(("n", "ng")) and len(syllable) > 1:
            classes.append("N")
    return _collapse("".join(classes))


def english_sounds(word: str) -> set[str]:
    """The sound keys a written foreign name may have (Kearney → KLN or KN: an r after a vowel is
    often left out; a leading h too: Hospicio → SPS)."""
    spelled = _SOFT_C.sub("s", word.lower())
    for written, sound in _ENGLISH_SPELLING:
        spelled = spelled.replace(written, sound)
    spelled = spelled.replace("c", "k")
    variants = {spelled, _SILENT_R.sub("", spelled)}
    variants |= {v[1:] for v in variants if v.startswith("h")}
    keys = {_collapse("".join(_ENGLISH_SOUND.get(ch, "") for ch in v)) for v in variants}
    return {k for k in keys if len(k) >= MIN_SOUND_CONSONANTS}
