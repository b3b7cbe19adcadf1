"""English and Traditional-Chinese questions over Simplified-Chinese news, mechanism by mechanism."""

from __future__ import annotations

import json

import pytest
from conftest import SEEDS

from index.analysis import Analyzer, AnalyzerOptions
from index.bm25 import group_df
from index.build import IndexOptions
from index.crosslingual import english_key, pinyin_key, pinyin_syllables, split_latin, split_pinyin
from index.lexicon import english_lexicon
from index.engine import Engine
from index import query as query_module
from index.query import QueryOptions
from index.search import SearchOptions


@pytest.mark.parametrize("word, key", [("leads", "lead"), ("led", "lead"), ("leading", "lead"), ("resignation", "resign"),
                                       ("resigned", "resign"), ("approved", "approv"), ("Alibaba", "alibaba")])
def test_english_inflections_share_a_key(word, key):
    assert english_key(word) == key


def test_cc_cedict_translates_words_and_names():
    words, names = english_lexicon()
    assert {"带领", "领导"} <= set(words["lead"])
    assert "辞职" in words["resign"]
    assert "扎克伯格" in names["zuckerberg"]  # from "Mark Zuckerberg (1984-), ..."
    assert "开源" in words["open sourc"]  # 开源 is "abbr. for 开放源码" (open source)
    assert "中国人民银行" in words["peopl bank of china"]  # a possessive inside a phrase


@pytest.mark.parametrize("word, syllables", [("junyang", ["jun", "yang"]), ("Tongyi", ["tong", "yi"]),
                                             ("alibaba", ["a", "li", "ba", "ba"]), ("deepmind", None), ("qwen", None)])
def test_pinyin_syllables(word, syllables):
    assert split_pinyin(word, pinyin_syllables()) == syllables


def test_pinyin_key_of_chinese_terms_only():
    assert pinyin_key("通义") == "tongyi" and pinyin_key("林俊旸") == "linjunyang"
    assert pinyin_key("通") is None and pinyin_key("ceo") is None


def test_latin_words_are_split_from_the_question():
    rest, words = split_latin("Lin Junyang's 辞职 CEO?")
    assert (rest.split(), words) == (["辞职", "?"], ["Lin", "Junyang", "CEO"])


def test_bigrams_find_a_name_that_jieba_splits():
    words, bigrams = Analyzer().analyze("林俊旸辞职")
    assert "林俊旸" not in words  # jieba cuts it 林俊 + 旸
    assert "俊旸" in bigrams
    assert Analyzer(AnalyzerOptions(bigrams=False)).analyze("林俊旸辞职")[1] == []


def test_traditional_and_simplified_analyse_alike():
    analyzer = Analyzer()
    assert analyzer.tokens("誰批准了林俊旸的辭職?") == analyzer.tokens("谁批准了林俊旸的辞职?")
    assert Analyzer(AnalyzerOptions(simplified=False)).tokens("辭職") != analyzer.tokens("辭職")


@pytest.fixture(scope="module")
def seeds_engine(seed_index_dir) -> Engine:
    return Engine(SEEDS, seed_index_dir)


def first_text(engine: Engine, question: str) -> str:
    answer = engine.ask(question)
    assert answer.answered, question
    return answer.hits[0].text


def test_english_question_reaches_chinese_passage(seeds_engine):
    assert "靖人会继续带领通义实验室" in first_text(seeds_engine, "who leads Tongyi now?") or \
        "明确周靖人继续带队" in first_text(seeds_engine, "who leads Tongyi now?")


def test_pinyin_name_in_either_order(seeds_engine):
    assert "庞若鸣" in first_text(seeds_engine, "Ruoming Pang")
    assert "罗福莉" in first_text(seeds_engine, "Luo Fuli")


def test_traditional_question_over_simplified_news(seeds_engine):
    assert "批准" in first_text(seeds_engine, "誰批准了林俊旸的辭職?")


def with_query(seed_index_dir, **changes) -> Engine:
    return Engine(SEEDS, seed_index_dir, IndexOptions(), SearchOptions(query=QueryOptions(**changes)))


def test_each_cross_language_switch_matters(seed_index_dir):
    question = "who leads Tongyi now?"
    assert not with_query(seed_index_dir, lexicon=False, pinyin=False).ask(question).answered
    pinyin_only = with_query(seed_index_dir, lexicon=False).index().queries.build(question)
    assert [c.text for c in pinyin_only.concepts if c.groups] == ["Tongyi"]
    no_pinyin = with_query(seed_index_dir, pinyin=False).index().queries.build(question)
    assert [c.text for c in no_pinyin.concepts if c.groups] == ["leads"]
    unstemmed = with_query(seed_index_dir, stemming=False).index().queries.build("who resigned?")
    assert not any(c.groups for c in unstemmed.concepts)


def test_structured_query_keeps_a_many_translation_word_to_one_term(seed_engine):
    index = seed_engine.index()
    structured = index.queries.build("support group")
    index.queries.options = QueryOptions(structured=False)
    try:
        flat = index.queries.build("support group")
    finally:
        index.queries.options = QueryOptions()
    group = next(c for c in structured.concepts if c.text == "group")
    assert len(group.groups) == 1 and len(group.groups[0]) > 1  # 小组, 集团, ... as one synonym term
    assert len(flat.scoring.groups) > len(structured.scoring.groups)


def test_words_neither_the_news_nor_the_dictionary_know_do_not_count_against_an_answer(seed_engine):
    query = seed_engine.index().queries.build("Qwen xyzzyplugh")
    unknown = next(c for c in query.concepts if c.text == "xyzzyplugh")
    assert unknown.known is False and seed_engine.ask("Qwen xyzzyplugh").answered


@pytest.mark.parametrize("question", ["What is the weather in Paris tomorrow?", "Who won the football match last night?",
                                      "Who won the election?", "What is the stock price of Apple today?",
                                      "明天巴黎天气如何?", "昨晚的足球比赛谁赢了?"])
def test_questions_about_things_not_in_the_news_are_not_answered(seed_engine, question):
    assert seed_engine.ask(question).answered is False


def test_a_question_word_the_news_lacks_is_searched_by_its_bigrams_at_full_weight(corpus, tmp_path):
    (corpus / "a.txt").write_text("他睡着以后鼻息很重。\n医生说肠道息肉需要尽快切除。\n", encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    index = engine.index()
    ids = {index.vocabulary.id(w) for w in ("鼻息", "息肉")}
    assert index.vocabulary.id("鼻息肉") is None and None not in ids

    query = index.queries.build("鼻息肉手术")
    (unknown,) = [c for c in query.concepts if c.text == "鼻息肉"]
    assert {t for g in unknown.groups for t in g} == ids
    weights = {g: b for g, b in zip(query.scoring.groups, query.scoring.boosts)}
    assert all(weights[(t,)] == 1.0 for t in ids)

    index.queries.options = QueryOptions(unknown_by_bigrams=False)
    try:
        plain = index.queries.build("鼻息肉手术")
    finally:
        index.queries.options = QueryOptions()
    assert not next(c for c in plain.concepts if c.text == "鼻息肉").groups
    assert dict(zip(plain.scoring.groups, plain.scoring.boosts))[(index.vocabulary.id("息肉"),)] == 0.5


def test_three_word_dictionary_phrases_reach_the_news(tmp_path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "a.txt").write_text("【新华社】5月1日电 美国国务卿今天抵达北京访问。2024年5月1日", encoding="utf-8")
    for number, news in enumerate(["国家统计局今天发布数据。", "长江大桥正式通车。", "黄河水位持续上涨。", "地铁五号线明年开通。"]):
        (corpus / f"other{number}.txt").write_text(f"【新华社】5月2日电 {news}2024年5月2日", encoding="utf-8")
    hit = Engine(corpus, tmp_path / "index").ask("Where did the Secretary of State arrive?", 1).hits[0]
    assert "国务卿" in hit.matched


WORLD_NEWS = [
    ("加拿大总理", "加拿大总理卡尼14日表示,加拿大必须对美国加征关税做出回应。"),
    ("加纳总统", "加纳总统马哈马13日在阿克拉会见来访的代表团,双方讨论了经贸合作。"),
    ("美国国务卿", "美国国务卿鲁比奥9日在迈阿密会见卡塔尔首相,讨论地区局势。"),
    ("我们的城市", "我们的城市今年新建了十座公园,市民的休闲空间更大了。"),
    ("北约峰会", "北约秘书长吕特当天表示,成员国将继续增加防务开支。"),
    ("黄金价格", "国际金价上涨,黄金首饰销量随之增加。"),
]


@pytest.fixture(scope="module")
def world_engine(tmp_path_factory) -> Engine:
    corpus = tmp_path_factory.mktemp("world")
    (corpus / "news.jsonl").write_text("\n".join(
        json.dumps({"id": f"w{i}", "title": title, "date": f"2025-06-{i + 1:02d}", "text": text}, ensure_ascii=False)
        for i, (title, text) in enumerate(WORLD_NEWS)), encoding="utf-8")
    return Engine(corpus, tmp_path_factory.mktemp("world-index"))


def concept_terms(engine: Engine, question: str) -> dict[str, set[str]]:
    index = engine.index()
    return {c.text: {index.vocabulary[t] for g in c.groups for t in g} for c in index.queries.build(question).concepts}


def test_a_dictionary_phrase_counts_instead_of_its_words(world_engine):
    concepts = concept_terms(world_engine, "Who is the prime minister of Canada?")
    assert "总理" in concepts["prime minister"] and "prime" not in concepts and "minister" not in concepts
    assert "加拿大总理卡尼" in world_engine.ask("Who is the prime minister of Canada?").hits[0].text


def test_a_capitalised_word_the_dictionary_knows_as_a_name_is_not_read_as_pinyin(world_engine):
    assert concept_terms(world_engine, "Who leads Canada?")["Canada"] == {"加拿大"}  # ca-na-da would be pinyin
    index = world_engine.index()
    index.queries.options = QueryOptions(names=False)
    try:
        assert "加拿大" not in concept_terms(world_engine, "Who leads Canada?").get("Canada", set())
    finally:
        index.queries.options = QueryOptions()


def test_an_acronym_is_a_name_even_where_the_word_is_a_function_word(world_engine):
    assert "美国" in concept_terms(world_engine, "Who is the US Secretary of State?")["US"]
    assert "us" not in {c.lower() for c in concept_terms(world_engine, "Who told us?")}
    assert "美国国务卿鲁比奥" in world_engine.ask("Who is the US Secretary of State?").hits[0].text


def test_a_foreign_name_the_dictionaries_lack_is_found_by_sound(world_engine):
    assert concept_terms(world_engine, "What did Rutte say?")["Rutte"] == {"吕特"}  # lv te: L T, as R(u)tt(e)
    assert "吕特" in world_engine.ask("What did Secretary General Rutte promise?").hits[0].text


def test_a_passage_that_names_it_beats_one_under_a_headline_that_does(corpus, tmp_path):
    (corpus / "a.md").write_text("# 谷歌 DeepMind 与智谱喊话\n\n智谱回复 Qwen 团队成员:加入我们。\n\n"
                                 "谷歌 DeepMind 负责人在平台上喊话 Qwen 团队成员,邀请他们加入,并介绍了路线图和未来的很多工作。\n",
                                 encoding="utf-8")
    (corpus / "b.md").write_text("# 其他\n\n天气晴朗。\n", encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    assert "谷歌 DeepMind 负责人" in engine.ask("What did Google DeepMind tell the Qwen team?").hits[0].text
    headline_only = Engine(corpus, tmp_path / "index", IndexOptions(), SearchOptions(context_match=1.0))
    assert "智谱回复" in headline_only.ask("What did Google DeepMind tell the Qwen team?").hits[0].text


def test_common_english_words_only_rescore_what_rarer_words_find(seed_engine, monkeypatch):
    """A word whose Chinese forms fill over common_share of the passages is marked scores-only; the
    first passage stays the one the whole question finds (the seed article is too small for the
    10,000-passage floor, so the floor is lowered here)."""
    monkeypatch.setattr(query_module, "COMMON_MIN_PASSAGES", 0)
    index = seed_engine.index()
    question = "Who approved Lin Junyang's resignation?"
    everything = index.search(question, 3)
    index.queries.options = QueryOptions(common_share=0.5)
    try:
        query = index.queries.build(question).scoring
        common = {i for i, group in enumerate(query.groups) if group_df(index.postings, group) > 0.5 * index.postings.n_docs}
        assert query.scores_only and query.scores_only == common  # an English question: every group is English
        assert len(common) < len(query.groups)
        rescored = index.search(question, 3)
    finally:
        index.queries.options = QueryOptions()
    assert rescored.hits[0].text == everything.hits[0].text
    assert "批准林俊旸" in rescored.hits[0].text
