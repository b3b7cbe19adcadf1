"""The compiled loop that ranks passages: one call per query instead of dozens of numpy calls.

A query reaches the kernel as rows (its term groups, rarest first) cut into pieces: a piece is a
slice of one source's postings, shifted to overall passage numbers. Source 0 is the main segment
(stored weights; when a delta is open, those rescaled to rank and the exact ones computed from its
term frequencies with the live corpus's statistics for the passages near the top), source 1 a
delta's postings, source 2 the synonym groups merged for this
query (by the kernel too: their members' term frequencies added up). Rows are read term at a time
into a dense accumulator until the rows left could not lift a passage nobody has seen into the top
k (MaxScore's rule, with the k-th best score so far as the threshold); the rows after that only add
to the passages still in the running. The result is exactly the top k of exhaustive scoring: ties
go to the lower passage number.

The loop lives in :mod:`index.compiled`. numba and the compiled loop cost a process about 200 MB
of memory and a second to load, so they are loaded at the first query: a process that only builds
or ingests never pays for it. Every array is passed read-only and C-contiguous (:func:`frozen`),
so there is one compiled version.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import numpy as np

MAIN, DELTA, MERGED = 0, 1, 2  # piece sources


@cache
def _compiled() -> ModuleType:
    from index import compiled  # numba: loaded at the first query

    return compiled


def top_k(*args: object) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best passages and their scores: see :func:`index.compiled.top_k` for the arguments."""
    return _compiled().top_k(*args)


def merged_group(*args: object) -> tuple[np.ndarray, np.ndarray]:
    """A synonym group's passages and weights as one term: see :func:`index.compiled.merged_group`."""
    return _compiled().merged_group(*args)


def term_frequencies(*args: object) -> np.ndarray:
    """Terms' frequencies in some passages: see :func:`index.compiled.term_frequencies`."""
    return _compiled().term_frequencies(*args)


def frozen(array: np.ndarray, dtype: type) -> np.ndarray:
    """A read-only, C-contiguous view of ``array`` as ``dtype`` (copied only when it is not one already)."""
    view = np.ascontiguousarray(array, dtype=dtype).view()
    view.flags.writeable = False
    return view


def warm() -> None:
    """Compile the kernel now (or load it from the cache) by using it on a two-passage toy index."""
    i32, f32, f64 = np.int32, np.float32, np.float64
    none_i32, none_f32 = frozen([], i32), frozen([], f32)
    sources = (frozen([0, 1], i32), frozen([1, 1], np.uint16), frozen([0.5, 0.4], f32), frozen([], f64),
               none_i32, none_f32, none_i32, none_f32, frozen([], np.uint16))
    pieces = frozen([[MAIN], [0], [2], [0]], np.int64)
    merged_group(pieces, sources, frozen([1, 1], i32), 1.0, 0.5, 1.5, 0.75)
    term_frequencies(frozen([0, 1], np.int64), pieces, sources, frozen([1], np.int64))
    top_k(1, frozen([0, 1], np.int64), frozen([1.0], f64), frozen([1.0], f64), pieces, frozen([1.0], f64),
          frozen([1.0], f64), sources, False, 0.99, 1.5, frozen([], np.bool_), none_i32, 0, 0, True, np.zeros(2),
          np.zeros(2, dtype=np.uint8))
