"""When the news has no answer: the evidence, the fitted model, the refusal and what it says."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest
from conftest import SEEDS

from bot.render import AFTER_NEWS, CLOSEST_LABEL, NOT_NEWS, answer_message, text_answer
from index.answerability import KIND_CONFIDENCE, TERMS, AnswerModel, Evidence, question_kind, shipped_model
from index.engine import Engine
from index.evaluate import Case, score
from index.search import Answer, SearchOptions


@pytest.mark.parametrize("question, kind", [
    ("What is the weather in Paris tomorrow?", "soon"), ("明天巴黎天气如何?", "soon"), ("Will it rain this weekend?", "soon"),
    ("我家的猫为什么不吃饭?", "personal"), ("What does my team think of Qwen?", "personal"),
    ("怎样在家自制冰淇淋?", "how_to"), ("哪家火锅店最好吃?", "how_to"), ("What is the recipe for dumplings?", "how_to"),
    ("What is the price of gold today?", "live"), ("现在美元兑人民币汇率是多少?", "live"), ("演唱会门票多少钱?", "live"),
    ("What is the Wi-Fi password of the office?", "private"),
    # news questions: none of these kinds
    ("Who will win the election?", None), ("Who won next year's election?", None), ("Who approved Lin Junyang's resignation?", None),
    ("How did Iran react to the referendum?", None), ("《我的暑假》是哪个公司制作的？", None), ("华堡1957年的价格是多少?", None),
    ("Who is the prime minister now?", None), ("Tell me who leads Tongyi", None), ("我想知道谁批准了林俊旸的辞职", None),
    ("哪家公司收购了世界最大的铌生产企业?", None), ("他是怎么做的?", None), ("How much did Zuckerberg pay to hire Ruoming Pang?", None),
])
def test_the_wording_says_what_kind_of_question_it_is(question, kind):
    assert question_kind(question) == kind


def test_the_shipped_model_weighs_every_feature_and_reads_back_the_same():
    model = shipped_model()
    assert set(model.weights) == set(model.means) == set(model.scales) == set(TERMS)
    assert 0 < model.threshold < 1
    assert AnswerModel(**json.loads(model.to_json())) == model
    strong = Evidence(coverage=1, telling=1, guessed=0, unknown=0, strength=0.8, margin=0.3, agreement=0.3, english=0, concepts=1.8,
                      passages=5)
    weak = replace(strong, coverage=0.2, telling=0, strength=0.1)
    assert model.probability(strong) > model.threshold > model.probability(weak)
    assert model.probability(replace(strong, strength=0.4)) < model.probability(strong)


def test_a_refusal_says_why_and_shows_the_closest_coverage_as_not_an_answer(seed_engine):
    answer = seed_engine.ask("Who won the election?")
    assert answer.answered is False and answer.hits == [] and answer.reason == "weak"
    assert answer.closest and answer.confidence is not None and answer.confidence < shipped_model().threshold
    assert set(answer.evidence) == {f.name for f in fields(Evidence)}
    message = answer_message(answer)
    assert message["text"].startswith("Nothing in the news answers")
    assert any(CLOSEST_LABEL in e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"])
    assert answer.closest[0].text[:20] in text_answer(answer)
    assert json.loads(json.dumps(answer.to_dict()))["reason"] == "weak"


@pytest.mark.parametrize("question, kind", [("What is the price of Alibaba stock today?", "live"),
                                            ("What does my team think of Qwen?", "personal"),
                                            ("阿里巴巴的内网密码是什么?", "private"), ("哪家公司的大模型最好用?", "how_to")])
def test_a_kind_of_question_no_news_answers_is_refused(seed_engine, question, kind):
    answer = seed_engine.ask(question)
    assert answer.answered is False and answer.reason == kind
    assert kind in ("personal", "private") or answer.confidence < KIND_CONFIDENCE
    assert answer_message(answer)["text"] == NOT_NEWS[kind].format(question=question)


def test_a_year_after_the_newest_news_is_refused_with_the_date_the_news_ends(seed_engine):
    answer = seed_engine.ask("Who will lead Tongyi Lab in 2031?")
    assert answer.answered is False and answer.reason == "after_news" and answer.news_until
    assert answer.news_until in text_answer(answer)


def test_an_answer_carries_its_confidence(seed_engine):
    answer = seed_engine.ask("谁批准了林俊旸的辞职?")
    assert answer.answered and answer.confidence >= shipped_model().threshold and answer.reason is None


def test_a_question_about_a_time_after_the_newest_news_says_when_the_news_ends(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(
        {"id": f"n{i}", "date": f"2025-0{i + 1}-10", "title": title, "text": text}, ensure_ascii=False) for i, (title, text) in enumerate([
            ("大选", "某国举行总统大选,现任总统以微弱优势胜出,反对党表示将接受选举结果。"),
            ("天气", "气象台预计本周全国大部地区以晴为主,北方气温回升。"),
        ])), encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    answer = engine.ask("明天天气怎么样?")
    assert answer.answered is False and answer.reason == "after_news" and answer.news_until == "2025-02-10"
    assert AFTER_NEWS.split("“")[0] in text_answer(answer) and "2025-02-10" in answer_message(answer)["text"]


def test_the_threshold_setting_trades_refusals_for_answers(seed_engine, seed_index_dir):
    never = Engine(SEEDS, seed_index_dir, search=SearchOptions(min_answer_probability=0.0))
    always = Engine(SEEDS, seed_index_dir, search=SearchOptions(min_answer_probability=1.0))
    assert never.ask("What is the price of Alibaba stock today?").answered
    assert never.ask("Who won the election?").answered
    assert never.ask("谁批准了林俊旸的辞职?").confidence is None
    assert always.ask("谁批准了林俊旸的辞职?").reason == "weak"


def test_eval_counts_refusals_on_both_sides():
    """A refused answerable question whose right passage ranked in the top 3 is a false refusal;
    a refused unanswerable one is a right refusal."""
    from index.search import Citation, Hit

    def hit(rank: int, text: str) -> Hit:
        return Hit(rank=rank, score=1.0, text=text, citation=Citation(doc_id="d", title=None, source=None, date=None,
                                                                       paragraph=rank, path="d", url=None))

    refused = {"q1": [hit(1, "gold here")], "q2": [hit(1, "x"), hit(2, "y"), hit(3, "z"), hit(4, "gold late")]}
    cases = [Case("q1", ("gold",)), Case("q2", ("gold",)), Case("q3", ("gold",)), Case("q4"), Case("q5")]

    def ask(question: str) -> Answer:
        if question in refused:
            return Answer(question=question, answered=False, hits=[], reason="weak", closest=refused[question])
        if question == "q3":
            return Answer(question=question, answered=True, hits=[hit(1, "gold")])
        return Answer(question=question, answered=question == "q5", hits=[hit(1, "nothing")] if question == "q5" else [])

    figures = score(cases, ask)
    assert figures["false_refusals"] == pytest.approx(1 / 2)  # q1 refused with gold first; q3 answered; q2's gold ranked 4th
    assert figures["no_answer_accuracy"] == pytest.approx(1 / 2)  # q4 refused, q5 answered
    assert figures["hit@1"] == pytest.approx(1 / 3)
