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


def test_a_paragraph_two_outlets_carried_is_cited_once_with_the_other_outlet_listed(corpus, tmp_path):
    from index.engine import Engine
    from index.evaluate import Case

    shared = "国家统计局今天公布,全国粮食总产量达到一万三千九百亿斤,连续九年稳定在一万三千亿斤以上。"
    (corpus / "news.jsonl").write_text(
        "\n".join(json.dumps(record, ensure_ascii=False) for record in [
            {"id": "xinhua-1", "source": "新华社", "text": f"{shared}\n农业农村部表示,明年将继续稳定粮食播种面积,确保口粮绝对安全。"},
            {"id": "cctv-7", "source": "央视", "text": f"{shared}\n记者在河南周口看到,小麦播种已经基本完成,苗情长势良好。"},
            {"id": "cctv-8", "source": "央视", "text": f"{shared}\n{shared}"},
        ]),
        encoding="utf-8",
    )
    engine = Engine(corpus, tmp_path / "index")
    (hit, *_) = engine.ask("全国粮食总产量是多少?", 3).hits
    assert hit.citation.doc_id == "xinhua-1" and hit.text == shared
    assert [(other["doc_id"], other["source"]) for other in hit.citation.also_in] == [("cctv-7", "央视"), ("cctv-8", "央视")]
    assert Case("粮食产量", gold_doc="cctv-7").is_hit(hit)  # a QA set whose gold article is the repeat counts it
    assert not Case("粮食产量", gold_doc="cctv-9").is_hit(hit)


def test_a_passage_that_repeats_the_questions_wording_ranks_first(corpus, tmp_path):
    from index.engine import Engine
    from index.search import SearchOptions

    filler = ["今天北京天气晴朗,气温回升到二十度。", "上海举办国际电影节,多部影片首映。", "广州地铁新线开通,市民出行更方便。",
              "深圳科技企业发布新款手机。", "杭州西湖景区游客数量创新高。", "成都大熊猫基地迎来新生幼崽。"]
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "scattered", "text": "造成楼市下滑的原因:香港商铺交投量大幅回落,楼市下滑,原因是旅客减少。"},
        {"id": "verbatim", "text": "受内外夹击,香港楼市交投量大幅下滑,这是造成商铺买卖受影响的原因之一,也影响了整体市场的信心和价格走势。"},
    ] + [{"id": f"filler-{i}", "text": text} for i, text in enumerate(filler)]), encoding="utf-8")
    question = "造成香港楼市交投量大幅下滑的原因是什么?"
    plain = Engine(corpus, tmp_path / "index", search=SearchOptions(phrase_weight=0)).ask(question)
    assert [h.citation.doc_id for h in plain.hits[:2]] == ["scattered", "verbatim"]  # more BM25 and coverage
    phrases = Engine(corpus, tmp_path / "index").ask(question)
    assert [h.citation.doc_id for h in phrases.hits[:2]] == ["verbatim", "scattered"]
    assert phrases.hits[0].bm25 < phrases.hits[1].bm25  # the bm25 field still reports plain BM25


def test_an_english_question_has_no_wording_to_find_in_chinese_news(seed_engine):
    index = seed_engine.index()
    texts = [index.passages[d]["text"] for d in range(min(5, index.postings.n_docs))]
    assert not index.phrase_share("who leads Tongyi now?", texts).any()
    assert index.phrase_share("谁带领通义实验室?", texts).any()
