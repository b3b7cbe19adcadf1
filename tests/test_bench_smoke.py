"""A small run of the benchmark code, so `make bench` keeps working (its numbers are not checked here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED


@pytest.mark.skipif(not (SHARED / "data" / "cctv_xwlb_news" / "articles.jsonl.gz").exists(), reason="CCTV corpus absent")
def test_bench_runs_every_engine_and_writes_the_documented_json(tmp_path):
    out = tmp_path / "bench.json"
    readme = tmp_path / "README.md"
    readme.write_text(ROOT.joinpath("README.md").read_text(encoding="utf-8"), encoding="utf-8")
    env = os.environ | {"NEWSBOT_BENCH_WORK": str(tmp_path / "work")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench.py"), "--sizes", "300", "--queries", "10", "--passes", "2",
         "--json", str(out), "--plot", str(tmp_path / "performance.png"), "--readme", str(readme)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    figures, absent = results["sizes"]["300"], results["absent"]["300"]
    assert set(figures) | set(absent) == {"newsbot", "tantivy", "lucene", "bm25s", "rank_bm25"}  # none left out silently
    assert {"newsbot", "tantivy", "bm25s", "rank_bm25"} <= set(figures)  # installed with the bench extras
    assert all(reason for reason in absent.values())
    keys = {"build_s", "segment_s", "index_mb", "bytes_per_posting", "build_peak_mb", "load_s", "rss_after_load_mb",
            "rss_after_queries_mb", "p50_ms", "p99_ms"}
    assert all(keys <= set(engine) for engine in figures.values())
    assert all(engine["passes"] == 2 and engine["queries"] == 10 for name, engine in figures.items() if name != "rank_bm25")
    assert {"ask_p50_ms", "ask_p99_ms"} <= set(figures["newsbot"])
    assert figures["newsbot"]["passages"] >= 300
    assert figures["tantivy"]["segments"] == 1 and figures["bm25s"]["compile_s"] > 0
    assert "lucene" in absent or figures["lucene"]["jvm_start_s"] > 0
    assert len({engine["postings"] for engine in figures.values()}) == 1  # the same tokens for every engine
    assert (tmp_path / "performance.png").stat().st_size > 1000
    table = readme.read_text(encoding="utf-8").split("<!-- make bench writes this table -->")[1].split("<!--")[0]
    names = " | ".join(name.replace("_", "-") for name in ("newsbot", "tantivy", "lucene", "bm25s", "rank_bm25") if name in figures)
    assert f"| 300 paragraphs | {names} |" in table  # the run's own figures, in the README's copy
    assert f"{figures['newsbot']['p50_ms']:,.3f} / " in table


@pytest.mark.skipif(not (SHARED / "data" / "cmrc2018" / "questions.jsonl").exists(), reason="QA sets absent")
def test_the_side_by_side_bench_compares_a_revision_with_the_working_tree(tmp_path):
    from index.build import build_index

    build_index(ROOT / "seeds", tmp_path / "index")
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ab.py"), "--base", "HEAD", "--index", str(tmp_path / "index"),
         "--queries", "20", "--passes", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"^\d+ questions, 0 with different passages or scores$", done.stdout, re.M)  # the same code
    assert re.search(r"^ base retrieval p50 [\d.]+ ms", done.stdout, re.M) and re.search(r"^  new retrieval p50", done.stdout, re.M)


def test_made_paragraphs_are_distinct_and_made_of_the_archives_sentences():
    sys.path.insert(0, str(ROOT / "bench"))
    from bench import SENTENCE_END, made_paragraphs

    texts = ["甲说了话。乙没有说！", "丙来了。丁走了？戊留下。", "己。"]
    made = made_paragraphs(texts, 40)
    assert len(made) == len(set(made)) == 40 and made[:3] == texts
    pool = {s for text in texts for s in SENTENCE_END.split(text) if s}
    assert all(1 <= len(parts := [s for s in SENTENCE_END.split(text) if s]) <= 3 and set(parts) <= pool for text in made)


@pytest.mark.skipif(not (SHARED / "data" / "cctv_xwlb_news" / "articles.jsonl.gz").exists(), reason="CCTV corpus absent")
def test_the_update_bench_adds_news_and_answers_from_a_feed(tmp_path):
    """(The background merge it also times is tested in test_live_refresh.)"""
    out = tmp_path / "incremental.json"
    env = os.environ | {"NEWSBOT_BENCH_WORK": str(tmp_path / "work")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "incremental.py"), "--size", "1500", "--articles", "10", "--queries", "3",
         "--no-merge", "--json", str(out)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["update_how"] == "delta" and figures["added_passages"] >= 50
    assert figures["new_story_found"] and figures["feed_answered"]
    assert {"ask_zh_p50_ms", "ask_en_p99_ms", "retrieval_p50_ms"} <= set(figures["full"]) & set(figures["delta_idle"])
