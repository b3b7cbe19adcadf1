"""Reading news files: plain text, Markdown and JSON Lines, in UTF-8 or the GB/Big5 encodings.

A corpus folder is untrusted input. Only regular files are read (never a FIFO or a device, even
through a link), links to folders are followed once (a loop is not), files and JSON lines have a
size cap, and every string is cleaned of what cannot be stored or shown. Whatever cannot be read is
reported as ``file[:line]: reason`` and skipped; nothing stops the rest.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes

from index.metadata import infer_metadata, parse_date
from index.text import clean

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
MAX_FILE_BYTES = 16 << 20  # a .txt or .md article
MAX_LINE_BYTES = 16 << 20  # one JSON Lines record
MAX_FIELD_CHARS = {"id": 300, "title": 300, "source": 100, "date": 100, "url": 2048}
# Legacy Chinese encodings worth trying when a file is not UTF-8.
_CANDIDATE_ENCODINGS = ["gb18030", "big5", "utf_16", "utf_32"]

ErrorReporter = Callable[[str, str], None]


class UnreadableFile(Exception):
    """A corpus file that cannot be decoded or parsed."""


@dataclass(frozen=True)
class Document:
    """One news article as read from the corpus, before it is split into passages."""

    doc_id: str
    path: str
    text: str
    title: str | None = None
    source: str | None = None
    date: str | None = None
    url: str | None = None
    markdown: bool = False


@dataclass(frozen=True)
class CorpusFile:
    """A regular file of the corpus: where it is, its name relative to the corpus, its size and age."""

    path: Path
    name: str
    size: int
    mtime_ns: int

    @property
    def is_jsonl(self) -> bool:
        return self.name.lower().endswith(JSONL_SUFFIXES)


def document_key(doc_id: str) -> int:
    """A 64-bit fingerprint of a document id: a newer version of a document replaces the older."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little", signed=True)


def file_state(file: CorpusFile) -> dict:
    """What an update compares a corpus file by: size and age, and for a plain JSON Lines file (which
    news is appended to) the SHA-256 of its content and its line count, so that an appended tail
    can be told from an edit."""
    state = {"name": file.name, "size": file.size, "mtime_ns": file.mtime_ns}
    if file.is_jsonl and not file.name.lower().endswith(".gz"):
        with contextlib.suppress(OSError):
            state.update(prefix_state(file.path, file.size))
    return state


def prefix_state(path: Path, size: int) -> dict:
    """The SHA-256 and line count of the first ``size`` bytes of ``path``."""
    digest, lines, left = hashlib.sha256(), 0, size
    with open_regular(path) as handle:
        while left and (chunk := handle.read(min(left, 1 << 20))):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            left -= len(chunk)
    return {"sha256": digest.hexdigest(), "lines": lines, "ends_line": size == 0 or _ends_with_newline(path, size)}


def _ends_with_newline(path: Path, size: int) -> bool:
    with open_regular(path) as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def is_corpus_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)


def display_name(relative: str) -> str:
    """A file name as text that can be stored and shown: bytes that are not UTF-8 become ``\\xNN``."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace")


def _ignore(name: str, reason: str) -> None:
    pass


def scan_corpus(root: Path, on_error: ErrorReporter = _ignore) -> list[CorpusFile]:
    """Every news file under ``root`` (or ``root`` itself), in a stable order. Links are followed
    to regular files and, once each, to folders; dangling links, link loops, FIFOs, devices and
    over-large articles are reported and left out."""
    root = Path(root)
    if not root.is_dir():
        found = _corpus_file(root, root.name, on_error)
        return [found] if found else []
    files: list[CorpusFile] = []
    visited: set[tuple[int, int]] = set()

    def walk(folder: Path, prefix: str) -> None:
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in visited:
                on_error(display_name(prefix.rstrip("/") or "."), "a link back into the corpus; skipped")
                return
            visited.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
        except OSError as exc:
            on_error(display_name(prefix.rstrip("/") or "."), _os_reason(exc))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = prefix + entry.name
            try:
                is_folder = entry.is_dir()  # follows a link
            except OSError:
                is_folder = False
            if is_folder:
                walk(Path(entry.path), relative + "/")
            elif is_corpus_file(Path(entry.name)):
                found = _corpus_file(Path(entry.path), relative, on_error)
                if found:
                    files.append(found)

    walk(root, "")
    return files


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "a dangling link (its target does not exist)"
    return exc.strerror or type(exc).__name__


def _corpus_file(path: Path, relative: str, on_error: ErrorReporter) -> CorpusFile | None:
    name = display_name(relative)
    try:
        info = path.stat()
    except OSError as exc:
        on_error(name, _os_reason(exc))
        return None
    if not stat.S_ISREG(info.st_mode):
        on_error(name, "not a regular file (a FIFO, device or socket)")
        return None
    if not name.lower().endswith(JSONL_SUFFIXES) and info.st_size > MAX_FILE_BYTES:
        on_error(name, f"{info.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit for one article")
        return None
    return CorpusFile(path, name, info.st_size, info.st_mtime_ns)


def open_regular(path: Path) -> BinaryIO:
    """Open a file for reading only if it is a regular file; a FIFO is never waited on."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile("not a regular file (a FIFO, device or socket)")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else detect GB18030/GBK, Big5 or UTF-16/32."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=_CANDIDATE_ENCODINGS).best()
    if best is None:
        raise UnreadableFile("not text in UTF-8, GB18030/GBK, Big5 or UTF-16")
    return str(best)


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t\f")
    return "\x00" in sample or controls > len(sample) // 100 + 1


def read_text_file(file: CorpusFile) -> Document:
    with open_regular(file.path) as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"over the {MAX_FILE_BYTES:,}-byte limit for one article")
    text = decode(data)
    if _looks_binary(text):
        raise UnreadableFile("binary data, not text")
    text = clean(text)
    meta = infer_metadata(text)
    return Document(
        doc_id=Path(file.name).with_suffix("").as_posix(),
        path=file.name,
        text=text,
        title=meta.title,
        source=meta.source,
        date=meta.date,
        markdown=file.name.lower().endswith(".md"),
    )


def _lines(handle: BinaryIO, where: str, on_error: ErrorReporter, number: int = 0) -> Iterator[tuple[int, bytes]]:
    """Numbered lines (after the ``number`` before them) of at most ``MAX_LINE_BYTES``; a longer one
    is reported and skipped."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            on_error(f"{where}:{number}", f"a line over {MAX_LINE_BYTES:,} bytes; skipped")
            while (rest := handle.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            continue
        yield number, line


def read_jsonl_file(file: CorpusFile, on_error: ErrorReporter, start: int = 0, lines_before: int = 0) -> Iterator[Document]:
    """One article per line: ``{"id", "title", "source", "date", "url", "text"}``, only ``text`` required.
    From byte ``start`` (of a plain file; ``lines_before`` lines precede it) when only the tail is wanted."""
    stem = file.name.removesuffix(".gz").removesuffix(".jsonl")
    try:
        with open_regular(file.path) as raw:
            handle: BinaryIO = gzip.GzipFile(fileobj=raw) if file.name.lower().endswith(".gz") else raw  # type: ignore[assignment]
            if start:
                handle.seek(start)
            for number, line in _lines(handle, file.name, on_error, lines_before):
                if line.strip():
                    document = _jsonl_document(line, stem, file.name, number, on_error)
                    if document is not None:
                        yield document
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UnreadableFile(str(exc) or type(exc).__name__) from exc


def _parse_record(line: bytes) -> object:
    """The JSON value of a line; a line nested too deeply for the parser raises RecursionError."""
    return json.loads(decode(line))


def _field(record: dict, key: str, where: str, on_error: ErrorReporter) -> str | None:
    """A metadata field as clean text, or None when absent; other types are reported and left out."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        on_error(where, f'"{key}" is not a string; left out')
        return None
    text = " ".join(clean(str(value)).split())
    limit = MAX_FIELD_CHARS[key]
    if len(text) > limit:
        if key in ("url", "id"):
            on_error(where, f'"{key}" is over {limit} characters; left out')
            return None
        text = text[: limit - 1] + "…"
    return text or None


def web_link(url: str | None) -> str | None:
    """``url`` if it is an http(s) link to a host, else None."""
    if not url or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _jsonl_document(line: bytes, stem: str, rel: str, number: int, on_error: ErrorReporter) -> Document | None:
    where = f"{rel}:{number}"
    try:
        record = _parse_record(line)
    except (UnreadableFile, ValueError, RecursionError) as exc:
        on_error(where, f"not a JSON object ({exc})")
        return None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        on_error(where, 'no "text" string')
        return None
    text = clean(record["text"])
    title, source = _field(record, "title", where, on_error), _field(record, "source", where, on_error)
    date = parse_date(_field(record, "date", where, on_error) if "date" in record else None)
    if None in (title, source, date):  # read what the record leaves out from the text's dateline
        meta = infer_metadata(text)
        title, source, date = title or meta.title, source or meta.source, date or meta.date
    url = _field(record, "url", where, on_error)
    if url is not None and web_link(url) is None:
        on_error(where, '"url" is not an http(s) link; left out')
        url = None
    return Document(
        doc_id=_field(record, "id", where, on_error) or f"{stem}#{number}",
        path=rel,
        text=text,
        title=title,
        source=source,
        date=date,
        url=url,
    )


def read_corpus(root: Path, on_error: ErrorReporter, files: list[CorpusFile] | None = None) -> Iterator[Document]:
    """Every document under ``root`` (from ``files`` when the caller has scanned it already); files
    and lines that cannot be read are reported by name and skipped."""
    for file in scan_corpus(root, on_error) if files is None else files:
        try:
            if file.is_jsonl:
                yield from read_jsonl_file(file, on_error)
            else:
                yield read_text_file(file)
        except (OSError, UnreadableFile) as exc:
            on_error(file.name, str(exc) or type(exc).__name__)
