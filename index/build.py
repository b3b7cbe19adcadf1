"""Building an index: read the corpus, cut passages, segment them (on all cores), write BM25 postings."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np

from index.analysis import Analyzer, AnalyzerOptions
from index.bm25 import BM25Params, okapi_idf, term_frequency_part
from index.documents import corpus_files, read_corpus
from index.passages import PASSAGE_RULES_VERSION, Passage, PassageOptions, unique_passages
from index.crosslingual import build_maps
from index.store import (
    FORMAT_VERSION,
    GenerationWriter,
    PassageFileWriter,
    build_lock,
    write_string_table,
    write_term_map,
)

_BATCH = 256
_BATCHES_IN_FLIGHT = 64
_PARALLEL_FROM = 4_000  # passages; below this, worker start-up costs more than it saves


@dataclass(frozen=True)
class IndexOptions:
    """Everything that changes what an index contains; recorded in its manifest."""

    analyzer: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    passages: PassageOptions = field(default_factory=PassageOptions)
    bm25: BM25Params = field(default_factory=BM25Params)

    def signature(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "analyzer": self.analyzer.signature(),
            "passage_options": {"version": PASSAGE_RULES_VERSION, **asdict(self.passages)},
            "bm25": asdict(self.bm25),
        }


def corpus_fingerprint(corpus: Path) -> str:
    """Changes whenever a corpus file is added, removed, resized or touched."""
    digest = hashlib.sha256()
    base = corpus if corpus.is_dir() else corpus.parent
    for path in corpus_files(corpus):
        stat = path.stat()
        digest.update(f"{path.relative_to(base).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@dataclass
class BuildReport:
    passages: int = 0
    terms: int = 0
    documents: int = 0
    characters: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    segment_seconds: float = 0.0
    seconds: float = 0.0
    path: Path | None = None


def citation_record(passage: Passage) -> dict:
    doc = passage.doc
    return {
        "text": passage.text,
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "date": doc.date,
        "paragraph": passage.paragraph,
        "path": doc.path,
        "url": doc.url,
        "heading": passage.heading,
    }


# --- segmentation, in worker processes when the corpus is large -------------------------------

_worker_analyzer: Analyzer | None = None


def _init_worker(options: AnalyzerOptions) -> None:
    global _worker_analyzer
    _worker_analyzer = Analyzer(options)


def _term_counts(analyzer: Analyzer, texts: list[str]) -> list[tuple[list[str], list[int], int]]:
    out = []
    for text in texts:
        tokens = analyzer.tokens(text)
        counts = Counter(tokens)
        out.append((list(counts), list(counts.values()), len(tokens)))
    return out


def _segment_batch(texts: list[str]) -> list[tuple[list[str], list[int], int]]:
    assert _worker_analyzer is not None
    return _term_counts(_worker_analyzer, texts)


def _batches(passages: Iterable[Passage], size: int) -> Iterator[list[Passage]]:
    iterator = iter(passages)
    while batch := list(islice(iterator, size)):
        yield batch


class _PostingsCollector:
    """Interns terms and gathers (passage, term, tf) triples in compact arrays."""

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}
        self.docs: list[np.ndarray] = []
        self.terms: list[np.ndarray] = []
        self.tfs: list[np.ndarray] = []
        self.doc_len: list[int] = []

    def add(self, terms: list[str], counts: list[int], length: int) -> None:
        intern = self.term_ids.setdefault
        ids = [intern(term, len(self.term_ids)) for term in terms]
        doc = len(self.doc_len)
        self.doc_len.append(length)
        self.docs.append(np.full(len(ids), doc, dtype=np.int32))
        self.terms.append(np.array(ids, dtype=np.int32))
        self.tfs.append(np.array(counts, dtype=np.uint16))

    def write(self, writer: GenerationWriter, params: BM25Params) -> tuple[int, float]:
        """Sort the vocabulary, lay the postings out term by term and save the BM25 arrays."""
        vocabulary = sorted(self.term_ids)
        rank = np.empty(len(vocabulary), dtype=np.int32)
        rank[[self.term_ids[t] for t in vocabulary]] = np.arange(len(vocabulary), dtype=np.int32)
        terms = rank[np.concatenate(self.terms)] if self.terms else np.empty(0, dtype=np.int32)
        docs = np.concatenate(self.docs) if self.docs else np.empty(0, dtype=np.int32)
        tfs = np.concatenate(self.tfs) if self.tfs else np.empty(0, dtype=np.uint16)
        order = np.argsort(terms, kind="stable")  # stable keeps passages ascending within a term
        terms, docs, tfs = terms[order], docs[order], tfs[order]
        df = np.bincount(terms, minlength=len(vocabulary))
        offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=offsets[1:])
        doc_len = np.array(self.doc_len, dtype=np.int32)
        n_docs = len(doc_len)
        avgdl = float(doc_len.sum() / n_docs) if n_docs else 0.0
        idf = okapi_idf(df.astype(np.float64), n_docs, params.epsilon)
        weights = idf[terms] * term_frequency_part(tfs.astype(np.float64), doc_len[docs], avgdl, params) if n_docs else tfs
        write_string_table(writer, vocabulary)
        lexicon, pinyin = build_maps(vocabulary)
        write_term_map(writer, "lexicon", lexicon)
        write_term_map(writer, "pinyin", pinyin)
        for name, array in {
            "post_offsets": offsets,
            "post_docs": docs,
            "post_tfs": tfs,
            "post_weights": np.asarray(weights, dtype=np.float32),
            "idf": idf,
            "doc_len": doc_len,
        }.items():
            writer.save_array(name, array)
        return len(vocabulary), avgdl


def build_index(
    corpus: Path,
    index_root: Path,
    options: IndexOptions = IndexOptions(),
    workers: int | None = None,
    on_error: Callable[[str, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build a new generation of the index of ``corpus`` and make it current, atomically."""
    if not corpus.exists():
        raise FileNotFoundError(f"corpus not found: {corpus}")
    report = BuildReport()
    started = time.perf_counter()

    def skipped(name: str, reason: str) -> None:
        report.skipped.append((name, reason))
        if on_error:
            on_error(name, reason)

    def counted(documents: Iterable) -> Iterator:
        for document in documents:
            report.documents += 1
            yield document

    with build_lock(index_root):
        fingerprint = corpus_fingerprint(corpus)
        writer = GenerationWriter(index_root)
        try:
            collector = _PostingsCollector()
            passages = PassageFileWriter(writer)
            stream = unique_passages(counted(read_corpus(corpus, skipped)), options.passages)
            for batch, segmented in _segment(stream, options, workers, report):
                for passage, (terms, counts, length) in zip(batch, segmented):
                    passages.append(citation_record(passage))
                    collector.add(terms, counts, length)
                    report.characters += len(passage.text)
                report.passages += len(batch)
                if progress:
                    progress(len(batch))
            passages.close()
            report.terms, avgdl = collector.write(writer, options.bm25)
            manifest = {
                **options.signature(),
                "corpus": str(corpus),
                "corpus_fingerprint": fingerprint,
                "n_passages": report.passages,
                "n_documents": report.documents,
                "n_terms": report.terms,
                "avgdl": avgdl,
                "skipped": [f"{name}: {reason}" for name, reason in report.skipped],
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            report.path = writer.publish(manifest)
        except BaseException:
            writer.discard()
            raise
    report.seconds = time.perf_counter() - started
    return report


def _segment(
    stream: Iterable[Passage], options: IndexOptions, workers: int | None, report: BuildReport
) -> Iterator[tuple[list[Passage], list[tuple[list[str], list[int], int]]]]:
    """Yield each batch of passages with its segmentation, in corpus order."""
    workers = workers or os.cpu_count() or 1
    batches = _batches(stream, _BATCH)
    head = list(islice(batches, _PARALLEL_FROM // _BATCH))
    if workers == 1 or len(head) < _PARALLEL_FROM // _BATCH:
        analyzer = Analyzer(options.analyzer)
        for batch in chain(head, batches):
            t0 = time.perf_counter()
            segmented = _term_counts(analyzer, [p.searchable_text(options.passages) for p in batch])
            report.segment_seconds += time.perf_counter() - t0
            yield batch, segmented
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(options.analyzer,)) as pool:
        pending = iter(head)
        remaining = batches
        while True:
            group = list(islice(pending, _BATCHES_IN_FLIGHT)) or list(islice(remaining, _BATCHES_IN_FLIGHT))
            if not group:
                break
            t0 = time.perf_counter()
            results = pool.map(_segment_batch, [[p.searchable_text(options.passages) for p in batch] for batch in group])
            report.segment_seconds += time.perf_counter() - t0
            yield from zip(group, results)
