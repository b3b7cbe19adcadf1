"""Documents → passages: paragraphs that read well on their own, each kept once, each with its citation."""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from index.documents import Document, document_key
from index.text import dedupe_key, normalize

_SENTENCE_END = re.compile(r"[。!?！？;；,，]$")
_LEADS_ON = re.compile(r"[:：]$")
_SENTENCE_BREAK = re.compile(r"(?<=[。!?！？;；])")
_MARKDOWN_PREFIX = re.compile(r"^(?:#{1,6}\s+|>\s*|[-*+]\s+)")


PASSAGE_RULES_VERSION = 2  # bump when the cutting rules change, so existing indexes are rebuilt


@dataclass(frozen=True)
class PassageOptions:
    """How documents are cut into passages."""

    merge_short_lines: bool = True
    short_line_chars: int = 15
    max_heading_chars: int = 30
    max_passage_chars: int = 300
    context_in_index: bool = True  # the document title and section heading are searched with each passage
    dedupe: bool = True  # each distinct passage once (off only for benchmarks that reuse text)


@dataclass(frozen=True)
class Passage:
    """A retrievable unit of text and where it came from."""

    text: str
    doc: Document
    paragraph: int
    heading: str | None = None

    def searchable_text(self, options: PassageOptions) -> str:
        return searchable_text(self.text, self.doc.title, self.heading, options)


def searchable_text(text: str, title: str | None, heading: str | None, options: PassageOptions) -> str:
    """What the analyzer sees: the passage, and with ``context_in_index`` its title and heading."""
    if not options.context_in_index:
        return text
    return "\n".join(part for part in (title, heading, text) if part)


@dataclass
class _Line:
    text: str
    number: int
    heading: bool


def _lines(document: Document, options: PassageOptions) -> list[_Line]:
    lines: list[_Line] = []
    raw_lines = [normalize(raw) for raw in document.text.splitlines()]
    raw_lines = [line for line in raw_lines if line]
    for number, text in enumerate(raw_lines, 1):
        markdown_heading = document.markdown and text.startswith("#")
        if document.markdown:
            text = _MARKDOWN_PREFIX.sub("", text).strip()
        if not text:
            continue
        is_last = number == len(raw_lines)
        heading = markdown_heading or (
            options.merge_short_lines
            and not is_last
            and len(text) <= options.max_heading_chars
            and not _SENTENCE_END.search(text)
            and not _LEADS_ON.search(text)
            and len(raw_lines[number]) > options.max_heading_chars
        )
        lines.append(_Line(text, number, heading))
    if document.title and lines and lines[0].text == document.title:
        lines = lines[1:]
    return lines


def _split_long(text: str, limit: int) -> list[str]:
    """Cut an over-long paragraph at sentence ends into pieces of at most ``limit`` characters; a
    sentence longer than that is cut every ``limit`` characters. Linear in the paragraph's length."""
    if limit <= 0 or len(text) <= limit:
        return [text]
    pieces, current = [], ""
    for sentence in filter(None, _SENTENCE_BREAK.split(text)):
        if len(sentence) > limit:
            if current:
                pieces.append(current)
            whole = (len(sentence) - 1) // limit * limit  # the rest, 1 to limit characters, goes on
            pieces.extend(sentence[start : start + limit] for start in range(0, whole, limit))
            current = sentence[whole:]
            continue
        if current and len(current) + len(sentence) > limit:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def split_document(document: Document, options: PassageOptions = PassageOptions()) -> Iterator[Passage]:
    """The document's passages in reading order: short lines joined to a neighbour, headings as context."""
    heading: str | None = None
    group: list[_Line] = []
    group_heading: str | None = None

    def flush() -> Iterator[Passage]:
        if group:
            joined = "\n".join(line.text for line in group)
            for piece in _split_long(joined, options.max_passage_chars):
                yield Passage(piece, document, group[0].number, group_heading)
            group.clear()

    for line in _lines(document, options):
        if line.heading:
            yield from flush()
            heading = line.text
            continue
        short = options.merge_short_lines and len(line.text) < options.short_line_chars
        introduces_next = bool(_LEADS_ON.search(line.text))  # "邮件全文如下:" belongs with what follows
        joins_previous = short and not introduces_next and group and not _LEADS_ON.search(group[-1].text)
        previous_leads_on = options.merge_short_lines and group and _LEADS_ON.search(group[-1].text)
        if not (joins_previous or previous_leads_on):
            yield from flush()
            group_heading = heading
        group.append(line)
    yield from flush()


def passage_key(text: str) -> int:
    """A 64-bit fingerprint of a passage's text as word-for-word repeats share it."""
    return int.from_bytes(hashlib.blake2b(dedupe_key(text).encode(), digest_size=8).digest(), "little", signed=True)


def unique_passages(
    documents: Iterable[Document],
    options: PassageOptions = PassageOptions(),
    on_repeat: Callable[[int, Passage], None] | None = None,
    on_replaced: Callable[[range], None] | None = None,
    version: Callable[[Document], int] = lambda document: 0,
) -> Iterator[Passage]:
    """Every distinct passage of the corpus once, the first occurrence keeping the citation; each
    later repeat in another document is reported to ``on_repeat`` with the number of the passage
    it repeats.

    With ``on_replaced``, documents sharing an id are versions of one: the one of highest
    ``version`` (e.g. its file's age), the later on a tie, is kept. When a kept version replaces an
    earlier one, the numbers of the earlier one's passages are reported to ``on_replaced``, and they
    stop counting as first occurrences (the newer version's unchanged paragraphs are its own); an
    older version read later is skipped."""
    first: dict[int, int] = {}  # key → passage number << 32 | document number, one int to keep memory low
    keys, owners = array("q"), array("i")  # by passage number: its key and document number
    latest: dict[int, tuple[int, int]] = {}  # document id's fingerprint → (version, number) of its newest version
    for document_number, document in enumerate(documents):
        if on_replaced is not None:
            doc_key, mine = document_key(document.doc_id), version(document)
            earlier_version, earlier = latest.get(doc_key, (None, None))
            if earlier_version is not None and earlier_version > mine:
                continue
            latest[doc_key] = mine, document_number
            if earlier is not None:
                replaced = range(bisect_left(owners, earlier), bisect_right(owners, earlier))
                for number in replaced:
                    if first.get(keys[number]) == number << 32 | earlier:
                        del first[keys[number]]
                on_replaced(replaced)
        for passage in split_document(document, options):
            key = passage_key(passage.text) if options.dedupe else 0
            seen = first.get(key) if options.dedupe else None
            if seen is None:
                if options.dedupe:
                    first[key] = len(owners) << 32 | document_number
                keys.append(key)
                owners.append(document_number)
                yield passage
            elif on_repeat and seen & 0xFFFFFFFF != document_number:
                on_repeat(seen >> 32, passage)
