"""Okapi BM25 exactly as ``rank_bm25.BM25Okapi`` defines it, over postings in compressed sparse rows.

A term's postings are ``docs[offsets[t]:offsets[t+1]]`` (ascending passage numbers) with the term
frequency ``tfs`` and the precomputed BM25 weight ``weights`` of the term in each of those passages.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


def okapi_idf(df: np.ndarray, n_docs: int, epsilon: float) -> np.ndarray:
    """rank-bm25's idf: log((N - df + .5) / (df + .5)), negatives floored at epsilon * mean idf."""
    idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if len(idf):
        idf[idf < 0] = epsilon * idf.mean()
    return idf


def term_frequency_part(tf: np.ndarray, doc_len: np.ndarray, avgdl: float, params: BM25Params) -> np.ndarray:
    """The saturating tf factor tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))."""
    norm = params.k1 * (1 - params.b + params.b * doc_len / avgdl)
    return tf * (params.k1 + 1) / (tf + norm)


@dataclass(frozen=True)
class Postings:
    """The inverted index: CSR rows of passages per term, and what BM25 needs besides."""

    offsets: np.ndarray  # int64, n_terms + 1
    docs: np.ndarray  # int32
    tfs: np.ndarray  # uint16
    weights: np.ndarray  # float32, idf · tf part
    idf: np.ndarray  # float64, n_terms
    doc_len: np.ndarray  # int32, n_docs
    avgdl: float
    params: BM25Params

    @property
    def n_docs(self) -> int:
        return len(self.doc_len)

    def row(self, term: int) -> slice:
        return slice(int(self.offsets[term]), int(self.offsets[term + 1]))

    def contains(self, term: int, docs: np.ndarray) -> np.ndarray:
        """For each passage number in ``docs``, whether ``term`` occurs in it."""
        row = self.docs[self.row(term)]
        if not len(row):
            return np.zeros(len(docs), dtype=bool)
        at = np.minimum(np.searchsorted(row, docs), len(row) - 1)
        return row[at] == docs


@dataclass(frozen=True)
class WeightedTerms:
    """A query: a group of one or more synonymous terms scored as one term, times a query weight."""

    groups: list[tuple[int, ...]]
    boosts: list[float]


class Scorer:
    """Sums BM25 over the postings a query touches and ranks only the passages it could rank.

    Short postings (rare terms) are scored in full; long ones (common terms) are only looked up for
    the passages the short ones found, and skipped altogether when even their best weights together
    could not lift another passage above the k-th score found (MaxScore). The result is exactly the
    top k of exhaustive scoring.
    """

    def __init__(self, postings: Postings, long_postings: int | None = None) -> None:
        self.postings = postings
        self.long_postings = long_postings or max(4096, postings.n_docs // 64)
        self._local = threading.local()

    def _scratch(self) -> tuple[np.ndarray, np.ndarray]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            n = self.postings.n_docs
            scratch = self._local.scratch = (np.zeros(n, dtype=np.float32), np.zeros(n, dtype=bool))
        return scratch

    def group_postings(self, group: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Passages and weights of a group; several synonyms count as one term (Pirkola): their tfs
        add up and the group's idf comes from the passages that have any of them."""
        p = self.postings
        if len(group) == 1:
            row = p.row(group[0])
            return p.docs[row], p.weights[row]
        tf_sum, seen = self._scratch()
        parts = []
        for term in group:
            row = p.row(term)
            docs = p.docs[row]
            parts.append(docs[~seen[docs]])
            seen[docs] = True
            tf_sum[docs] += p.tfs[row]
        docs = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int32)
        tf = tf_sum[docs].astype(np.float64)
        seen[docs] = False
        tf_sum[docs] = 0
        idf = float(np.log(p.n_docs - len(docs) + 0.5) - np.log(len(docs) + 0.5))
        if idf < 0:
            idf = p.params.epsilon * float(np.mean(p.idf)) if len(p.idf) else 0.0
        weights = idf * term_frequency_part(tf, p.doc_len[docs], p.avgdl, p.params)
        return docs, weights.astype(np.float32)

    def top(self, query: WeightedTerms, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage numbers and scores of the ``k`` best passages, best first (ties: lower number first)."""
        rows = []
        for group, boost in zip(query.groups, query.boosts):
            docs, weights = self.group_postings(group)
            if len(docs) and boost:
                rows.append((docs, weights * np.float32(boost)))
        if not rows or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        short = [r for r in rows if len(r[0]) <= self.long_postings]
        long = [r for r in rows if len(r[0]) > self.long_postings]
        if short and long:
            found = self._rank_short_first(short, long, k)
            if found is not None:
                return found
        return self._rank_all(rows, k)

    def _rank_all(self, rows: list[tuple[np.ndarray, np.ndarray]], k: int) -> tuple[np.ndarray, np.ndarray]:
        acc, _ = self._scratch()
        every = np.concatenate([docs for docs, _ in rows])
        try:
            for docs, weights in rows:
                acc[docs] += weights
            scores = acc[every]
        finally:
            acc[every] = 0
        return _best(every, scores, k, duplicates=len(rows))

    def _rank_short_first(self, short, long, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        acc, _ = self._scratch()
        every = np.concatenate([docs for docs, _ in short])
        try:
            for docs, weights in short:
                acc[docs] += weights
            candidates = np.unique(every)
            scores = acc[candidates].astype(np.float64)
        finally:
            acc[every] = 0
        for docs, weights in long:
            at = np.minimum(np.searchsorted(docs, candidates), len(docs) - 1)
            scores += np.where(docs[at] == candidates, weights[at], 0.0)
        if len(candidates) >= k:
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            if sum(float(weights.max()) for _, weights in long) < kth:
                return _best(candidates, scores.astype(np.float32), k, duplicates=1)
        return None


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
