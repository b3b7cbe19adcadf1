"""Incremental updates: a delta segment beside the full build, scored exactly as rank-bm25 scores
the whole live corpus, with deletions and replacements, and picked by the engine."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi
from test_bm25_parity import assert_parity, indexed_tokens, live_passages, random_corpus

from index.bm25 import Scorer
from index.build import build_index
from index.engine import Engine
from index.search import SearchOptions
from index.store import current_generation, read_manifest
from index.update import update_index


def _records(seed: int, first: int, count: int, vocabulary: list[str]) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for n in range(first, first + count):
        words = rng.choices(vocabulary + ["fresh", "novel"], k=rng.randint(1, 30))
        lines.append(json.dumps({"id": f"r{n}", "text": " ".join(words)}))
    return lines


def _kind(index_dir: Path) -> str:
    return read_manifest(current_generation(index_dir))["kind"]


@pytest.fixture
def updated(tmp_path):
    """A random corpus built in full, then changed every way an update handles: lines appended to
    a JSON Lines file, a new file, a document replaced by a newer version (same id), a file deleted,
    and a word-for-word repeat of a base passage."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, 11)
    with open(corpus / "random.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n")  # a JSON Lines file appended to ends each line
    (corpus / "gone.jsonl").write_text("\n".join(_records(12, 1000, 20, vocabulary)) + "\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", workers=1)
    with open(corpus / "random.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n".join(_records(13, 300, 25, vocabulary)) + "\n")
    first_text = json.loads((corpus / "random.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
    new = _records(14, 2000, 30, vocabulary) + [json.dumps({"id": "r5", "text": "replaced fresh t1 t2"}),
                                                 json.dumps({"id": "copy", "text": first_text})]
    (corpus / "new.jsonl").write_text("\n".join(new), encoding="utf-8")
    (corpus / "gone.jsonl").unlink()
    report = update_index(corpus, tmp_path / "index", workers=1, max_share=0.5)
    return corpus, tmp_path / "index", vocabulary, report


def test_an_update_writes_a_delta_over_the_full_build(updated):
    corpus, index_dir, _, report = updated
    assert report.how == "delta", report.why
    assert report.added == 25 + 30 + 1  # the appended lines, the new file's records, the replacement (the copy repeats)
    assert report.deleted == 20 + 1  # the deleted file's passages and the replaced version
    assert _kind(index_dir) == "delta"
    engine = Engine(corpus, index_dir)
    assert engine.is_fresh()
    index = engine.index()
    assert index.postings.n_docs == len(live_passages(engine)) == 300 + 25 + 30 + 1 - 1


def test_scores_over_a_delta_equal_rank_bm25_over_the_live_corpus(updated):
    corpus, index_dir, vocabulary, _ = updated
    engine = Engine(corpus, index_dir)
    rng = random.Random(15)
    words = vocabulary + ["common", "fresh", "novel", "replaced", "absent"]
    assert_parity(engine, [rng.choices(words, k=rng.randint(1, 6)) for _ in range(40)])


def test_a_delta_answers_as_a_full_rebuild_does(updated, tmp_path):
    """The same corpus built in full gives every passage the same score."""
    corpus, index_dir, vocabulary, _ = updated
    delta, full = Engine(corpus, index_dir).index(), Engine(corpus, tmp_path / "full").index()
    assert _kind(tmp_path / "full") == "full" and delta.postings.n_docs == full.postings.n_docs
    rng = random.Random(16)

    def scored(index, query):
        docs, scores = index.scorer.top(index.queries.tokens_query(query), index.postings.n_docs)
        return sorted((index.passages[int(d)]["text"], round(float(s), 4)) for d, s in zip(docs, scores))

    for _ in range(30):
        query = rng.choices(vocabulary + ["fresh", "replaced", "common"], k=rng.randint(1, 5))
        assert scored(delta, query) == scored(full, query)


def test_deleted_and_replaced_passages_are_never_found(updated):
    corpus, index_dir, _, _ = updated
    answer = Engine(corpus, index_dir, search=SearchOptions(min_answer_probability=0)).ask("replaced fresh", 10)
    assert [h.citation.doc_id for h in answer.hits][0] == "r5"
    everything = Engine(corpus, index_dir).index()
    texts = [everything.passages[i]["text"] for i in live_passages(Engine(corpus, index_dir))]
    assert sum(t == "replaced fresh t1 t2" for t in texts) == 1
    assert not any(everything.passages[i]["path"] == "gone.jsonl" for i in live_passages(Engine(corpus, index_dir)))


def test_a_word_for_word_repeat_is_cited_where_the_base_has_it(updated):
    corpus, index_dir, _, _ = updated
    engine = Engine(corpus, index_dir)
    index = engine.index()
    original = next(n for n in live_passages(engine) if index.passages[n]["doc_id"] == "r0")
    assert original < index.postings.base.slots  # in the base, whose own repeats file is not rewritten
    assert [r["doc_id"] for r in index.passages.repeats(original)] == ["copy"]


def test_maxscore_over_a_delta_keeps_the_exact_top_ten(updated):
    corpus, index_dir, vocabulary, _ = updated
    engine = Engine(corpus, index_dir)
    index = engine.index()
    reference = BM25Okapi(indexed_tokens(engine))
    live = np.array(live_passages(engine))
    rng = random.Random(17)
    for _ in range(30):
        query = rng.choices(vocabulary + ["common", "fresh"], k=rng.randint(2, 6))
        expected = reference.get_scores(query)
        docs, scores = Scorer(index.postings).top(index.queries.tokens_query(query), 10)
        np.testing.assert_allclose(scores, np.sort(expected)[::-1][: len(docs)], rtol=1e-5, atol=1e-6)
        assert set(docs.tolist()) <= set(live.tolist())


def test_rescaled_base_weights_rank_as_weights_computed_from_tfs(updated):
    """Over a delta the base's stored weights, rescaled, rank and the top is scored again exactly:
    the same passages and scores as computing every base weight from its tf (what happens when they
    cannot be rescaled, and with pruning off)."""
    corpus, index_dir, vocabulary, _ = updated
    index = Engine(corpus, index_dir).index()
    rescaled = Scorer(index.postings)
    computed = Scorer(index.postings)
    computed.sources = dataclasses.replace(computed.sources, stored_idf=np.empty(0))
    exhaustive = Scorer(index.postings, prune=False)
    assert len(rescaled.sources.stored_idf) and rescaled.sources.band < 1
    rng = random.Random(18)
    for _ in range(40):
        query = index.queries.tokens_query(rng.choices(vocabulary + ["common", "fresh", "novel"], k=rng.randint(1, 6)))
        k = rng.randint(1, 20)
        found, scores = rescaled.top(query, k)
        for other in (computed, exhaustive):
            want, want_scores = other.top(query, k)
            assert found.tolist() == want.tolist() and scores.tolist() == want_scores.tolist()


def test_an_unchanged_corpus_is_not_updated_and_a_big_change_is_a_full_build(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, 18)
    build_index(corpus, tmp_path / "index", workers=1)
    assert update_index(corpus, tmp_path / "index", workers=1).how == "unchanged"
    (corpus / "big.jsonl").write_text("\n".join(_records(19, 5000, 200, vocabulary)), encoding="utf-8")
    report = update_index(corpus, tmp_path / "index", workers=1)
    assert report.how == "full" and "over 20%" in report.why
    assert _kind(tmp_path / "index") == "full"


def test_a_second_update_rewrites_the_delta_over_the_same_base(updated):
    corpus, index_dir, vocabulary, first = updated
    base = read_manifest(current_generation(index_dir))["base"]
    (corpus / "later.jsonl").write_text("\n".join(_records(20, 3000, 5, vocabulary)), encoding="utf-8")
    second = update_index(corpus, index_dir, workers=1, max_share=0.5)
    assert second.how == "delta" and second.added == first.added + 5
    assert read_manifest(current_generation(index_dir))["base"] == base
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == sorted([base, current_generation(index_dir).name])
    rng = random.Random(21)
    assert_parity(Engine(corpus, index_dir), [rng.choices(vocabulary + ["fresh"], k=3) for _ in range(10)])


def test_a_full_build_keeps_the_version_from_the_newest_file(updated, tmp_path):
    corpus, _, vocabulary, _ = updated
    full = Engine(corpus, tmp_path / "full")
    versions = [full.index().passages[n]["text"] for n in live_passages(full) if full.index().passages[n]["doc_id"] == "r5"]
    assert versions == ["replaced fresh t1 t2"]
    rng = random.Random(22)
    assert_parity(full, [rng.choices(vocabulary + ["fresh", "replaced", "common"], k=rng.randint(1, 5)) for _ in range(30)])


def test_a_later_record_with_the_same_id_replaces_the_earlier_in_a_full_build(tmp_path):
    """Counted as deleted: BM25 is over the newest versions only, and the newer version's paragraph
    that the older one had word for word is its own."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    vocabulary = random_corpus(corpus, 23)
    versions = [{"id": "story", "title": "Story", "text": "first draft of it t3 t4。\n\nkept paragraph t5 t6 t7 t8 t9 t10 t11"},
                {"id": "story", "title": "Story", "text": "final text of it t3 t12。\n\nkept paragraph t5 t6 t7 t8 t9 t10 t11"}]
    (corpus / "story.jsonl").write_text("\n".join(json.dumps(v) for v in versions), encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    index = engine.index()
    assert index.postings.deleted is not None and index.postings.deleted.sum() == 2
    live = [index.passages[n]["text"] for n in live_passages(engine) if index.passages[n]["doc_id"] == "story"]
    assert live == ["final text of it t3 t12。", "kept paragraph t5 t6 t7 t8 t9 t10 t11"]
    rng = random.Random(24)
    assert_parity(engine, [rng.choices(vocabulary + ["draft", "final", "kept"], k=rng.randint(1, 5)) for _ in range(30)])


def test_verify_checks_the_base_of_a_delta_too(updated):
    corpus, index_dir, _, _ = updated
    engine = Engine(corpus, index_dir)
    assert engine.verify() == []
    base = index_dir / read_manifest(current_generation(index_dir))["base"]
    weights = base / "post_weights.npy"
    data = bytearray(weights.read_bytes())
    data[-4:] = b"\xff\xff\xff\x7f"  # the same size, other bytes: only the checksum tells
    weights.write_bytes(bytes(data))
    problems = engine.verify()
    assert problems and base.name in problems[0] and "post_weights.npy" in problems[0]
