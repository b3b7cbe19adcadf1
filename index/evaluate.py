"""Measuring answer quality: hit@k, MRR@10 and no-answer accuracy on question sets.

Two formats are read:

* seed questions ``{"question", "gold": [substrings]}`` against an existing engine; a hit is a
  passage containing a gold substring, and an empty ``gold`` means the news has no answer;
* a QA set (``questions.jsonl`` with ``context_id``, plus ``contexts.jsonl``), whose contexts are
  indexed as documents through the normal ingest (optionally with distractor news); a hit is a
  passage cut from the gold context.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.build import IndexOptions
from index.engine import Engine
from index.metadata import parse_date
from index.search import Answer, Hit, QuestionError, SearchOptions
from index.text import normalize

DEPTH = 10


@dataclass(frozen=True)
class Case:
    question: str
    gold_texts: tuple[str, ...] = ()
    gold_doc: str | None = None
    since: str | None = None  # a hit must also come from an article dated on or after this (YYYY-MM-DD)
    lang: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.gold_texts or self.gold_doc)

    def is_hit(self, hit: Hit) -> bool:
        """The passage comes from the gold document (where it was repeated word for word counts
        too), or holds a gold text; with ``since``, it is also from an article dated on or after it."""
        if self.since is not None and not (hit.citation.date and hit.citation.date >= self.since):
            return False
        if self.gold_doc is not None:
            return self.gold_doc in {hit.citation.doc_id, *(other["doc_id"] for other in hit.citation.also_in)}
        return any(gold in hit.text for gold in self.gold_texts)


class CaseFileError(ValueError):
    """A question file that cannot be read; the message says ``file:line: what is wrong``."""


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Numbered JSON objects, one per line; anything else raises :class:`CaseFileError`."""
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise CaseFileError(f"{path}:{number}: not JSON ({exc})") from None
                if not isinstance(record, dict):
                    raise CaseFileError(f"{path}:{number}: not a JSON object")
                yield number, record
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CaseFileError(f"{path}: {exc.strerror or exc}") from None


def load_cases(path: Path, limit: int | None = None) -> list[Case]:
    cases = []
    for number, record in read_jsonl(path):
        question, gold, since, lang = record.get("question"), record.get("gold", []), record.get("since"), record.get("lang")
        if not isinstance(question, str):
            raise CaseFileError(f'{path}:{number}: no "question" string')
        if since is not None and (not isinstance(since, str) or parse_date(since) != since):
            raise CaseFileError(f'{path}:{number}: "since" is not a date like 2025-01-31')
        extra = {"since": since, "lang": lang if isinstance(lang, str) else None}
        if "context_id" in record:
            cases.append(Case(question, gold_doc=str(record["context_id"]), **extra))
        elif isinstance(gold, list) and all(isinstance(g, str) for g in gold):
            cases.append(Case(question, gold_texts=tuple(normalize(g) for g in gold), **extra))
        else:
            raise CaseFileError(f'{path}:{number}: "gold" is not a list of strings')
        if limit and len(cases) >= limit:
            break
    return cases


def ranked_rank(case: Case, answer: Answer) -> int | None:
    """Where the right passage was ranked, whether or not the answer was refused (a refusal keeps
    its ranking as the closest coverage)."""
    for hit in answer.hits or answer.closest:
        if case.is_hit(hit):
            return hit.rank
    return None


def first_hit_rank(case: Case, answer: Answer) -> int | None:
    """Where the right passage was answered: None when it was not shown, or the answer was a refusal."""
    return ranked_rank(case, answer) if answer.answered else None


def score(cases: list[Case], ask: Callable[[str], Answer]) -> dict:
    """Ask every question and summarise: ``n``, ``hit@1/3/5``, ``mrr@10`` (a refusal is a miss),
    ``no_answer_accuracy`` (the unanswerable questions refused), ``false_refusals`` (the answerable
    questions refused although the right passage ranked in the top 3), ``p50_ms``, and when the
    questions say their language, the same per language (``by_lang``)."""
    results = []
    for case in cases:
        started = time.perf_counter()
        answer = ask(case.question)
        elapsed = (time.perf_counter() - started) * 1000
        results.append(_Result(case, ranked_rank(case, answer) if case.answerable else None, not answer.answered, elapsed))
    figures = _figures(results)
    languages = sorted({c.lang for c in cases if c.lang})
    if languages:
        figures["by_lang"] = {lang: _figures([r for r in results if r.case.lang == lang]) for lang in languages}
    return figures


@dataclass(frozen=True)
class _Result:
    case: Case
    ranked: int | None  # where the right passage was ranked, refused or not (answerable questions)
    refused: bool
    ms: float

    @property
    def rank(self) -> int | None:
        """Where the right passage was answered: a refusal is a miss."""
        return None if self.refused else self.ranked


def _figures(results: list[_Result]) -> dict:
    ranks = [r.rank for r in results if r.case.answerable]
    no_answer = [r.refused for r in results if not r.case.answerable]
    found = [r for r in results if r.case.answerable and r.ranked is not None and r.ranked <= 3]
    answerable = len(ranks) or 1
    return {
        "n": len(results),
        "answerable": len(ranks),
        "hit@1": sum(r is not None and r <= 1 for r in ranks) / answerable,
        "hit@3": sum(r is not None and r <= 3 for r in ranks) / answerable,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / answerable,
        "mrr@10": sum(1 / r for r in ranks if r is not None) / answerable,
        "no_answer_accuracy": sum(no_answer) / len(no_answer) if no_answer else None,
        "false_refusals": sum(r.refused for r in found) / len(found) if found else None,
        "p50_ms": statistics.median(r.ms for r in results) if results else 0.0,
    }


@contextmanager
def qa_engine(
    contexts: Path,
    distractors: list[Path],
    options: IndexOptions,
    search: SearchOptions = SearchOptions(),
    index_dir: Path | None = None,
) -> Iterator[Engine]:
    """An engine over the QA contexts (and distractors), in ``index_dir`` or a temporary folder
    (an existing index there is reused while it is fresh)."""
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as scratch:
        corpus = Path(scratch) / "corpus"
        corpus.mkdir()
        for number, source in enumerate([contexts, *distractors]):
            (corpus / f"{number}-{source.name}").symlink_to(source.resolve())
        yield Engine(corpus, index_dir or Path(scratch) / "index", options, search)


def evaluate(engine: Engine, cases: list[Case]) -> dict:
    engine.index()

    def ask(question: str) -> Answer:
        try:
            return engine.ask(question, DEPTH)
        except QuestionError:
            return Answer(question=question, answered=False, hits=[])

    return score(cases, ask)
