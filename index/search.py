"""Answering a question from an opened index: ranked passages, their citations and the words that matched."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.analysis import Analyzer
from index.bm25 import BM25Params, Postings, Scorer, WeightedTerms
from index.store import PassageFile, Vocabulary, load_array, read_manifest

MAX_QUESTION_CHARS = 500
MIN_COVERAGE = 0.34


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


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    text: str
    citation: Citation
    matched: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    hits: list[Hit]

    def to_dict(self) -> dict:
        return asdict(self)


def check_question(question: str) -> str:
    """The question, stripped; empty or over-long questions raise :class:`QuestionError`."""
    question = " ".join(question.split())
    if not question:
        raise QuestionError("Ask a question about the news, for example: who leads Tongyi now?")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"That question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}."
        )
    return question


@dataclass(frozen=True)
class QueryTerm:
    """One thing the question asks for: the index terms that stand for it and how much it counts."""

    text: str
    ids: tuple[int, ...]
    boost: float
    information: float


class OpenIndex:
    """A generation of the index, memory-mapped, ready to answer questions from many threads."""

    def __init__(self, generation: Path, analyzer: Analyzer) -> None:
        self.generation = generation
        self.manifest = read_manifest(generation)
        self.analyzer = analyzer
        self.vocabulary = Vocabulary.open(generation)
        self.passages = PassageFile(generation)
        self.postings = Postings(
            offsets=load_array(generation, "post_offsets"),
            docs=load_array(generation, "post_docs"),
            tfs=load_array(generation, "post_tfs"),
            weights=load_array(generation, "post_weights"),
            idf=load_array(generation, "idf"),
            doc_len=load_array(generation, "doc_len"),
            avgdl=float(self.manifest["avgdl"]),
            params=BM25Params(**self.manifest["bm25"]),
        )
        self.scorer = Scorer(self.postings)

    def information(self, df: int) -> float:
        """How telling a term with document frequency ``df`` is: a smoothed idf that stays positive
        (unlike BM25Okapi's, which goes negative for terms in over half of a small corpus)."""
        n = self.postings.n_docs
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def query_terms(self, question: str) -> list[QueryTerm]:
        return self.lookup(self.analyzer.tokens(question))

    def lookup(self, tokens: list[str]) -> list[QueryTerm]:
        """Query terms for analysed tokens; a repeated token counts as often as it occurs."""
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        terms = []
        for token, count in counts.items():
            term_id = self.vocabulary.id(token)
            ids = () if term_id is None else (term_id,)
            df = 0 if term_id is None else int(self.postings.offsets[term_id + 1] - self.postings.offsets[term_id])
            terms.append(QueryTerm(token, ids, float(count), self.information(df)))
        return terms

    def search(self, question: str, top_k: int = 3) -> Answer:
        question = check_question(question)
        terms = self.query_terms(question)
        searchable = [term for term in terms if term.ids]
        query = WeightedTerms([t.ids for t in searchable], [t.boost for t in searchable])
        docs, scores = self.scorer.top(query, top_k)
        hits = [self._hit(rank, int(doc), float(score), terms) for rank, (doc, score) in enumerate(zip(docs, scores), 1)]
        answered = bool(hits) and self.coverage(terms, int(docs[0])) >= MIN_COVERAGE
        return Answer(question=question, answered=answered, hits=hits if answered else [])

    def matched_terms(self, terms: list[QueryTerm], doc: int) -> list[QueryTerm]:
        return [t for t in terms if any(self.postings.contains(i, doc) for i in t.ids)]

    def coverage(self, terms: list[QueryTerm], doc: int) -> float:
        """Share of the question's information (idf mass) that the passage contains."""
        total = sum(t.information for t in terms)
        matched = sum(t.information for t in self.matched_terms(terms, doc))
        return matched / total if total > 0 else 0.0

    def _hit(self, rank: int, doc: int, score: float, terms: list[QueryTerm]) -> Hit:
        record = self.passages[doc]
        text = record.pop("text")
        matched = [self.vocabulary[i] for t in self.matched_terms(terms, doc) for i in t.ids if self.postings.contains(i, doc)]
        return Hit(rank=rank, score=round(score, 6), text=text, citation=Citation(**record), matched=matched)
