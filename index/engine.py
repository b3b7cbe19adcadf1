"""The engine: an index that is always there and fresh, built automatically when missing or stale,
rebuilt when damaged, and kept in use when it cannot be rebuilt."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path

from index.analysis import Analyzer
from index.build import BuildReport, EmptyCorpusError, IndexOptions, build_index, corpus_fingerprint
from index.lexicon import preload
from index.search import Answer, OpenIndex, SearchOptions
from index.store import IndexFormatError, base_name, check_files, current_generation, read_manifest
from index.update import merge_in_background, update_index

log = logging.getLogger(__name__)
# A delta over this share of its base's passages, or over this many, is merged into a new full
# build in the background (updates rewrite the whole delta, so it is kept small).
MERGE_SHARE = 0.05
MERGE_PASSAGES = 50_000
# Asked once when the engine warms up, so that every table a question may need is loaded before
# the first real one (English words load the lemmatiser, Chinese ones the converters).
WARM_UP_QUESTIONS = ("who leads the news today?", "今天的新闻说了什么?")


class IndexUnavailable(Exception):
    """No index can answer: none can be built and none usable is on disk. The message says why, on one line."""


class Engine:
    """Answers questions over ``corpus`` from the index in ``index_dir``.

    With ``verify_content`` every file of the index is checked against its checksum when it is
    opened (a second per gigabyte); without it only sizes and shapes are checked."""

    def __init__(
        self,
        corpus: Path,
        index_dir: Path,
        options: IndexOptions = IndexOptions(),
        search: SearchOptions = SearchOptions(),
        on_build: Callable[[], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
        verify_content: bool = False,
    ) -> None:
        self.corpus = Path(corpus)
        self.index_dir = Path(index_dir)
        self.options = options
        self.search_options = search
        self.verify_content = verify_content
        self._on_build = on_build
        self._on_error = on_error
        self._open: OpenIndex | None = None
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._merge: multiprocessing.process.BaseProcess | None = None

    def _built_with_these_options(self, manifest: dict) -> bool:
        return all(manifest.get(key) == value for key, value in self.options.signature().items())

    def is_fresh(self) -> bool:
        """True when the current index was built from this corpus with these options."""
        return self._fresh(current_generation(self.index_dir), corpus_fingerprint(self.corpus))

    def _fresh(self, generation: Path | None, fingerprint: str) -> bool:
        if generation is None:
            return False
        try:
            manifest = read_manifest(generation)
        except IndexFormatError:
            return False
        return self._built_with_these_options(manifest) and manifest.get("corpus_fingerprint") == fingerprint

    def build(self, **kwargs) -> BuildReport:
        report = build_index(self.corpus, self.index_dir, self.options, on_error=self._on_error, **kwargs)
        with self._lock:
            self._open = None
        return report

    def index(self) -> OpenIndex:
        """The open index, building it first if it is missing, stale or damaged.

        Raises :class:`IndexUnavailable` when no index can be built and none on disk can be used."""
        with self._lock:
            if self._open is None:
                self._open = self._open_or_build()
            return self._open

    def _open_or_build(self) -> OpenIndex:
        generation = current_generation(self.index_dir)
        damaged = False
        if generation is not None and self.is_fresh():
            try:
                return self._open_generation(generation)
            except IndexFormatError as exc:
                log.warning("the index in %s is damaged (%s); rebuilding it", self.index_dir, exc)
                damaged = True
        if self._on_build:
            self._on_build()
        try:
            if damaged:
                build_index(self.corpus, self.index_dir, self.options, on_error=self._on_error)
            else:  # missing or stale: a delta over the full build does, when it is sound
                update_index(self.corpus, self.index_dir, self.options, on_error=self._on_error)
        except (OSError, EmptyCorpusError) as exc:
            reason = _reason(exc)
            fallback = self._stale_but_usable(generation)
            if fallback is None:
                raise IndexUnavailable(f"cannot build the index in {self.index_dir}: {reason}") from None
            log.warning("could not rebuild the index in %s (%s); answering from the one built at %s",
                        self.index_dir, reason, fallback.manifest.get("built_at"))
            return fallback
        built = current_generation(self.index_dir)
        if built is None:
            raise IndexUnavailable(f"the index in {self.index_dir} vanished right after it was built")
        try:
            return self._open_generation(built)
        except IndexFormatError as exc:
            if not damaged and built.name != getattr(generation, "name", None):
                log.warning("the updated index in %s does not open (%s); rebuilding it in full", self.index_dir, exc)
                return self._rebuilt_in_full()
            raise IndexUnavailable(f"the index just built in {self.index_dir} does not open: {exc}") from None

    def _rebuilt_in_full(self) -> OpenIndex:
        try:
            build_index(self.corpus, self.index_dir, self.options, on_error=self._on_error)
            return self._open_generation(current_generation(self.index_dir))
        except (OSError, EmptyCorpusError, IndexFormatError, TypeError) as exc:
            raise IndexUnavailable(f"the index just built in {self.index_dir} does not open: {_reason(exc)}") from None

    def _open_generation(self, generation: Path, content: bool | None = None) -> OpenIndex:
        """Open a generation, checking every file's checksum first when ``content`` (by default
        ``verify_content``); a damaged one raises :class:`IndexFormatError`."""
        if self.verify_content if content is None else content:
            problems = _checksum_problems(generation)
            if problems:
                raise IndexFormatError("; ".join(problems))
        try:
            return OpenIndex(generation, Analyzer(self.options.analyzer), self.search_options)
        except (KeyError, TypeError, ValueError) as exc:  # a manifest that lacks or garbles a field
            raise IndexFormatError(f"manifest.json: {type(exc).__name__} {exc}") from None

    def _stale_but_usable(self, generation: Path | None) -> OpenIndex | None:
        """An index on disk built with these options from an older corpus, if it is intact."""
        if generation is None:
            return None
        try:
            if not self._built_with_these_options(read_manifest(generation)):
                return None
            return self._open_generation(generation)
        except IndexFormatError:
            return None

    def warm(self) -> None:
        """Open the index and load everything a question may need, once, before serving: a first
        question then costs what any other does, and many at once do not each load the tables."""
        index = self.index()
        for question in WARM_UP_QUESTIONS:
            index.search(question, 1)

    def prepare_updates(self) -> None:
        """Load the dictionaries an update needs for the English forms of new words, so that news
        arriving later is searchable in seconds (a process that only answers need not)."""
        preload(self.options.ecdict)

    def verify(self) -> list[str]:
        """Every problem of the current index: missing, stale, files that fail their checksums, or
        arrays that do not fit together. Empty when it is sound and fresh."""
        generation = current_generation(self.index_dir)
        if generation is None:
            return [f"{self.index_dir}: no index"]
        try:
            problems = _checksum_problems(generation)
            if not problems:
                self._open_generation(generation, content=False)
        except IndexFormatError as exc:
            problems = [str(exc)]
        if not problems and not self.is_fresh():
            problems.append("stale: the corpus or the settings changed since it was built")
        return problems

    def refresh(self) -> bool:
        """Switch to a newer index when the corpus changed or another process published a newer
        generation. The open index keeps answering while the change is indexed (as a delta over the
        full build, in seconds); the switch happens between questions (a question holds the index it
        started with). A delta grown large is merged into a new full build by a background process.
        True when it switched.

        A failed update leaves the open index in use and is logged; this never raises for it."""
        with self._refreshing:
            with self._lock:
                current = self._open
            if current is None:
                self.index()
                return True
            on_disk, fingerprint = current_generation(self.index_dir), corpus_fingerprint(self.corpus)
            if on_disk is not None and on_disk != current.generation and self._fresh(on_disk, fingerprint):
                return self._switch_to(on_disk)
            if current.manifest.get("corpus_fingerprint") == fingerprint:
                self._merge_if_large(current.manifest)
                return False
            try:
                update_index(self.corpus, self.index_dir, self.options, on_error=self._on_error)
            except (OSError, EmptyCorpusError) as exc:
                log.warning("could not update the index in %s (%s); still answering from the one built at %s",
                            self.index_dir, _reason(exc), current.manifest.get("built_at"))
                return False
            built = current_generation(self.index_dir)
            switched = built is not None and self._switch_to(built)
            self._merge_if_large(self.index().manifest)
            return switched

    def _merge_if_large(self, manifest: dict) -> None:
        """Start merging a large delta into a new full build in a background process, unless one runs."""
        if manifest.get("kind") != "delta" or (self._merge is not None and self._merge.is_alive()):
            return
        changed = manifest["n_delta_passages"] + manifest["n_deleted"]
        if changed > min(MERGE_PASSAGES, MERGE_SHARE * manifest["n_slots"]):
            log.info("merging %s changed passages into a new full build in the background", f"{changed:,}")
            self._merge = merge_in_background(self.corpus, self.index_dir, self.options)

    def close(self) -> None:
        """Stop a background merge (what it wrote so far is discarded; the index in use stays)."""
        if self._merge is not None and self._merge.is_alive():
            self._merge.terminate()
            self._merge.join(timeout=10)

    def _switch_to(self, generation: Path) -> bool:
        try:
            new = self._open_generation(generation)
        except IndexFormatError as exc:
            log.warning("the new index generation %s does not open (%s); still answering from the open one", generation.name, exc)
            return False
        for question in WARM_UP_QUESTIONS:
            new.search(question, 1)
        with self._lock:
            self._open = new
        log.info("switched to index generation %s (%s passages)", generation.name, f"{new.manifest['n_passages']:,}")
        return True

    def ask(self, question: str, top_k: int = 3, context: str | None = None) -> Answer:
        """Answer ``question``; ``context`` is the question it follows up on, if any."""
        return self.index().search(question, top_k, context)


def _checksum_problems(generation: Path) -> list[str]:
    """Every file of the generation (and of the full build a delta builds on) against its checksum."""
    problems = check_files(generation, read_manifest(generation), content=True)
    base = base_name(generation)
    if base is not None and not problems:
        problems = [f"{base}/{problem}" for problem in check_files(generation.parent / base, read_manifest(generation.parent / base),
                                                                   content=True)]
    return problems


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__
