"""newsbot's BM25 scores equal rank_bm25.BM25Okapi's on the same tokens (relative difference ≤ 1e-5)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED
from rank_bm25 import BM25Okapi

from index.bm25 import RESCORED, Scorer, WeightedTerms, group_df
from index.engine import Engine
from index.passages import searchable_text


def live_passages(engine: Engine) -> list[int]:
    """The numbers of the passages the index holds (a delta may have deleted some of its base's)."""
    index = engine.index()
    deleted = index.postings.deleted
    return [i for i in range(len(index.passages)) if deleted is None or not deleted[i]]


def indexed_tokens(engine: Engine) -> list[list[str]]:
    """The tokens the index was built from, recomputed passage by passage (live passages only)."""
    index = engine.index()
    records = [index.passages[i] for i in live_passages(engine)]
    texts = [searchable_text(r["text"], r["title"], r["heading"], engine.options.passages) for r in records]
    return [index.analyzer.tokens(text) for text in texts]


def our_scores(engine: Engine, query: list[str]) -> np.ndarray:
    """Every live passage's score, in the order of :func:`live_passages`."""
    index = engine.index()
    docs, scores = index.scorer.top(index.queries.tokens_query(query), index.postings.n_docs)
    full = np.zeros(index.postings.slots)
    full[docs] = scores
    return full[live_passages(engine)]


def assert_parity(engine: Engine, queries: list[list[str]]) -> None:
    corpus = indexed_tokens(engine)
    reference = BM25Okapi(corpus)
    for query in queries:
        expected = reference.get_scores(query)
        ours = our_scores(engine, query)
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
        top = np.argsort(-expected, kind="stable")[:10]
        assert np.allclose(np.sort(ours)[::-1][:10], expected[top], rtol=1e-5, atol=1e-6)


def random_corpus(folder: Path, seed: int) -> list[str]:
    rng = random.Random(seed)
    vocabulary = [f"t{i}" for i in range(60)]
    lines = []
    for n in range(300):
        words = rng.choices(vocabulary, weights=[1 / (i + 1) for i in range(60)], k=rng.randint(1, 40))
        if rng.random() < 0.8:
            words.append("common")  # in more than half the passages: rank-bm25's epsilon floor applies
        lines.append(json.dumps({"id": f"r{n}", "text": " ".join(words)}))
    (folder / "random.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return vocabulary


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_parity_on_random_corpora(tmp_path, seed):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, seed)
    engine = Engine(corpus, tmp_path / "index")
    rng = random.Random(seed)
    queries = [rng.choices(vocabulary + ["common", "absent"], k=rng.randint(1, 6)) for _ in range(30)]
    queries.append(["common", "common", "t0"])  # repeated query terms count twice, as in rank-bm25
    assert_parity(engine, queries)


def test_parity_on_the_seed_corpus(seed_engine):
    corpus = indexed_tokens(seed_engine)
    rng = random.Random(7)
    queries = [rng.sample(doc, min(len(doc), 5)) for doc in corpus] + [["通义", "实验室", "带领"]]
    assert_parity(seed_engine, queries)


@pytest.mark.skipif(not (SHARED / "data" / "cmrc2018").exists(), reason="shared/data not present")
def test_parity_on_real_chinese_wikipedia_paragraphs(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = SHARED / "data" / "cmrc2018" / "contexts.jsonl"
    (corpus / "cmrc.jsonl").write_text("".join(source.read_text(encoding="utf-8").splitlines(True)[:300]), encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    questions = SHARED / "data" / "cmrc2018" / "questions.jsonl"
    analyzer = engine.index().analyzer
    queries = [analyzer.tokens(json.loads(line)["question"]) for line in questions.read_text(encoding="utf-8").splitlines()[:80]]
    assert_parity(engine, [q for q in queries if q])


@pytest.mark.parametrize("seed", [4, 5])
def test_skipping_common_terms_keeps_the_exact_top_ten(tmp_path, seed):
    """With long postings looked up (or skipped) instead of scored in full, the top 10 is unchanged."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, seed)
    engine = Engine(corpus, tmp_path / "index")
    index = engine.index()
    reference = BM25Okapi(indexed_tokens(engine))
    pruning = Scorer(index.postings)
    rng = random.Random(seed)
    for _ in range(40):
        query = rng.choices(vocabulary + ["common"], k=rng.randint(2, 6))
        expected = reference.get_scores(query)
        docs, scores = pruning.top(index.queries.tokens_query(query), 10)
        best = np.sort(expected)[::-1][: len(docs)]
        np.testing.assert_allclose(scores, best, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(expected[docs], scores, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not (SHARED / "data" / "cmrc2018").exists(), reason="shared/data not present")
@pytest.mark.parametrize("k", [1, 3, 10])
def test_maxscore_equals_exhaustive_scoring_on_real_questions(tmp_path, k):
    """The questions as the bot asks them (bigrams at half weight, English synonym groups): MaxScore,
    whatever it skips, returns exactly the top 10 that scoring every passage returns."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = SHARED / "data" / "cmrc2018" / "contexts.jsonl"
    (corpus / "cmrc.jsonl").write_text("".join(source.read_text(encoding="utf-8").splitlines(True)[:300]), encoding="utf-8")
    index = Engine(corpus, tmp_path / "index").index()
    questions = SHARED / "data" / "cmrc2018" / "questions.jsonl"
    asked = [json.loads(line)["question"] for line in questions.read_text(encoding="utf-8").splitlines()[:120]]
    asked += ["Who leads the company now?", "When was the university founded?", "How many people live in the city?"]
    everything = Scorer(index.postings, prune=False)
    pruning = Scorer(index.postings)
    for question in asked:
        query = index.queries.build(question).scoring
        all_docs, all_scores = everything.top(query, index.postings.n_docs)
        exact = dict(zip(all_docs.tolist(), all_scores.tolist()))
        docs, scores = pruning.top(query, k)
        np.testing.assert_allclose(scores, all_scores[: len(docs)], rtol=1e-5, atol=1e-6, err_msg=question)
        np.testing.assert_allclose([exact[d] for d in docs.tolist()], scores, rtol=1e-5, atol=1e-6, err_msg=question)


@pytest.mark.parametrize("synonyms", [("t20", "t25", "t30"), ("rare1", "rare2")])
def test_a_synonym_group_scores_as_one_term(tmp_path, synonyms):
    """Pirkola with Lucene's SynonymQuery idf: the synonyms' tfs add up, as rank-bm25 scores one
    merged term, and the idf is the most common member's; a large union is read off a mask, a small
    one (the rare words) is sorted, and looking the weights up gives the same."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    random_corpus(corpus, 6)
    rare = ["t1 rare1 t2", "rare2 t3 rare2", "t4 rare1 rare2"]  # a union of 3 passages: the sorting path
    (corpus / "rare.jsonl").write_text("\n".join(json.dumps({"id": f"x{i}", "text": t}) for i, t in enumerate(rare)), encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    index = engine.index()
    group = tuple(sorted(index.vocabulary.id(t) for t in synonyms))
    scorer = Scorer(index.postings)
    docs, weights = scorer.group_postings(group)
    tokens = indexed_tokens(engine)
    merged = BM25Okapi([["syn" if t in synonyms else t for t in doc] for doc in tokens])
    original = BM25Okapi(tokens)
    most_common = max(synonyms, key=lambda t: sum(t in doc for doc in tokens))
    expected = merged.get_scores(["syn"]) / merged.idf["syn"] * original.idf[most_common]
    assert docs.tolist() == [i for i, doc in enumerate(tokens) if set(doc) & set(synonyms)]
    np.testing.assert_allclose(weights, expected[docs], rtol=1e-5)
    everywhere = np.arange(index.postings.n_docs)
    np.testing.assert_allclose(scorer.group_weights_at(group, everywhere), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("seed", [7, 8])
def test_a_scores_only_group_rescores_what_the_others_find(tmp_path, seed):
    """A common word marked scores-only brings no passage in: the top k are the passages the other
    words find, ranked by their full scores (all of them, as long as they are few)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, seed)
    index = Engine(corpus, tmp_path / "index").index()
    rng = random.Random(seed)
    ids = {t: index.vocabulary.id(t) for t in vocabulary + ["common"]}
    k = 10
    rarer = [t for t in vocabulary[20:] if ids[t] is not None and group_df(index.postings, (ids[t],)) <= RESCORED * k // 2]
    for _ in range(20):
        rare = rng.sample(rarer, 2)
        groups = [(ids[t],) for t in rare] + [tuple(sorted({ids["common"], ids["t0"], ids["t1"]}))]
        full = WeightedTerms(groups, [1.0] * len(groups))
        found = WeightedTerms(groups, [1.0] * len(groups), scores_only=frozenset({len(groups) - 1}))
        exhaustive = Scorer(index.postings, prune=False)
        all_docs, all_scores = exhaustive.top(full, index.postings.n_docs)
        finders = {d for t in rare for d in index.postings.docs_of(ids[t]).tolist()}
        expected = [(d, s) for d, s in zip(all_docs.tolist(), all_scores.tolist()) if d in finders][:k]
        for scorer in (exhaustive, Scorer(index.postings)):
            docs, scores = scorer.top(found, k)
            assert docs.tolist() == [d for d, _ in expected]
            np.testing.assert_allclose(scores, [s for _, s in expected], rtol=1e-5)
