"""A base segment and a delta segment seen as one index.

The delta holds the news added since the base was built (``index.update`` writes it). Passage
numbers run on from the base's; terms the base lacks are numbered after its vocabulary. Every
score is BM25 over the live corpus as a whole: the delta stores the idf of every term and the
average passage length over both segments less the deleted passages, its own weights are
computed with them. The base's stored weights, rescaled to the new idf, rank first; they are off by
at most the ratio of the old and new average lengths, so the passages near the top are scored again
exactly from the base's term frequencies (:func:`index.compiled.top_k`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.bm25 import BM25Params, KernelSources, Postings
from index.kernel import DELTA, MAIN
from index.store import IndexFormatError, PassageFile, StringTable, TermMap, check_files, check_offsets, load_array, read_manifest

_BOUND_SLACK = 1 + 1e-5  # float32 weights may round a hair above a bound computed in float64


class SegmentedPostings:
    """The postings of a base and a delta as one :class:`~index.bm25.PostingLists`."""

    def __init__(self, base: Postings, delta: Postings, delta_terms: np.ndarray, idf: np.ndarray, df: np.ndarray,
                 avgdl: float, deleted: np.ndarray | None) -> None:
        """``delta`` is numbered locally: its term ``i`` is ``delta_terms[i]`` overall, its passage
        ``j`` is ``base.slots + j``. ``idf`` and ``df`` cover every term overall; ``deleted`` marks
        the base passages removed since (None: none)."""
        self.base, self.delta = base, delta
        self.idf, self.df, self.avgdl, self.params = idf, df, avgdl, base.params
        self.first_delta = base.slots
        self.doc_len = np.concatenate([base.doc_len, delta.doc_len])
        self._deleted = None if deleted is None else np.concatenate([deleted, np.zeros(delta.slots, dtype=bool)])
        self._n_docs = self.slots - (0 if deleted is None else int(deleted.sum()))
        self._n_base_terms = len(base.idf)
        self._in_delta = dict(zip(delta_terms.tolist(), range(len(delta_terms))))  # overall term → the delta's
        self._bounds = self._max_weights(delta_terms)
        k1, b = self.params.k1, self.params.b
        self._norm = (k1 * (1 - b + b * self.doc_len / avgdl)) if avgdl else np.full(self.slots, k1 * (1 - b))

    @property
    def n_docs(self) -> int:
        return self._n_docs

    @property
    def slots(self) -> int:
        return self.base.slots + self.delta.slots

    @property
    def deleted(self) -> np.ndarray | None:
        return self._deleted

    def _max_weights(self, delta_terms: np.ndarray) -> np.ndarray:
        """Each term's highest weight, at most: the base's, rescaled to the new idf and average length
        (a tf part grows by at most new/old average length), and the delta's, computed exactly."""
        base, k1 = self.base, self.params.k1
        old_idf, new_idf = base.idf, self.idf[: len(base.idf)]
        growth = max(1.0, self.avgdl / base.avgdl) if base.avgdl else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            rescaled = np.where(old_idf > 0, base.max_weights / old_idf * new_idf * growth, np.maximum(new_idf, 0) * (k1 + 1))
        bounds = np.zeros(len(self.idf))
        bounds[: len(base.idf)] = np.maximum(rescaled, 0)
        np.maximum.at(bounds, delta_terms, self.delta.max_weights.astype(np.float64))
        return bounds * _BOUND_SLACK

    def pieces(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Each term's list in the base, then in the delta (a query's few terms: plain ints beat numpy's calls)."""
        columns, first = [], [0]
        for term in terms:
            term = int(term)
            if term < self._n_base_terms:
                row = self.base.row(term)
                columns.append((MAIN, row.start, row.stop, 0))
            local = self._in_delta.get(term)
            if local is not None:
                row = self.delta.row(local)
                columns.append((DELTA, row.start, row.stop, self.first_delta))
            first.append(len(columns))
        return np.array(first), np.array(columns, dtype=np.int64).reshape(-1, 4).T

    def kernel_sources(self) -> KernelSources:
        # the base's weights rescale by new idf / stored idf within the band the average lengths
        # make; else they are only computed from its tfs
        rescalable = self.avgdl > 0 and self.base.avgdl > 0 and (not len(self.base.idf) or float(self.base.idf.min()) > 0)
        return KernelSources(self.base.docs, self.base.tfs, self.base.weights, norm=self._norm,
                             delta_docs=self.delta.docs, delta_weights=self.delta.weights, delta_tfs=self.delta.tfs,
                             stored_idf=self.base.idf if rescalable else np.empty(0),
                             length_ratio=self.avgdl / self.base.avgdl if rescalable else 1.0)

    def dfs(self, terms: np.ndarray) -> np.ndarray:
        return self.df[terms]

    def list_length(self, term: int) -> int:
        base = self.base.list_length(term) if term < self._n_base_terms else 0
        local = self._in_delta.get(term)
        return base + (self.delta.list_length(local) if local is not None else 0)

    def max_weight(self, term: int) -> float:
        return float(self._bounds[term])


class LayeredVocabulary(Sequence[str]):
    """The base's vocabulary, then the terms only the delta has."""

    def __init__(self, base: StringTable, added: list[str]) -> None:
        self.base, self.added = base, added
        self._added_ids = {term: len(base) + i for i, term in enumerate(added)}

    def __len__(self) -> int:
        return len(self.base) + len(self.added)

    def __getitem__(self, term_id: int) -> str:  # type: ignore[override]
        return self.base[term_id] if term_id < len(self.base) else self.added[term_id - len(self.base)]

    def id(self, term: str) -> int | None:
        found = self.base.id(term)
        return found if found is not None else self._added_ids.get(term)


@dataclass
class LayeredTermMap:
    """A base term map and the delta's (whose term ids are already overall ones), read as one."""

    base: TermMap
    added: TermMap

    def get(self, key: str) -> tuple[int, ...] | None:
        old, new = self.base.get(key), self.added.get(key)
        if not new:
            return old
        return tuple(sorted({*(old or ()), *new}))

    def starts_phrases(self, word: str) -> bool:
        return self.base.starts_phrases(word) or self.added.starts_phrases(word)


class LayeredPassages:
    """The base's passage records, then the delta's; where a passage was repeated comes from both."""

    def __init__(self, base: PassageFile, delta: PassageFile) -> None:
        self.base, self.delta = base, delta

    def __len__(self) -> int:
        return len(self.base) + len(self.delta)

    def __getitem__(self, number: int) -> dict:
        return self.base[number] if number < len(self.base) else self.delta[number - len(self.base)]

    def repeats(self, number: int) -> list[dict]:
        """Repeats found by the base build (of its passages) and by the update (numbered overall)."""
        return (self.base.repeats(number) if number < len(self.base) else []) + self.delta.repeats(number)


@dataclass
class IndexParts:
    """Everything a search reads from a generation, whether one segment or a base and a delta."""

    vocabulary: StringTable | LayeredVocabulary
    passages: PassageFile | LayeredPassages
    days: np.ndarray  # each passage's article date as a day number
    postings: Postings | SegmentedPostings
    maps: tuple  # the lexicon, names, pinyin and sounds term maps
    articles: np.ndarray  # each passage's article
    stories: np.ndarray  # each article's story: the first article of the syndicated copies it is one of

    def check_stories(self) -> None:
        """Raise :class:`IndexFormatError` unless every passage's article and every article's story exist."""
        n = len(self.stories)
        for array, what in ((self.articles, "passage_article.npy"), (self.stories, "article_stories.npy")):
            if len(array) and (int(array.min()) < 0 or int(array.max()) >= n):
                raise IndexFormatError(f"{what} names articles the index lacks: the index is damaged")


_MAPS = ("lexicon", "names", "pinyin", "sounds")


def open_parts(generation: Path, manifest: dict) -> IndexParts:
    """Open a generation's arrays (memory-mapped); a delta opens its base with it. Arrays that do
    not fit together raise :class:`IndexFormatError`."""
    if manifest.get("kind") != "delta":
        return _open_segment(generation, manifest)
    base_path = generation.parent / manifest["base"]
    base_manifest = read_manifest(base_path)
    problems = check_files(base_path, base_manifest)
    if problems:
        raise IndexFormatError(f"the base {base_path.name}: " + "; ".join(problems[:3]))
    base = _open_segment(base_path, base_manifest)
    delta = _open_segment(generation, manifest, delta=True)
    delta_terms = load_array(generation, "delta_terms")
    idf, df = load_array(generation, "overall_idf"), load_array(generation, "overall_df")
    deleted_numbers = load_array(generation, "deleted_passages")
    n_terms = manifest["n_terms"]
    if len(idf) != n_terms or len(df) != n_terms or len(delta_terms) != len(delta.vocabulary) or (
            len(delta_terms) and (delta_terms.min() < 0 or delta_terms.max() >= n_terms)) or (
            len(deleted_numbers) and (deleted_numbers.min() < 0 or deleted_numbers.max() >= base.postings.slots)):
        raise IndexFormatError("the delta does not fit its base: the index is damaged")
    deleted = None
    if len(deleted_numbers):
        deleted = np.zeros(base.postings.slots, dtype=bool)
        deleted[deleted_numbers] = True
    added = [delta.vocabulary[i] for i in np.flatnonzero(delta_terms >= len(base.vocabulary))]
    added.sort(key=lambda term: int(delta_terms[delta.vocabulary.id(term)]))
    parts = IndexParts(
        vocabulary=LayeredVocabulary(base.vocabulary, added),
        passages=LayeredPassages(base.passages, delta.passages),
        days=np.concatenate([base.days, delta.days]),
        postings=SegmentedPostings(base.postings, delta.postings, delta_terms, idf, df, float(manifest["avgdl"]), deleted),
        maps=tuple(LayeredTermMap(old, new) for old, new in zip(base.maps, delta.maps)),
        articles=np.concatenate([base.articles, delta.articles]),
        stories=np.concatenate([base.stories, delta.stories]),
    )
    parts.check_stories()
    return parts


def _open_segment(generation: Path, manifest: dict, delta: bool = False) -> IndexParts:
    """One segment; a full generation's replaced passages are marked deleted (a delta's deletions
    are its base's, read by :func:`open_parts`)."""
    n_passages = manifest["n_delta_passages"] if delta else manifest["n_slots"]
    deleted = None
    if not delta and len(numbers := load_array(generation, "deleted_passages")):
        if numbers.min() < 0 or numbers.max() >= n_passages:
            raise IndexFormatError("deleted_passages.npy names passages the index lacks: the index is damaged")
        deleted = np.zeros(n_passages, dtype=bool)
        deleted[numbers] = True
    vocabulary = StringTable.open(generation)
    passages = PassageFile(generation)
    days = load_array(generation, "passage_days")
    articles = load_array(generation, "passage_article")
    postings = Postings(
        offsets=load_array(generation, "post_offsets"),
        docs=load_array(generation, "post_docs"),
        tfs=load_array(generation, "post_tfs"),
        weights=load_array(generation, "post_weights"),
        max_weights=load_array(generation, "term_max_weight"),
        idf=load_array(generation, "idf"),
        doc_len=load_array(generation, "doc_len"),
        avgdl=float(manifest["avgdl"]),
        params=BM25Params(**manifest["bm25"]),
        deleted_mask=deleted,
    )
    n_terms = len(vocabulary) if delta else manifest["n_terms"]
    check_offsets(postings.offsets, n_terms, len(postings.docs), "post_offsets.npy")
    lengths = {
        "terms": (len(vocabulary), n_terms),
        "post_tfs": (len(postings.tfs), len(postings.docs)),
        "post_weights": (len(postings.weights), len(postings.docs)),
        "term_max_weight": (len(postings.max_weights), n_terms),
        "idf": (len(postings.idf), n_terms),
        "doc_len": (len(postings.doc_len), n_passages),
        "passages": (len(passages), n_passages),
        "passage_days": (len(days), n_passages),
        "passage_article": (len(articles), n_passages),
    }
    for name, (found, expected) in lengths.items():
        if found != expected:
            raise IndexFormatError(f"{name} holds {found:,} entries, {expected:,} expected: the index is damaged")
    parts = IndexParts(vocabulary, passages, days, postings, tuple(TermMap.open(generation, name) for name in _MAPS),
                       articles, load_array(generation, "article_stories"))
    if not delta:  # a delta's articles are numbered after its base's: checked when the two are joined
        parts.check_stories()
    return parts
