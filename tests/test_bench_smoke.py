"""A small run of the benchmark code, so `make bench` keeps working (its numbers are not checked here)."""

from __future__ import annotations

import json
import os
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
        [sys.executable, str(ROOT / "bench" / "bench.py"), "--sizes", "300", "--queries", "10",
         "--json", str(out), "--plot", str(tmp_path / "performance.png"), "--readme", str(readme)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())["sizes"]["300"]
    assert set(figures) == {"newsbot", "rank_bm25", "bm25s"}
    keys = {"build_s", "segment_s", "index_mb", "build_peak_mb", "load_s", "rss_after_load_mb", "p50_ms", "p99_ms"}
    assert all(keys <= set(engine) for engine in figures.values())
    assert {"ask_p50_ms", "ask_p99_ms"} <= set(figures["newsbot"])
    assert figures["newsbot"]["passages"] >= 300
    assert (tmp_path / "performance.png").stat().st_size > 1000
    table = readme.read_text(encoding="utf-8").split("<!-- make bench writes this table -->")[1].split("<!--")[0]
    assert "| 300 paragraphs | newsbot | rank-bm25 | bm25s |" in table  # the run's own figures, in the README's copy
    assert f"{figures['newsbot']['p50_ms']:,.2f} / " in table


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
