"""Updating an index in seconds: what changed in the corpus since the last full build becomes a
delta generation beside it (``index.segments`` reads the two as one), instead of a rebuild.

What counts as a change, file by file against the full build's record of the corpus:

- a new file: all its documents are added;
- a JSON Lines file that grew with its old content intact (news appended): the new lines are added;
- any other change, or a file gone: its passages are deleted (and its documents added again);
- a document whose id is already indexed replaces the older version (its passages are deleted).

Each update writes the whole delta since the full build again (never a delta of a delta), so a
delta stays one small segment. When it would hold more than ``max_share`` of the base, or would
have to bring back a passage the base dropped as a repeat, a full build runs instead. Either way
scores are BM25 over the whole live corpus, as a full build of it would give.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from index.bm25 import okapi_idf
from index.build import (
    ArticleCollector,
    BuildReport,
    EmptyCorpusError,
    IndexOptions,
    PostingsCollector,
    Segmenter,
    add_repeat,
    build_generation,
    build_index,
    citation_record,
    corpus_fingerprint,
    load_articles,
    pinyin_keys,
    segment_passages,
)
from index.documents import CorpusFile, Document, document_key, prefix_state, read_corpus, read_jsonl_file, scan_corpus
from index.lexicon import build_maps
from index.metadata import UNDATED, day_date
from index.neardup import StoryGrouping
from index.passages import Passage, passage_key, searchable_text, unique_passages
from index.store import (
    GenerationWriter,
    IndexFormatError,
    PassageFile,
    RecordFileWriter,
    StringTable,
    build_lock,
    current_generation,
    load_array,
    make_current_generation,
    read_manifest,
    write_repeats,
    write_string_table,
    write_term_map,
)

MAX_DELTA_SHARE = 0.2  # a delta larger than this share of the base's passages is a full build instead


@dataclass
class UpdateReport(BuildReport):
    """A build report that says how the index was brought up to date."""

    how: str = "unchanged"  # "unchanged", "delta" or "full" (with ``why``)
    why: str = ""
    added: int = 0  # passages added by the delta
    deleted: int = 0  # base passages it deletes
    changed_files: list[str] = field(default_factory=list)


class _FullBuildNeeded(Exception):
    """This change is better made by a full build; the message says why."""


def update_index(corpus: Path, index_root: Path, options: IndexOptions = IndexOptions(), workers: int | None = None,
                 on_error: Callable[[str, str], None] | None = None, max_share: float = MAX_DELTA_SHARE) -> UpdateReport:
    """Bring the index of ``corpus`` up to date: nothing when it is, a delta over the last full build
    when that will do, else a full build. Atomic either way, like :func:`~index.build.build_index`."""
    started = time.perf_counter()
    with build_lock(index_root):
        try:
            report = _update(corpus, index_root, options, workers, on_error, max_share)
        except _FullBuildNeeded as why:
            report = UpdateReport(how="full", why=str(why))
    if report.how == "full":
        built = build_index(corpus, index_root, options, workers, on_error)
        report = UpdateReport(**{**vars(built), "how": "full", "why": report.why})
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Base:
    """The full generation a delta builds on, and what an update needs from it."""

    path: Path
    manifest: dict

    def __post_init__(self) -> None:
        for name in ("passage_keys", "passage_docs", "passage_files", "doc_len", "post_offsets", "repeated_passages"):
            setattr(self, name, load_array(self.path, name))
        self.n = len(self.doc_len)  # passage slots, deleted ones included
        self.deleted = np.zeros(self.n, dtype=bool)  # the older versions of replaced documents
        self.deleted[load_array(self.path, "deleted_passages")] = True


def _base_of(index_root: Path, options: IndexOptions) -> _Base:
    current = current_generation(index_root)
    if current is None:
        raise _FullBuildNeeded("there is no index yet")
    try:
        manifest = read_manifest(current)
        if any(manifest.get(key) != value for key, value in options.signature().items()):
            raise _FullBuildNeeded("the index was built with other settings")
        if manifest.get("kind") == "delta":
            current = index_root / manifest["base"]
            manifest = read_manifest(current)
        return _Base(current, manifest)
    except (IndexFormatError, KeyError, TypeError) as exc:
        raise _FullBuildNeeded(f"the index on disk cannot be updated ({exc})") from None


def merge_index(corpus: Path, index_root: Path, options: IndexOptions = IndexOptions(), workers: int | None = None,
                on_error: Callable[[str, str], None] | None = None) -> UpdateReport:
    """Fold the delta into a new full build without holding up updates meanwhile: the build is
    written beside the index unlocked; then, under the lock, what changed since it began becomes a
    delta over it, and that (or the build itself) is made current."""
    started = time.perf_counter()
    writer = GenerationWriter(index_root)
    try:
        built, manifest = build_generation(writer, corpus, options, workers, on_error)
        with build_lock(index_root):
            base = writer.publish(manifest, make_current=False)
            try:
                report = _update(corpus, index_root, options, workers, on_error, MAX_DELTA_SHARE, base=_Base(base, manifest))
            except _FullBuildNeeded:  # much changed meanwhile: the next update or merge takes it
                report = UpdateReport(how="unchanged")
            if report.how == "unchanged":
                make_current_generation(index_root, base)
                report = UpdateReport(**{**vars(built), "path": base, "how": "full", "why": "merged"})
    except BaseException:
        writer.discard()
        raise
    report.seconds = time.perf_counter() - started
    return report


_merges: list[multiprocessing.process.BaseProcess] = []  # started here; stopped if this process exits first


def merge_in_background(corpus: Path, index_root: Path, options: IndexOptions) -> multiprocessing.process.BaseProcess:
    """Run :func:`merge_index` in a new process at low CPU priority, so questions keep their speed.
    It is stopped if this process exits first (what it wrote so far is discarded)."""
    process = multiprocessing.get_context("spawn").Process(target=_merge_process, args=(corpus, index_root, options),
                                                           name="newsbot-merge")  # not a daemon: it starts build workers
    process.start()
    _merges[:] = [p for p in _merges if p.is_alive()] + [process]
    return process


@atexit.register
def _stop_merges() -> None:
    for process in _merges:
        if process.is_alive():
            process.terminate()
            process.join(timeout=10)


def _merge_process(corpus: Path, index_root: Path, options: IndexOptions) -> None:
    os.nice(10)
    try:
        report = merge_index(corpus, index_root, options)
    except (OSError, EmptyCorpusError) as exc:
        print(f"newsbot: the background merge of {index_root} failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"newsbot: merged {index_root} into a full build of {report.passages:,} passages in {report.seconds:.1f} s",
          file=sys.stderr)


def _update(corpus: Path, index_root: Path, options: IndexOptions, workers: int | None,
            on_error: Callable[[str, str], None] | None, max_share: float, base: _Base | None = None) -> UpdateReport:
    """The update as a delta (over ``base``, by default the current full build), or the reason a
    full build is needed; "unchanged" when the index (or ``base``) is already of this corpus."""
    report = UpdateReport()

    def skipped(name: str, reason: str) -> None:
        report.skipped.append((name, reason))
        if on_error:
            on_error(name, reason)

    files = scan_corpus(corpus, skipped)
    fingerprint = corpus_fingerprint(corpus, files)
    current = base.path if base is not None else current_generation(index_root)
    if current is not None and _manifest_or_none(current).get("corpus_fingerprint") == fingerprint:
        report.path = current
        return report
    base = base or _base_of(index_root, options)
    reads, gone = _changes(files, base.manifest.get("corpus_files") or [], skipped)
    report.changed_files = [file.name for file, _, _ in reads] + gone
    ages = {file.name: file.mtime_ns for file in files}
    documents = _latest_versions(chain.from_iterable(_documents(file, start, lines, skipped) for file, start, lines in reads), ages)
    numbers = {state["name"]: i for i, state in enumerate(base.manifest["corpus_files"])}
    files_changed = [numbers[name] for name in gone] + [numbers[f.name] for f, start, _ in reads if not start and f.name in numbers]
    newly = np.isin(base.passage_files, files_changed) & ~base.deleted
    documents, replaced = _newer_than_base(base, documents, ages, ~(base.deleted | newly))
    newly |= replaced
    report.documents = len(documents)
    if np.isin(np.flatnonzero(newly), base.repeated_passages).any():
        raise _FullBuildNeeded("a deleted passage was repeated elsewhere")
    deleted = base.deleted | newly
    delta = _DeltaPassages(base, deleted, documents, options)
    report.added, report.deleted = len(delta.passages), int(newly.sum())
    if report.added + report.deleted > max_share * base.n:
        raise _FullBuildNeeded(f"{report.added + report.deleted:,} passages changed, over {max_share:.0%} of {base.n:,}")
    writer = GenerationWriter(index_root)
    try:
        report.path = _write_delta(writer, base, delta, deleted, options, workers or os.cpu_count() or 1, report, {
            "corpus": str(corpus),
            "corpus_fingerprint": fingerprint,
            "skipped": [f"{name}: {reason}" for name, reason in report.skipped],
        })
    except BaseException:
        writer.discard()
        raise
    report.how, report.passages = "delta", int(base.n - deleted.sum()) + report.added
    return report


def _manifest_or_none(generation: Path) -> dict:
    try:
        return read_manifest(generation)
    except IndexFormatError:
        return {}


def _changes(files: list[CorpusFile], recorded: list[dict], skipped: Callable[[str, str], None]
             ) -> tuple[list[tuple[CorpusFile, int, int]], list[str]]:
    """The files to read (each with the byte and line to start from: 0, 0 for all of it) and the
    names of the recorded files that are gone."""
    states = {state["name"]: state for state in recorded}
    reads = []
    for file in files:
        old = states.get(file.name)
        if old is None:
            reads.append((file, 0, 0))
        elif (old["size"], old["mtime_ns"]) != (file.size, file.mtime_ns):
            reads.append((file, *_appended_from(file, old, skipped)))
    present = {file.name for file in files}
    return reads, [name for name in states if name not in present]


def _appended_from(file: CorpusFile, old: dict, skipped: Callable[[str, str], None]) -> tuple[int, int]:
    """Where the new lines of a JSON Lines file start when only lines were appended, else (0, 0)."""
    if "sha256" not in old or file.size <= old["size"] or not old.get("ends_line"):
        return 0, 0
    try:
        prefix = prefix_state(file.path, old["size"])
    except OSError as exc:
        skipped(file.name, str(exc))
        return 0, 0
    return (old["size"], old["lines"]) if prefix["sha256"] == old["sha256"] else (0, 0)


def _documents(file: CorpusFile, start: int, lines: int, skipped: Callable[[str, str], None]) -> Iterator[Document]:
    if start:
        return read_jsonl_file(file, skipped, start, lines)
    return read_corpus(file.path.parent, skipped, [file])


def _latest_versions(documents: Iterable[Document], ages: dict[str, int]) -> list[Document]:
    """Each document once: of the versions sharing an id, the one from the most recently changed
    file, the later on a tie (as a full build keeps them)."""
    latest: dict[str, Document] = {}
    for document in documents:
        earlier = latest.get(document.doc_id)
        if earlier is None or ages.get(document.path, 0) >= ages.get(earlier.path, 0):
            latest.pop(document.doc_id, None)
            latest[document.doc_id] = document
    return list(latest.values())


def _newer_than_base(base: _Base, documents: list[Document], ages: dict[str, int], live: np.ndarray
                     ) -> tuple[list[Document], np.ndarray]:
    """The documents to add, and the base passages they replace: a document whose id the base holds
    replaces that version unless the base's file changed more recently (then it is the older one)."""
    keys = np.fromiter((document_key(d.doc_id) for d in documents), dtype=np.int64, count=len(documents))
    matched = np.flatnonzero(np.isin(base.passage_docs, keys) & live)
    recorded = base.manifest["corpus_files"]
    base_age: dict[int, int] = {}
    for number in matched:
        file = int(base.passage_files[number])
        age = recorded[file]["mtime_ns"] if 0 <= file < len(recorded) else 0
        key = int(base.passage_docs[number])
        base_age[key] = max(base_age.get(key, age), age)
    kept = [d for d, key in zip(documents, keys.tolist()) if ages.get(d.path, 0) >= base_age.get(key, 0)]
    dropped = {int(key) for d, key in zip(documents, keys.tolist()) if ages.get(d.path, 0) < base_age.get(key, 0)}
    replaced = np.zeros(base.n, dtype=bool)
    replaced[[n for n in matched if int(base.passage_docs[n]) not in dropped]] = True
    return kept, replaced


class _DeltaPassages:
    """The new passages: distinct among themselves and from the base's live ones; repeats of either
    are recorded where they belong (numbered overall)."""

    def __init__(self, base: _Base, deleted: np.ndarray, documents: list[Document], options: IndexOptions) -> None:
        local_repeats: dict[int, list[dict]] = {}
        found = list(unique_passages(documents, options.passages, lambda n, p: add_repeat(local_repeats, n, p)))
        self.repeats: dict[int, list[dict]] = {}
        self.passages: list[Passage] = []
        in_base = _live_base_passage(base, deleted, [passage_key(p.text) for p in found]) if options.passages.dedupe else [-1] * len(found)
        for local, (passage, at) in enumerate(zip(found, in_base)):
            if at >= 0:  # the base has it word for word
                add_repeat(self.repeats, at, passage)
                for other in local_repeats.get(local, []):
                    self.repeats.setdefault(at, []).append(other)
                continue
            number = base.n + len(self.passages)
            if local in local_repeats:
                self.repeats[number] = local_repeats[local]
            self.passages.append(passage)


def _live_base_passage(base: _Base, deleted: np.ndarray, keys: list[int]) -> list[int]:
    """For each key, the number of the live base passage with that text, or -1."""
    order = np.argsort(base.passage_keys, kind="stable")
    sorted_keys = base.passage_keys[order]
    wanted = np.array(keys, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, wanted), max(len(sorted_keys) - 1, 0))
    result = []
    for key, start in zip(wanted, at):
        number = -1
        for i in range(int(start), len(sorted_keys)):  # equal keys sit together; take the first live one
            if sorted_keys[i] != key:
                break
            if not deleted[order[i]]:
                number = int(order[i])
                break
        result.append(number)
    return result


def _write_delta(writer: GenerationWriter, base: _Base, delta: _DeltaPassages, deleted: np.ndarray,
                 options: IndexOptions, workers: int, report: UpdateReport, extra: dict) -> Path:
    """Segment the new passages, work out the BM25 statistics of the whole live corpus and write the
    delta generation; returns it, made current."""
    collector = PostingsCollector()
    passages = RecordFileWriter(writer, "passages")
    base_sketches, base_article_days, base_stories = load_articles(base.path)
    articles = ArticleCollector(first=len(base_stories))
    for batch, segmented, sketches in segment_passages(delta.passages, options, workers, report):
        for passage in batch:
            passages.append(citation_record(passage))
            report.characters += len(passage.text)
        articles.add(batch, sketches)
        collector.add(segmented)
    passages.close()
    copies = articles.save(writer, StoryGrouping(options.stories).stories(articles.sketches(), articles.days(), base_sketches,
                                                                          base_article_days, base_stories))
    write_repeats(writer, delta.repeats)
    vocabulary = sorted(collector.term_ids)
    base_terms = StringTable.open(base.path)
    overall = np.array([-1 if (t := base_terms.id(term)) is None else t for term in vocabulary], dtype=np.int64)
    added = [term for term, t in zip(vocabulary, overall) if t < 0]
    overall[overall < 0] = len(base_terms) + np.arange(len(added))
    n_terms = len(base_terms) + len(added)
    df = np.zeros(n_terms, dtype=np.int64)
    df[: len(base_terms)] = np.diff(base.post_offsets) - _deleted_df(base, deleted, options, base_terms)
    live_length = int(base.doc_len.sum()) - int(base.doc_len[deleted].sum())
    n_live = base.n - int(deleted.sum())
    idf = np.zeros(n_terms)
    overall_avgdl = 0.0

    def statistics(local_df: np.ndarray, n_docs: int, total_length: int) -> tuple[np.ndarray, float]:
        nonlocal overall_avgdl
        df[overall] += local_df
        n = n_live + n_docs
        idf[:] = okapi_idf(df.astype(np.float64), n, options.bm25.epsilon)
        overall_avgdl = (live_length + total_length) / n if n else 0.0
        return idf[overall], overall_avgdl

    collector.write_postings(writer, options.bm25, vocabulary, statistics)
    write_string_table(writer, vocabulary)
    writer.save_array("delta_terms", overall)
    writer.save_array("overall_idf", idf)
    writer.save_array("overall_df", df)
    writer.save_array("deleted_passages", np.flatnonzero(deleted).astype(np.int64))
    day_array = articles.passage_days()
    _write_added_maps(writer, added, len(base_terms), options, workers)
    base_days = load_array(base.path, "passage_days")[~deleted]
    dated = np.concatenate([base_days[base_days != UNDATED], day_array[day_array != UNDATED]])
    manifest = {
        **options.signature(),
        **extra,
        "kind": "delta",
        "base": base.path.name,
        "n_passages": n_live + len(delta.passages),
        "n_delta_passages": len(delta.passages),
        "n_deleted": int(deleted.sum()),
        "n_slots": base.n + len(delta.passages),
        "n_documents": base.manifest["n_documents"] + report.documents,
        "n_copies": base.manifest["n_copies"] + copies,
        "n_terms": n_terms,
        "avgdl": overall_avgdl,
        "oldest_date": day_date(dated.min()).isoformat() if len(dated) else None,
        "newest_date": day_date(dated.max()).isoformat() if len(dated) else None,
        "undated_passages": int(len(base_days) + len(day_array) - len(dated)),
        "pinyin_syllables": base.manifest["pinyin_syllables"],
        "changed_files": report.changed_files,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return writer.publish(manifest)


def _deleted_df(base: _Base, deleted: np.ndarray, options: IndexOptions, base_terms: StringTable) -> np.ndarray:
    """How many deleted passages hold each base term: their text is segmented again, as the build did."""
    df = np.zeros(len(base_terms), dtype=np.int64)
    numbers = np.flatnonzero(deleted)
    records, segmenter = PassageFile(base.path), Segmenter(options.analyzer)
    counts = np.zeros(0, dtype=np.int64)
    for start in range(0, len(numbers), 256):
        texts = [searchable_text(r["text"], r["title"], r["heading"], options.passages)
                 for r in (records[int(n)] for n in numbers[start : start + 256])]
        local = np.frombuffer(segmenter.segment(texts).terms, dtype=np.int32)
        counts = np.bincount(local, minlength=len(segmenter.term_ids)) + np.pad(counts, (0, len(segmenter.term_ids) - len(counts)))
    for term, count in zip(segmenter.term_ids, counts):  # in local id order
        term_id = base_terms.id(term)
        if term_id is None:
            raise _FullBuildNeeded("a deleted passage does not segment as it was indexed")
        df[term_id] += count
    return df


def _write_added_maps(writer: GenerationWriter, added: list[str], first: int, options: IndexOptions, workers: int) -> None:
    """The cross-language maps of the terms only the delta has, their term ids overall."""
    with pinyin_keys(added, workers) as keys:
        maps = build_maps(added, keys, options.ecdict)
    for name, mapping in zip(("lexicon", "names", "pinyin", "sounds"), maps):
        write_term_map(writer, name, {key: [first + t for t in terms] for key, terms in mapping.items() if terms})
