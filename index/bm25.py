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


def synonym_postings(postings: Postings, group: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pirkola's structured query: the group is one term whose tf is the members' summed tf."""
    if len(group) == 1:
        row = postings.row(group[0])
        return postings.docs[row], postings.weights[row]
    docs = np.concatenate([postings.docs[postings.row(t)] for t in group])
    tfs = np.concatenate([postings.tfs[postings.row(t)] for t in group]).astype(np.float64)
    unique_docs, inverse = np.unique(docs, return_inverse=True)
    tf = np.bincount(inverse, weights=tfs)
    df = np.array([len(unique_docs)], dtype=np.float64)
    idf = _group_idf(postings, df)
    weights = idf * term_frequency_part(tf, postings.doc_len[unique_docs], postings.avgdl, postings.params)
    return unique_docs.astype(np.int32), weights.astype(np.float32)


def _group_idf(postings: Postings, df: np.ndarray) -> float:
    idf = float(np.log(postings.n_docs - df[0] + 0.5) - np.log(df[0] + 0.5))
    if idf < 0:
        idf = postings.params.epsilon * float(postings.idf.mean()) if len(postings.idf) else 0.0
    return idf


class Scorer:
    """Sums BM25 over the postings a query touches and ranks only the passages it touched."""

    def __init__(self, postings: Postings) -> None:
        self.postings = postings
        self._local = threading.local()

    def _accumulator(self) -> np.ndarray:
        acc = getattr(self._local, "acc", None)
        if acc is None:
            acc = self._local.acc = np.zeros(self.postings.n_docs, dtype=np.float32)
        return acc

    def top(self, query: WeightedTerms, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Passage numbers and scores of the ``k`` best passages, best first (ties: lower number first)."""
        rows = [synonym_postings(self.postings, group) for group in query.groups]
        rows = [(docs, weights, boost) for (docs, weights), boost in zip(rows, query.boosts) if len(docs)]
        if not rows or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        acc = self._accumulator()
        touched = np.unique(np.concatenate([docs for docs, _, _ in rows]))
        try:
            for docs, weights, boost in rows:
                acc[docs] += weights * np.float32(boost)
            scores = acc[touched]
        finally:
            acc[touched] = 0
        if len(touched) > k:
            keep = np.argpartition(-scores, k - 1)[:k]
            touched, scores = touched[keep], scores[keep]
        order = np.lexsort((touched, -scores))
        return touched[order].astype(np.int64), scores[order]
