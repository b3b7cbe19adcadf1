"""Reading news files: plain text, Markdown and JSON Lines, in UTF-8 or the GB/Big5 encodings."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from index.metadata import infer_metadata, parse_date

TEXT_SUFFIXES = (".txt", ".md")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
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


def is_corpus_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)


def corpus_files(root: Path) -> list[Path]:
    """Every readable-looking file under ``root`` (or ``root`` itself), in a stable order."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath, f) for f in filenames if is_corpus_file(Path(f)))
    return sorted(found)


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


def read_text_file(path: Path, rel: str) -> Document:
    data = path.read_bytes()
    text = decode(data)
    if _looks_binary(text):
        raise UnreadableFile("binary data, not text")
    meta = infer_metadata(text)
    return Document(
        doc_id=Path(rel).with_suffix("").as_posix(),
        path=rel,
        text=text,
        title=meta.title,
        source=meta.source,
        date=meta.date,
        markdown=path.suffix.lower() == ".md",
    )


def _optional_str(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    return str(value).strip() or None


def read_jsonl_file(path: Path, rel: str, on_error: ErrorReporter) -> Iterator[Document]:
    """One article per line: ``{"id", "title", "source", "date", "url", "text"}``, only ``text`` required."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    stem = rel.removesuffix(".gz").removesuffix(".jsonl")
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, 1):
                if line.strip():
                    document = _jsonl_document(line, stem, rel, number, on_error)
                    if document is not None:
                        yield document
    except (OSError, EOFError) as exc:
        raise UnreadableFile(str(exc)) from exc


def _jsonl_document(line: bytes, stem: str, rel: str, number: int, on_error: ErrorReporter) -> Document | None:
    where = f"{rel}:{number}"
    try:
        record = json.loads(decode(line))
    except (UnreadableFile, ValueError) as exc:
        on_error(where, f"not a JSON object ({exc})")
        return None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        on_error(where, 'no "text" string')
        return None
    text = record["text"]
    title, source, date = _optional_str(record, "title"), _optional_str(record, "source"), parse_date(_optional_str(record, "date"))
    if None in (title, source, date):  # read what the record leaves out from the text's dateline
        meta = infer_metadata(text)
        title, source, date = title or meta.title, source or meta.source, date or meta.date
    return Document(
        doc_id=_optional_str(record, "id") or f"{stem}#{number}",
        path=rel,
        text=text,
        title=title,
        source=source,
        date=date,
        url=_optional_str(record, "url"),
    )


def read_corpus(root: Path, on_error: ErrorReporter) -> Iterator[Document]:
    """Every document under ``root``; files that cannot be read are reported by name and skipped."""
    base = root if root.is_dir() else root.parent
    for path in corpus_files(root):
        rel = path.relative_to(base).as_posix()
        try:
            if path.name.lower().endswith(JSONL_SUFFIXES):
                yield from read_jsonl_file(path, rel, on_error)
            else:
                yield read_text_file(path, rel)
        except (OSError, UnreadableFile) as exc:
            on_error(rel, str(exc) or type(exc).__name__)
