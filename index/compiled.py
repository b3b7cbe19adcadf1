"""The ranking loop, compiled by numba: see :mod:`index.kernel`, through which it is called.

numba compiles it once (about 20 s: ``make`` and the image do it at install, by
:func:`index.kernel.warm`) and caches the machine code beside this file, or in ``NUMBA_CACHE_DIR``
where this folder is read-only; later processes load it (numba included) in about a second.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from index.kernel import DELTA, MAIN

_LOWERED = 1 - 1e-9  # thresholds are lowered a hair so that float rounding never prunes a tie
# Finding the sure threshold gathers and ranks the candidates (about 2 postings' worth of work each)
# and looks up 2k of them in every unread piece, a look-up costing about this many postings' reads;
# it is worth it only while the unread rows hold more postings than that (measured over the bench's
# questions at 10k, 100k and 1M).
_LOOKUP_COST = 256


@njit(cache=True, nogil=True)
def _piece(sources, source, start, end, computed):
    """A piece's passage numbers (before its shift), stored weights and term frequencies (none for a
    merged list), and whether its weights are to be computed from those (the main segment's, when a
    delta is open)."""
    if source == MAIN:
        return sources[0][start:end], sources[2][start:end], sources[1][start:end], computed
    if source == DELTA:
        return sources[4][start:end], sources[5][start:end], sources[8][start:end], False
    return sources[6][start:end], sources[7][start:end], sources[1][:0], False


@njit(cache=True, nogil=True, inline="always")
def _bm25(tf, norm, idf, k1):
    """BM25's weight for frequency ``tf`` in a passage of length norm ``norm``, in the order of
    operations :func:`index.bm25.term_frequency_part` uses (so the floats are the same)."""
    return idf * (tf * (k1 + 1) / (tf + norm))


@njit(cache=True, nogil=True, inline="always")
def _posting_weight(i, doc, weights, tfs, by_tf, norm, idf, k1):
    """Posting ``i``'s weight: stored, or computed from its tf with the live corpus's length norms,
    as a full build computes it."""
    if by_tf:
        return np.float64(np.float32(_bm25(np.float64(tfs[i]), norm[doc], idf, k1)))
    return np.float64(weights[i])


@njit(cache=True, nogil=True, inline="always")
def _allowed(doc, live, days, low, high):
    if len(live) and not live[doc]:
        return False
    if len(days) and not (low <= days[doc] < high):
        return False
    return True


@njit(cache=True, nogil=True)
def _find(docs, doc):
    """Where passage ``doc`` stands in the sorted ``docs``, or -1."""
    at = np.searchsorted(docs, doc)
    return at if at < len(docs) and docs[at] == doc else -1


@njit(cache=True, nogil=True)
def _row_weight(r, doc, row_first, pieces, piece_idf, piece_scale, sources, computed, k1):
    """What row ``r`` adds to passage ``doc`` (before its boost), found by binary search."""
    for p in range(row_first[r], row_first[r + 1]):
        docs, weights, tfs, by_tf = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], computed)
        at = _find(docs, doc - pieces[3, p])
        if at >= 0:
            return _posting_weight(at, doc, weights, tfs, by_tf, sources[3], piece_idf[p], k1) * piece_scale[p]
    return 0.0


@njit(cache=True, nogil=True)
def _gallop(listed, doc, low):
    """Where ``doc`` stands (or would) in the ascending ``listed``, searching from ``low`` on with
    strides doubling until one ends at or past it: a near passage costs a few steps."""
    n, high, step = len(listed), low, 1
    while high < n and listed[high] < doc:
        low = high + 1
        high = low + step
        step *= 2
    return low + np.searchsorted(listed[low : min(high, n)], doc)


@njit(cache=True, nogil=True)
def _kth_largest(values, k):
    """The k-th largest of ``values`` (at least k of them), through a min-heap of the k largest."""
    heap = np.empty(k)
    for n in range(len(values)):
        value = values[n]
        if n < k:  # sift up
            i = n
            while i > 0 and heap[(i - 1) // 2] > value:
                heap[i] = heap[(i - 1) // 2]
                i = (i - 1) // 2
            heap[i] = value
        elif value > heap[0]:  # replace the smallest, sift down
            i = 0
            while True:
                child = 2 * i + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= value:
                    break
                heap[i] = heap[child]
                i = child
            heap[i] = value
    return heap[0]


@njit(cache=True, nogil=True)
def _scores(acc, cand, n_cand):
    scores = np.empty(n_cand)
    for i in range(n_cand):
        scores[i] = acc[cand[i]]
    return scores


@njit(cache=True, nogil=True)
def _sure_threshold(k, first_unread, acc, cand, n_cand, row_first, row_boost, pieces, piece_idf, piece_scale, sources,
                    computed, k1):
    """A score the k-th best passage is sure to reach: the 2k candidates best so far, scored in full
    (the rows not read yet looked up), and the k-th of those."""
    partial = _scores(acc, cand, n_cand)
    take = min(2 * k, n_cand)
    cutoff = _kth_largest(partial, take)
    full = np.empty(take)
    taken = 0
    for i in range(n_cand):
        if taken < take and partial[i] >= cutoff:
            score = partial[i]
            for r in range(first_unread, len(row_boost)):
                score += _row_weight(r, cand[i], row_first, pieces, piece_idf, piece_scale, sources, computed, k1) * row_boost[r]
            full[taken] = score
            taken += 1
    return _kth_largest(full, k)


@njit(cache=True, nogil=True)
def _rescored(k, band, cand, scores, n_cand, row_first, row_boost, pieces, piece_idf, sources, k1):
    """Keep the candidates whose approximate score is within ``band`` of the k-th, with their exact
    scores (summed in row order, as the loop adds them); returns how many. Each piece is searched
    for the kept passages in ascending order, as :func:`term_frequencies` searches."""
    cutoff = _kth_largest(scores[:n_cand], min(k, n_cand)) * band * _LOWERED
    kept = 0
    for i in range(n_cand):
        if scores[i] >= cutoff:
            cand[kept] = cand[i]
            kept += 1
    order = np.argsort(cand[:kept])
    exact = np.zeros(kept)
    for r in range(len(row_boost)):
        for p in range(row_first[r], row_first[r + 1]):
            docs, weights, tfs, by_tf = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], True)
            shift, low = pieces[3, p], 0
            for j in order:
                low = _gallop(docs, cand[j] - shift, low)
                if low < len(docs) and docs[low] == cand[j] - shift:
                    exact[j] += _posting_weight(low, cand[j], weights, tfs, by_tf, sources[3], piece_idf[p], k1) * row_boost[r]
    scores[:kept] = exact
    return kept


@njit(cache=True, nogil=True)
def top_k(k, row_first, row_boost, row_bound, pieces, piece_idf, piece_scale, sources, computed, band, k1, live, days,
          low, high, prune, acc, seen):
    """The ``k`` best passages and their scores, best first. Row ``r`` is the columns
    ``row_first[r]:row_first[r + 1]`` of ``pieces`` (source, start, end, shift); ``sources`` holds
    the main segment's docs, tfs, weights and length norms, the delta's docs and weights, the
    merged lists' docs and weights, and the delta's tfs. ``row_bound`` is at least the most each
    row adds to a passage (boost included). ``live`` (empty: all) and ``low <= days < high``
    (``days`` empty: any day) say which passages may be ranked. ``acc`` and ``seen`` are zeroed
    scratch, one slot per passage, and are left zeroed.

    The main segment's weights are ``computed`` from its tfs (``piece_scale`` then 1 throughout), or
    stored times ``piece_scale``. With ``band`` below 1 the latter only approximate the scores, each
    passage's exact score lying within [approximate × band, approximate / band] (a delta's new
    average length shifts every tf part by at most that ratio): the thresholds are lowered by
    ``band``, and the passages left within it of the k-th are scored exactly from their tfs at the
    end."""
    n_rows = len(row_boost)
    remaining = 0.0
    capacity = 0
    for r in range(n_rows):
        remaining += row_bound[r]
        for p in range(row_first[r], row_first[r + 1]):
            capacity += pieces[2, p] - pieces[1, p]
    cand = np.empty(min(capacity, len(acc)), dtype=np.int64)
    unread = capacity  # postings in the rows not read yet
    n_cand = 0
    added_since = 0  # postings added since the threshold was last found (found again after n_cand more)
    threshold = -np.inf
    adding = True
    work_since = 0  # postings read or looked up since the candidates were last pruned (pruning costs n_cand)
    filtered = len(live) > 0 or len(days) > 0
    norm = sources[3]
    lowered = _LOWERED * band
    for r in range(n_rows):
        remaining -= row_bound[r]
        boost = row_boost[r]
        if adding:
            for p in range(row_first[r], row_first[r + 1]):
                docs, weights, tfs, by_tf = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], computed)
                shift, idf = pieces[3, p], piece_idf[p]
                factor = boost * piece_scale[p]  # a scale of 1 leaves the boost as it is
                for i in range(len(docs)):
                    doc = docs[i] + shift
                    if filtered and not _allowed(doc, live, days, low, high):
                        continue
                    if not seen[doc]:
                        seen[doc] = 1
                        cand[n_cand] = doc
                        n_cand += 1
                    acc[doc] += _posting_weight(i, doc, weights, tfs, by_tf, norm, idf, k1) * factor
                added_since += len(docs)
                unread -= len(docs)
            if (prune and n_cand >= k and remaining >= threshold and added_since >= n_cand and r + 1 < n_rows
                    and unread >= 2 * n_cand + _LOOKUP_COST * min(2 * k, n_cand) * (row_first[n_rows] - row_first[r + 1])):
                threshold = max(threshold, lowered * _sure_threshold(k, r + 1, acc, cand, n_cand, row_first, row_boost,
                                                                     pieces, piece_idf, piece_scale, sources, computed, k1))
                added_since = 0
            if remaining < threshold:
                adding = False
                work_since = n_cand  # drop the hopeless candidates first thing
            continue
        # no passage unseen so far can reach the top k: now and then (as often as the work done
        # since pays for it) the threshold is raised and the candidates that cannot reach it dropped;
        # then this row is added to the candidates left
        if work_since >= n_cand:
            if n_cand >= k:
                threshold = max(threshold, _kth_largest(_scores(acc, cand, n_cand), k) * lowered)
            kept = 0
            for i in range(n_cand):
                doc = cand[i]
                if acc[doc] + row_bound[r] + remaining >= threshold:
                    cand[kept] = doc
                    kept += 1
                else:
                    acc[doc] = 0.0
                    seen[doc] = 0
            n_cand = kept
            work_since = 0
        for p in range(row_first[r], row_first[r + 1]):
            docs, weights, tfs, by_tf = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], computed)
            shift = pieces[3, p]
            factor = boost * piece_scale[p]
            if n_cand * 64 < len(docs):  # few candidates: find each in the list
                for i in range(n_cand):
                    at = _find(docs, cand[i] - shift)
                    if at >= 0:
                        acc[cand[i]] += _posting_weight(at, cand[i], weights, tfs, by_tf, norm, piece_idf[p], k1) * factor
                work_since += n_cand
            else:  # many: read the list through
                for i in range(len(docs)):
                    doc = docs[i] + shift
                    if seen[doc]:
                        acc[doc] += _posting_weight(i, doc, weights, tfs, by_tf, norm, piece_idf[p], k1) * factor
                work_since += len(docs)
    scores = _scores(acc, cand, n_cand)
    for i in range(n_cand):
        acc[cand[i]] = 0.0
        seen[cand[i]] = 0
    if band < 1 and n_cand:
        n_cand = _rescored(k, band, cand, scores, n_cand, row_first, row_boost, pieces, piece_idf, sources, k1)
        scores = scores[:n_cand]
    if n_cand > k:  # only the passages that reach the k-th score (ties included) are sorted
        keep = scores >= _kth_largest(scores, k)
        found, scores = cand[:n_cand][keep], scores[keep]
    else:
        found = cand[:n_cand].copy()
    order = np.argsort(found)  # by passage number, then stably by score
    found, scores = found[order], scores[order]
    order = np.argsort(-scores, kind="mergesort")[:k]
    return found[order], scores[order]


@njit(cache=True, nogil=True)
def _merged(docs_a, tfs_a, docs_b, tfs_b):
    """Two ascending lists of passages with term frequencies as one, a passage in both once, with
    its frequencies added."""
    docs = np.empty(len(docs_a) + len(docs_b), dtype=np.int32)
    tfs = np.empty(len(docs_a) + len(docs_b))
    i = j = n = 0
    while i < len(docs_a) and j < len(docs_b):
        if docs_a[i] < docs_b[j]:
            docs[n], tfs[n] = docs_a[i], tfs_a[i]
            i += 1
        elif docs_b[j] < docs_a[i]:
            docs[n], tfs[n] = docs_b[j], tfs_b[j]
            j += 1
        else:
            docs[n], tfs[n] = docs_a[i], tfs_a[i] + tfs_b[j]
            i += 1
            j += 1
        n += 1
    for rest_docs, rest_tfs, at in ((docs_a, tfs_a, i), (docs_b, tfs_b, j)):
        for r in range(at, len(rest_docs)):
            docs[n], tfs[n] = rest_docs[r], rest_tfs[r]
            n += 1
    return docs[:n], tfs[:n]


@njit(cache=True, nogil=True)
def merged_group(pieces, sources, doc_len, avgdl, idf, k1, b):
    """The passages any of ``pieces`` holds (ascending, as int32) and their BM25 weights (float32) as
    one term (a synonym group): the members' term frequencies added up, with idf ``idf``. The lists
    are merged two at a time, as merge sort does: the work is the postings times the log of the
    number of lists."""
    docs, tfs = _merged_lists(pieces, sources)
    weights = np.empty(len(docs), dtype=np.float32)
    for i in range(len(docs)):
        weights[i] = _bm25(tfs[i], k1 * (1 - b + b * doc_len[docs[i]] / avgdl), idf, k1)
    return docs, weights


@njit(cache=True, nogil=True)
def _merged_lists(pieces, sources):
    """The passages any of ``pieces`` holds, ascending, and their term frequencies added up."""
    docs_of, tfs_of = [], []
    for p in range(pieces.shape[1]):
        docs, _, tfs, _ = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], False)
        docs_of.append((docs + pieces[3, p]).astype(np.int32))
        tfs_of.append(tfs.astype(np.float64))
    if not docs_of:
        return np.empty(0, dtype=np.int32), np.empty(0)
    while len(docs_of) > 1:
        pairs_docs, pairs_tfs = [], []
        for i in range(0, len(docs_of) - 1, 2):
            docs, tfs = _merged(docs_of[i], tfs_of[i], docs_of[i + 1], tfs_of[i + 1])
            pairs_docs.append(docs)
            pairs_tfs.append(tfs)
        if len(docs_of) % 2:
            pairs_docs.append(docs_of[-1])
            pairs_tfs.append(tfs_of[-1])
        docs_of, tfs_of = pairs_docs, pairs_tfs
    return docs_of[0], tfs_of[0]


@njit(cache=True, nogil=True)
def term_frequencies(term_first, pieces, sources, docs):
    """How often each term occurs in each of ``docs`` (terms by rows, 0 where absent); term ``t`` is
    the columns ``term_first[t]:term_first[t + 1]`` of ``pieces``. The passages are looked for in
    ascending order, each search galloping on from where the last one ended, so near passages cost
    a few steps and the list is read forwards."""
    n_terms = len(term_first) - 1
    found = np.zeros((n_terms, len(docs)), dtype=np.uint16)
    order = np.argsort(docs)
    for t in range(n_terms):
        for p in range(term_first[t], term_first[t + 1]):
            listed, _, tfs, _ = _piece(sources, pieces[0, p], pieces[1, p], pieces[2, p], False)
            shift, low = pieces[3, p], 0
            for j in order:
                low = _gallop(listed, docs[j] - shift, low)  # everything before it is under the next passage too
                if low < len(listed) and listed[low] == docs[j] - shift:
                    found[t, j] = tfs[low]
    return found
