"""Answering a question from an opened index: ranked passages, their citations and the words that matched."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from index.analysis import Analyzer, has_cjk
from index.answerability import KIND_CONFIDENCE, UNLIKELY_KINDS, Evidence, question_kind, shipped_model
from index.bm25 import DayRange, Scorer, WeightedTerms
from index.metadata import UNDATED, day_number
from index.query import Concept, Query, QueryBuilder, QueryOptions
from index.segments import open_parts
from index.store import IndexFormatError, PassageFile, check_files, read_manifest
from index.text import clean, longest_shared_run, normalize
from index.when import TimeFilterError, TimeScope, read_time

MAX_QUESTION_CHARS = 500
AGREEMENT_DEPTH = 5  # the first passage and the next four, whose coverage says whether they agree


@dataclass(frozen=True)
class SearchOptions:
    """Query-time settings: how questions are expanded, and when the news has no answer."""

    query: QueryOptions = field(default_factory=QueryOptions)
    min_answer_probability: float | None = None  # below this the news has no answer (None: the fitted model's own; 0: never refuse)
    coordination: bool = True  # rerank the best passages by BM25 × share of the question they cover
    phrase_weight: float = 1.0  # ...and × (1 + this × share of the question found verbatim in one run)
    rerank_depth: int = 30
    context_match: float = 0.25  # ...where a concept is found only in a passage's title or heading, it counts this much
    time_filters: bool = True  # since:/before: in a question filter the news; dates named in words favour it
    named_date_boost: float = 2.0  # ...a passage dated within a date the question names counts this much more
    recency: bool = True  # a question about the present prefers the newest passages that answer it
    recency_half_life_days: float = 365.0  # ...a passage this much older than "now" counts half
    recent_window_days: int = 365  # ...and the best passages of this last stretch are always considered
    now: date | None = None  # "now" for relative dates and recency; None: the newest date in the news
    earlier_after_days: int = 180  # in a present answer, hits this much older than the first are "earlier news"
    feedback_passages: int = 0  # an English question is searched again with words its best passages share (0: off)
    feedback_terms: int = 10  # ...this many of them, the most telling among those in two or more
    feedback_weight: float = 0.3  # ...each at this query weight


class QuestionError(ValueError):
    """A question that cannot be searched; the message is meant for the person who asked."""


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str | None
    source: str | None
    date: str | None
    paragraph: int
    path: str
    url: str | None
    heading: str | None = None
    also_in: list[dict] = field(default_factory=list)  # other outlets' copies: the passage word for word, or the story with small edits


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float  # what the passage was ranked by: BM25, times its coverage of the question when reranked
    text: str
    citation: Citation
    matched: list[str] = field(default_factory=list)
    bm25: float = 0.0  # the passage's BM25 score, exactly rank_bm25.BM25Okapi's for the same query terms
    age_days: int | None = None  # days between the article's date and "now" (None: undated)
    earlier: bool = False  # an answer about the present: this is older news than the first hit


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    hits: list[Hit]
    as_of: str | None = None  # a question about the present: the date "now" stands for
    window: str | None = None  # a question limited in time: "between 2024-01-01 and 2024-12-31" and the like
    reason: str | None = None  # not answered: "no_match" (nothing matches), "weak" (nothing answers), "after_news"
    #                            (a time after the newest news), or a kind no news answers ("personal", "how_to", "live", "private")
    news_until: str | None = None  # the newest news's date, where a refusal says the question is about a later time
    confidence: float | None = None  # the probability that the first passage answers the question
    closest: list[Hit] = field(default_factory=list)  # not answered: the nearest coverage, which is not an answer
    evidence: dict[str, float] | None = None  # what ``confidence`` was judged from

    def to_dict(self) -> dict:
        return asdict(self)


def check_question(question: str) -> str:
    """The question, cleaned (no lone surrogates or control characters) and stripped; empty or
    over-long questions raise :class:`QuestionError`."""
    question = " ".join(clean(question).split())
    if not question:
        raise QuestionError("Ask a question about the news, for example: who leads Tongyi now?")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"That question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}."
        )
    return question


FOLLOW_UP_WEIGHT = 0.5  # what a follow-up borrows from the question before it counts this much


class OpenIndex:
    """A generation of the index, memory-mapped, ready to answer questions from many threads."""

    def __init__(self, generation: Path, analyzer: Analyzer, options: SearchOptions = SearchOptions()) -> None:
        """Open ``generation``; a damaged one (a file of the wrong size, offsets that do not fit their
        data) raises :class:`IndexFormatError`."""
        self.generation = generation
        self.manifest = read_manifest(generation)
        problems = check_files(generation, self.manifest)
        if problems:
            raise IndexFormatError("; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""))
        self.analyzer = analyzer
        parts = open_parts(generation, self.manifest)
        self.vocabulary, self.passages, self.days, self.postings = parts.vocabulary, parts.passages, parts.days, parts.postings
        self.articles, self.stories = parts.articles, parts.stories
        newest = self.manifest.get("newest_date")
        self.newest = date.fromisoformat(newest) if newest else None  # None: no dated news, "now" means nothing
        self.scorer = Scorer(self.postings)
        self.options = options
        self.queries = QueryBuilder(analyzer, self.vocabulary, self.postings, *parts.maps,
                                    frozenset(self.manifest["pinyin_syllables"]), options.query)

    def search(self, question: str, top_k: int = 3, context: str | None = None) -> Answer:
        """The best passages for ``question`` (a follow-up to the question ``context``, when given)."""
        question = check_question(question)
        now, dated = self.now(), self.newest is not None
        try:
            text, scope = read_time(question, now, self.options.time_filters, self.options.time_filters and dated,
                                    self.options.recency and dated)
        except TimeFilterError as exc:
            raise QuestionError(str(exc)) from None
        none = Answer(question=question, answered=False, hits=[], window=scope.describe() if scope.explicit else None,
                      reason="no_match")
        query = self.queries.build(text)
        if context:
            query = self._following(query, context)
        if self.options.feedback_passages and not has_cjk(text) and query.scoring.groups:
            query = self._with_feedback(query)
        reranked = self.options.coordination or self.options.phrase_weight > 0 or scope.present
        depth = max(top_k, self.options.rerank_depth if reranked else top_k)
        docs, scores = self._candidates(query, scope, depth, now)
        if not len(docs):
            return none
        present = self._presence(query, docs)
        texts = _Texts(self.passages, docs)
        asked = {t for concept in query.concepts for group in concept.groups for t in group}  # the rest only score
        held = self.held(query.concepts, self._in_own_text({t: present[t] for t in asked}, texts), len(docs))
        coverage = _share(query.concepts, lambda concept: held[id(concept)], np.zeros(len(docs)))
        ranking = scores * coverage if self.options.coordination else scores
        if self.options.phrase_weight > 0:
            ranking = ranking * (1 + self.options.phrase_weight * self.phrase_share(text, texts))
        ages = self._ages(docs, now)
        ranking = ranking * self._time_weights(docs, ages, scope)
        ranked = np.lexsort((docs, -ranking))
        evidence = self._evidence(query, held, coverage, scores, ranking, ranked[:max(top_k, AGREEMENT_DEPTH)], not has_cjk(question))
        order, copies = self._collapse_copies(ranked, docs, top_k)
        first_age = ages[order[0]]
        hits = [
            self._hit(rank, int(docs[i]), float(ranking[i]), float(scores[i]),
                      [t for t, found in present.items() if found[i]], ages[i],
                      scope.present and rank > 1 and _older_by(ages[i], first_age, self.options.earlier_after_days),
                      copies.get(int(i), []))
            for rank, i in enumerate(order, 1)
        ]
        threshold = self.options.min_answer_probability
        model = shipped_model()
        confidence = None if threshold == 0 else model.probability(evidence)  # 0: never refuse
        reason = None if confidence is None else _refusal(question, scope, now, confidence,
                                                          model.threshold if threshold is None else threshold)
        if reason:
            return replace(none, reason=reason, news_until=self.newest.isoformat() if reason == "after_news" and self.newest else None,
                           confidence=round(confidence, 4), closest=hits, evidence=evidence.to_dict())
        return Answer(question=question, answered=True, hits=hits, as_of=now.isoformat() if scope.present else None,
                      window=none.window, confidence=None if confidence is None else round(confidence, 4),
                      evidence=evidence.to_dict())

    def _evidence(self, query: Query, held: dict[int, np.ndarray], coverage: np.ndarray, scores: np.ndarray,
                  ranking: np.ndarray, order: np.ndarray, english: bool) -> Evidence:
        """What the ranking says about whether its first passage answers the question."""
        first = int(order[0])
        known = [c for c in query.concepts if c.known]
        telling = sorted((c for c in known if c.groups), key=lambda c: -c.information)[:2]
        most = sum(boost * self.scorer.group_bound(group) for group, boost in zip(query.scoring.groups, query.scoring.boosts))
        most += sum(1 for c in query.concepts if not c.groups) * self.scorer.unseen_bound()  # each as a word of one passage
        following = [float(coverage[i]) for i in order[1:AGREEMENT_DEPTH]]
        return Evidence(
            coverage=float(coverage[first]),
            telling=float(_share(telling, lambda c: held[id(c)][first], 0.0)) if telling else 0.0,
            guessed=_guessed_share(known, held, first),
            unknown=1 - len(known) / len(query.concepts) if query.concepts else 0.0,
            strength=min(1.0, float(scores[first]) / most) if most > 0 and scores[first] > 0 else float(coverage[first]),
            margin=float((ranking[first] - ranking[order[1]]) / ranking[first]) if len(order) > 1 and ranking[first] > 0 else 1.0,
            agreement=min(1.0, float(np.mean(following)) / float(coverage[first])) if following and coverage[first] > 0 else 0.0,
            english=float(english),
            concepts=math.log1p(sum(1 for c in known if c.groups)),
            passages=math.log10(self.postings.n_docs),
        )

    def _following(self, query: Query, earlier: str) -> Query:
        """A follow-up ("and who approved it?") borrows the concepts of the question it follows that it
        lacks itself. They add to BM25 at :data:`FOLLOW_UP_WEIGHT`, so that of the passages answering
        the follow-up, those about what the thread is about come first; only a follow-up that names
        nothing of its own ("when?") is about the borrowed concepts alone."""
        asked = {t for group in query.scoring.groups for t in group}
        borrowed = [c for c in self.queries.build(earlier).concepts
                    if c.groups and not any(asked.intersection(group) for group in c.groups)]
        groups = [group for concept in borrowed for group in concept.groups]
        scoring = query.scoring
        own = any(c.known and c.groups for c in query.concepts)
        return Query(query.concepts if own else query.concepts + borrowed,
                     WeightedTerms(scoring.groups + groups, scoring.boosts + [FOLLOW_UP_WEIGHT if own else 1.0] * len(groups),
                                   scoring.scores_only))

    def _with_feedback(self, query: Query) -> Query:
        """Pseudo-relevance feedback, the classic remedy for dictionary translation: the Chinese
        words that two or more of the best passages share, and the question lacks, search too
        (a governor of the People's Bank → 行长, which no dictionary gives for "governor")."""
        docs, _ = self.scorer.top(query.scoring, self.options.feedback_passages)
        asked = {t for group in query.scoring.groups for t in group}
        shared: dict[int, int] = {}
        for doc in docs:
            words, _ = self.analyzer.analyze(self.passages[int(doc)]["text"], precise=True)
            for term in {self.vocabulary.id(w) for w in words if len(w) > 1}:
                if term is not None and term not in asked:
                    shared[term] = shared.get(term, 0) + 1
        idf = self.postings.idf
        chosen = sorted((t for t, n in shared.items() if n >= 2), key=lambda t: (-shared[t] * idf[t], t))
        chosen = chosen[: self.options.feedback_terms]
        return Query(query.concepts, WeightedTerms(query.scoring.groups + [(t,) for t in chosen],
                                                   query.scoring.boosts + [self.options.feedback_weight] * len(chosen)))

    def _candidates(self, query: Query, scope: TimeScope, depth: int, now: date) -> tuple[np.ndarray, np.ndarray]:
        """The passages to rerank: the best overall (only those in range, for a filter), and besides
        them the best of the time a question names, or of the last stretch for a question about now."""
        docs, scores = self.scorer.top(query.scoring, depth, self._within(scope) if scope.explicit else None)
        if scope.bounded and not scope.explicit:  # a date named in words: the news of then competes too
            docs, scores = _merge(docs, scores, *self.scorer.top(query.scoring, depth, self._within(scope)))
        if scope.present:  # the news of the last stretch competes even when older news outscores it
            recent = self._within(TimeScope(since=now - timedelta(days=self.options.recent_window_days)))
            docs, scores = _merge(docs, scores, *self.scorer.top(query.scoring, depth, recent))
        return docs, scores

    def _time_weights(self, docs: np.ndarray, ages: list[int | None], scope: TimeScope) -> np.ndarray | float:
        """What time multiplies each candidate's score by: recency for a question about now, the
        named-date boost for passages of the time a question names, else 1."""
        if scope.present:
            return self.recency(ages)
        if scope.bounded and not scope.explicit:
            return np.where(self._within(scope)(docs), self.options.named_date_boost, 1.0)
        return 1.0

    def now(self) -> date:
        """The date "now" stands for: the clock setting, else the newest article's date, else today."""
        return self.options.now or self.newest or date.today()

    def _within(self, scope: TimeScope) -> DayRange:
        """The passages dated inside the scope (undated ones never are)."""
        low = day_number(scope.since.isoformat()) if scope.since is not None else UNDATED + 1
        high = day_number(scope.before.isoformat()) if scope.before is not None else np.iinfo(np.int32).max
        return DayRange(self.days, low, high)

    def _ages(self, docs: np.ndarray, now: date) -> list[int | None]:
        today = day_number(now.isoformat())
        return [None if d == UNDATED else today - int(d) for d in self.days[docs]]

    def recency(self, ages: list[int | None]) -> np.ndarray:
        """How much each passage's age leaves of its score: half per half-life (news dated after
        "now" counts as new); undated passages get the mean of the dated ones, neither favoured
        nor dropped."""
        half_life = self.options.recency_half_life_days
        factors = [None if age is None else 0.5 ** (max(age, 0) / half_life) for age in ages]
        dated = [f for f in factors if f is not None]
        neutral = float(np.mean(dated)) if dated else 1.0
        return np.array([neutral if f is None else f for f in factors])

    def _presence(self, query: Query, docs: np.ndarray) -> dict[int, np.ndarray]:
        """For each term of the query, which of ``docs`` contain it."""
        terms = sorted({t for group in query.scoring.groups for t in group})
        found = self.scorer.term_frequencies(terms, docs) > 0
        return dict(zip(terms, found))

    def _in_own_text(self, present: dict[int, np.ndarray], texts: _Texts) -> dict[int, np.ndarray]:
        """``present`` as weights: 1 where the passage's own text holds the term, ``context_match``
        where only its document title or section heading (searched with it) does. Of two passages
        under the headline "Google DeepMind calls to the Qwen team", the one that says so answers."""
        weighted = {t: found.astype(float) for t, found in present.items()}
        if self.options.context_match >= 1:
            return weighted
        words = {term: self.vocabulary[term] for term, found in present.items() if found.any()}
        for i in range(len(texts)):
            if not texts.has_context(i):
                continue  # no title or heading: every match is in the passage's own text
            written = texts[i].lower()
            for term, word in words.items():  # Traditional text is converted only when the word is not there as written
                if present[term][i] and word not in written and word not in texts.normalized(i, self.analyzer):
                    weighted[term][i] = self.options.context_match
        return weighted

    @staticmethod
    def held(concepts: list[Concept], present: dict[int, np.ndarray], n_docs: int) -> dict[int, np.ndarray]:
        """For each concept (by ``id``), how much of it each passage holds: its best term's weight in
        ``present`` (0 to 1)."""
        held = {}
        for concept in concepts:
            hit = np.zeros(n_docs)
            for term in {t for group in concept.groups for t in group}:
                hit = np.maximum(hit, present[term])
            held[id(concept)] = hit
        return held

    def phrase_share(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """For each passage, the longest run of the question's letters and digits (spaces and
        punctuation aside) it holds verbatim, as a share of them: a passage that repeats the
        question's wording is likely the one it was asked about. A question with no Chinese in it
        (asked in English of Chinese news) has no wording to find."""
        wanted = self.analyzer.letters_and_digits(normalize(question))
        if len(wanted) < 2 or not has_cjk(wanted):
            return np.zeros(len(texts))
        runs = [longest_shared_run(wanted, self.analyzer.letters_and_digits(texts[i])) for i in range(len(texts))]
        return np.array(runs) / len(wanted)

    def _collapse_copies(self, ranked: np.ndarray, docs: np.ndarray, limit: int) -> tuple[np.ndarray, dict[int, list[int]]]:
        """The first ``limit`` candidates in ``ranked`` order, leaving out the passages of other copies
        of a story already shown (another article of the same story; the shown article's own other
        passages stay), and for each kept candidate the passages of the copies it stands for."""
        kept: list[int] = []
        copies: dict[int, list[int]] = {}
        shown: dict[int, tuple[int, int]] = {}  # story: (its first kept candidate, that candidate's article)
        for i in ranked.tolist():
            article = int(self.articles[docs[i]])
            story = int(self.stories[article])
            first = shown.get(story)
            if first is not None and first[1] != article:
                copies.setdefault(first[0], []).append(int(docs[i]))
            elif len(kept) < limit:
                shown.setdefault(story, (i, article))
                kept.append(i)
        return np.array(kept, dtype=np.int64), copies

    def _hit(self, rank: int, doc: int, score: float, bm25: float, terms: list[int], age: int | None, earlier: bool,
             copies: list[int]) -> Hit:
        record = self.passages[doc]
        text = record.pop("text")
        record["also_in"] = self.passages.repeats(doc)
        for copy in copies:  # the same story as other outlets ran it, with small edits (and its word-for-word repeats)
            first = {key: value for key, value in self.passages[copy].items() if key not in ("text", "heading")}
            for other in [first, *self.passages.repeats(copy)]:
                if all(seen["doc_id"] != other["doc_id"] for seen in [record, *record["also_in"]]):
                    record["also_in"].append(other)
        record["also_in"].sort(key=lambda other: (other.get("date") or "~", other["doc_id"]))  # the earliest first, undated last
        matched = sorted((self.vocabulary[t] for t in terms), key=len, reverse=True)
        return Hit(rank=rank, score=round(score, 6), text=text, citation=Citation(**record), matched=matched,
                   bm25=round(bm25, 6), age_days=age, earlier=earlier)


class _Texts(Sequence[str]):
    """The candidate passages' texts, each record read from the passage file once, when first needed."""

    def __init__(self, passages: PassageFile, docs: np.ndarray) -> None:
        self.passages, self.docs = passages, docs
        self.records: dict[int, dict] = {}
        self.simplified: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.docs)

    def record(self, i: int) -> dict:
        if i not in self.records:
            self.records[i] = self.passages[int(self.docs[i])]
        return self.records[i]

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  # no slices: candidates are read one by one
        return self.record(i)["text"]

    def has_context(self, i: int) -> bool:
        """Whether a title or heading was searched with the passage."""
        return bool(self.record(i).get("title") or self.record(i).get("heading"))

    def normalized(self, i: int, analyzer: Analyzer) -> str:
        """The text as the index saw it (lower case, Simplified)."""
        if i not in self.simplified:
            self.simplified[i] = analyzer.normalize(self[i])
        return self.simplified[i]


def _refusal(question: str, scope: TimeScope, now: date, confidence: float, threshold: float) -> str | None:
    """Why the news has no answer (an :attr:`Answer.reason`), or None when it answers."""
    kind = question_kind(question)
    if kind == "soon" or (scope.since is not None and scope.since > now):
        return "after_news"
    if kind and (kind not in UNLIKELY_KINDS or confidence < KIND_CONFIDENCE):
        return kind
    return "weak" if confidence < threshold else None


def _guessed_share(known: list[Concept], held: dict[int, np.ndarray], first: int) -> float:
    """Of the information the first passage holds, the share held through guessed concepts."""
    holds = [(c.information * float(held[id(c)][first]), c.guessed) for c in known if c.groups]
    total = sum(h for h, _ in holds)
    return sum(h for h, guessed in holds if guessed) / total if total > 0 else 0.0


def _older_by(age: int | None, first: int | None, days: int) -> bool:
    return age is not None and first is not None and age - first > days


def _merge(docs: np.ndarray, scores: np.ndarray, more_docs: np.ndarray, more_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two candidate lists as one, each passage once."""
    merged, first = np.unique(np.concatenate([docs, more_docs]), return_index=True)
    return merged, np.concatenate([scores, more_scores])[first]


def _share(concepts: list[Concept], present, zero):
    """Information of the known concepts that are ``present``, over the information of all known ones
    (words neither the news nor the dictionary knows count for neither)."""
    counted = [c for c in concepts if c.known]
    total = sum(c.information for c in counted)
    found = sum((c.information * present(c) for c in counted), zero)
    return found / total if total > 0 else zero
