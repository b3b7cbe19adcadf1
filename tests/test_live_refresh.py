"""A running bot picks up new news: the engine switches to a new index between questions, and
``newsbot serve`` polls its feeds and watches its corpus folder, with no restart."""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import SEEDS, sign, slash_command_body
from fake_news_site import FakeNewsSite, article_page, rss
from fake_slack import FakeSlack
from http_client import get, post, start_server

from index import Engine

NEW_STORY = {"id": "wind-1", "date": "2026-03-09", "title": "挪威批准海上风电基金", "source": "北欧通讯社",
             "text": "挪威议会批准设立海上风电基金,用于在西海岸外建设三座海上风电场,能源大臣周五表示。"}


def add_story(corpus, story: dict = NEW_STORY) -> None:
    with open(corpus / "new.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(story, ensure_ascii=False) + "\n")


@pytest.fixture
def news(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    return corpus


def test_refresh_switches_to_the_new_news_and_says_so(news, tmp_path):
    engine = Engine(news, tmp_path / "index")
    before = engine.index()
    assert engine.refresh() is False  # nothing changed
    assert not engine.ask("挪威海上风电基金").answered
    add_story(news)
    assert engine.refresh() is True
    after = engine.index()
    assert after.generation != before.generation and after.manifest["n_passages"] > before.manifest["n_passages"]
    answer = engine.ask("挪威海上风电基金")
    assert answer.answered and answer.hits[0].citation.doc_id == "wind-1"


def test_a_generation_built_by_another_process_is_picked_up(news, tmp_path):
    serving = Engine(news, tmp_path / "index")
    serving.index()
    add_story(news)
    Engine(news, tmp_path / "index").build()  # as `newsbot index build` from cron would
    assert serving.refresh() is True and serving.ask("挪威海上风电基金").answered


def test_questions_asked_during_the_switch_all_get_whole_answers(news, tmp_path):
    engine = Engine(news, tmp_path / "index")
    engine.warm()
    add_story(news)
    done = threading.Event()
    switch = threading.Thread(target=lambda: (engine.refresh(), done.set()))

    def ask(number: int):
        time.sleep(number * 0.01)
        return engine.ask("谁批准了林俊旸的辞职?")

    with ThreadPoolExecutor(max_workers=4) as pool:
        switch.start()
        answers = list(pool.map(ask, range(20)))
    switch.join()
    assert done.is_set() and all(a.answered and "批准" in a.hits[0].text for a in answers)
    assert engine.ask("挪威海上风电基金").answered


def test_a_failed_rebuild_keeps_the_open_index_answering(news, tmp_path, monkeypatch):
    engine = Engine(news, tmp_path / "index")
    before = engine.index()
    add_story(news)
    import index.engine as engine_module

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine_module, "update_index", broken)
    assert engine.refresh() is False and engine.index() is before and engine.ask("谁批准了林俊旸的辞职?").answered


def test_new_news_is_a_delta_and_a_large_delta_is_merged_in_the_background(news, tmp_path, monkeypatch):
    import index.engine as engine_module

    engine = Engine(news, tmp_path / "index")
    first = engine.index()
    add_story(news)
    assert engine.refresh() is True
    delta = engine.index()
    assert delta.manifest["kind"] == "delta" and delta.manifest["base"] == first.generation.name
    assert engine._merge is None  # one passage: too small to merge
    monkeypatch.setattr(engine_module, "MERGE_PASSAGES", 0)
    add_story(news, {**NEW_STORY, "id": "wind-2", "text": "挪威海上风电基金首批项目周一动工,能源大臣出席仪式。"})
    assert engine.refresh() is True
    engine._merge.join(timeout=120)
    assert engine._merge.exitcode == 0
    assert engine.refresh() is True  # the merged build, published by the merge process
    merged = engine.index()
    assert merged.manifest["kind"] == "full" and merged.manifest["n_passages"] == delta.manifest["n_passages"] + 1
    assert {h.citation.doc_id for h in engine.ask("挪威海上风电基金", 5).hits} >= {"wind-1", "wind-2"}
    assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith(("gen-", ".tmp-"))] == [merged.generation.name]


def test_a_merge_killed_midway_leaves_the_index_in_use(news, tmp_path):
    import os
    import signal

    from index.update import merge_in_background

    engine = Engine(news, tmp_path / "index")
    before = engine.index()
    for n in range(300):  # enough to take the merge a while
        add_story(news, {**NEW_STORY, "id": f"more-{n}", "text": f"第{n}号补充报道:" + NEW_STORY["text"] * 3})
    merge = merge_in_background(news, tmp_path / "index", engine.options)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".tmp-") for p in (tmp_path / "index").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(merge.pid, signal.SIGKILL)
    merge.join()
    reopened = Engine(news, tmp_path / "index")
    assert reopened.verify() == ["stale: the corpus or the settings changed since it was built"]
    assert reopened.index().generation != before.generation  # brought up to date (a full build: the change is large)
    assert reopened.ask("第299号补充报道 挪威").answered
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / "index").iterdir())


def test_a_running_bot_answers_an_article_that_appears_in_its_feed(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    lines = NEW_STORY["text"], "基金将用于建设风机、电缆和新港口,工程预计明年春天开工。", "渔业团体表示,他们没有就出口电缆的路线征求意见。"
    with FakeSlack() as slack, FakeNewsSite() as site:
        site.put("/feed.xml", rss("北欧通讯社", []), "application/rss+xml")
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(site.url("/feed.xml") + "\n", encoding="utf-8")
        process, port = start_server(slack, tmp_path / "index", tmp_path, NEWSBOT_CORPUS=str(corpus), NEWSBOT_FEEDS=str(feeds),
                                     NEWSBOT_REFRESH_SECONDS="1", NEWSBOT_WATCH_SECONDS="0.5")
        try:
            first = get(port, "/healthz")[1]
            site.put("/wind.html", article_page(NEW_STORY["title"], list(lines), "2026-03-09", "北欧通讯社", chinese=True))
            site.put("/feed.xml", rss("北欧通讯社", [(site.url("/wind.html"), NEW_STORY["title"], "2026-03-09")]), "application/rss+xml")
            published = time.monotonic()
            while get(port, "/healthz")[1]["generation"] == first["generation"]:
                assert time.monotonic() - published < 60, "the new article was not picked up within 60 s"
                time.sleep(0.2)
            now = get(port, "/healthz")[1]
            assert now["passages"] > first["passages"] and now["newest"] == "2026-03-09"
            body = slash_command_body("挪威议会批准了什么基金?", slack.response_url("wind"))
            assert post(port, body, sign(body), timeout=3)[0] == 200
            (call,) = slack.wait_for("/respond/wind")
            assert "风电" in json.dumps(call.body, ensure_ascii=False) and site.url("/wind.html") in json.dumps(call.body)
        finally:
            process.terminate()
            process.wait(timeout=30)
