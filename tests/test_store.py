"""The index on disk: no pickle, atomic replacement, rebuilt automatically when missing or stale;
its string tables' look-ups."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NEWSBOT

import index.build
from index.engine import Engine
from index.store import CURRENT, IndexFormatError, StringTable, TermMap, current_generation, load_array, read_manifest

ARTICLE = "【新华社】5月1日电 长江大桥今天正式通车,全长一千六百米。2024年5月1日"


def test_manifest_records_analyzer_and_corpus_fingerprint(seed_corpus, tmp_path):
    engine = Engine(seed_corpus, tmp_path / "index")
    engine.index()
    manifest = read_manifest(current_generation(tmp_path / "index"))
    assert manifest["analyzer"]["version"] and len(manifest["corpus_fingerprint"]) == 64
    assert manifest["n_passages"] > 10 and manifest["n_documents"] == 1


def test_arrays_never_unpickle(tmp_path):
    np.save(tmp_path / "evil.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(IndexFormatError, match="Python objects|pickle"):
        load_array(tmp_path, "evil")


def test_missing_index_is_built_on_first_question(corpus, tmp_path):
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    assert not engine.is_fresh()
    assert engine.ask("长江大桥什么时候通车?").answered
    assert engine.is_fresh()


def test_changed_corpus_makes_the_index_stale_and_it_is_rebuilt(corpus, tmp_path):
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    Engine(corpus, tmp_path / "index").index()
    (corpus / "b.txt").write_text("【中新网】6月2日电 黄河水位持续上涨,沿岸启动防汛预案。2024年6月2日", encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    assert not engine.is_fresh()
    answer = engine.ask("黄河水位")
    assert answer.answered and answer.hits[0].citation.source == "中新网"


def test_failed_build_leaves_the_previous_index_in_use(corpus, tmp_path, monkeypatch):
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    engine = Engine(corpus, tmp_path / "index")
    engine.index()
    before = (tmp_path / "index" / CURRENT).read_text()

    def explode(passage):
        raise RuntimeError("disk full")

    monkeypatch.setattr(index.build, "citation_record", explode)
    with pytest.raises(RuntimeError):
        engine.build()
    assert (tmp_path / "index" / CURRENT).read_text() == before
    assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith(".tmp-")] == []
    monkeypatch.undo()
    assert Engine(corpus, tmp_path / "index").ask("长江大桥").answered


def test_killed_build_leaves_the_previous_index_intact_and_in_use(corpus, tmp_path):
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    index_dir = tmp_path / "index"
    Engine(corpus, index_dir).index()
    before = (index_dir / CURRENT).read_text()
    big = [json.dumps({"id": f"n{i}", "text": f"第{i}条新闻:城市{i}的地铁{i}号线今天开通运营,市民可以乘坐。"}) for i in range(40000)]
    (corpus / "big.jsonl").write_text("\n".join(big), encoding="utf-8")
    env = os.environ | {"NEWSBOT_CORPUS": str(corpus), "NEWSBOT_INDEX": str(index_dir)}
    build = subprocess.Popen([NEWSBOT, "index", "build", "--workers", "1"],
                             env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not any(p.name.startswith(".tmp-") for p in index_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert (index_dir / CURRENT).read_text() == before
    generation = current_generation(index_dir)
    assert read_manifest(generation)["n_documents"] == 1
    from index.search import OpenIndex
    from index.analysis import Analyzer

    assert OpenIndex(generation, Analyzer()).search("长江大桥").answered


def test_parallel_build_writes_exactly_what_a_single_process_writes(tmp_path, monkeypatch):
    """Past the parallel thresholds, workers intern terms locally and compute pinyin; the index must not change."""
    monkeypatch.setattr(index.build, "_PINYIN_CHUNK", 8)
    rng = np.random.default_rng(3)
    words = ["长江", "大桥", "通车", "新华社", "记者", "经济", "发展", "会议", "北京", "代表", "全长", "米", "今天", "GDP", "AI"]
    count = index.build._PARALLEL_FROM + 700
    corpus = tmp_path / "corpus.jsonl"
    with open(corpus, "w", encoding="utf-8") as handle:
        for i in range(count):
            text = "".join(rng.choice(words, size=int(rng.integers(3, 30)))) + f"第{i}段。"
            handle.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    built = {}
    for workers in (1, 2):
        report = index.build.build_index(corpus, tmp_path / f"index-{workers}", workers=workers)
        assert report.passages == count
        built[workers] = current_generation(tmp_path / f"index-{workers}")
    for name in ("post_offsets", "post_docs", "post_tfs", "post_weights", "term_max_weight", "idf", "doc_len"):
        np.testing.assert_array_equal(load_array(built[1], name), load_array(built[2], name), err_msg=name)
    for name in ("terms.bin", "passages.jsonl", "pinyin.bin", "pinyin_terms.npy", "lexicon.bin", "lexicon_terms.npy"):
        assert (built[1] / name).read_bytes() == (built[2] / name).read_bytes(), name


@settings(max_examples=200, deadline=None)
@given(strings=st.lists(st.text(alphabet="ab 通义", min_size=1, max_size=6), max_size=30, unique=True),
       prefix=st.text(alphabet="ab 通义", max_size=4))
def test_a_string_table_finds_its_strings_and_their_prefixes(strings, prefix):
    ordered = sorted(strings, key=lambda s: s.encode("utf-8"))  # UTF-8 order, as the index writes them
    encoded = [s.encode("utf-8") for s in ordered]
    table = StringTable(b"".join(encoded), np.cumsum([0] + [len(e) for e in encoded]))
    assert [table.id(s) for s in ordered] == list(range(len(ordered)))
    assert table.id(prefix) == (ordered.index(prefix) if prefix in ordered else None)
    assert table.has_prefix(prefix) == any(s.startswith(prefix) for s in ordered)
    words = TermMap(table, np.arange(len(ordered) + 1), np.arange(len(ordered), dtype=np.int32))
    word = prefix.strip() or "a"
    assert words.starts_phrases(word) == any(s.startswith(word + " ") for s in ordered)
