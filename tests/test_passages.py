"""Cutting documents into passages: each distinct paragraph once, short lines kept with their neighbours."""

from __future__ import annotations

from pathlib import Path

from conftest import SEEDS

from index.documents import Document, read_corpus
from index.passages import PassageOptions, split_document, unique_passages


def doc(text: str, **kwargs) -> Document:
    return Document(doc_id="d", path="d.txt", text=text, **kwargs)


def test_the_seed_article_repeated_four_times_is_indexed_once():
    documents = list(read_corpus(SEEDS, lambda *e: None))
    (seed,) = documents
    once = list(split_document(seed))
    unique = list(unique_passages(documents))
    texts = [p.text for p in unique]
    assert len(texts) == len(set(texts))
    assert len(once) >= 4 * len(unique) - 3  # the file holds the article four times over
    assert sum("靖人会继续带领通义实验室" in t for t in texts) == 1


def test_repeats_are_recognised_across_width_case_and_spacing():
    a = doc("阿里巴巴 CEO 吴泳铭批准林俊旸辞职。\n")
    b = Document(doc_id="e", path="e.txt", text="阿里巴巴　ＣＥＯ　吴泳铭批准林俊旸辞职。\n")
    assert len(list(unique_passages([a, b]))) == 1


def test_full_width_forms_are_normalised():
    (passage,) = split_document(doc("ＡＢＣ公司１２３亿元收购了ＸＹＺ公司的全部股份。"))
    assert passage.text == "ABC公司123亿元收购了XYZ公司的全部股份。"


def test_short_lines_join_their_neighbour_and_headings_travel_as_context():
    text = (
        "公司发信:批准离职\n"
        "公司已决定批准林俊旸同学的辞职,感谢林俊旸过去在岗位上的付出,这是一段足够长的正文。\n"
        "吴泳铭\n"
        "2026 年 3 月 5 日\n"
        "这封邮件释放了几个关键信号:\n"
        "一是官方确认林俊旸离职;\n"
        "二是明确周靖人继续带队;\n"
    )
    passages = list(split_document(doc(text)))
    assert [p.text.split("\n") for p in passages] == [
        ["公司已决定批准林俊旸同学的辞职,感谢林俊旸过去在岗位上的付出,这是一段足够长的正文。", "吴泳铭", "2026 年 3 月 5 日"],
        ["这封邮件释放了几个关键信号:", "一是官方确认林俊旸离职;", "二是明确周靖人继续带队;"],
    ]
    assert passages[0].heading == "公司发信:批准离职"
    assert passages[0].paragraph == 2


def test_without_merging_every_line_is_a_passage():
    text = "第一段正文,内容足够长,能单独成段。\n吴泳铭\n第二段正文,内容也足够长,能单独成段。"
    passages = list(split_document(doc(text), PassageOptions(merge_short_lines=False)))
    assert [p.paragraph for p in passages] == [1, 2, 3]


def test_long_paragraphs_are_cut_at_sentence_ends():
    sentence = "这是一个用来测试的句子,长度大约二十个字。"
    passages = list(split_document(doc(sentence * 40), PassageOptions(max_passage_chars=100)))
    assert len(passages) > 5
    assert all(len(p.text) <= 100 for p in passages)
    assert all(p.text.endswith("。") for p in passages)
    assert "".join(p.text for p in passages) == sentence * 40


def test_markdown_headings_and_markers(tmp_path: Path):
    text = "# 标题\n\n## 第一节\n\n- 列表里的一条新闻,内容足够长,可以单独成段。\n\n> 引用的一段话,内容足够长,可以单独成段。\n"
    passages = list(split_document(doc(text, markdown=True, title="标题")))
    assert [(p.text[:4], p.heading) for p in passages] == [("列表里的", "第一节"), ("引用的一", "第一节")]


def test_a_repeat_in_another_document_is_reported_with_the_passage_it_repeats():
    a = doc("阿里巴巴 CEO 吴泳铭批准林俊旸辞职。\n第二段只在这一篇文章里出现,别处没有。\n")
    b = Document(doc_id="e", path="e.txt", text="阿里巴巴　ＣＥＯ　吴泳铭批准林俊旸辞职。\n阿里巴巴 CEO 吴泳铭批准林俊旸辞职。\n")
    repeats = []
    unique = list(unique_passages([a, b], on_repeat=lambda number, passage: repeats.append((number, passage.doc.doc_id))))
    assert [p.doc.doc_id for p in unique] == [a.doc_id, a.doc_id]
    assert repeats == [(0, "e"), (0, "e")]  # reported each time; the index lists document e once
    assert list(unique_passages([b], on_repeat=lambda *r: repeats.append(r))) and len(repeats) == 2  # not within one document
