"""English and Traditional-Chinese questions over Simplified-Chinese news, mechanism by mechanism."""

from __future__ import annotations

import pytest
from conftest import SEEDS

from index.analysis import Analyzer, AnalyzerOptions
from index.build import IndexOptions
from index.crosslingual import english_key, pinyin_key, pinyin_syllables, split_latin, split_pinyin
from index.lexicon import english_lexicon
from index.engine import Engine
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
