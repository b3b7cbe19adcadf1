"""Building an index: read the corpus, cut passages, segment them (on all cores), write BM25 postings."""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path

import numpy as np

from index.analysis import Analyzer, AnalyzerOptions
from index.bm25 import BM25Params, okapi_idf, term_frequency_part
from index.crosslingual import pinyin_key, pinyin_syllables
from index.lexicon import LEXICON_VERSION, build_maps, dictionaries
from index.documents import CorpusFile, Document, document_key, file_state, read_corpus, scan_corpus
from index.metadata import UNDATED, day_date, day_number
from index.neardup import SLOTS, STORY_RULES_VERSION, NearDuplicateOptions, Sketches, StoryGrouping, sketch_articles
from index.passages import PASSAGE_RULES_VERSION, Passage, PassageOptions, passage_key, unique_passages
from index.store import (
    FORMAT_VERSION,
    GenerationWriter,
    IndexFormatError,
    RecordFileWriter,
    build_lock,
    load_array,
    write_repeats,
    write_string_table,
    write_term_map,
)

_BATCH = 256
_BATCHES_IN_FLIGHT = 64
_SCATTER_CHUNK = 4_000_000
_PARALLEL_FROM = 4_000  # passages; below this, worker start-up costs more than it saves
_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies
_PINYIN_CHUNK = 8_192  # terms per task when worker processes compute the pinyin keys


@dataclass(frozen=True)
class IndexOptions:
    """Everything that changes what an index contains; recorded in its manifest."""

    analyzer: AnalyzerOptions = field(default_factory=AnalyzerOptions)
    passages: PassageOptions = field(default_factory=PassageOptions)
    bm25: BM25Params = field(default_factory=BM25Params)
    ecdict: bool = True  # English words also through ECDICT (when fetched), not CC-CEDICT alone
    stories: NearDuplicateOptions = field(default_factory=NearDuplicateOptions)  # syndicated copies grouped

    def signature(self) -> dict:
        return {
            "format": FORMAT_VERSION,
            "analyzer": self.analyzer.signature(),
            "passage_options": {"version": PASSAGE_RULES_VERSION, **asdict(self.passages)},
            "bm25": asdict(self.bm25),
            "lexicon": {"version": LEXICON_VERSION, "dictionaries": dictionaries(self.ecdict)},
            "stories": {"version": STORY_RULES_VERSION, **asdict(self.stories)},
        }


class EmptyCorpusError(Exception):
    """The corpus holds no news that could be read; the message says where and why."""


def corpus_fingerprint(corpus: Path, files: list[CorpusFile] | None = None) -> str:
    """Changes whenever a corpus file is added, removed, resized or touched."""
    digest = hashlib.sha256()
    for file in scan_corpus(corpus) if files is None else files:
        digest.update(f"{file.name}\0{file.size}\0{file.mtime_ns}\n".encode())
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


def source_record(passage: Passage) -> dict:
    """Where a passage was found: its document and paragraph."""
    doc = passage.doc
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "date": doc.date,
        "paragraph": passage.paragraph,
        "path": doc.path,
        "url": doc.url,
    }


def add_repeat(repeats: dict[int, list[dict]], number: int, passage: Passage) -> None:
    """Record that ``passage`` repeats passage ``number`` word for word (once per other document)."""
    others = repeats.setdefault(number, [])
    if all(other["doc_id"] != passage.doc.doc_id for other in others):
        others.append(source_record(passage))


def citation_record(passage: Passage) -> dict:
    return {"text": passage.text, **source_record(passage), "heading": passage.heading}


# --- segmentation, in worker processes when the corpus is large -------------------------------


@dataclass(frozen=True)
class SegmentedBatch:
    """A batch of passages as one segmenter saw them: term ids that are local to that segmenter, the
    terms it met for the first time in this batch (in id order), and compact arrays, cheap to pass
    between processes."""

    segmenter: int
    new_terms: list[str]
    terms: bytes  # int32 local ids, each passage's distinct terms in turn
    tfs: bytes  # uint16, the frequency of each of those terms in its passage
    distinct: bytes  # int32 per passage: how many distinct terms it has
    lengths: bytes  # int32 per passage: how many tokens it has (BM25's document length)


class _TermIds(dict[str, int]):
    """Term → id, numbering each new term in turn and keeping the new ones until they are taken."""

    def __init__(self) -> None:
        super().__init__()
        self._new: list[str] = []

    def __missing__(self, term: str) -> int:
        self[term] = term_id = len(self)
        self._new.append(term)
        return term_id

    def take_new(self) -> list[str]:
        new, self._new = self._new, []
        return new


class _WordIds(dict[str, int]):
    """A jieba token → the term id of the index word it stands for, or -1 when it stands for none."""

    def __init__(self, analyzer: Analyzer, term_ids: _TermIds) -> None:
        super().__init__()
        self._analyzer = analyzer
        self._term_ids = term_ids

    def __missing__(self, token: str) -> int:
        word = self._analyzer.word(token)
        self[token] = term_id = -1 if word is None else self._term_ids[word]
        return term_id


class Segmenter:
    """Turns passages into term counts, as ``Analyzer.tokens`` would, with terms interned locally so
    that each crosses between processes once. Every distinct jieba token is judged once; the
    counting is done for a whole batch in numpy."""

    def __init__(self, options: AnalyzerOptions) -> None:
        self.analyzer = Analyzer(options)
        self.term_ids = _TermIds()
        self.word_ids = _WordIds(self.analyzer, self.term_ids)
        self.identity = os.getpid()

    def segment(self, texts: list[str]) -> SegmentedBatch:
        analyzer, word_ids, term_ids = self.analyzer, self.word_ids, self.term_ids
        words, bigrams = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
        for number, text in enumerate(texts):  # a key is passage number << 32 | term id
            text = analyzer.normalize(text)
            ids = np.fromiter(map(word_ids.__getitem__, analyzer.search_cut(text)), dtype=np.int64)
            words.append(ids[ids >= 0] | number << 32)
            if analyzer.options.bigrams:
                pairs = analyzer.bigram_pairs(text)
                bigrams.append(np.fromiter(map(term_ids.__getitem__, pairs), dtype=np.int64, count=len(pairs)) | number << 32)
        word_keys, bigram_keys = np.concatenate(words), np.concatenate(bigrams)
        keys = np.concatenate([word_keys, bigram_keys[~np.isin(bigram_keys, word_keys)]])  # bigrams that are no word of their passage
        distinct_keys, counts = np.unique(keys, return_counts=True)
        return SegmentedBatch(
            self.identity,
            term_ids.take_new(),
            terms=(distinct_keys & 0xFFFFFFFF).astype(np.int32).tobytes(),
            tfs=np.minimum(counts, 65535).astype(np.uint16).tobytes(),
            distinct=np.bincount(distinct_keys >> 32, minlength=len(texts)).astype(np.int32).tobytes(),
            lengths=np.bincount(keys >> 32, minlength=len(texts)).astype(np.int32).tobytes(),
        )


_worker_segmenter: Segmenter | None = None
_worker_stories: NearDuplicateOptions | None = None


def _die_with_parent() -> None:
    """On Linux, a worker is killed when the build that started it dies (even by kill -9), instead of
    waiting forever for work that will not come."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _init_worker(options: AnalyzerOptions, stories: NearDuplicateOptions) -> None:
    global _worker_segmenter, _worker_stories
    _die_with_parent()
    _worker_segmenter, _worker_stories = Segmenter(options), stories


def _segment_batch(work: tuple[list[str], list[str]]) -> tuple[SegmentedBatch, Sketches]:
    """A batch's passages segmented, and the sketches of the articles that begin in it."""
    assert _worker_segmenter is not None and _worker_stories is not None
    texts, articles = work
    return _worker_segmenter.segment(texts), sketch_articles(articles, _worker_stories)


def _new_articles(batch: list[Passage], previous: Document | None) -> list[Document]:
    """The documents whose passages begin in this batch, after ``previous`` (a document's passages
    come together): each is one article, numbered in this order."""
    found = []
    for passage in batch:
        if passage.doc is not previous:
            previous = passage.doc
            found.append(previous)
    return found


def _with_article_texts(batches: Iterable[list[Passage]]) -> Iterator[tuple[list[Passage], list[str]]]:
    """Each batch with the texts of the articles that begin in it."""
    previous: Document | None = None
    for batch in batches:
        yield batch, [document.text for document in _new_articles(batch, previous)]
        previous = batch[-1].doc


def _batches(passages: Iterable[Passage], size: int) -> Iterator[list[Passage]]:
    iterator = iter(passages)
    while batch := list(islice(iterator, size)):
        yield batch


class PostingsCollector:
    """Gathers (passage, term, tf) triples in compact arrays, batch by batch, mapping each
    segmenter's local term ids to one vocabulary."""

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}
        self._to_global: dict[int, array] = {}  # segmenter → global id of each of its local ids
        self.docs = array("i")
        self.terms = array("i")
        self.tfs = array("H")
        self.doc_len = array("i")

    def add(self, batch: SegmentedBatch) -> None:
        """Add a batch; a segmenter's batches must come in the order it segmented them."""
        to_global = self._to_global.setdefault(batch.segmenter, array("i"))
        to_global.extend([self.term_ids.setdefault(term, len(self.term_ids)) for term in batch.new_terms])
        local = np.frombuffer(batch.terms, dtype=np.int32)
        self.terms.frombytes(np.frombuffer(to_global, dtype=np.int32)[local].tobytes())
        distinct = np.frombuffer(batch.distinct, dtype=np.int32)
        first = len(self.doc_len)
        self.docs.frombytes(np.repeat(np.arange(first, first + len(distinct), dtype=np.int32), distinct).tobytes())
        self.tfs.frombytes(batch.tfs)
        self.doc_len.frombytes(batch.lengths)

    def write(self, writer: GenerationWriter, params: BM25Params, workers: int, ecdict: bool = True,
              deleted: np.ndarray | None = None) -> tuple[int, float]:
        """Sort the vocabulary, lay the postings out term by term and save the BM25 arrays and the
        cross-language maps.

        The postings are scattered chunk by chunk straight into memory-mapped files, so memory
        stays near the size of the collected triples; meanwhile ``workers`` processes compute the
        terms' pinyin."""
        vocabulary = sorted(self.term_ids)
        with pinyin_keys(vocabulary, workers) as keys:
            avgdl = self.write_postings(writer, params, vocabulary, deleted=deleted)
            lexicon, names, pinyin, sounds = build_maps(vocabulary, keys, ecdict)
        write_string_table(writer, vocabulary)
        write_term_map(writer, "lexicon", lexicon)
        write_term_map(writer, "names", names)
        write_term_map(writer, "pinyin", pinyin)
        write_term_map(writer, "sounds", sounds)
        return len(vocabulary), avgdl

    def write_postings(self, writer: GenerationWriter, params: BM25Params, vocabulary: list[str],
                       statistics: Statistics | None = None, deleted: np.ndarray | None = None) -> float:
        """Lay the postings out term by term with their BM25 weights; returns the mean passage length
        they were weighted with. ``statistics`` (by default this corpus's own) turns the document
        frequencies of ``vocabulary``, the passage count and their total length into each term's idf
        and the mean passage length; passages ``deleted`` marks are not counted."""
        rank = np.empty(len(vocabulary), dtype=np.int32)
        rank[np.fromiter((self.term_ids[t] for t in vocabulary), dtype=np.int64, count=len(vocabulary))] = np.arange(
            len(vocabulary), dtype=np.int32
        )
        self.term_ids.clear()
        terms = rank[np.frombuffer(self.terms, dtype=np.int32)] if len(self.terms) else np.empty(0, dtype=np.int32)
        del self.terms
        docs = np.frombuffer(self.docs, dtype=np.int32)
        tfs = np.frombuffer(self.tfs, dtype=np.uint16)
        doc_len = np.frombuffer(self.doc_len, dtype=np.int32).copy()
        df = np.bincount(terms, minlength=len(vocabulary))
        offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=offsets[1:])
        if deleted is not None and deleted.any():
            live = ~deleted
            idf, avgdl = (statistics or own_statistics(params))(
                np.bincount(terms[live[docs]], minlength=len(vocabulary)), int(live.sum()), int(doc_len[live].sum()))
        else:
            idf, avgdl = (statistics or own_statistics(params))(df, len(doc_len), int(doc_len.sum()))
        if not len(terms):  # an empty corpus: nothing to lay out
            terms = np.empty(0, dtype=np.int32)
        out_docs = writer.open_array("post_docs", np.int32, len(terms))
        out_tfs = writer.open_array("post_tfs", np.uint16, len(terms))
        out_weights = writer.open_array("post_weights", np.float32, len(terms))
        cursor = offsets[:-1].copy()
        for start in range(0, len(terms), _SCATTER_CHUNK):  # passages ascend, so each term's list does too
            chunk = slice(start, start + _SCATTER_CHUNK)
            order = np.argsort(terms[chunk], kind="stable")
            chunk_terms = terms[chunk][order]
            counts = np.bincount(chunk_terms, minlength=len(vocabulary))
            first = np.cumsum(counts) - counts
            positions = cursor[chunk_terms] + (np.arange(len(chunk_terms)) - first[chunk_terms])
            chunk_docs = docs[chunk][order]
            chunk_tfs = tfs[chunk][order]
            out_docs[positions] = chunk_docs
            out_tfs[positions] = chunk_tfs
            out_weights[positions] = idf[chunk_terms] * term_frequency_part(
                chunk_tfs.astype(np.float64), doc_len[chunk_docs], avgdl, params
            )
            cursor += counts
        for array_ in (out_docs, out_tfs, out_weights):
            array_.flush()
        max_weights = np.maximum.reduceat(out_weights, offsets[:-1]) if len(terms) else np.empty(0, dtype=np.float32)
        writer.save_array("term_max_weight", np.asarray(max_weights, dtype=np.float32))
        writer.save_array("post_offsets", offsets)
        writer.save_array("idf", idf)
        writer.save_array("doc_len", doc_len)
        return avgdl


Statistics = Callable[[np.ndarray, int, int], tuple[np.ndarray, float]]


def own_statistics(params: BM25Params) -> Statistics:
    """BM25's idf and mean passage length from a corpus's own counts."""

    def statistics(df: np.ndarray, n_docs: int, total_length: int) -> tuple[np.ndarray, float]:
        return okapi_idf(df.astype(np.float64), n_docs, params.epsilon), total_length / n_docs if n_docs else 0.0

    return statistics


@contextmanager
def pinyin_keys(vocabulary: list[str], workers: int) -> Iterator[Iterable[str | None]]:
    """The pinyin key of each term in turn, computed by worker processes while the caller works on."""
    if workers == 1 or len(vocabulary) < 2 * _PINYIN_CHUNK:
        yield map(pinyin_key, vocabulary)
        return
    with multiprocessing.get_context("fork").Pool(workers, initializer=_die_with_parent) as pool:
        yield pool.imap(pinyin_key, vocabulary, _PINYIN_CHUNK)


def build_index(
    corpus: Path,
    index_root: Path,
    options: IndexOptions = IndexOptions(),
    workers: int | None = None,
    on_error: Callable[[str, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build a new generation of the index of ``corpus`` and make it current, atomically."""
    with build_lock(index_root):
        writer = GenerationWriter(index_root)
        try:
            report, manifest = build_generation(writer, corpus, options, workers, on_error, progress)
            report.path = writer.publish(manifest)
        except BaseException:
            writer.discard()
            raise
    return report


def build_generation(
    writer: GenerationWriter,
    corpus: Path,
    options: IndexOptions = IndexOptions(),
    workers: int | None = None,
    on_error: Callable[[str, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[BuildReport, dict]:
    """Write a whole generation of the index of ``corpus`` into ``writer``; returns the report and
    the manifest to publish it with."""
    if not corpus.exists():
        raise FileNotFoundError(f"corpus not found: {corpus}")
    report = BuildReport()
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1

    def skipped(name: str, reason: str) -> None:
        report.skipped.append((name, reason))
        if on_error:
            on_error(name, reason)

    def counted(documents: Iterable) -> Iterator:
        for document in documents:
            report.documents += 1
            yield document

    files = scan_corpus(corpus, skipped)
    fingerprint = corpus_fingerprint(corpus, files)
    collector = PostingsCollector()
    passages = RecordFileWriter(writer, "passages")
    identity = PassageIdentity([file.name for file in files])
    articles = ArticleCollector()
    repeats: dict[int, list[dict]] = {}
    replaced = array("q")  # passages of documents a newer version (same id) replaced

    ages = {file.name: file.mtime_ns for file in files}
    stream = unique_passages(counted(read_corpus(corpus, skipped, files)), options.passages,
                             lambda number, passage: add_repeat(repeats, number, passage), replaced.extend,
                             lambda document: ages.get(document.path, 0))
    for batch, segmented, sketches in segment_passages(stream, options, workers, report):
        for passage in batch:
            passages.append(citation_record(passage))
            identity.add(passage)
            report.characters += len(passage.text)
        articles.add(batch, sketches)
        collector.add(segmented)
        report.passages += len(batch)
        if progress:
            progress(len(batch))
    passages.close()
    if not report.passages:
        raise EmptyCorpusError(_nothing_read(corpus, files, report))
    write_repeats(writer, repeats)
    identity.save(writer)
    deleted = np.zeros(report.passages, dtype=bool)
    deleted[np.frombuffer(replaced, dtype=np.int64)] = True
    writer.save_array("deleted_passages", np.flatnonzero(deleted))
    copies = articles.save(writer, StoryGrouping(options.stories).stories(articles.sketches(), articles.days()))
    day_array = articles.passage_days()
    dated = day_array[(day_array != UNDATED) & ~deleted]
    report.terms, avgdl = collector.write(writer, options.bm25, workers, options.ecdict, deleted)
    manifest = {
        **options.signature(),
        "corpus": str(corpus),
        "corpus_fingerprint": fingerprint,
        "kind": "full",
        "corpus_files": [file_state(file) for file in files],
        "n_passages": int(report.passages - deleted.sum()),
        "n_slots": report.passages,
        "n_documents": report.documents,
        "n_copies": copies,  # articles that are another outlet's copy of a story (index.neardup)
        "n_terms": report.terms,
        "avgdl": avgdl,
        "oldest_date": day_date(dated.min()).isoformat() if len(dated) else None,
        "newest_date": day_date(dated.max()).isoformat() if len(dated) else None,
        "undated_passages": int(report.passages - deleted.sum() - len(dated)),
        "pinyin_syllables": sorted(pinyin_syllables()),
        "skipped": [f"{name}: {reason}" for name, reason in report.skipped],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    report.passages = manifest["n_passages"]
    report.seconds = time.perf_counter() - started
    return report, manifest


class ArticleCollector:
    """Each passage's article (numbered in corpus order from ``first``), and each article's date and
    sketch, for grouping syndicated copies into stories (``index.neardup``) and dating passages."""

    def __init__(self, first: int = 0) -> None:
        self.first, self.of_passage, self._days = first, array("i"), array("i")
        self._sketches: list[Sketches] = []
        self._previous: Document | None = None

    def add(self, batch: list[Passage], sketches: Sketches) -> None:
        """A batch of passages and the sketches of the articles that begin in it."""
        for passage in batch:
            if passage.doc is not self._previous:  # as :func:`_new_articles` counts them
                self._previous = passage.doc
                self._days.append(day_number(passage.doc.date))
            self.of_passage.append(self.first + len(self._days) - 1)
        self._sketches.append(sketches)

    def sketches(self) -> Sketches:
        return Sketches.join(self._sketches)

    def days(self) -> np.ndarray:
        """Each article's date, as a day number."""
        return np.frombuffer(self._days, dtype=np.int32)

    def passage_days(self) -> np.ndarray:
        """Each passage's article date, as a day number."""
        return self.days()[np.frombuffer(self.of_passage, dtype=np.int32) - self.first]

    def save(self, writer: GenerationWriter, stories: np.ndarray) -> int:
        """Write each passage's article and date, and each article's story, date and sketch; returns
        how many of these articles are copies of an earlier one (another outlet's run of its story)."""
        sketches = self.sketches()
        writer.save_array("passage_article", np.frombuffer(self.of_passage, dtype=np.int32))
        writer.save_array("passage_days", self.passage_days())
        writer.save_array("article_stories", stories.astype(np.int32))
        writer.save_array("article_days", self.days())
        writer.save_array("article_signatures", sketches.signatures.reshape(-1))
        writer.save_array("article_sizes", sketches.sizes)
        writer.save_array("article_numbers", sketches.numbers)
        writer.save_array("article_number_offsets", sketches.number_offsets)
        return int((stories != self.first + np.arange(len(stories))).sum())


def load_articles(generation: Path) -> tuple[Sketches, np.ndarray, np.ndarray]:
    """The sketches, dates and stories of a generation's articles (memory-mapped)."""
    stories, days = load_array(generation, "article_stories"), load_array(generation, "article_days")
    signatures = load_array(generation, "article_signatures")
    sketches = Sketches(signatures.reshape(-1, SLOTS) if len(signatures) % SLOTS == 0 else signatures,
                        *(load_array(generation, f"article_{name}") for name in ("sizes", "numbers", "number_offsets")))
    if not (len(days) == len(sketches.signatures) == len(sketches.sizes) == len(sketches.number_offsets) - 1 == len(stories)) \
            or sketches.signatures.ndim != 2 or int(sketches.number_offsets[-1]) != len(sketches.numbers):
        raise IndexFormatError("the article arrays do not fit together: the index is damaged")
    return sketches, days, stories


class PassageIdentity:
    """Each passage's text fingerprint, document and corpus file, saved beside the index so that an
    update can find the repeats of new passages and the passages a changed document replaces."""

    def __init__(self, file_names: list[str]) -> None:
        self.file_numbers = {name: number for number, name in enumerate(file_names)}
        self.keys, self.docs, self.files = array("q"), array("q"), array("i")

    def add(self, passage: Passage) -> None:
        self.keys.append(passage_key(passage.text))
        self.docs.append(document_key(passage.doc.doc_id))
        self.files.append(self.file_numbers.get(passage.doc.path, -1))

    def save(self, writer: GenerationWriter) -> None:
        writer.save_array("passage_keys", np.frombuffer(self.keys, dtype=np.int64))
        writer.save_array("passage_docs", np.frombuffer(self.docs, dtype=np.int64))
        writer.save_array("passage_files", np.frombuffer(self.files, dtype=np.int32))


def _nothing_read(corpus: Path, files: list[CorpusFile], report: BuildReport) -> str:
    if not files:
        return f"no news files in {corpus} (looked for .txt, .md, .jsonl and .jsonl.gz)"
    if report.documents:
        return f"the {report.documents} document(s) in {corpus} hold no text"
    return f"none of the {len(files)} news file(s) in {corpus} could be read ({len(report.skipped)} problem(s) reported)"


def segment_passages(
    stream: Iterable[Passage], options: IndexOptions, workers: int, report: BuildReport
) -> Iterator[tuple[list[Passage], SegmentedBatch, Sketches]]:
    """Yield each batch of passages with its segmentation and the sketches of the articles that
    begin in it (:func:`_new_articles`), in corpus order."""
    batches = _batches(stream, _BATCH)
    head = list(islice(batches, _PARALLEL_FROM // _BATCH))
    if workers == 1 or len(head) < _PARALLEL_FROM // _BATCH:
        segmenter = Segmenter(options.analyzer)
        for batch, articles in _with_article_texts(chain(head, batches)):
            t0 = time.perf_counter()
            segmented = segmenter.segment([p.searchable_text(options.passages) for p in batch])
            sketches = sketch_articles(articles, options.stories)
            report.segment_seconds += time.perf_counter() - t0
            yield batch, segmented, sketches
        return
    context = multiprocessing.get_context("fork")
    in_flight = threading.Semaphore(_BATCHES_IN_FLIGHT)  # bounds memory: reading waits for segmenting
    stopping = threading.Event()
    sent: deque[list[Passage]] = deque()

    def work() -> Iterator[tuple[list[str], list[str]]]:  # runs in the pool's feeder thread, overlapping the work below
        for batch, articles in _with_article_texts(chain(head, batches)):
            in_flight.acquire()
            if stopping.is_set():
                return
            sent.append(batch)
            yield [p.searchable_text(options.passages) for p in batch], articles

    started = time.perf_counter()
    with context.Pool(workers, initializer=_init_worker, initargs=(options.analyzer, options.stories)) as pool:
        try:
            for segmented, sketches in pool.imap(_segment_batch, work()):
                batch = sent.popleft()
                in_flight.release()
                yield batch, segmented, sketches
        finally:  # let a feeder waiting for a slot finish, so the pool can shut down
            stopping.set()
            for _ in range(_BATCHES_IN_FLIGHT):
                in_flight.release()
    report.segment_seconds = time.perf_counter() - started
