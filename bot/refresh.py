"""Keeping a running bot's news current: the feeds polled on a schedule, the corpus folder watched,
and the engine switched to the new index between questions (no restart)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from index import Engine
from index.web import ingest, read_url_list

log = logging.getLogger(__name__)


class Refresher:
    """A background thread: every ``watch_seconds`` it asks the engine to pick up a changed corpus
    (or a generation another process built), and every ``feed_seconds`` it first ingests the URLs
    listed in ``feeds`` into the corpus. 0 turns either off."""

    def __init__(self, engine: Engine, feeds: Path | None, feed_seconds: float, watch_seconds: float,
                 fetch: Callable[[list[str], Path], object] | None = None, prepare: bool = True) -> None:
        """``prepare``: load the dictionaries for updates at start (a server); a console need not."""
        self.engine = engine
        self.feeds = feeds
        self.feed_seconds = feed_seconds if feeds is not None else 0.0
        self.watch_seconds = watch_seconds
        self._fetch = fetch or _ingest
        self._prepare_updates = prepare
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsbot-refresh", daemon=True)

    @property
    def active(self) -> bool:
        return bool(self.feed_seconds or self.watch_seconds)

    def start(self) -> None:
        if self.active:
            self._thread.start()
            if self._prepare_updates:
                threading.Thread(target=self._prepare, name="newsbot-prepare-updates", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _prepare(self) -> None:
        try:
            self.engine.prepare_updates()
        except Exception:  # without the tables updates are slower, not wrong
            log.exception("could not load the dictionaries for updates ahead of time")

    def _run(self) -> None:
        next_feed = time.monotonic()  # the feeds are read once at start, then on schedule
        while not self._stop.is_set():
            if self.feed_seconds and time.monotonic() >= next_feed:
                self.poll_feeds()
                next_feed = time.monotonic() + self.feed_seconds
            self.check()
            waits = [s for s in (self.watch_seconds, next_feed - time.monotonic() if self.feed_seconds else 0) if s > 0]
            self._stop.wait(min(waits) if waits else 1.0)

    def poll_feeds(self) -> None:
        """Ingest the listed feeds and pages; an unreadable list or a failed fetch is logged, never raised."""
        assert self.feeds is not None
        try:
            urls = read_url_list(self.feeds)
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read the feed list %s (NEWSBOT_FEEDS): %s", self.feeds, getattr(exc, "strerror", None) or exc)
            return
        try:
            self._fetch(urls, self.engine.corpus)
        except Exception:  # one bad poll must not end the polling
            log.exception("polling the feeds failed; trying again in %.0f s", self.feed_seconds)

    def check(self) -> None:
        try:
            self.engine.refresh()
        except Exception:
            log.exception("refreshing the index failed; the open index is still answering")


def _ingest(urls: list[str], corpus: Path) -> None:
    report = ingest(urls, corpus, on_error=lambda url, reason: log.warning("skipped %s: %s", url, reason))
    log.info("feeds polled: %d new article(s), %d source(s) unchanged, %d URL(s) skipped",
             len(report.stored), len(report.unchanged), len(report.failed))
