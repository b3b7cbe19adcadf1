"""Questions in, ranked cited passages out; no answer when the news has none."""

from __future__ import annotations

import json

import pytest
from conftest import seed_questions

from index import QuestionError
from index.analysis import Analyzer
from index.search import MAX_QUESTION_CHARS

SEED = seed_questions()
CHINESE = [q for q in SEED if q["lang"] == "zh"]


def test_analyzer_lowercases_latin_and_drops_punctuation_and_stop_words():
    tokens = Analyzer().tokens("阿里巴巴的 CEO 是谁?「DeepMind」!")
    assert "ceo" in tokens and "deepmind" in tokens and "阿里巴巴" in tokens
    assert not {"的", "是", "谁", "?", "「", "!", " "} & set(tokens)


def test_question_and_passage_share_one_analysis():
    analyzer = Analyzer()
    assert analyzer.tokens("ＣＥＯ　吴泳铭") == analyzer.tokens("ceo 吴泳铭")


@pytest.mark.skipif(not CHINESE, reason="shared/eval/seed_questions.jsonl not present")
@pytest.mark.parametrize("case", CHINESE, ids=[q["id"] for q in CHINESE])
def test_chinese_seed_questions_find_their_passage_in_the_top_three(seed_engine, case):
    answer = seed_engine.ask(case["question"], top_k=3)
    assert answer.answered
    assert any(gold in hit.text for hit in answer.hits for gold in case["gold"])


@pytest.mark.skipif(not SEED, reason="shared/eval/seed_questions.jsonl not present")
def test_seed_questions_in_english_and_chinese_meet_the_quality_targets(seed_engine, tmp_path):
    from index.evaluate import evaluate, load_cases

    (tmp_path / "seed.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in SEED), encoding="utf-8")
    result = evaluate(seed_engine, load_cases(tmp_path / "seed.jsonl"))
    assert result["hit@1"] >= 0.95 and result["hit@3"] == 1.0 and result["no_answer_accuracy"] == 1.0, result


def test_who_leads_tongyi_in_chinese_ranks_the_email_first_with_its_citation(seed_engine):
    answer = seed_engine.ask("谁带领通义实验室?")
    first = answer.hits[0]
    assert "靖人会继续带领通义实验室" in first.text or "明确周靖人继续带队" in first.text
    assert (first.citation.source, first.citation.date) == ("TechWeb", "2026-03-05")
    assert first.citation.paragraph >= 1 and first.citation.path.endswith(".txt")
    assert [h.rank for h in answer.hits] == [1, 2, 3]
    assert all(a.score >= b.score for a, b in zip(answer.hits, answer.hits[1:]))
    assert {"带领", "通义"} <= set(first.matched)


@pytest.mark.parametrize("question", ["明天巴黎天气如何?", "昨晚的足球比赛谁赢了?", "的了吗?"])
def test_questions_the_news_cannot_answer_get_no_passages(seed_engine, question):
    answer = seed_engine.ask(question)
    assert answer.answered is False and answer.hits == []


@pytest.mark.parametrize("question, message", [("   ", "Ask a question"), ("新闻" * MAX_QUESTION_CHARS, "characters long")])
def test_empty_and_huge_questions_are_refused_politely(seed_engine, question, message):
    with pytest.raises(QuestionError, match=message):
        seed_engine.ask(question)


def test_top_k_is_honoured(seed_engine):
    assert len(seed_engine.ask("阿里巴巴 通义实验室 林俊旸", top_k=5).hits) == 5
