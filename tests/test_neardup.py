"""Near-duplicate stories: syndicated copies with small edits become one hit that names the other
outlets, in a full build and when the copies arrive later as a delta; different stories that share
boilerplate or a template stay apart."""

from __future__ import annotations

import json

import numpy as np
from conftest import SEEDS

from bot.render import answer_message
from index.engine import Engine
from index.metadata import UNDATED, day_number
from index.neardup import NearDuplicateOptions, StoryGrouping, sketch_articles
from index.store import current_generation, read_manifest
from index.update import update_index

ARTICLE = "\n".join(line for line in next(SEEDS.glob("*.txt")).read_text(encoding="utf-8").splitlines()[1:40] if line.strip())
QUESTION = "阿里巴巴 CEO 吴泳铭向通义实验室全体员工发布内部邮件"
OPTIONS = NearDuplicateOptions()


def edited_copy(text: str, outlet: str) -> str:
    """What a syndicating outlet does: its own dateline, one sentence reworded, the ending trimmed."""
    lines = text.splitlines()
    lines[0] = f"{outlet}3月5日电 " + lines[0]
    lines[3] = lines[3].replace("正式", "").replace("首次", "第一次")
    return "\n".join(lines[:-3])


def stories(*articles: tuple[str, int | None]) -> list[int]:
    """The story of each (text, day) article, grouped as a build groups them."""
    days = np.array([UNDATED if day is None else day for _, day in articles], dtype=np.int32)
    return StoryGrouping(OPTIONS).stories(sketch_articles([text for text, _ in articles], OPTIONS), days).tolist()


def bulletin(cases: int, cured: int) -> str:
    return (f"国家卫生健康委今天通报,截至昨日24时,31个省区市和新疆生产建设兵团累计报告确诊病例{cases}例,"
            f"累计治愈出院病例{cured}例,现有疑似病例0例,累计追踪到密切接触者{cases * 9}人,尚在医学观察的密切接触者{cured // 7}人。"
            f"累计收到港澳台地区通报确诊病例{cases // 40}例,其中香港特别行政区{cases // 80}例,澳门特别行政区{cured // 1000}例。")


def test_edited_copies_are_one_story_and_other_stories_are_not():
    day = day_number("2026-03-05")
    assert len(bulletin(81093, 75930)) >= OPTIONS.min_chars
    assert stories((ARTICLE, day), (edited_copy(ARTICLE, "新华社"), day + 1), (edited_copy(ARTICLE, "人民网"), None)) == [0, 0, 0]
    boilerplate = "央视网消息(新闻联播):"
    assert stories(
        (boilerplate + "国务院今天召开常务会议,部署进一步扩大内需、促进消费的政策措施,会议指出要稳定大宗消费。" * 3, day),
        (boilerplate + "气象台今天发布寒潮预警,预计未来三天北方大部地区气温将下降八到十度,并伴有大风天气。" * 3, day),
    ) == [0, 1]
    assert stories(("一行短讯。", day), ("一行短讯。", day)) == [0, 1]  # too short to judge
    assert stories((ARTICLE, day), (edited_copy(ARTICLE, "环球网"), day + 400)) == [0, 1]  # a year on: another story
    assert stories((bulletin(81093, 75930), day), (bulletin(81112, 76241), day + 1)) == [0, 1]  # a template, new numbers
    assert stories((bulletin(81093, 75930), day), ("人民网讯 " + bulletin(81093, 75930), day)) == [0, 0]  # a copy keeps them


def write_news(path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def copy_record(outlet: str, date: str = "2026-03-05") -> dict:
    return {"id": outlet, "source": outlet, "date": date, "title": "阿里CEO发信", "text": edited_copy(ARTICLE, outlet)}


ORIGINAL = {"id": "techweb", "source": "TechWeb", "date": "2026-03-05", "title": "阿里CEO发信", "text": ARTICLE}


def assert_one_story(answer, outlets: set[str]) -> None:
    first = answer.hits[0]
    assert {first.citation.doc_id, *(other["doc_id"] for other in first.citation.also_in)} == outlets
    assert all(hit.citation.doc_id == first.citation.doc_id for hit in answer.hits)  # no copy shown as a hit of its own


def test_copies_collapse_into_one_hit_that_names_the_other_outlets(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    copies = [copy_record("新华社", "2026-03-06"), copy_record("人民网", "2026-03-04"), copy_record("环球网")]
    write_news(corpus / "news.jsonl", [ORIGINAL, *copies])
    answer = Engine(corpus, tmp_path / "index").ask(QUESTION, 5)
    assert_one_story(answer, {"techweb", "新华社", "人民网", "环球网"})
    assert read_manifest(current_generation(tmp_path / "index"))["n_copies"] == 3
    dates = [other["date"] for other in answer.hits[0].citation.also_in]
    assert dates == sorted(dates) and len(set(dates)) > 1  # the earliest copy first
    assert "also reported by" in json.dumps(answer_message(answer), ensure_ascii=False)


def test_a_copy_that_arrives_later_joins_the_story_in_the_delta(tmp_path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    other_news = [{"id": f"n{i}", "date": "2026-03-04", "text": f"第{i}条消息:今天各地开展植树活动,共栽种树木{i * 100}棵。"} for i in range(40)]
    write_news(corpus / "news.jsonl", [ORIGINAL, *other_news])
    engine = Engine(corpus, index_dir)
    assert len(engine.ask(QUESTION, 5).hits[0].citation.also_in) == 0
    write_news(corpus / "later.jsonl", [copy_record("新华社"), copy_record("人民网")])
    report = update_index(corpus, index_dir, workers=1, max_share=1.0)
    manifest = read_manifest(current_generation(index_dir))
    assert report.how == "delta" and manifest["kind"] == "delta" and manifest["n_copies"] == 2
    assert_one_story(Engine(corpus, index_dir).ask(QUESTION, 5), {"techweb", "新华社", "人民网"})


def test_a_long_article_is_judged_by_its_opening():
    """A huge document costs no more than its first ``max_chars`` characters."""
    long = "\n".join(f"第{i}段:" + ARTICLE for i in range(300))
    assert len(long) > 10 * OPTIONS.max_chars
    whole, opening = sketch_articles([long, long[: OPTIONS.max_chars]], OPTIONS).signatures
    assert (whole == opening).all()
