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
    max_weights: np.ndarray  # float32, n_terms: each term's highest weight, bounds what it can add
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

    A query whose postings are few is scored exhaustively. Otherwise passages enter from the rarest
    terms on and the lists of common terms are only looked up, or skipped when even their best
    weights together could not lift another passage above the k-th score found (MaxScore). Either
    way the result is exactly the top k of exhaustive scoring.
    """

    def __init__(self, postings: Postings, exhaustive_below: int | None = None) -> None:
        self.postings = postings
        self.exhaustive_below = exhaustive_below or max(4096, postings.n_docs // 64)
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
                bound = float(self.postings.max_weights[group[0]]) if len(group) == 1 else float(weights.max())
                rows.append(_Row(docs, weights, float(boost), bound * boost))
        if not rows or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        rows.sort(key=lambda row: len(row.docs))
        if sum(len(row.docs) for row in rows) <= self.exhaustive_below or len(rows[-1].docs) <= self.exhaustive_below:
            return self._rank_all(rows, k)
        return self._rank_rare_first(rows, k)

    def _rank_all(self, rows: list[_Row], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Score every passage the query touches."""
        acc, _ = self._scratch()
        every = np.concatenate([row.docs for row in rows])
        try:
            for row in rows:
                acc[row.docs] += row.weighted()
            scores = acc[every]
        finally:
            acc[every] = 0
        return _best(every, scores, k, duplicates=len(rows))

    def _rank_rare_first(self, rows: list[_Row], k: int) -> tuple[np.ndarray, np.ndarray]:
        """MaxScore: the passages of the rare terms are candidates, scored in full by looking them up
        in the lists of the common terms; a common term's list is promoted to bring its own passages
        in only while the best those lists could add together reaches the k-th score found. That keeps
        the top k exact while most of the long lists are never read."""
        acc, seen = self._scratch()
        short = [row for row in rows if len(row.docs) <= self.exhaustive_below]
        long = rows[len(short):]
        found_docs: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        cap = max(self.exhaustive_below * 4, self.postings.n_docs // 16)
        try:
            if short:
                every = np.concatenate([row.docs for row in short])
                for row in short:
                    acc[row.docs] += row.weighted()
                first = np.unique(every)
                scores = acc[first].astype(np.float64)
                acc[every] = 0
                seen[first] = True
                found_docs.append(first)
                found_scores.append(scores + _lookup(long, first))
            count = sum(len(d) for d in found_docs)
            for i in range(len(long) + 1):
                if count >= k:
                    all_scores = np.concatenate(found_scores)
                    kth = np.partition(all_scores, count - k)[count - k]
                    if sum(row.bound for row in long[i:]) < kth:
                        return _best(np.concatenate(found_docs), all_scores.astype(np.float32), k, duplicates=1)
                if i == len(long) or count + len(long[i].docs) > cap:
                    break
                new = long[i].docs[~seen[long[i].docs]]
                seen[new] = True
                found_docs.append(new)
                found_scores.append(_lookup(long[i:], new))
                count += len(new)
        finally:
            for docs in found_docs:
                seen[docs] = False
        return self._rank_all(rows, k)


def _lookup(rows: list[_Row], docs: np.ndarray) -> np.ndarray:
    """What ``rows`` add to each of ``docs`` (found by binary search in their sorted lists)."""
    scores = np.zeros(len(docs))
    for row in rows:
        at = np.minimum(np.searchsorted(row.docs, docs), len(row.docs) - 1)
        scores += np.where(row.docs[at] == docs, row.weights[at], 0.0) * row.boost
    return scores


@dataclass(frozen=True)
class _Row:
    """One query term's postings, its query weight, and the most it can add to a passage's score."""

    docs: np.ndarray
    weights: np.ndarray
    boost: float
    bound: float

    def weighted(self) -> np.ndarray:
        return self.weights if self.boost == 1.0 else self.weights * np.float32(self.boost)


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
