"""Okapi BM25 exactly as ``rank_bm25.BM25Okapi`` defines it, over postings in compressed sparse rows.

A term's postings are ``docs[offsets[t]:offsets[t+1]]`` (ascending passage numbers) with the term
frequency ``tfs`` and the precomputed BM25 weight ``weights`` of the term in each of those passages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

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


class PostingLists(Protocol):
    """What the scorer reads: per term, its passages (ascending), their term frequencies and BM25
    weights, and the statistics the weights come from. :class:`Postings` is one segment; a
    multi-segment index (``index.segments``) presents its segments as one."""

    idf: np.ndarray  # float64 per term
    doc_len: np.ndarray  # int32 per passage slot
    avgdl: float
    params: BM25Params
    weights_stored: bool  # postings_of reads stored weights (else it computes them: look a few up instead)

    @property
    def n_docs(self) -> int: ...  # passages in the corpus (BM25's N)

    @property
    def slots(self) -> int: ...  # passage numbers run from 0 to slots - 1

    def docs_of(self, term: int) -> np.ndarray: ...

    def tfs_of(self, term: int) -> np.ndarray: ...

    def postings_of(self, term: int) -> tuple[np.ndarray, np.ndarray]: ...  # its passages and weights together

    def tfs_at(self, term: int, docs: np.ndarray) -> np.ndarray: ...  # its frequency in each of docs (0: absent)

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
    weights_stored: bool = True

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

    def tfs_of(self, term: int) -> np.ndarray:
        return self.tfs[self.row(term)]

    def postings_of(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        row = self.row(term)
        return self.docs[row], self.weights[row]

    def tfs_at(self, term: int, docs: np.ndarray) -> np.ndarray:
        row = self.row(term)
        mine = self.docs[row]
        if not len(mine):
            return np.zeros(len(docs), dtype=np.uint16)
        at, found = _find(mine, docs)
        return np.where(found, self.tfs[row][at], 0).astype(np.uint16)

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
    return min(postings.n_docs, sum(postings.list_length(t) for t in group))


def contains(postings: PostingLists, term: int, docs: np.ndarray) -> np.ndarray:
    """For each passage number in ``docs``, whether ``term`` occurs in it."""
    return postings.tfs_at(term, docs) > 0


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


class Scorer:
    """Sums BM25 over the postings a query touches and ranks only the passages it could rank.

    A query whose postings are few is scored exhaustively. Otherwise MaxScore (Turtle and Flood)
    skips most of the long lists of common terms: a first threshold comes from the passages that
    score best on the short lists, scored in full; the lists whose best weights together stay under
    that threshold cannot bring a passage into the top k on their own, so passages only enter from
    the other lists and are looked up in those. Either way the result is exactly the top k of
    exhaustive scoring.
    """

    def __init__(self, postings: PostingLists, exhaustive_below: int | None = None) -> None:
        self.postings = postings
        self.exhaustive_below = exhaustive_below or max(4096, postings.slots // 64)
        self._weights_nonnegative = not len(postings.idf) or float(postings.idf.min()) >= 0
        self._local = threading.local()

    def _scratch(self) -> np.ndarray:
        """This thread's zeroed array with a slot per passage; whoever writes to it zeroes it again."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = np.zeros(self.postings.slots, dtype=np.float32)
        return scratch

    def group_idf(self, group: tuple[int, ...]) -> float:
        """A synonym group's idf: its most common member's, as Lucene's SynonymQuery counts it. Known
        without merging, so a long group need not be merged to score a few passages."""
        p = self.postings
        terms = np.array(group)
        return float(p.idf[terms[np.argmax(p.dfs(terms))]])

    def group_postings(self, group: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Passages and weights of a group; several synonyms count as one term (Pirkola): their tfs
        add up, and the group's idf is :meth:`group_idf`. Long lists are merged in full here: a group
        that only rescores (``WeightedTerms.scores_only``) is looked up instead."""
        p = self.postings
        if len(group) == 1:
            return p.postings_of(group[0])
        tf_sum = self._scratch()
        every = np.concatenate([p.docs_of(term) for term in group])
        np.add.at(tf_sum, every, np.concatenate([p.tfs_of(term) for term in group]).astype(np.float32))
        docs = np.flatnonzero(tf_sum != 0) if len(every) > len(tf_sum) // 16 else _distinct(every)  # tfs are ≥ 1
        tf = tf_sum[docs].astype(np.float64)
        tf_sum[docs] = 0
        return docs, self._group_weights(group, docs, tf)

    def group_weights_at(self, group: tuple[int, ...], docs: np.ndarray) -> np.ndarray:
        """The group's weight in each of ``docs`` (0 where none of its terms occurs), found by binary
        search in its members' lists: for a few passages, far cheaper than merging long lists."""
        p = self.postings
        tf = np.zeros(len(docs))
        for term in group:
            tf += p.tfs_at(term, docs)
        return self._group_weights(group, docs, tf)  # the tf part of 0 is 0

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

    def top(self, query: WeightedTerms, k: int, allowed: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Passage numbers and scores of the ``k`` best passages, best first (ties: lower number first);
        with ``allowed`` (passage numbers → whether each may be ranked), only among those it allows.
        Deleted passages are never ranked."""
        deleted = self.postings.deleted
        if deleted is not None:
            allowed = _also_live(deleted, allowed)
        rows: list[_Row] = []
        rescoring: list[_Row] = []
        for i, (group, boost) in enumerate(zip(query.groups, query.boosts)):
            row = _Row(self, group, float(boost), allowed)
            if boost and row.size:
                (rescoring if i in query.scores_only else rows).append(row)
        if not rows:
            rows, rescoring = rescoring, []
        if not rows or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if not rescoring:
            return self._rank(rows, k)
        docs, scores = self._rank(rows, RESCORED * k)
        scores = scores + _lookup(rescoring, docs)
        order = np.lexsort((docs, -scores))[:k]
        return docs[order], scores[order].astype(np.float32)

    def _rank(self, rows: list[_Row], k: int) -> tuple[np.ndarray, np.ndarray]:
        rows.sort(key=lambda row: row.size)
        if sum(row.size for row in rows) <= self.exhaustive_below or rows[-1].size <= self.exhaustive_below:
            return self._rank_all(rows, k)
        return self._rank_maxscore(rows, k)

    def _accumulate(self, rows: list[_Row], entering: list[_Row] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The postings of ``entering`` (by default all of ``rows``) as passage numbers, each with
        what all of ``rows`` add up to for it; a passage repeats once per entering row it is in."""
        acc = self._scratch()
        np.add.at(acc, np.concatenate([row.docs for row in rows]), np.concatenate([row.weighted() for row in rows]))
        docs = np.concatenate([row.docs for row in (rows if entering is None else entering)])
        try:
            return docs, acc[docs]
        finally:
            if sum(len(row.docs) for row in rows) > len(acc) // 16:
                acc.fill(0)
            else:
                for row in rows:
                    acc[row.docs] = 0

    def _rank_all(self, rows: list[_Row], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Score every passage the query touches."""
        docs, scores = self._accumulate(rows)
        return _best(docs, scores, k, duplicates=len(rows))

    def _rank_maxscore(self, rows: list[_Row], k: int) -> tuple[np.ndarray, np.ndarray]:
        """MaxScore over ``rows`` (shortest first); see the class docstring."""
        threshold, seed_docs, seed_scores = self._first_threshold(rows, k)
        by_bound = sorted(rows, key=lambda row: row.bound)
        bounds = np.cumsum([row.bound for row in by_bound])
        optional = int(np.searchsorted(bounds, threshold, side="left"))  # lists that cannot decide alone
        if optional == 0:
            return self._rank_all(rows, k)
        entering = by_bound[optional:]
        later = by_bound[optional - 1 :: -1]  # highest bound first
        added = list(entering)
        candidates = sum(len(row.docs) for row in entering)
        while later and later[0].size <= candidates:  # cheaper added in full than looked up
            added.append(later.pop(0))
        docs, partial = self._accumulate(added, entering)
        remaining = sum(row.bound for row in later)
        if not later:
            docs, partial = np.concatenate([docs, seed_docs]), np.concatenate([partial, seed_scores.astype(np.float32)])
            return _best(docs, partial, k, duplicates=len(entering) + 1)
        keep = partial + remaining >= threshold
        docs, first = np.unique(docs[keep], return_index=True)
        scores = partial[keep][first].astype(np.float64)
        for row in later:  # the most a passage could still gain shrinks
            if self._weights_nonnegative and len(scores) >= k:  # scores so far only grow: a surer threshold
                threshold = max(threshold, _lowered(_kth(scores, k)))
            keep = scores + remaining >= threshold
            docs, scores = docs[keep], scores[keep]
            remaining -= row.bound
            scores += self._contribution(row, docs)
        docs = np.concatenate([docs, seed_docs])
        scores = np.concatenate([scores, seed_scores]).astype(np.float32)
        return _best(docs, scores, k, duplicates=2)

    def _contribution(self, row: _Row, docs: np.ndarray) -> np.ndarray:
        """What ``row`` adds to each of ``docs``: looked up when they are few, else scattered."""
        if len(docs) * 8 < row.size:
            return _lookup([row], docs)
        acc = self._scratch()
        acc[row.docs] = row.weighted()
        try:
            return acc[docs].astype(np.float64)
        finally:
            acc[row.docs] = 0

    def _first_threshold(self, rows: list[_Row], k: int) -> tuple[float, np.ndarray, np.ndarray]:
        """A score the k-th passage is sure to reach: the passages that score best on the shortest
        lists are scored in full, and the k-th of them is a lower bound. Returns it (lowered a hair
        against rounding, or 0.0 when there is none) with those passages and their scores."""
        budget = 0
        short = 0
        while short < len(rows) and (not short or budget + rows[short].size <= self.exhaustive_below):
            budget += rows[short].size
            short += 1
        docs, partial = _best(*self._accumulate(rows[:short]), 2 * k, duplicates=short)
        scores = partial + _lookup(rows[short:], docs)
        if len(scores) < k:
            return 0.0, docs, scores
        return _lowered(_kth(scores, k)), docs, scores


def _also_live(deleted: np.ndarray, allowed: Callable[[np.ndarray], np.ndarray] | None) -> Callable[[np.ndarray], np.ndarray]:
    if allowed is None:
        return lambda docs: ~deleted[docs]
    return lambda docs: ~deleted[docs] & allowed(docs)


def _find(row: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``docs`` stands in the sorted ``row`` (a valid index even where it is absent, for
    a non-empty row) and whether it is there."""
    if not len(row):
        return np.zeros(len(docs), dtype=np.int64), np.zeros(len(docs), dtype=bool)
    at = row.searchsorted(docs)
    np.minimum(at, len(row) - 1, out=at)
    return at, row[at] == docs


def _distinct(docs: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``docs`` (by sorting: np.unique's hashing is far slower here)."""
    docs = np.sort(docs)
    return docs[np.concatenate(([True], docs[1:] != docs[:-1]))]


def _kth(scores: np.ndarray, k: int) -> float:
    return float(np.partition(scores, len(scores) - k)[len(scores) - k])


def _lowered(score: float) -> float:
    """A threshold a hair under ``score``, so float rounding never prunes a passage that ties it."""
    return score * (1 - 1e-6) - 1e-9


def _lookup(rows: list[_Row], docs: np.ndarray) -> np.ndarray:
    """What ``rows`` add to each of ``docs`` (found by binary search in their sorted lists)."""
    scores = np.zeros(len(docs))
    for row in rows:
        scores += row.lookup(docs)
    return scores


class _Row:
    """One query group: its postings (a synonym group's merged only when they are read in full), its
    query weight, and the most it can add to a passage's score. Passages ``allowed`` rejects are left out."""

    def __init__(self, scorer: Scorer, group: tuple[int, ...], boost: float,
                 allowed: Callable[[np.ndarray], np.ndarray] | None) -> None:
        self.scorer, self.group, self.boost, self.allowed = scorer, group, boost, allowed
        self.size = group_df(scorer.postings, group)  # postings to read: for a group, at most this many passages
        self.bound = scorer.group_bound(group) * boost
        self._postings: tuple[np.ndarray, np.ndarray] | None = None

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        if self._postings is None:
            docs, weights = self.scorer.group_postings(self.group)
            if self.allowed is not None:
                keep = self.allowed(docs)
                docs, weights = docs[keep], weights[keep]
            self._postings = docs, weights
        return self._postings

    @property
    def docs(self) -> np.ndarray:
        return self._merged()[0]

    @property
    def weights(self) -> np.ndarray:
        return self._merged()[1]

    def weighted(self) -> np.ndarray:
        return self.weights if self.boost == 1.0 else self.weights * np.float32(self.boost)

    def lookup(self, docs: np.ndarray) -> np.ndarray:
        """What the row adds to each of ``docs``, which ``allowed`` accepts."""
        if self._postings is None and (len(self.group) > 1 or not self.scorer.postings.weights_stored):
            return self.scorer.group_weights_at(self.group, docs) * self.boost
        mine, weights = self._merged()
        at, found = _find(mine, docs)
        return np.where(found, weights[at] if len(mine) else 0.0, 0.0) * self.boost


def _best(docs: np.ndarray, scores: np.ndarray, k: int, duplicates: int) -> tuple[np.ndarray, np.ndarray]:
    """The k highest scores among ``docs`` (which may repeat up to ``duplicates`` times each)."""
    take = min(len(docs), k * duplicates)
    if len(docs) > take:
        keep = np.argpartition(-scores, take - 1)[:take]
        docs, scores = docs[keep], scores[keep]
    docs, first = np.unique(docs, return_index=True)
    scores = scores[first]
    order = np.lexsort((docs, -scores))[:k]
    return docs[order].astype(np.int64), scores[order]
