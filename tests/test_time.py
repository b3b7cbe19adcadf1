""""Now" means now: dates in the index, questions about the present, dates and filters in questions."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from conftest import SEEDS

from bot.render import answer_message, text_answer
from index import Engine, QuestionError
from index.search import SearchOptions
from index.when import TimeFilterError, read_time
from test_cli import run

OLDER = [  # the same lab, led by the man who has since resigned
    {"id": "old-2024", "title": "通义实验室新模型发布", "source": "科技日报", "date": "2024-05-10",
     "text": "通义实验室由林俊旸带领,团队今天发布了新一代开源模型,林俊旸表示将继续带领通义实验室推进开源。"},
    {"id": "old-2025", "title": "通义千问团队专访", "source": "界面新闻", "date": "2025-04-02",
     "text": "通义实验室由林俊旸带领。林俊旸带领的通义团队在开源社区影响力持续扩大。"},
    {"id": "undated", "title": "通义实验室介绍", "text": "通义实验室是阿里巴巴的大模型团队,研究开源模型。"},
]
NOW = date(2026, 6, 15)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The seed article (2026-03-05) with older news of the same lab, indexed once."""
    root = tmp_path_factory.mktemp("archive")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "older.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in OLDER) + "\n", encoding="utf-8")
    Engine(corpus, root / "index").build()
    return corpus, root / "index"


def engine(archive, **options) -> Engine:
    return Engine(archive[0], archive[1], search=SearchOptions(**options))


@pytest.mark.parametrize("question", ["who leads Tongyi now?", "现在谁带领通义实验室?", "通义实验室目前由谁带领?",
                                      "Who currently leads the Tongyi lab?"])
def test_a_question_about_now_gets_the_newest_news_first(archive, question):
    answer = engine(archive).ask(question)
    first = answer.hits[0]
    assert first.citation.date == "2026-03-05" and ("周靖人" in first.text or "靖人" in first.text)
    assert answer.as_of == "2026-03-05"  # the newest news, as no clock is set
    older = [hit for hit in answer.hits[1:] if hit.citation.date and hit.citation.date < "2025-09-01"]
    assert older and all(hit.earlier for hit in older)


def test_without_recency_the_older_news_wins_which_is_why_it_exists(archive):
    first = engine(archive, recency=False).ask("现在谁带领通义实验室?").hits[0]
    assert first.citation.date != "2026-03-05"


def test_a_question_without_time_words_is_ranked_as_before(archive):
    with_time, without = engine(archive).ask("谁带领通义实验室?"), engine(archive, recency=False, time_filters=False).ask("谁带领通义实验室?")
    assert [h.citation.doc_id for h in with_time.hits] == [h.citation.doc_id for h in without.hits]
    assert with_time.as_of is None and not any(h.earlier for h in with_time.hits)


def test_every_hit_carries_its_age_and_undated_news_is_kept(archive):
    answer = engine(archive, now=NOW).ask("通义实验室 开源模型", top_k=5)
    ages = {h.citation.doc_id: h.age_days for h in answer.hits}
    assert ages["old-2024"] == (NOW - date(2024, 5, 10)).days
    assert "undated" in ages and ages["undated"] is None


def test_since_filter_keeps_only_news_from_then_on(archive):
    answer = engine(archive).ask("since:2025-01-01 通义实验室 林俊旸", top_k=5)
    assert answer.answered and all(h.citation.date and h.citation.date >= "2025-01-01" for h in answer.hits)


def test_a_filter_that_matches_nothing_says_so(archive):
    answer = engine(archive).ask("before:2024-01-01 通义实验室")
    assert not answer.answered and answer.window == "before 2024-01-01"
    assert "Nothing in the news before 2024-01-01 matches" in answer_message(answer)["text"]
    assert "Nothing in the news before 2024-01-01 matches" in text_answer(answer)


def test_a_bad_filter_date_is_a_polite_refusal(archive):
    with pytest.raises(QuestionError, match="not a date"):
        engine(archive).ask("since:yesterday 通义")


def test_a_year_named_in_words_favours_the_news_of_that_year(archive):
    first = engine(archive).ask("2024年 通义实验室由谁带领?").hits[0]
    assert first.citation.date.startswith("2024")


def test_slack_and_console_show_as_of_and_earlier_news(archive):
    answer = engine(archive).ask("who leads Tongyi now?")
    message = answer_message(answer)
    assert message["blocks"][0]["text"]["text"].endswith("”, as of 2026-03-05*")
    contexts = [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert any(c.startswith("earlier news · ") for c in contexts)
    assert "as of 2026-03-05" in text_answer(answer).splitlines()[0]


@pytest.mark.parametrize("question, since, before, present", [
    ("Who is Japan's prime minister now?", None, None, True),
    ("英国首相目前是谁", None, None, True),
    ("what happened in 2024?", date(2024, 1, 1), date(2025, 1, 1), False),
    ("去年的GDP增长了多少", date(2025, 1, 1), date(2026, 1, 1), False),
    ("2024年3月的两会", date(2024, 3, 1), date(2024, 4, 1), False),
    ("3月份发布了什么", date(2026, 3, 1), date(2026, 4, 1), False),
    ("news from last month", date(2026, 5, 1), date(2026, 6, 1), False),
    ("what was said in September", date(2025, 9, 1), date(2025, 10, 1), False),  # the latest September before now
    ("since:2025-01 Qwen before:2025-07-01", date(2025, 1, 1), date(2025, 7, 1), False),
    ("谁带领通义实验室?", None, None, False),
])
def test_time_is_read_from_questions(question, since, before, present):
    _, scope = read_time(question, NOW)
    assert (scope.since, scope.before, scope.present) == (since, before, present)


def test_filters_leave_the_question_and_present_words_are_dropped():
    assert read_time("since:2025-01-01 Qwen 开源", NOW)[0] == "Qwen 开源"
    assert read_time("Who is the current British prime minister?", NOW)[0] == "Who is the British prime minister?"
    with pytest.raises(TimeFilterError):
        read_time("before:2025-13-45 x", NOW)


def test_eval_counts_a_hit_only_from_news_since_the_given_date(archive, tmp_path):
    questions = tmp_path / "temporal.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        {"lang": "zh", "question": "现在谁带领通义实验室?", "gold": ["靖人"], "since": "2026-01-01"},
        {"lang": "en", "question": "Who leads Tongyi?", "gold": ["林俊旸带领"], "since": "2026-01-01"},  # only old news says so
    ]) + "\n", encoding="utf-8")
    env = {"NEWSBOT_CORPUS": str(archive[0]), "NEWSBOT_INDEX": str(archive[1])}
    figures = json.loads(run("eval", str(questions), "--json", env=env, cwd=tmp_path).stdout)
    assert figures["hit@3"] == 0.5 and figures["by_lang"]["zh"]["hit@1"] == 1.0 and figures["by_lang"]["en"]["hit@3"] == 0.0
