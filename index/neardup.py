"""Near-duplicate stories: the same story syndicated by several outlets with small edits.

Word-for-word repeats of a paragraph are merged when passages are made; a copy with its own
dateline, a shortened sentence or a trimmed ending is not. Each article is reduced to a sketch: a
one-permutation MinHash of its 5-character shingles (64 slots of 16 bits, each the smallest hash
falling in its slot; an empty slot borrows from the next), the number of distinct shingles, and its
numbers. Articles whose sketches agree on all four slots of any one of 16 bands are candidates
(locality-sensitive hashing: likely above a Jaccard similarity of about 0.5, in time linear in the
corpus); a candidate is the same story when

- the shorter of the two is nearly all inside the other (``containment`` of its shingles, estimated
  from the sketches and the shingle counts): a copy that lost its ending still is;
- the shorter one's numbers, if it has two or more, are nearly all numbers of the other: a daily
  bulletin from one template changes its numbers every day, a copy keeps them;
- they are dated within ``days`` of each other: the same template a year later is another story.

Different stories that share boilerplate ("央视网消息(新闻联播):") share few shingles and are never
candidates; articles too short to judge are never grouped. (datasketch's MinHash takes 0.5 ms an
article with 64 permutations, about 15 times this, and its LSH tables live in memory or a database
server: here the sketches are arrays stored beside the index, so an update groups new articles
with the indexed ones in milliseconds.)
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from index.metadata import UNDATED

STORY_RULES_VERSION = 1  # bump when how articles are sketched or grouped changes
SLOTS = 64
BANDS = 16  # SLOTS / BANDS = 4 slots of 16 bits: one band is one uint64
_SHINGLE = 5
_PEERS = 4  # in a run of equal band keys, each article is compared with this many before it
_NOT_LETTERS = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SLOT_STARTS = np.arange(SLOTS, dtype=np.uint64) << np.uint64(58)


@dataclass(frozen=True)
class NearDuplicateOptions:
    containment: float = 0.8  # the share of the shorter article's shingles the other must hold
    numbers_shared: float = 0.8  # ...and of its numbers, when it has two or more
    min_chars: int = 120  # shorter articles are never grouped
    max_chars: int = 20_000  # a longer article is judged by its opening (bounds the memory a huge document takes)
    days: int = 3  # copies of one story are dated at most this far apart (undated ones match any date)


@dataclass
class Sketches:
    """The sketches of a run of articles: ``signatures`` (n × 64 uint16), ``sizes`` (distinct
    shingles; 0: too short to judge), and each article's numbers as hashes, ``numbers`` cut at
    ``number_offsets`` (n + 1)."""

    signatures: np.ndarray
    sizes: np.ndarray
    numbers: np.ndarray
    number_offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.sizes)

    def numbers_of(self, article: int) -> np.ndarray:
        return self.numbers[self.number_offsets[article]: self.number_offsets[article + 1]]

    @staticmethod
    def join(parts: list[Sketches]) -> Sketches:
        """The sketches of several runs of articles, one after the other."""
        if not parts:
            return sketch_articles([], NearDuplicateOptions())
        counts = np.concatenate([np.diff(part.number_offsets) for part in parts])
        return Sketches(np.concatenate([p.signatures for p in parts]), np.concatenate([p.sizes for p in parts]),
                        np.concatenate([p.numbers for p in parts]), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def sketch_articles(texts: list[str], options: NearDuplicateOptions) -> Sketches:
    """The sketch of each article text."""
    signatures = np.zeros((len(texts), SLOTS), dtype=np.uint16)
    sizes = np.zeros(len(texts), dtype=np.int32)
    numbers: list[list[int]] = []
    for i, text in enumerate(texts):
        found: list[int] = []
        if len(text) >= options.min_chars:
            text = text[: options.max_chars]
            shingles = _shingle_hashes(text)
            if len(shingles):
                signatures[i], sizes[i] = _signature(shingles), len(shingles)
                found = sorted({zlib.crc32(n.encode()) for n in _NUMBER.findall(text)})
        numbers.append(found)
    counts = np.array([len(n) for n in numbers], dtype=np.int64)
    return Sketches(signatures, sizes, np.array([x for n in numbers for x in n], dtype=np.uint32),
                    np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def _shingle_hashes(text: str) -> np.ndarray:
    """The distinct 64-bit hashes of the text's 5-character shingles, sorted (letters and digits
    only, so spacing and punctuation edits do not count)."""
    codes = np.frombuffer(_NOT_LETTERS.sub("", text).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < _SHINGLE:
        return np.zeros(0, dtype=np.uint64)
    count = len(codes) - _SHINGLE + 1
    hashes = codes[:count].copy()
    for offset in range(1, _SHINGLE):
        hashes = hashes * np.uint64(1_000_003) + codes[offset: offset + count]
    hashes *= _MIX
    hashes ^= hashes >> np.uint64(31)
    hashes *= _MIX
    hashes.sort()
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]


def _signature(sorted_hashes: np.ndarray) -> np.ndarray:
    """One-permutation MinHash: the top 6 bits of a hash choose its slot, the next 16 are its value;
    in sorted hashes each slot's first is its smallest. An empty slot takes the next full one's."""
    first = np.searchsorted(sorted_hashes, _SLOT_STARTS)  # where each slot's hashes begin
    ends = np.append(first[1:], len(sorted_hashes))
    values = ((sorted_hashes[np.minimum(first, len(sorted_hashes) - 1)] >> np.uint64(42)) & np.uint64(0xFFFF)).astype(np.uint16)
    full = np.flatnonzero(first < ends)
    if len(full) < SLOTS:
        after = np.searchsorted(full, np.arange(SLOTS)) % len(full)  # the next full slot, wrapping round
        values = values[full[after]]
    return values


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """Each article's 16 band keys (n × 16 uint64): four 16-bit slots read as one number."""
    return np.ascontiguousarray(signatures).view(np.uint64).reshape(len(signatures), BANDS)


def _pairs_within(keys: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Candidate pairs (earlier, later) among articles with equal keys in some band."""
    found = []
    ids = np.flatnonzero(usable)
    for band in range(BANDS):
        column = keys[ids, band]
        order = np.argsort(column, kind="stable")
        ranked, members = column[order], ids[order]
        for shift in range(1, _PEERS + 1):
            same = ranked[shift:] == ranked[:-shift]
            found.append(np.stack([members[:-shift][same], members[shift:][same]], axis=1))
    return _distinct(found)


def _pairs_across(old_keys: np.ndarray, old_usable: np.ndarray, new_keys: np.ndarray, new_usable: np.ndarray,
                  first_new: int) -> np.ndarray:
    """Candidate pairs (old article, new article numbered from ``first_new``) with equal keys in some
    band: the new keys sorted, each old key looked up among them."""
    found = []
    new_ids, old_ids = np.flatnonzero(new_usable), np.flatnonzero(old_usable)
    if not len(new_ids) or not len(old_ids):
        return np.zeros((0, 2), dtype=np.int64)
    old_keys = old_keys[old_ids]
    for band in range(BANDS):
        column = new_keys[new_ids, band]
        order = np.argsort(column, kind="stable")
        ranked = column[order]
        old = old_keys[:, band]
        at = np.minimum(np.searchsorted(ranked, old), len(ranked) - 1)
        for hit in np.flatnonzero(ranked[at] == old):  # each old article with every new one of the same key
            start = int(at[hit])
            end = int(np.searchsorted(ranked, ranked[start], side="right"))
            found.append(np.stack([np.full(end - start, old_ids[hit]), first_new + new_ids[order[start:end]]], axis=1))
    return _distinct(found)


def _distinct(pairs: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(pairs), axis=0) if pairs and sum(map(len, pairs)) else np.zeros((0, 2), dtype=np.int64)


class _Articles:
    """Old and new articles' sketches and dates, read by overall number (old ones first) without
    copying the old."""

    def __init__(self, old: Sketches | None, old_days: np.ndarray | None, new: Sketches, new_days: np.ndarray) -> None:
        self.old, self.old_days, self.new, self.new_days = old, old_days, new, new_days
        self.first = len(old) if old is not None else 0

    def _take(self, old: np.ndarray | None, new: np.ndarray, ids: np.ndarray) -> np.ndarray:
        is_old = ids < self.first
        out = np.empty((len(ids), *new.shape[1:]), dtype=new.dtype)
        if old is not None:
            out[is_old] = old[ids[is_old]]
        out[~is_old] = new[ids[~is_old] - self.first]
        return out

    def signatures(self, ids: np.ndarray) -> np.ndarray:
        return self._take(None if self.old is None else self.old.signatures, self.new.signatures, ids)

    def sizes(self, ids: np.ndarray) -> np.ndarray:
        return self._take(None if self.old is None else self.old.sizes, self.new.sizes, ids).astype(np.float64)

    def days(self, ids: np.ndarray) -> np.ndarray:
        return self._take(self.old_days, self.new_days, ids).astype(np.int64)

    def numbers_of(self, article: int) -> np.ndarray:
        if article < self.first:
            return self.old.numbers_of(article)
        return self.new.numbers_of(article - self.first)


class StoryGrouping:
    """Groups articles into stories: each article's story is the number of its story's first
    article. ``old`` articles (with their ``old_stories``) are grouped already; ``new`` ones are
    numbered after them."""

    def __init__(self, options: NearDuplicateOptions) -> None:
        self.options = options

    def stories(self, new: Sketches, new_days: np.ndarray, old: Sketches | None = None,
                old_days: np.ndarray | None = None, old_stories: np.ndarray | None = None) -> np.ndarray:
        """The story of each new article, numbered overall (old articles first)."""
        articles = _Articles(old, old_days, new, new_days)
        first = articles.first
        new_keys = band_keys(new.signatures)
        pairs = _pairs_within(new_keys, new.sizes > 0) + first
        if old is not None and len(old):
            across = _pairs_across(band_keys(old.signatures), np.asarray(old.sizes) > 0, new_keys, new.sizes > 0, first)
            pairs = np.concatenate([across, pairs])
        parent = np.concatenate([np.asarray(old_stories if old_stories is not None else [], dtype=np.int64),
                                 first + np.arange(len(new), dtype=np.int64)])
        for a, b in pairs[self._same_story(articles, pairs)]:
            ra, rb = _root(parent, int(a)), _root(parent, int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        up = parent[parent]
        while not np.array_equal(up, parent):  # pointer jumping, until every article points at its story's first
            parent, up = up, up[up]
        return parent[first:].astype(np.int32)

    def _same_story(self, articles: _Articles, pairs: np.ndarray) -> np.ndarray:
        """Which candidate pairs are one story: dated close together, the shorter one's shingles
        nearly all in the other, and no numbers that disagree."""
        if not len(pairs):
            return np.zeros(0, dtype=bool)
        a, b = pairs[:, 0], pairs[:, 1]
        day_a, day_b = articles.days(a), articles.days(b)
        close = (day_a == UNDATED) | (day_b == UNDATED) | (np.abs(day_a - day_b) <= self.options.days)
        jaccard = (articles.signatures(a) == articles.signatures(b)).mean(axis=1)
        size_a, size_b = articles.sizes(a), articles.sizes(b)
        contained = jaccard * (size_a + size_b) / (1 + jaccard) / np.minimum(size_a, size_b)
        same = close & (contained >= self.options.containment)
        for i in np.flatnonzero(same):
            numbers, others = sorted((articles.numbers_of(int(a[i])), articles.numbers_of(int(b[i]))), key=len)
            if len(numbers) >= 2 and np.isin(numbers, others).sum() < self.options.numbers_shared * len(numbers):
                same[i] = False
        return same


def _root(parent: np.ndarray, article: int) -> int:
    while parent[article] != article:
        parent[article] = parent[parent[article]]
        article = int(parent[article])
    return article
