"""Reading corpus files: encodings, formats, unreadable files, metadata from the text itself."""

from __future__ import annotations

import gzip
import json

import pytest
from conftest import SEEDS

from index.documents import decode, read_corpus
from index.metadata import Metadata, infer_metadata, parse_date

ARTICLE = "【TechWeb】3 月 5 日消息,阿里巴巴 CEO 吴泳铭通过内部邮件正式批准林俊旸辞职。\n吴泳铭\n2026 年 3 月 5 日\n"


def read_all(path):
    errors = []
    docs = list(read_corpus(path, lambda name, reason: errors.append((name, reason))))
    return docs, errors


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_chinese_text_is_decoded_in_any_common_encoding(corpus, encoding):
    (corpus / "a.txt").write_bytes(ARTICLE.encode(encoding))
    (doc,), errors = read_all(corpus)
    assert errors == []
    assert doc.text.replace("\r", "") == ARTICLE


def test_big5_traditional_chinese_is_decoded():
    text = "國家主席今天在北京會見了來訪的外國元首，雙方就兩國關係深入交換意見。" * 3
    assert decode(text.encode("big5")) == text


def test_unreadable_files_are_reported_by_name_and_skipped(corpus):
    (corpus / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus / "image.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "ignored.pdf").write_bytes(b"%PDF")
    docs, errors = read_all(corpus)
    assert [d.path for d in docs] == ["good.txt"]
    assert [name for name, _ in errors] == ["image.txt"]


def test_jsonl_articles_keep_their_metadata_and_bad_lines_are_reported(corpus):
    lines = [
        json.dumps({"id": "n1", "title": "标题", "source": "新华社", "date": "2024/1/2", "url": "https://x.test/1", "text": "正文一。"}),
        "{not json",
        json.dumps({"title": "no text"}),
        json.dumps({"text": "【中新网】3月5日电 正文二。2025年3月5日"}),
    ]
    (corpus / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, errors = read_all(corpus)
    assert [(d.doc_id, d.title, d.source, d.date, d.url) for d in docs] == [
        ("n1", "标题", "新华社", "2024-01-02", "https://x.test/1"),
        ("news#4", None, "中新网", "2025-03-05", None),
    ]
    assert [name for name, _ in errors] == ["news.jsonl:2", "news.jsonl:3"]


def test_gzipped_jsonl_is_read(corpus):
    with gzip.open(corpus / "news.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "z", "text": "压缩的新闻。"}) + "\n")
    (doc,), errors = read_all(corpus)
    assert (doc.doc_id, doc.text, errors) == ("z", "压缩的新闻。", [])


def test_seed_lead_gives_source_and_date():
    meta = infer_metadata(next(SEEDS.glob("*.txt")).read_text(encoding="utf-8"))
    assert (meta.source, meta.date) == ("TechWeb", "2026-03-05")


@pytest.mark.parametrize(
    "text, source, date, title",
    [
        ("新华社北京3月5日电(记者 王)今天 2025年3月5日", "新华社", "2025-03-05", None),
        ("央视网消息(新闻联播):国家主席今天出席会议。", "央视网", None, None),
        ("中新网2024年6月1日电 据报道。", "中新网", "2024-06-01", None),
        ("台风登陆广东\n本报讯 2023年9月1日,台风登陆。", None, "2023-09-01", "台风登陆广东"),
        ("一段没有电头的正文,说的是别的事情。", None, None, None),
        # English datelines, bylines and long headings
        ("OSLO, June 20, 2025 (Nordic Wire) - Norway's parliament approved a fund.", "Nordic Wire", "2025-06-20", None),
        ("WASHINGTON (Reuters) - The Senate passed a bill on Tuesday.", "Reuters", None, None),
        ("Norway approves offshore wind fund after a long debate in parliament on Friday\nBy Kari Nordmann, Nordic Wire\n"
         "OSLO, June 20 (Nordic Wire) — Norway approved it. The vote on June 20, 2025 was close.",
         "Nordic Wire", "2025-06-20", "Norway approves offshore wind fund after a long debate in parliament on Friday"),
        ("# A Markdown heading may run well past forty characters and still be the title\nLONDON, Mar. 5, 2026 (AP) -- Text.",
         "AP", "2026-03-05", "A Markdown heading may run well past forty characters and still be the title"),
        ("By the end of 2025, the fund had paid for two farms.\nMore text.", None, None, None),
        ("In Oslo, June 20 (a Friday) - the vote.\nMore.", None, None, None),
        # a date still to come in the lead is an event's, not the story's
        ("本届大冬会将于2999年1月15日至25日在长春举办。", None, None, None),
        ("BERLIN, March 3, 2999 (Wire) - A summit.", "Wire", None, None),
    ],
)
def test_metadata_from_the_lead(text, source, date, title):
    assert infer_metadata(text) == Metadata(title=title, source=source, date=date)


@pytest.mark.parametrize(
    "value, expected",
    [("2026-03-05", "2026-03-05"), ("2026/3/5", "2026-03-05"), ("2026年3月5日", "2026-03-05"),
     ("2026-03-05T08:00:00Z", "2026-03-05"), ("2026-02-30", None), ("yesterday", None), (None, None)],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected
