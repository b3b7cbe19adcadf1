"""Okapi BM25 exactly as ``rank_bm25.BM25Okapi`` defines it, over postings in compressed sparse rows.

A term's postings are ``docs[offsets[t]:offsets[t+1]]`` (ascending passage numbers) with the term
frequency ``tfs`` and the precomputed BM25 weight ``weights`` of the term in each of those passages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from index.kernel import MAIN, MERGED, frozen, merged_group, term_frequencies, top_k
from index.store import plain_ints


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


def okapi_idf(df: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """rank-bm25's idf: log((N - df + .5) / (df + .5)), negatives floored at epsilon * mean idf; the
    mean is over the terms some passage holds (a term only deleted passages held has idf 0)."""
    idf = np.zeros(len(df))
    present = df > 0
    idf[present] = np.log(n_docs - df[present] + 0.5) - np.log(df[present] + 0.5)
    if present.any():
        idf[present & (idf < 0)] = epsilon * idf[present].mean()
    return idf


def term_frequency_part(tf: np.ndarray, doc_len: np.ndarray, avgdl: float, params: BM25Params) -> np.ndarray:
    """The saturating tf factor tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))."""
    norm = params.k1 * (1 - params.b + params.b * doc_len / avgdl)
    return tf * (params.k1 + 1) / (tf + norm)


_NO_DOCS, _NO_WEIGHTS = frozen([], np.int32), frozen([], np.float32)


@dataclass(frozen=True)
class KernelSources:
    """The arrays :func:`index.kernel.top_k` reads postings from. The main segment's weights are
    stored, unless ``norm`` (each passage's BM25 length norm, k1·(1 − b + b·dl/avgdl)) is given:
    then the exact ones are computed from its term frequencies, and the stored ones (made with
    ``stored_idf`` and an average length ``length_ratio`` times smaller than the live one) are
    rescaled to rank first. A delta adds its own docs and weights."""

    docs: np.ndarray  # int32
    tfs: np.ndarray  # uint16
    weights: np.ndarray  # float32
    norm: np.ndarray = field(default_factory=lambda: np.empty(0))
    delta_docs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    delta_weights: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float32))
    delta_tfs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint16))
    stored_idf: np.ndarray = field(default_factory=lambda: np.empty(0))
    length_ratio: float = 1.0

    @property
    def band(self) -> float:
        """How far below (or above) its exact score a passage's score from rescaled stored weights
        may be: a tf part moves by at most the ratio of the average lengths (and float32 rounding)."""
        return min(self.length_ratio, 1 / self.length_ratio) * (1 - 1e-6)

    def __post_init__(self) -> None:
        for name, dtype in (("docs", np.int32), ("tfs", np.uint16), ("weights", np.float32), ("norm", np.float64),
                            ("delta_docs", np.int32), ("delta_weights", np.float32), ("delta_tfs", np.uint16),
                            ("stored_idf", np.float64)):
            object.__setattr__(self, name, frozen(getattr(self, name), dtype))

    def arrays(self, merged_docs: np.ndarray = _NO_DOCS, merged_weights: np.ndarray = _NO_WEIGHTS) -> tuple[np.ndarray, ...]:
        """The arrays as the kernel takes them, with the synonym groups merged for one query."""
        return (self.docs, self.tfs, self.weights, self.norm, self.delta_docs, self.delta_weights,
                merged_docs, merged_weights, self.delta_tfs)


class PostingLists(Protocol):
    """What the scorer reads: per term, its passages (ascending), their term frequencies and BM25
    weights, and the statistics the weights come from. :class:`Postings` is one segment; a
    multi-segment index (``index.segments``) presents its segments as one."""

    idf: np.ndarray  # float64 per term
    doc_len: np.ndarray  # int32 per passage slot
    avgdl: float
    params: BM25Params

    @property
    def n_docs(self) -> int: ...  # passages in the corpus (BM25's N)

    @property
    def slots(self) -> int: ...  # passage numbers run from 0 to slots - 1

    def pieces(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray]: ...  # the terms' pieces: see Postings.pieces

    def kernel_sources(self) -> KernelSources: ...  # the arrays the compiled scorer reads pieces from

    def dfs(self, terms: np.ndarray) -> np.ndarray: ...  # how many passages hold each term

    def list_length(self, term: int) -> int: ...  # how many postings the term's list holds

    def max_weight(self, term: int) -> float: ...  # at least the term's highest weight

    @property
    def deleted(self) -> np.ndarray | None: ...  # bool per slot: passages removed since (None: none)


@dataclass(frozen=True)
class Postings:
    """One segment's inverted index: CSR rows of passages per term, and what BM25 needs besides."""

    offsets: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32
    tfs: np.ndarray  # uint16
    weights: np.ndarray  # float32, idf · tf part
    max_weights: np.ndarray  # float32, n_terms: each term's highest weight, bounds what it can add
    idf: np.ndarray  # float64, n_terms
    doc_len: np.ndarray  # int32, per passage slot
    avgdl: float
    params: BM25Params
    deleted_mask: np.ndarray | None = None  # bool per slot: older versions of replaced documents

    @property
    def n_docs(self) -> int:
        return self._n_docs

    @property
    def slots(self) -> int:
        return len(self.doc_len)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bounds", plain_ints(self.offsets))
        object.__setattr__(self, "_n_docs", self.slots - (0 if self.deleted_mask is None else int(self.deleted_mask.sum())))

    def row(self, term: int) -> slice:
        return slice(self._bounds[term], self._bounds[term + 1])

    def docs_of(self, term: int) -> np.ndarray:
        return self.docs[self.row(term)]

    def pieces(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's pieces of ``terms``: a table of columns (source, start, end, shift), and where
        each term's columns begin (term ``i``'s are ``first[i]:first[i + 1]``)."""
        bounds, n = self._bounds, len(terms)  # a query's few terms: plain ints beat numpy's calls
        table = [[MAIN] * n, [bounds[t] for t in terms], [bounds[t + 1] for t in terms], [0] * n]
        return np.arange(n + 1), np.array(table, dtype=np.int64)

    def kernel_sources(self) -> KernelSources:
        return KernelSources(self.docs, self.tfs, self.weights)

    def dfs(self, terms: np.ndarray) -> np.ndarray:
        return self.offsets[terms + 1] - self.offsets[terms]

    def list_length(self, term: int) -> int:
        return self._bounds[term + 1] - self._bounds[term]

    def max_weight(self, term: int) -> float:
        return float(self.max_weights[term])

    @property
    def deleted(self) -> np.ndarray | None:
        return self.deleted_mask


def group_df(postings: PostingLists, group: tuple[int, ...]) -> int:
    """The most passages a synonym group can be in: its members' list lengths added up (at most
    every passage)."""
    return min(postings.n_docs, sum(map(postings.list_length, group)))


RESCORED = 4  # a query's scores-only groups rescore this many times the passages asked for


@dataclass(frozen=True)
class WeightedTerms:
    """A query: a group of one or more synonymous terms scored as one term, times a query weight.
    A group marked in ``scores_only`` finds no passages: it adds its weight to the best passages the
    other groups find (:data:`RESCORED` times as many as asked for), so the long lists of a common
    word are never read in full (as Lucene's common-terms query and rescorer do)."""

    groups: list[tuple[int, ...]]
    boosts: list[float]
    scores_only: frozenset[int] = frozenset()  # positions in ``groups``


@dataclass(frozen=True)
class DayRange:
    """The passages whose day number in ``days`` (one per passage) lies in [low, high)."""

    days: np.ndarray
    low: int
    high: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozen(self.days, np.int32))

    def __call__(self, docs: np.ndarray) -> np.ndarray:
        days = self.days[docs]
        return (days >= self.low) & (days < self.high)


class Scorer:
    """Sums BM25 over the postings a query touches and ranks only the passages it could rank.

    The compiled loop (:mod:`index.kernel`) reads the query's groups rarest first and stops taking
    in new passages once the groups left could not lift one into the top k (MaxScore, Turtle and
    Flood); the rest only add to the passages still in the running. The result is exactly the top
    k of exhaustive scoring (``prune=False`` scores exhaustively, for the tests).
    """

    def __init__(self, postings: PostingLists, prune: bool = True) -> None:
        self.postings = postings
        self.prune = prune and (not len(postings.idf) or float(postings.idf.min()) >= 0)  # scores only grow
        self.sources = postings.kernel_sources()
        self._doc_len = frozen(postings.doc_len, np.int32)
        deleted = postings.deleted
        self._live = frozen(np.empty(0) if deleted is None else ~deleted, np.bool_)
        self._local = threading.local()

    def _scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """This thread's zeroed scratch, a slot per passage: a float64 sum and a seen flag. Whoever
        writes to them zeroes them again."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            slots = self.postings.slots
            scratch = self._local.scratch = (np.zeros(slots), np.zeros(slots, dtype=np.uint8))
        return scratch

    def group_idf(self, group: tuple[int, ...]) -> float:
        """A synonym group's idf: its most common member's, as Lucene's SynonymQuery counts it. Known
        without merging, so a long group need not be merged to score a few passages."""
        p = self.postings
        terms = np.array(group)
        return float(p.idf[terms[np.argmax(p.dfs(terms))]])

    def group_postings(self, group: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Passages and weights of a group of several synonyms, counted as one term (Pirkola): their
        tfs add up, and the group's idf is :meth:`group_idf`. Merged by the kernel; a group that only
        rescores (``WeightedTerms.scores_only``) is looked up instead."""
        _, pieces = self._pieces([group])
        p = self.postings
        return merged_group(pieces, self.sources.arrays(), self._doc_len, float(p.avgdl), self.group_idf(group),
                            float(p.params.k1), float(p.params.b))

    def term_frequencies(self, terms: Sequence[int], docs: np.ndarray) -> np.ndarray:
        """How often each of ``terms`` occurs in each of ``docs`` (a row per term; 0: absent), found by
        searching the terms' lists: for a few passages, far cheaper than reading them."""
        first, pieces = self._pieces([(t,) for t in terms])
        return term_frequencies(first, pieces, self.sources.arrays(), frozen(docs, np.int64))

    def group_weights_at(self, group: tuple[int, ...], docs: np.ndarray) -> np.ndarray:
        """The group's weight in each of ``docs`` (0 where none of its terms occurs)."""
        tf = self.term_frequencies(group, docs).sum(axis=0, dtype=np.float64)
        return self._group_weights(group, docs, tf)  # the tf part of 0 is 0

    def _pieces(self, groups: Sequence[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
        """The kernel's pieces table for ``groups`` (a group's pieces are the columns
        ``first[i]:first[i + 1]``)."""
        by_term, table = self.postings.pieces(np.array([t for group in groups for t in group], dtype=np.int64))
        first = by_term[np.cumsum([0] + [len(group) for group in groups])]
        return frozen(first, np.int64), frozen(table, np.int64)

    def _group_weights(self, group: tuple[int, ...], docs: np.ndarray, tf: np.ndarray) -> np.ndarray:
        p = self.postings
        return (self.group_idf(group) * term_frequency_part(tf, p.doc_len[docs], p.avgdl, p.params)).astype(np.float32)

    def unseen_bound(self) -> float:
        """The most a word in a single passage could add: what a question word the news lacks might have scored."""
        n = self.postings.n_docs
        return max(0.0, float(np.log(n - 0.5) - np.log(1.5))) * (self.postings.params.k1 + 1)

    def group_bound(self, group: tuple[int, ...]) -> float:
        """The most a group can add to a passage's score (before its query weight)."""
        if len(group) == 1:
            return self.postings.max_weight(group[0])
        return max(self.group_idf(group), 0.0) * (self.postings.params.k1 + 1)  # the tf part stays under k1 + 1

    def top(self, query: WeightedTerms, k: int, allowed: DayRange | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Passage numbers and scores of the ``k`` best passages, best first (ties: lower number first);
        with ``allowed``, only among the passages it holds. Deleted passages are never ranked."""
        ranked: list[tuple[tuple[int, ...], float, int]] = []  # (group, boost, how many passages it can be in)
        rescoring: list[tuple[tuple[int, ...], float, int]] = []
        for i, (group, boost) in enumerate(zip(query.groups, query.boosts)):
            if boost and (df := group_df(self.postings, group)):
                (rescoring if i in query.scores_only else ranked).append((group, float(boost), df))
        if not ranked:
            ranked, rescoring = rescoring, []
        if not ranked or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if not rescoring:
            docs, scores = self._rank(ranked, k, allowed)
            return docs, scores.astype(np.float32)
        docs, scores = self._rank(ranked, RESCORED * k, allowed)
        for group, boost, _ in rescoring:
            scores = scores + self.group_weights_at(group, docs) * boost
        order = np.lexsort((docs, -scores))[:k]
        return docs[order], scores[order].astype(np.float32)

    def _rank(self, groups: list[tuple[tuple[int, ...], float, int]], k: int, allowed: DayRange | None) -> tuple[np.ndarray, np.ndarray]:
        """The compiled top k over ``groups`` (each with its query weight and :func:`group_df`), rarest
        first: short lists find the threshold cheaply."""
        p = self.postings
        rows = [(self.group_bound(group) * boost, group, boost) for group, boost, _ in sorted(groups, key=lambda row: row[2])]
        single = [group[0] for _, group, _ in rows if len(group) == 1]
        first, pieces = p.pieces(single)
        stats, band = self._piece_stats(single, first, pieces)
        if len(single) < len(rows):
            first, pieces, stats, sources = self._with_merged_groups([group for _, group, _ in rows], first, pieces, stats)
        else:
            sources = self.sources.arrays()
        acc, seen = self._scratch()
        return top_k(
            k, frozen(first, np.int64), frozen([row[2] for row in rows], np.float64),
            frozen([row[0] for row in rows], np.float64), frozen(pieces, np.int64), frozen(stats[0], np.float64),
            frozen(stats[1], np.float64), sources, len(self.sources.norm) > 0 and band == 1, band, p.params.k1, self._live,
            _NO_DAYS if allowed is None else allowed.days, 0 if allowed is None else allowed.low,
            0 if allowed is None else allowed.high, self.prune, acc, seen,
        )

    def _piece_stats(self, terms: list[int], first: np.ndarray, pieces: np.ndarray) -> tuple[np.ndarray, float]:
        """Each piece's idf and the scale of its stored weights (a row each), and the kernel's band
        (1: exact weights). Where the main segment's stored weights were made with other statistics
        (a delta is open), they are rescaled to the live idf and rank within the band, unless
        pruning is off; then they are computed exactly from its tfs, and scale 1."""
        idf, stored = self.postings.idf, self.sources.stored_idf
        rescaling = self.prune and len(stored) > 0
        if not rescaling and pieces.shape[1] == len(terms):  # a piece per term
            return np.array([idf[terms], np.ones(len(terms))]), 1.0
        main = (pieces[0] == MAIN).tolist()
        idfs, scales = [], []  # a query's few pieces: plain floats beat numpy's calls
        for i, term in enumerate(terms):
            new = float(idf[term])
            for p in range(first[i], first[i + 1]):
                idfs.append(new)
                scales.append(new / float(stored[term]) if rescaling and main[p] else 1.0)
        return np.array([idfs, scales]), self.sources.band if rescaling else 1.0

    def _with_merged_groups(self, groups: list[tuple[int, ...]], first: np.ndarray, pieces: np.ndarray,
                            stats: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """The rows' pieces with each synonym group of ``groups`` merged into one list of its own;
        ``first``, ``pieces`` and ``stats`` (idf and scale) are the single-term groups', in order."""
        row_first, columns, piece_stats = [0], [], []
        merged_docs, merged_weights, merged_at = [], [], 0
        for group in groups:
            if len(group) == 1:
                at = len(columns) - len(merged_docs)  # this row's place among the single-term rows
                columns.append(pieces[:, first[at] : first[at + 1]])
                piece_stats.append(stats[:, first[at] : first[at + 1]])
            else:
                docs, weights = self.group_postings(group)
                columns.append(np.array([[MERGED], [merged_at], [merged_at + len(docs)], [0]], dtype=np.int64))
                piece_stats.append(np.array([[0.0], [1.0]]))
                merged_docs.append(docs)
                merged_weights.append(weights)
                merged_at += len(docs)
            row_first.append(row_first[-1] + columns[-1].shape[1])
        sources = self.sources.arrays(frozen(np.concatenate(merged_docs), np.int32), frozen(np.concatenate(merged_weights), np.float32))
        return np.array(row_first), np.concatenate(columns, axis=1), np.concatenate(piece_stats, axis=1), sources


_NO_DAYS = frozen([], np.int32)
