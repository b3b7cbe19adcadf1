"""The compiled ranking loop against scoring every passage in numpy: same top k, same scores, same
tie order, with pruning on or off, filters, a delta's pieces and weights computed from tfs. The
kernel's merging of synonym groups and its look-ups against plain Python too."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.bm25 import BM25Params, term_frequency_part
from index.kernel import DELTA, MAIN, MERGED, frozen, merged_group, term_frequencies, top_k

K1 = 1.5


def random_case(seed: int):
    """A main segment, a delta after it and merged lists, with rows cut into pieces of them."""
    rng = np.random.default_rng(seed)
    n_main, n_delta = int(rng.integers(5, 300)), int(rng.integers(0, 40))
    slots = n_main + n_delta
    norm = rng.uniform(0.4, 3.0, slots)
    sources = {}
    for source, (lo, hi) in ((MAIN, (0, n_main)), (DELTA, (0, n_delta)), (MERGED, (0, slots))):
        lists = []
        for _ in range(int(rng.integers(1, 8))):
            size = int(rng.integers(0, max(1, hi - lo) + 1))
            docs = np.sort(rng.choice(np.arange(lo, hi), size=min(size, hi - lo), replace=False)).astype(np.int32)
            lists.append(docs)
        sources[source] = lists
    # few distinct weights, so ties are common
    levels = np.array([0.25, 0.5, 1.0, 2.0], dtype=np.float32)
    rows, idfs = [], []
    arrays = {}
    for source, lists in sources.items():
        offsets = np.cumsum([0] + [len(docs) for docs in lists])
        docs = np.concatenate(lists).astype(np.int32)
        arrays[source] = (offsets, docs, rng.choice(levels, len(docs)), rng.integers(1, 4, len(docs)).astype(np.uint16))
    for _ in range(int(rng.integers(1, 7))):
        row = []
        choice = int(rng.integers(0, 3))
        if choice == 0:  # a term of the main segment, and maybe of the delta
            t = int(rng.integers(0, len(sources[MAIN])))
            row.append((MAIN, arrays[MAIN][0][t], arrays[MAIN][0][t + 1], 0))
            if n_delta and rng.random() < 0.5:
                u = int(rng.integers(0, len(sources[DELTA])))
                row.append((DELTA, arrays[DELTA][0][u], arrays[DELTA][0][u + 1], n_main))
        else:
            t = int(rng.integers(0, len(sources[MERGED])))
            row.append((MERGED, arrays[MERGED][0][t], arrays[MERGED][0][t + 1], 0))
        rows.append(row)
        idfs.append(float(rng.uniform(0.1, 4.0)))
    boosts = rng.choice([0.5, 1.0, 1.0, 2.0], len(rows))
    return rng, slots, norm, arrays, rows, idfs, boosts, n_main


def kernel_arrays(arrays, norm) -> tuple[np.ndarray, ...]:
    """The case's lists as the kernel takes them."""
    (_, m_docs, m_weights, m_tfs), (_, d_docs, d_weights, d_tfs), (_, x_docs, x_weights, _) = (
        arrays[MAIN], arrays[DELTA], arrays[MERGED])
    return (frozen(m_docs, np.int32), frozen(m_tfs, np.uint16), frozen(m_weights, np.float32), frozen(norm, np.float64),
            frozen(d_docs, np.int32), frozen(d_weights, np.float32), frozen(x_docs, np.int32),
            frozen(x_weights, np.float32), frozen(d_tfs, np.uint16))


def term_pieces(rng, arrays, n_main: int) -> list[tuple[int, int, int, int]]:
    """A term's pieces: a random list of the main segment, and maybe one of the delta."""
    offsets = arrays[MAIN][0]
    t = int(rng.integers(0, len(offsets) - 1))
    pieces = [(MAIN, int(offsets[t]), int(offsets[t + 1]), 0)]
    offsets = arrays[DELTA][0]
    if offsets[-1] and rng.random() < 0.5:
        u = int(rng.integers(0, len(offsets) - 1))
        pieces.append((DELTA, int(offsets[u]), int(offsets[u + 1]), n_main))
    return pieces


def plain_tfs(arrays, piece) -> dict[int, int]:
    """A piece's passages (shifted) and term frequencies, read in Python."""
    source, start, end, shift = piece
    _, docs, _, tfs = arrays[source]
    return {int(docs[i]) + shift: int(tfs[i]) for i in range(start, end)}


def weights_of(source, arrays, norm, idf, computed, at, doc):
    offsets, docs, weights, tfs = arrays[source]
    if source == MAIN and computed:
        tf = float(tfs[at])
        return float(np.float32(idf * (tf * (K1 + 1) / (tf + norm[doc]))))
    return float(weights[at])


def expected_top(k, slots, norm, arrays, rows, idfs, boosts, computed, allowed):
    """Every passage scored, row after row as the kernel adds them; best first, ties by number."""
    scores = np.zeros(slots)
    seen = np.zeros(slots, dtype=bool)
    for row, idf, boost in zip(rows, idfs, boosts):
        for source, start, end, shift in row:
            docs = arrays[source][1]
            for at in range(start, end):
                doc = int(docs[at]) + shift
                if allowed[doc]:
                    scores[doc] += weights_of(source, arrays, norm, idf, computed, at, doc) * boost
                    seen[doc] = True
    found = np.flatnonzero(seen)
    order = np.lexsort((found, -scores[found]))[:k]
    return found[order], scores[found][order]


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 12), prune=st.booleans(), computed=st.booleans(),
       filtered=st.booleans())
def test_the_kernel_ranks_as_scoring_every_passage(seed, k, prune, computed, filtered):
    rng, slots, norm, arrays, rows, idfs, boosts, _ = random_case(seed)
    live = rng.random(slots) < 0.9 if filtered else np.empty(0, dtype=bool)
    days = rng.integers(0, 10, slots).astype(np.int32) if filtered else np.empty(0, dtype=np.int32)
    low, high = (2, 8) if filtered else (0, 0)
    allowed = (live & (days >= low) & (days < high)) if filtered else np.ones(slots, dtype=bool)
    order = sorted(range(len(rows)), key=lambda r: -rng.random())  # any order: bounds hold whatever it is
    rows, idfs, boosts = [rows[r] for r in order], [idfs[r] for r in order], boosts[order]
    bounds = []
    for row, idf, boost in zip(rows, idfs, boosts):
        most = 0.0
        for source, start, end, shift in row:
            docs = arrays[source][1]
            for at in range(start, end):
                most = max(most, weights_of(source, arrays, norm, idf, computed, at, int(docs[at]) + shift))
        bounds.append(most * boost)
    pieces = [piece for row in rows for piece in row]
    row_first = np.cumsum([0] + [len(row) for row in rows])
    table = np.array(pieces, dtype=np.int64).reshape(-1, 4).T
    piece_idf = [idf for row, idf in zip(rows, idfs) for _ in row]
    acc, seen = np.zeros(slots), np.zeros(slots, dtype=np.uint8)
    sources = kernel_arrays(arrays, norm)
    docs, scores = top_k(
        k, frozen(row_first, np.int64), frozen(boosts, np.float64), frozen(bounds, np.float64), frozen(table, np.int64),
        frozen(piece_idf, np.float64), frozen(np.ones(len(pieces)), np.float64), sources, computed, 1.0, K1,
        frozen(live, np.bool_), frozen(days, np.int32), low, high, prune, acc, seen)
    want_docs, want_scores = expected_top(k, slots, norm, arrays, rows, idfs, boosts, computed, allowed)
    assert docs.tolist() == want_docs.tolist()
    np.testing.assert_allclose(scores, want_scores, rtol=1e-12)
    assert not acc.any() and not seen.any()  # the scratch is left zeroed


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 12), ratio=st.floats(0.8, 1.25), filtered=st.booleans())
def test_rescaled_stored_weights_rank_as_the_exact_ones(seed, k, ratio, filtered):
    """A delta is open: the main segment's weights were stored with an older idf and average length.
    Rescaled to the new idf they rank, and the passages near the top are scored exactly: the same
    top k and scores as computing every weight from its tf."""
    rng, slots, norm, arrays, rows, _, boosts, _ = random_case(seed)
    b, old_avgdl = 0.75, float(rng.uniform(5, 30))
    doc_len = rng.integers(1, 60, slots)
    norm = K1 * (1 - b + b * doc_len / (old_avgdl * ratio))  # the live average length
    old_norm = K1 * (1 - b + b * doc_len / old_avgdl)
    offsets, docs, _, tfs = arrays[MAIN]
    n_terms = len(offsets) - 1
    old_idf, rescale = rng.uniform(0.1, 4.0, n_terms), rng.uniform(0.8, 1.25, n_terms)
    term_of = np.repeat(np.arange(n_terms), np.diff(offsets))
    stored = (old_idf[term_of] * (tfs * (K1 + 1) / (tfs + old_norm[docs]))).astype(np.float32)
    arrays[MAIN] = (offsets, docs, stored, tfs)
    live = rng.random(slots) < 0.9 if filtered else np.empty(0, dtype=bool)
    allowed = live if filtered else np.ones(slots, dtype=bool)
    idfs, piece_idf, piece_scale, bounds = [], [], [], []
    for row, boost in zip(rows, boosts):
        source, start, end, _ = row[0]
        term = min(int(np.searchsorted(offsets, start, side="right")) - 1, n_terms - 1) if source == MAIN else None
        idf = old_idf[term] * rescale[term] if term is not None else float(rng.uniform(0.1, 4.0))
        idfs.append(idf)
        most = 0.0
        for piece in row:
            piece_idf.append(idf)
            piece_scale.append(rescale[term] if piece[0] == MAIN else 1.0)
            for at in range(piece[1], piece[2]):
                doc = int(arrays[piece[0]][1][at]) + piece[3]
                exact = weights_of(piece[0], arrays, norm, idf, True, at, doc)
                most = max(most, exact, float(arrays[piece[0]][2][at]) * piece_scale[-1])
        bounds.append(most * boost)
    pieces = [piece for row in rows for piece in row]
    acc, seen = np.zeros(slots), np.zeros(slots, dtype=np.uint8)
    band = min(ratio, 1 / ratio) * (1 - 1e-6)
    found, scores = top_k(
        k, frozen(np.cumsum([0] + [len(row) for row in rows]), np.int64), frozen(boosts, np.float64),
        frozen(bounds, np.float64), frozen(np.array(pieces, dtype=np.int64).reshape(-1, 4).T, np.int64),
        frozen(piece_idf, np.float64), frozen(piece_scale, np.float64), kernel_arrays(arrays, norm), False, band, K1,
        frozen(live, np.bool_), frozen(np.empty(0), np.int32), 0, 0, True, acc, seen)
    want_docs, want_scores = expected_top(k, slots, norm, arrays, rows, idfs, boosts, True, allowed)
    assert found.tolist() == want_docs.tolist()
    assert scores.tolist() == want_scores.tolist()  # the very sums exhaustive scoring makes
    assert not acc.any() and not seen.any()


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), members=st.integers(0, 12))
def test_a_synonym_group_is_weighed_as_its_members_added_up(seed, members):
    rng, slots, norm, arrays, _, _, _, n_main = random_case(seed)
    pieces = [piece for _ in range(members) for piece in term_pieces(rng, arrays, n_main)]
    expected: dict[int, int] = {}
    for piece in pieces:
        for doc, tf in plain_tfs(arrays, piece).items():
            expected[doc] = expected.get(doc, 0) + tf
    doc_len, avgdl, idf, params = rng.integers(1, 60, slots).astype(np.int32), float(rng.uniform(5, 30)), 1.7, BM25Params()
    docs, weights = merged_group(frozen(np.array(pieces, dtype=np.int64).reshape(-1, 4).T, np.int64), kernel_arrays(arrays, norm),
                                 frozen(doc_len, np.int32), avgdl, idf, params.k1, params.b)
    assert docs.dtype == np.int32 and docs.tolist() == sorted(expected)  # ascending, each passage once
    tf = np.array([expected[d] for d in sorted(expected)], dtype=np.float64)
    want = (idf * term_frequency_part(tf, doc_len[docs], avgdl, params)).astype(np.float32)
    assert weights.dtype == np.float32 and weights.tolist() == want.tolist()  # the very floats numpy computes


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_terms=st.integers(0, 8), n_docs=st.integers(0, 40))
def test_term_frequencies_are_looked_up_in_every_piece(seed, n_terms, n_docs):
    rng, slots, norm, arrays, _, _, _, n_main = random_case(seed)
    terms = [term_pieces(rng, arrays, n_main) for _ in range(n_terms)]
    docs = rng.integers(0, slots, n_docs)  # in any order, repeats too, as candidates come
    first = np.cumsum([0] + [len(pieces) for pieces in terms])
    table = np.array([p for pieces in terms for p in pieces], dtype=np.int64).reshape(-1, 4).T
    found = term_frequencies(frozen(first, np.int64), frozen(table, np.int64), kernel_arrays(arrays, norm), frozen(docs, np.int64))
    for t, pieces in enumerate(terms):
        listed: dict[int, int] = {}
        for piece in pieces:
            listed.update(plain_tfs(arrays, piece))
        assert found[t].tolist() == [listed.get(int(d), 0) for d in docs]
