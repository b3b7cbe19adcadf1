"""Time in questions: whether a question asks about the present, which dates it names, and the
``since:`` / ``before:`` filters typed in a command.

``read_time`` returns the question without those words, and a :class:`TimeScope` that
``search.py`` applies: a date range as a filter, and for questions about the present a preference
for the newest evidence. Relative dates ("last year", "in March") count from ``now``, which is
the newest date in the news unless a clock is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Words that ask about the state of things now (English lower-case; Chinese in both scripts).
PRESENT_WORDS_EN = ("now", "nowadays", "currently", "current", "these days", "at present", "presently", "today",
                    "latest", "most recent", "still", "incumbent", "right now", "at the moment")
PRESENT_WORDS_ZH = ("现在", "現在", "目前", "如今", "现任", "現任", "当前", "當前", "最新", "最近", "还是", "還是",
                    "眼下", "当今", "當今", "时下", "時下", "今天")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH_ABBREVIATIONS = {name[:3]: number for number, name in enumerate(_MONTHS, 1)}

_FILTER = re.compile(r"(?<!\S)(since|after|before|until):(\S+)", re.I)
_EN_PRESENT = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, PRESENT_WORDS_EN), key=len, reverse=True)) + r")\b", re.I)
_ZH_PRESENT = re.compile("|".join(PRESENT_WORDS_ZH))
_YEAR_MONTH_ZH = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:份)?")
_YEAR_ZH = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?")
_MONTH_ZH = re.compile(r"(?<![\d年])(\d{1,2})\s*月(?:份)?(?![\d日号])")
_RELATIVE_ZH = {"去年": ("year", -1), "今年": ("year", 0), "前年": ("year", -2), "上个月": ("month", -1), "本月": ("month", 0),
                "这个月": ("month", 0)}
_RELATIVE_EN = re.compile(r"\b(last|this|past) (year|month)\b", re.I)
_MONTH_YEAR_EN = re.compile(r"\b(?:in )?(" + "|".join(_MONTHS) + r"|" + "|".join(_MONTH_ABBREVIATIONS) + r")\.?(?: of)?,? ((?:19|20)\d{2})\b", re.I)
_YEAR_EN = re.compile(r"\b(?:in |during |of )?((?:19|20)\d{2})\b")
_MONTH_EN = re.compile(r"\b(?:in|during|since|last) (" + "|".join(_MONTHS) + r")\b", re.I)


class TimeFilterError(ValueError):
    """A ``since:`` or ``before:`` value that is not a date; the message says so."""


@dataclass(frozen=True)
class TimeScope:
    """What a question says about time: a date range (``since`` inclusive, ``before`` exclusive),
    whether it asks about the present, and whether the range came from filters typed as such
    (``explicit``: only news in the range) or from dates named in words (news in the range first)."""

    since: date | None = None
    before: date | None = None
    present: bool = False
    explicit: bool = False

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.before is not None

    def describe(self) -> str:
        """``between 2024-01-01 and 2024-12-31``, ``since …``, ``before …``, or an empty string."""
        if self.since and self.before:
            return f"between {self.since.isoformat()} and {(self.before - timedelta(days=1)).isoformat()}"
        if self.since:
            return f"since {self.since.isoformat()}"
        if self.before:
            return f"before {self.before.isoformat()}"
        return ""


def _parse_day(text: str) -> date:
    for pattern in (r"(\d{4})-(\d{1,2})-(\d{1,2})$", r"(\d{4})/(\d{1,2})/(\d{1,2})$", r"(\d{4})(\d{2})(\d{2})$"):
        match = re.match(pattern, text)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                break
    match = re.match(r"(\d{4})(?:-(\d{1,2}))?$", text)
    if match and 1 <= int(match.group(2) or 1) <= 12:
        return date(int(match.group(1)), int(match.group(2) or 1), 1)
    raise TimeFilterError(f"“{text}” is not a date; write it as 2025-01-31, 2025-01 or 2025")


def _month_range(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    return start, date(year + (month == 12), month % 12 + 1, 1)


def _shift_month(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _named_range(question: str, now: date) -> tuple[str, tuple[date, date] | None]:
    """The first date a question names (a year, a month, "last year", "去年"…), removed from it."""
    for pattern, kind in ((_YEAR_MONTH_ZH, "year-month"), (_MONTH_YEAR_EN, "month-year")):
        match = pattern.search(question)
        if match:
            if kind == "year-month":
                year, month = int(match.group(1)), int(match.group(2))
            else:
                name = match.group(1).lower()[:3]
                year, month = int(match.group(2)), _MONTH_ABBREVIATIONS[name]
            if 1 <= month <= 12:
                return _cut(question, match), _month_range(year, month)
    for word, (unit, offset) in _RELATIVE_ZH.items():
        if word in question:
            return question.replace(word, " ", 1), _relative(unit, offset, now)
    match = _RELATIVE_EN.search(question)
    if match:
        offset = 0 if match.group(1).lower() == "this" else -1
        return _cut(question, match), _relative(match.group(2).lower(), offset, now)
    for pattern in (_YEAR_ZH, _YEAR_EN):
        match = pattern.search(question)
        if match:
            year = int(match.group(1))
            return _cut(question, match), (date(year, 1, 1), date(year + 1, 1, 1))
    for pattern in (_MONTH_ZH, _MONTH_EN):
        match = pattern.search(question)
        if match:
            month = int(match.group(1)) if match.group(1).isdigit() else _MONTHS.index(match.group(1).lower()) + 1
            if 1 <= month <= 12:
                year = now.year if month <= now.month else now.year - 1  # the latest such month
                return _cut(question, match), _month_range(year, month)
    return question, None


def _relative(unit: str, offset: int, now: date) -> tuple[date, date]:
    if unit == "year":
        return date(now.year + offset, 1, 1), date(now.year + offset + 1, 1, 1)
    return _month_range(*_shift_month(now, offset))


def _cut(question: str, match: re.Match[str]) -> str:
    return question[: match.start()] + " " + question[match.end() :]


def read_time(question: str, now: date, filters: bool = True, dates: bool = True, present: bool = True) -> tuple[str, TimeScope]:
    """The question without its filters and present-tense words, and what they and the dates it
    names said about time.

    ``filters``: ``since:``/``after:`` and ``before:``/``until:`` typed in the question; ``dates``:
    dates named in words; ``present``: words asking about the present."""
    since = before = None
    explicit = False
    if filters:
        for match in list(_FILTER.finditer(question)):
            day = _parse_day(match.group(2))
            if match.group(1).lower() in ("since", "after"):
                since = day
            else:
                before = day
            explicit = True
        question = _FILTER.sub(" ", question)
    if dates and not explicit:
        _, named = _named_range(question, now)  # the words stay: "1998年" may be what the text says
        if named:
            since, before = named
    asks_present = False
    if present:
        stripped = _ZH_PRESENT.sub(" ", _EN_PRESENT.sub(" ", question))
        asks_present = stripped != question
        if asks_present and stripped.strip():
            question = stripped
    return " ".join(question.split()), TimeScope(since, before, asks_present and since is None and before is None, explicit)
