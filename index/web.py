"""News from the web: feeds and article pages fetched into the corpus folder.

Feeds (RSS, Atom) are read with feedparser and each new item's page is fetched; pages are reduced
to the article (title, text, date, site) by trafilatura, which drops navigation, ads, comments and
related links. Every article is appended as one JSON Lines record, the format ``documents.py``
already reads, to ``web/<year>-<month>.jsonl`` in the corpus folder, written through to disk
before it is counted as stored. A small SQLite file beside it (``.newsbot-ingest.sqlite``)
remembers each source's ETag and Last-Modified, for conditional GETs, and each stored article's
URL, so a restart fetches nothing twice and loses nothing: an article whose write was cut short is
not marked stored and is fetched again on the next run, and one written but not yet marked when the
run was killed is found in the archive's tail and marked at the start of the next.

Fetching is polite and bounded: a User-Agent that names newsbot, a connect and read timeout and a
deadline for the whole response, a size cap, a few redirects at most, and at most
``per_host`` requests at a time to one host. Whatever fails (a 404, a 500, a timeout, a page too
large, a file that is neither a feed nor a page, a malformed feed) is reported by URL and skipped;
the rest goes on. Network I/O lives here only: nothing below ``documents.py`` touches it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import trafilatura
import urllib3

STATE_FILE = ".newsbot-ingest.sqlite"
ARCHIVE_FOLDER = "web"
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml")
PAGE_TYPES = ("text/html", "application/xhtml+xml")
MIN_ARTICLE_CHARS = 40  # less than this is not an article (a login wall, an empty template)

ErrorReporter = Callable[[str, str], None]


@dataclass(frozen=True)
class FetchLimits:
    """How politely and how far newsbot fetches."""

    connect_seconds: float = 5.0
    read_seconds: float = 10.0  # between two reads
    total_seconds: float = 30.0  # the whole response
    max_bytes: int = 5 << 20
    max_redirects: int = 5
    per_host: int = 2
    workers: int = 8
    user_agent: str = "newsbot/0.1 (news question-answering bot; feed reader)"


class FetchError(Exception):
    """A URL that could not be fetched; the message says why, on one line."""


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None


class Fetcher:
    """HTTP GET with the limits of :class:`FetchLimits` and conditional requests."""

    def __init__(self, limits: FetchLimits = FetchLimits()) -> None:
        self.limits = limits
        self._pool = urllib3.PoolManager(
            num_pools=32,
            maxsize=limits.per_host,
            block=True,
            headers={"User-Agent": limits.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=urllib3.Timeout(connect=limits.connect_seconds, read=limits.read_seconds),
            retries=urllib3.Retry(total=None, connect=0, read=0, status=0, redirect=limits.max_redirects,
                                  raise_on_redirect=True, raise_on_status=False),
        )
        self._hosts: dict[str, threading.Semaphore] = defaultdict(lambda: threading.Semaphore(limits.per_host))
        self._hosts_lock = threading.Lock()

    def _host_slot(self, url: str) -> threading.Semaphore:
        with self._hosts_lock:
            return self._hosts[urlsplit(url).netloc.lower()]

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """Fetch ``url``; a 304 comes back as a response with status 304 and no body."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError("not an http(s) URL")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._host_slot(url):
            try:
                response = self._pool.request("GET", url, headers=headers, preload_content=False)
            except urllib3.exceptions.MaxRetryError as exc:
                raise FetchError(_network_reason(exc.reason, self.limits)) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise FetchError(_network_reason(exc, self.limits)) from None
            try:
                return self._read(url, response)
            except FetchError:
                response.close()  # not drained: a page that never ends would hold the fetch
                raise
            finally:
                response.release_conn()

    def _read(self, url: str, response: urllib3.BaseHTTPResponse) -> Response:
        history = response.retries.history if response.retries else ()
        final = urljoin(url, history[-1].redirect_location) if history and history[-1].redirect_location else url
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        meta = dict(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))
        if response.status == 304:
            return Response(final, 304, content_type, b"", **meta)
        if response.status >= 400:
            raise FetchError(f"HTTP {response.status}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise FetchError(f"larger than {self.limits.max_bytes >> 20} MB ({int(declared):,} bytes)")
        deadline = time.monotonic() + self.limits.total_seconds
        chunks, size = [], 0
        try:
            while chunk := response.read1(64 << 10):
                size += len(chunk)
                if size > self.limits.max_bytes:
                    raise FetchError(f"larger than {self.limits.max_bytes >> 20} MB")
                if time.monotonic() > deadline:
                    raise FetchError(f"not finished after {self.limits.total_seconds:g} s")
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(_network_reason(exc, self.limits)) from None
        return Response(final, response.status, content_type, b"".join(chunks), **meta)


def _network_reason(exc: BaseException | None, limits: FetchLimits) -> str:
    if isinstance(exc, urllib3.exceptions.ResponseError) and "redirect" in str(exc):
        return f"more than {limits.max_redirects} redirects"
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        return f"no data for {limits.read_seconds:g} s"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return f"no connection within {limits.connect_seconds:g} s"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    return type(exc).__name__ if exc is not None else "failed"


class IngestState:
    """What was fetched before: each source's validators and each stored article's URL (SQLite)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS sources (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, "
                             "checked_at TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, doc_id TEXT, stored_at TEXT)")
            self._db.execute("CREATE TABLE IF NOT EXISTS archive_files (file TEXT PRIMARY KEY, size INTEGER)")

    def validators(self, url: str) -> tuple[str | None, str | None]:
        with self._lock:
            row = self._db.execute("SELECT etag, last_modified FROM sources WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def checked(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)", (url, etag, last_modified, _now()))

    def stored(self, url: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM articles WHERE url = ?", (url,)).fetchone() is not None

    def mark_stored(self, urls: Iterable[str], doc_id: str) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO articles VALUES (?, ?, ?)", [(u, doc_id, _now()) for u in urls])

    def reconcile(self, archive: Archive) -> None:
        """Mark as stored the articles a run wrote to the archive but was killed before marking."""
        with self._lock:
            known = dict(self._db.execute("SELECT file, size FROM archive_files").fetchall())
        for path in sorted(archive.folder.glob("*.jsonl")) if archive.folder.is_dir() else []:
            start = known.get(path.name, 0)
            with open(path, "rb") as handle:
                handle.seek(start)
                tail = handle.read()
            end = start + tail.rfind(b"\n") + 1
            if end <= start:
                continue
            urls: dict[str, str] = {}
            for line in tail[: end - start].splitlines():
                try:
                    record = json.loads(line)
                    urls[record["url"]] = record["id"]
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill
            with self._lock:
                self._db.executemany("INSERT OR IGNORE INTO articles VALUES (?, ?, ?)", [(u, i, _now()) for u, i in urls.items()])
                self._db.execute("INSERT OR REPLACE INTO archive_files VALUES (?, ?)", (path.name, end))

    def close(self) -> None:
        self._db.close()


class Archive:
    """Appends article records to ``web/<year>-<month>.jsonl``, each written through to disk, under a
    file lock so that two ingesting processes never interleave lines."""

    def __init__(self, corpus: Path) -> None:
        self.folder = corpus / ARCHIVE_FOLDER
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{datetime.now(timezone.utc):%Y-%m}.jsonl"
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock, open(path, "ab+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0, os.SEEK_END)
                if handle.tell() and (handle.seek(-1, os.SEEK_END), handle.read(1))[1] != b"\n":
                    line = b"\n" + line  # a line cut short by a kill stays a line of its own (reported, skipped)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class IngestReport:
    """What one run did: articles stored, sources unchanged since the last run, URLs skipped."""

    stored: list[str] = field(default_factory=list)  # article URLs
    unchanged: list[str] = field(default_factory=list)  # sources that answered 304 Not Modified
    known: int = 0  # feed items stored on an earlier run
    failed: dict[str, str] = field(default_factory=dict)  # URL: reason


def ingest(urls: Iterable[str], corpus: Path, limits: FetchLimits = FetchLimits(),
           on_error: ErrorReporter | None = None) -> IngestReport:
    """Fetch each feed or page URL and store its new articles in ``corpus``."""
    corpus.mkdir(parents=True, exist_ok=True)
    report = IngestReport()
    state = IngestState(corpus / STATE_FILE)
    archive = Archive(corpus)
    state.reconcile(archive)
    fetcher = Fetcher(limits)
    lock = threading.Lock()

    def fail(url: str, reason: str) -> None:
        with lock:
            report.failed[url] = reason
        if on_error:
            on_error(url, reason)

    def store(url: str, record: dict) -> None:
        archive.append(record)
        state.mark_stored({url, record["url"]}, record["id"])
        with lock:
            report.stored.append(record["url"])

    def keep(url: str, record: dict | None) -> bool:
        """Store an extracted article unless it is stored already; False (reported) when there was none."""
        if record is None:
            fail(url, "no article text found")
            return False
        if not state.stored(record["url"]):
            store(url, record)
        return True

    def page(url: str, entry: FeedEntry | None = None) -> bool:
        """Fetch and store one article page; False when it failed (and was reported)."""
        try:
            response = fetcher.get(url)
            if response.content_type and response.content_type not in PAGE_TYPES:
                raise FetchError(f"not a web page ({response.content_type})")
            record = article_record(response.body, response.url, entry)
        except FetchError as exc:
            fail(url, str(exc))
            return False
        return keep(url, record)

    def source(url: str) -> tuple[Response | None, list[FeedEntry]]:
        """Fetch a source: a page is stored here; a feed's response comes back with its new items."""
        etag, modified = state.validators(url)
        try:
            response = fetcher.get(url, etag, modified)
        except FetchError as exc:
            fail(url, str(exc))
            return None, []
        if response.status == 304:
            with lock:
                report.unchanged.append(url)
            return None, []
        if response.content_type in PAGE_TYPES or (not response.content_type and b"<html" in response.body[:2048].lower()):
            if keep(url, article_record(response.body, response.url)):
                state.checked(url, response.etag, response.last_modified)
            return None, []
        try:
            entries = read_feed(response.body, response.url)
        except FetchError as exc:
            fail(url, str(exc))
            return None, []
        new = [entry for entry in entries if not state.stored(entry.link)]
        with lock:
            report.known += len(entries) - len(new)
        return response, new

    try:
        with ThreadPoolExecutor(max_workers=limits.workers) as pool:
            sources = dict(zip(dict.fromkeys(urls), pool.map(source, dict.fromkeys(urls))))
            items = {entry.link: entry for _, entries in sources.values() for entry in entries}
            fetched = dict(zip(items, pool.map(lambda link: page(link, items[link]), items)))
        for url, (response, entries) in sources.items():
            # A feed's validators are kept only once every new item of it is stored: a run cut short,
            # or an item whose page failed, fetches the feed again next time (the stored items are skipped).
            if response is not None and all(fetched[entry.link] for entry in entries):
                state.checked(url, response.etag, response.last_modified)
    finally:
        state.close()
    return report


def read_url_list(path: Path) -> list[str]:
    """The URLs of a feed list: one per line, blank lines and ``#`` comments ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [url for url in (line.split("#", 1)[0].strip() for line in lines) if url]


@dataclass(frozen=True)
class FeedEntry:
    link: str
    title: str | None
    date: str | None
    summary: str | None
    feed_title: str | None


def read_feed(body: bytes, url: str) -> list[FeedEntry]:
    """The items of an RSS or Atom feed; a document that is not a feed raises :class:`FetchError`."""
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    title = parsed.feed.get("title")
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if not link or urlsplit(link).scheme not in ("http", "https"):
            continue
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        entries.append(FeedEntry(link, item.get("title"), time.strftime("%Y-%m-%d", stamp) if stamp else None,
                                 item.get("summary"), title))
    if not entries and parsed.get("bozo"):
        reason = f"malformed feed: {parsed.get('bozo_exception')}"
        raise FetchError(reason if parsed.get("version") else "not a feed or a web page")
    if not entries and not parsed.get("version"):
        raise FetchError("not a feed or a web page")
    return entries  # (a well-formed feed may have nothing in it yet)


def article_record(html: bytes, url: str, entry: FeedEntry | None = None) -> dict | None:
    """The article of a page as a corpus record (id, title, text, date, source, url), or None when
    the page holds no article text. A feed item fills in what the page lacks."""
    found = trafilatura.bare_extraction(html.decode("utf-8", "replace") if _looks_utf8(html) else html, url=url,
                                        with_metadata=True, include_comments=False, include_tables=False)
    if found is None:
        return None
    data = found.as_dict() if hasattr(found, "as_dict") else dict(found)
    title = data.get("title") or (entry.title if entry else None)
    text = _without_title(data.get("text") or "", title)
    if len(text) < MIN_ARTICLE_CHARS:
        return None
    return {
        "id": "web-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16],
        "title": title,
        "text": text,
        "date": data.get("date") or (entry.date if entry else None),
        "source": data.get("sitename") or (entry.feed_title if entry else None) or data.get("hostname"),
        "url": url,
    }


def _looks_utf8(html: bytes) -> bool:
    try:
        html.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _without_title(text: str, title: str | None) -> str:
    """The article text without a first line that only repeats the title."""
    first, _, rest = text.strip().partition("\n")
    return rest.strip() if title and first.strip() == title.strip() else text.strip()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

