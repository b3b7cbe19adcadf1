"""Hostile corpus files: each is reported by name and skipped, and the rest is indexed."""

from __future__ import annotations

import gzip
import json
import os
import random
import threading

import pytest
from conftest import SEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import Engine
from index.analysis import Analyzer
from index.build import build_index
from index.documents import MAX_LINE_BYTES, Document, _jsonl_document, read_corpus
from index.passages import split_document

GOOD = "【新华社】5月1日电 长江大桥今天正式通车,全长一千六百米,连接南北两岸。2024年5月1日"


def build_with(corpus, tmp_path, timeout: float = 60.0):
    """Build the index of ``corpus`` in a thread (so a hang fails the test instead of stalling it)."""
    skipped: list[tuple[str, str]] = []
    result: dict = {}

    def run() -> None:
        try:
            result["report"] = build_index(corpus, tmp_path / "index", on_error=lambda n, r: skipped.append((n, r)))
        except BaseException as exc:  # reported to the test below
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the build hung"
    if "error" in result:
        raise result["error"]
    return result["report"], skipped


def names(skipped: list[tuple[str, str]]) -> list[str]:
    return sorted(name for name, _ in skipped)


@pytest.fixture
def good_corpus(corpus):
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    return corpus


def test_link_loop_and_dangling_link_are_skipped(good_corpus, tmp_path):
    (good_corpus / "loop.txt").symlink_to(good_corpus / "loop.txt")
    (good_corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (good_corpus / "sub").mkdir()
    (good_corpus / "sub" / "back").symlink_to(good_corpus)  # a folder link back into the corpus
    report, skipped = build_with(good_corpus, tmp_path)
    assert report.documents == 1 and report.passages >= 1
    assert {"loop.txt", "dangling.txt", "sub/back"} <= set(names(skipped))
    reasons = dict(skipped)
    assert "loop" in reasons["loop.txt"] and "dangling" in reasons["dangling.txt"]


def test_a_linked_folder_is_read_once(good_corpus, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "more.txt").write_text(GOOD.replace("长江", "黄河"), encoding="utf-8")
    (good_corpus / "linked").symlink_to(elsewhere)
    report, skipped = build_with(good_corpus, tmp_path)
    assert report.documents == 2 and skipped == []


def test_file_name_that_is_not_utf8_is_indexed_under_a_readable_name(good_corpus, tmp_path):
    raw = os.fsencode(good_corpus) + b"/\xff\xfe-news.txt"
    with open(raw, "wb") as handle:
        handle.write(GOOD.replace("长江", "珠江").encode())
    report, skipped = build_with(good_corpus, tmp_path)
    assert skipped == [] and report.documents == 2
    engine = Engine(good_corpus, tmp_path / "index")
    hit = engine.ask("珠江", 1).hits[0]
    assert hit.citation.path == "\\xff\\xfe-news.txt"


def test_fifo_and_device_named_like_news_are_skipped_without_waiting(good_corpus, tmp_path):
    os.mkfifo(good_corpus / "pipe.txt")
    (good_corpus / "zero.txt").symlink_to("/dev/zero")
    report, skipped = build_with(good_corpus, tmp_path, timeout=30)
    assert report.documents == 1
    assert names(skipped) == ["pipe.txt", "zero.txt"]
    assert all("not a regular file" in reason for _, reason in skipped)


def test_lone_surrogates_and_control_characters_are_cleaned(corpus, tmp_path):
    records = [
        '{"id": "s1", "title": "\\ud800标题\\u202e", "source": "\\udfff", "text": "正文\\ud800里有\\u0000坏字符。长江大桥今天通车。"}',
        json.dumps({"id": "s2", "text": "第二篇\x1b[31m红字\x1b[0m新闻,长江大桥。"}),
    ]
    (corpus / "bad.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    report, skipped = build_with(corpus, tmp_path)
    assert report.documents == 2 and skipped == []
    texts = [p.text for d in read_corpus(corpus, lambda *e: None) for p in split_document(d)]
    assert texts and not any(ch in text for text in texts for ch in "\ud800\x00\x1b\u202e")


def test_deep_nesting_and_bad_field_types_are_reported_by_line(good_corpus, tmp_path):
    lines = [
        "[" * 100_000 + "]" * 100_000,
        '{"text": ' + "[" * 50_000 + "]" * 50_000 + "}",
        json.dumps({"text": "长江大桥的新闻。", "title": {"nested": 1}, "url": "javascript:alert(1)", "date": ["x"]}),
        json.dumps({"text": "另一条长江新闻。", "url": "https://news.example/1"}),
    ]
    (good_corpus / "deep.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report, skipped = build_with(good_corpus, tmp_path)
    assert report.documents == 3
    assert names(skipped) == ["deep.jsonl:1", "deep.jsonl:2", "deep.jsonl:3", "deep.jsonl:3", "deep.jsonl:3"]
    documents = {d.doc_id: d for d in read_corpus(good_corpus, lambda *e: None)}
    assert documents["deep#3"].url is None and documents["deep#3"].title is None
    assert documents["deep#4"].url == "https://news.example/1"


def test_over_long_jsonl_line_is_skipped_and_the_next_line_read(corpus, tmp_path):
    with gzip.open(corpus / "big.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write('{"text": "' + "长" * (MAX_LINE_BYTES // 3 + 10) + '"}\n')
        handle.write(json.dumps({"text": GOOD}, ensure_ascii=False) + "\n")
    report, skipped = build_with(corpus, tmp_path)
    assert report.documents == 1 and names(skipped) == ["big.jsonl.gz:1"]


def test_an_eight_megabyte_paragraph_is_cut_into_passages_of_the_cap():
    characters = (8 << 20) // 3  # 8 MB of Chinese in UTF-8
    text = "".join(random.Random(7).choices([chr(c) for c in range(0x4E00, 0x9FA5)], k=characters))
    document = Document(doc_id="huge", path="huge.txt", text=text)
    pieces = [p.text for p in split_document(document)]
    assert len(pieces) == -(-characters // 300) and max(map(len, pieces)) == 300 and "".join(pieces) == text


def test_a_megabyte_paragraph_of_news_is_indexed(corpus, tmp_path):
    news = "".join(SEEDS.joinpath("000_a73d89cb01bc1329.txt").read_text(encoding="utf-8").split())
    (corpus / "long.txt").write_text(news * ((1 << 20) // len(news.encode())), encoding="utf-8")
    report, skipped = build_with(corpus, tmp_path)
    assert skipped == [] and report.documents == 1 and report.passages > 0


def test_a_truncated_gzip_is_reported(good_corpus, tmp_path):
    data = gzip.compress((json.dumps({"text": GOOD}, ensure_ascii=False) + "\n").encode() * 200)
    (good_corpus / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    report, skipped = build_with(good_corpus, tmp_path)
    assert report.documents >= 1 and "cut.jsonl.gz" in names(skipped)


record_values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text() | st.lists(st.text(), max_size=3)
records = st.fixed_dictionaries(
    {"text": st.text()},
    optional={key: record_values for key in ("id", "title", "source", "date", "url")},
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records)
def test_any_jsonl_record_is_read_split_and_analysed_without_error(record):
    line = json.dumps(record).encode()
    document = _jsonl_document(line, "fuzz", "fuzz.jsonl", 1, lambda *e: None)
    assert document is not None
    analyzer = Analyzer()
    for passage in split_document(document):
        passage.text.encode("utf-8")
        analyzer.tokens(passage.text)
    for value in (document.title, document.source, document.url, document.doc_id):
        if value is not None:
            value.encode("utf-8")
