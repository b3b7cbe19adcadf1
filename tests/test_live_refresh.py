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

    monkeypatch.setattr(engine_module, "build_index", broken)
    assert engine.refresh() is False and engine.index() is before and engine.ask("谁批准了林俊旸的辞职?").answered


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
