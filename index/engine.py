"""The engine: an index that is always there and fresh, built automatically when missing or stale."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from index.analysis import Analyzer
from index.build import BuildReport, IndexOptions, build_index, corpus_fingerprint
from index.search import Answer, OpenIndex, SearchOptions
from index.store import IndexFormatError, current_generation, read_manifest


class Engine:
    """Answers questions over ``corpus`` from the index in ``index_dir``."""

    def __init__(
        self,
        corpus: Path,
        index_dir: Path,
        options: IndexOptions = IndexOptions(),
        search: SearchOptions = SearchOptions(),
        on_build: Callable[[], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self.corpus = Path(corpus)
        self.index_dir = Path(index_dir)
        self.options = options
        self.search_options = search
        self._on_build = on_build
        self._on_error = on_error
        self._open: OpenIndex | None = None
        self._lock = threading.Lock()

    def is_fresh(self) -> bool:
        """True when the current index was built from this corpus with these options."""
        generation = current_generation(self.index_dir)
        if generation is None:
            return False
        try:
            manifest = read_manifest(generation)
        except IndexFormatError:
            return False
        signature = self.options.signature()
        return all(manifest.get(key) == value for key, value in signature.items()) and manifest.get(
            "corpus_fingerprint"
        ) == corpus_fingerprint(self.corpus)

    def build(self, **kwargs) -> BuildReport:
        report = build_index(self.corpus, self.index_dir, self.options, on_error=self._on_error, **kwargs)
        with self._lock:
            self._open = None
        return report

    def index(self) -> OpenIndex:
        """The open index, building it first if it is missing or stale."""
        with self._lock:
            if self._open is None:
                if not self.is_fresh():
                    if self._on_build:
                        self._on_build()
                    build_index(self.corpus, self.index_dir, self.options, on_error=self._on_error)
                generation = current_generation(self.index_dir)
                assert generation is not None
                self._open = OpenIndex(generation, Analyzer(self.options.analyzer), self.search_options)
            return self._open

    def ask(self, question: str, top_k: int = 3) -> Answer:
        return self.index().search(question, top_k)
