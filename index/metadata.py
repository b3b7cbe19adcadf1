"""What a news text says about itself: its source, date and title, read from its lead."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from index.text import normalize

# Agencies and sites whose name opens a dateline ("新华社北京3月5日电", "中新网3月5日电").
_KNOWN_SOURCES = (
    "新华社", "中新社", "中新网", "中国新闻网", "人民网", "人民日报", "央视网", "央视新闻", "新闻联播",
    "环球网", "环球时报", "光明网", "澎湃新闻", "界面新闻", "财新网", "第一财经", "新京报", "经济日报",
    "中国日报", "法治日报", "科技日报", "每日经济新闻", "证券时报", "21世纪经济报道", "36氪", "TechWeb",
    "IT之家", "新浪科技", "腾讯科技", "网易科技", "凤凰网", "观察者网", "路透社", "美联社", "法新社",
)
_BRACKET_SOURCE = re.compile(r"^[【\[]([^】\]]{1,30})[】\]]")
_KNOWN_SOURCE = re.compile(r"^(?:本报讯\s*)?(" + "|".join(map(re.escape, _KNOWN_SOURCES)) + ")")
_DATELINE_SOURCE = re.compile(
    r"^(?!本报)([^\s\d,，。:：()（）「」《》]{2,10}?)\s*(?:\d{1,2}\s*月\s*\d{1,2}\s*日\s*)?(?:讯|消息|电)(?=[\s,，:：(（]|$)"
)
_CN_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_SENTENCE_END = re.compile(r"[。!?！？;；,，:：]$|\.$")
_LEAD_CHARS = 80
_MAX_TITLE_CHARS = 40  # a Chinese title; one in Latin letters may be longer, a Markdown heading longer still
_MAX_LATIN_TITLE_CHARS = 150
_MAX_HEADING_CHARS = 200
# English datelines: "OSLO, June 20, 2025 (Nordic Wire) -", "WASHINGTON (Reuters) —", "LONDON, March 5 (AP) -"
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"), ("jul", "july"),
     ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december")], 1)
    for name in names}
_EN_DATE = r"((?:%s)\.?)\s+(\d{1,2})(?:,?\s+(\d{4}))?" % "|".join(sorted(_MONTHS, key=len, reverse=True))
_EN_DATELINE = re.compile(r"^([A-Z][A-Z .'-]{1,40}?)(?:,\s*[A-Z][A-Za-z .]{1,30}?)?(?:,\s*" + _EN_DATE + r")?\s*\(([^()]{2,40})\)\s*[-–—]",
                          re.I)
_EN_FULL_DATE = re.compile(_EN_DATE, re.I)
_BYLINE = re.compile(r"^By\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){1,3}\s*(?:[,|/].{0,40})?$")  # "By Jane Doe, Reuters"
_HAN = re.compile("[\u3400-\u9fff]")


UNDATED = -(2**31)  # the day number of a document with no date
_EPOCH = date(1970, 1, 1)


def day_number(iso: str | None) -> int:
    """``YYYY-MM-DD`` as days since 1970-01-01 (what the index stores per passage), or UNDATED."""
    if not iso:
        return UNDATED
    try:
        return (date.fromisoformat(iso) - _EPOCH).days
    except ValueError:
        return UNDATED


def day_date(number: int) -> date:
    return _EPOCH + timedelta(days=int(number))


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    source: str | None = None
    date: str | None = None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: str | None) -> str | None:
    """``2026-03-05``, ``2026/3/5``, ``2026年3月5日`` or a timestamp → ``YYYY-MM-DD``; else None."""
    if not value:
        return None
    value = normalize(value)
    match = _ISO_DATE.search(value) or ("月" in value and _CN_DATE.search(value))
    if match and match.group(1):
        return _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return None


def _lead_date(lead: str, text: str) -> str | None:
    """The dateline's date; a dateline without a year takes it from a full date of the same day in the text."""
    iso = parse_date(lead)
    if iso or "月" not in lead:
        return iso
    match = _CN_DATE.search(lead)
    if not match:
        return None
    full_dates = ((int(m.group(1)), int(m.group(2)), int(m.group(3))) for m in _CN_DATE.finditer(normalize(text)) if m.group(1))
    return _same_day(int(match.group(2)), int(match.group(3)), full_dates)


def _same_day(month: int, day: int, full_dates: Iterable[tuple[int, int, int]]) -> str | None:
    """The first of ``full_dates`` (year, month, day) on this month and day, as an ISO date."""
    return next((_iso(y, m, d) for y, m, d in full_dates if (m, d) == (month, day)), None)


def _english_dateline(lead: str) -> re.Match[str] | None:
    """"OSLO, June 20, 2025 (Nordic Wire) -": a place in capitals, perhaps a date, the source in brackets."""
    match = _EN_DATELINE.match(lead)
    return match if match and match.group(1).isupper() else None


def _lead_source(lead: str) -> str | None:
    for pattern in (_BRACKET_SOURCE, _KNOWN_SOURCE, _DATELINE_SOURCE):
        match = pattern.match(lead)
        if match:
            return match.group(1).strip() or None
    english = _english_dateline(lead)
    return english.group(5).strip() if english else None


def _english_date(lead: str, text: str) -> str | None:
    """An English dateline's date; without a year, the year of a full date of the same day in the text."""
    match = _english_dateline(lead)
    if not match or not match.group(2):
        return None
    month, day = _MONTHS[match.group(2).rstrip(".").lower()], int(match.group(3))
    if match.group(4):
        return _iso(int(match.group(4)), month, day)
    full_dates = ((int(m.group(3)), _MONTHS[m.group(1).rstrip(".").lower()], int(m.group(2)))
                  for m in _EN_FULL_DATE.finditer(text) if m.group(3))
    return _same_day(month, day, full_dates)


def _title(lines: list[str]) -> str | None:
    """A first line that does not read as a sentence, a dateline or a byline is the title: short for
    Chinese, longer for a title in Latin letters, longer still for a Markdown heading."""
    if len(lines) < 2:
        return None
    heading = lines[0].startswith("#")
    first = lines[0].lstrip("#").strip()
    longest = _MAX_HEADING_CHARS if heading else _MAX_TITLE_CHARS if _HAN.search(first) else _MAX_LATIN_TITLE_CHARS
    if not first or len(first) > longest or _lead_source(first) or _BYLINE.match(first):
        return None
    if not heading and _SENTENCE_END.search(first):
        return None
    return first


def infer_metadata(text: str) -> Metadata:
    lines = list(islice(filter(None, map(normalize, text[:4000].splitlines())), 4))  # a title, a byline, the lead
    if not lines:
        return Metadata()
    title = _title(lines)
    rest = [line for line in lines[1 if title else 0:] if not _BYLINE.match(line)]
    lead = rest[0][:_LEAD_CHARS] if rest else ""
    day = _lead_date(lead, text) or _english_date(lead, text)
    if day is not None and day > date.today().isoformat():  # a date still to come is an event's ("将于…举办"), not the story's
        day = None
    return Metadata(title=title, source=_lead_source(lead), date=day)
