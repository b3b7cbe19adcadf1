"""Ingest from the web, against a local news site: feeds and pages in, articles stored once, every
failure reported by URL while the rest goes on, and what is stored answered by the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEEDS
from fake_news_site import FakeNewsSite, article_page, atom, rss

from index.documents import read_corpus
from index.engine import Engine
from index.web import STATE_FILE, FetchLimits, article_record, ingest

SEED_LINES = [line for line in (next(SEEDS.glob("*.txt"))).read_text(encoding="utf-8").splitlines() if len(line) > 30]
ENGLISH = [
    "OSLO, June 20, 2025 (Nordic Wire) - Norway's parliament approved a fund to build three offshore wind farms "
    "off the western coast, the energy minister said on Friday.",
    "The fund will pay for turbines, cables and a new harbour at Florø, and construction is due to begin next spring.",
    "Fishing groups said they had not been consulted about the routes of the export cables.",
]
FAST = FetchLimits(read_seconds=1.0, total_seconds=2.0, max_bytes=2 << 20)


def stored(corpus: Path) -> list[dict]:
    """The records written so far: not a line still being written (no newline yet) or one a kill cut short."""
    records = []
    for f in sorted((corpus / "web").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines(keepends=True):
            if not line.endswith("\n"):
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


@pytest.fixture
def site():
    with FakeNewsSite() as site:
        site.put("/zh/1.html", article_page("阿里CEO发信批准林俊旸离职", SEED_LINES[:4], "2026-03-05", "科技网", chinese=True))
        site.put("/zh/2.html", article_page("竞争对手向离职团队伸出橄榄枝", SEED_LINES[4:8], "2026-03-06", "科技网", chinese=True))
        site.put("/en/wind.html", article_page("Norway approves offshore wind fund", ENGLISH, "2025-06-20", "Nordic Wire", chinese=False))
        site.put("/zh/feed.xml", rss("科技网", [(site.url("/zh/1.html"), "阿里CEO发信批准林俊旸离职", "2026-03-05"),
                                               (site.url("/zh/2.html"), "竞争对手向离职团队伸出橄榄枝", "2026-03-06")]),
                 "application/rss+xml")
        site.put("/en/atom.xml", atom("Nordic Wire", [(site.url("/en/wind.html"), "Norway approves offshore wind fund", "2025-06-20")]),
                 "application/atom+xml")
        yield site


def test_feeds_bring_in_their_articles_without_the_page_around_them(site, tmp_path):
    report = ingest([site.url("/zh/feed.xml"), site.url("/en/atom.xml")], tmp_path, FAST)
    assert report.failed == {} and len(report.stored) == 3
    records = {r["url"]: r for r in stored(tmp_path)}
    first = records[site.url("/zh/1.html")]
    assert first["title"] == "阿里CEO发信批准林俊旸离职" and first["date"] == "2026-03-05" and first["source"] == "科技网"
    assert SEED_LINES[0][:30] in first["text"]
    for boilerplate in ("广告", "相关新闻", "网友", "首页", "All rights reserved"):
        assert boilerplate not in first["text"]
    wind = records[site.url("/en/wind.html")]
    assert wind["title"] == "Norway approves offshore wind fund" and wind["date"] == "2025-06-20" and "Florø" in wind["text"]
    assert "ADVERTISEMENT" not in wind["text"] and "Great article" not in wind["text"]


def test_what_is_stored_is_read_as_the_corpus_and_answered(site, tmp_path):
    corpus = tmp_path / "news"
    ingest([site.url("/zh/feed.xml"), site.url("/en/atom.xml")], corpus, FAST)
    documents = list(read_corpus(corpus, lambda name, reason: pytest.fail(f"{name}: {reason}")))
    assert len(documents) == 3 and all(d.url and d.date for d in documents)
    answer = Engine(corpus, tmp_path / "index").ask("谁批准了林俊旸的辞职?")
    assert answer.answered and answer.hits[0].citation.url == site.url("/zh/1.html")
    assert answer.hits[0].citation.source == "科技网"


def test_a_second_run_fetches_nothing_twice(site, tmp_path):
    ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    again = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    assert again.stored == [] and again.unchanged == [site.url("/zh/feed.xml")]
    assert site.not_modified["/zh/feed.xml"] == 1 and site.hits["/zh/1.html"] == 1
    assert len(stored(tmp_path)) == 2 and (tmp_path / STATE_FILE).exists()


def test_a_new_item_in_a_changed_feed_is_the_only_page_fetched(site, tmp_path):
    ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    site.put("/zh/3.html", article_page("通义实验室成立基础模型支持小组", SEED_LINES[8:12], "2026-03-07", "科技网", chinese=True))
    site.put("/zh/feed.xml", rss("科技网", [(site.url(f"/zh/{n}.html"), f"item {n}", "2026-03-07") for n in (1, 2, 3)]),
             "application/rss+xml")
    report = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    assert report.stored == [site.url("/zh/3.html")] and report.known == 2
    assert site.hits["/zh/1.html"] == 1 and site.hits["/zh/3.html"] == 1


def test_a_page_url_is_stored_as_one_article(site, tmp_path):
    report = ingest([site.url("/en/wind.html")], tmp_path, FAST)
    assert report.stored == [site.url("/en/wind.html")] and stored(tmp_path)[0]["source"] == "Nordic Wire"


@pytest.mark.parametrize("path, reason", [
    ("/missing.html", "HTTP 404"),
    ("/broken", "HTTP 500"),
    ("/never-finishes", "not finished after 2 s"),
    ("/huge", "larger than 2 MB"),
    ("/picture.png", "not a feed or a web page"),
    ("/loop", "more than 5 redirects"),
    ("/bad-feed.xml", "malformed feed"),
])
def test_each_failure_is_reported_by_url_and_the_rest_goes_on(site, tmp_path, path, reason):
    site.put("/picture.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    site.put("/bad-feed.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti', "application/rss+xml")
    reported = []
    report = ingest([site.url(path), site.url("/zh/feed.xml")], tmp_path, FAST, on_error=lambda url, why: reported.append((url, why)))
    assert len(report.stored) == 2
    assert list(report.failed) == [site.url(path)] and report.failed[site.url(path)].startswith(reason)
    assert reported == list(report.failed.items())


def test_an_item_whose_page_fails_is_fetched_again_next_time(site, tmp_path):
    site.put("/zh/feed.xml", rss("科技网", [(site.url("/zh/1.html"), "a", "2026-03-05"), (site.url("/zh/later.html"), "b", "2026-03-06")]),
             "application/rss+xml")
    first = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    assert first.failed == {site.url("/zh/later.html"): "HTTP 404"}
    site.put("/zh/later.html", article_page("稍后发布的文章", SEED_LINES[12:15], "2026-03-06", "科技网", chinese=True))
    second = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)  # the feed itself has not changed
    assert second.stored == [site.url("/zh/later.html")] and second.failed == {} and site.hits["/zh/1.html"] == 1
    third = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    assert third.unchanged == [site.url("/zh/feed.xml")]


def test_a_page_without_an_article_is_skipped():
    assert article_record(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "http://127.0.0.1/x") is None


def test_the_ingest_command_reads_urls_and_a_feed_list_and_names_what_it_skipped(site, tmp_path):
    from test_cli import run

    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"# our sources\n{site.url('/zh/feed.xml')}\n\n{site.url('/missing.xml')}  # gone\n", encoding="utf-8")
    result = run("ingest", site.url("/en/wind.html"), "--feeds", str(feeds), "--corpus", str(tmp_path / "news"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stored 3 new article(s)") and "1 URL(s) skipped" in result.stdout
    assert result.stderr.strip() == f"skipped {site.url('/missing.xml')}: HTTP 404"
    again = run("ingest", "--corpus", str(tmp_path / "news"), cwd=tmp_path, env={"NEWSBOT_FEEDS": str(feeds)})
    assert again.stdout.startswith("stored 0 new article(s)") and "1 source(s) unchanged" in again.stdout


def test_the_ingest_command_without_urls_says_so_in_one_line(tmp_path):
    from test_cli import one_line, run

    assert "no URLs to fetch" in one_line(run("ingest", "--corpus", str(tmp_path), cwd=tmp_path))


def test_an_ingest_killed_midway_loses_nothing_and_stores_nothing_twice(site, tmp_path):
    import signal
    import subprocess
    import time

    from conftest import NEWSBOT

    pages = [(site.url(f"/zh/k{n}.html"), f"第{n}条新闻", "2026-03-05") for n in range(12)]
    for n in range(12):
        site.put(f"/zh/k{n}.html", article_page(f"第{n}条新闻", SEED_LINES[n:n + 3], "2026-03-05", "科技网", chinese=True))
        site.delays[f"/zh/k{n}.html"] = 0.4 if n >= 4 else 0.0
    site.put("/zh/many.xml", rss("科技网", pages), "application/rss+xml")
    corpus = tmp_path / "news"
    process = subprocess.Popen([NEWSBOT, "ingest", site.url("/zh/many.xml"), "--corpus", str(corpus)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while len(stored(corpus) if (corpus / "web").exists() else []) < 3:
        assert time.monotonic() < deadline and process.poll() is None, "ingest finished or stalled before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert len(stored(corpus)) < 12
    ingest([site.url("/zh/many.xml")], corpus, FAST)
    urls = [r["url"] for r in stored(corpus)]
    assert sorted(urls) == sorted(url for url, _, _ in pages)  # every article once
    skipped = []
    assert len(list(read_corpus(corpus, lambda name, reason: skipped.append(name)))) == 12 and len(skipped) <= 1


def test_an_article_written_but_not_yet_marked_when_killed_is_not_stored_again(site, tmp_path):
    from index.web import Archive

    ingest([site.url("/en/wind.html")], tmp_path, FAST)  # creates the state
    written = article_record(article_page("阿里CEO发信批准林俊旸离职", SEED_LINES[:4], "2026-03-05", "科技网", chinese=True),
                             site.url("/zh/1.html"))
    Archive(tmp_path).append(written)  # as a run killed between writing and marking leaves it
    with open(next((tmp_path / "web").glob("*.jsonl")), "ab") as handle:
        handle.write(b'{"id": "torn", "text": "cut sh')  # and a line cut short by the kill
    report = ingest([site.url("/zh/feed.xml")], tmp_path, FAST)
    assert report.stored == [site.url("/zh/2.html")] and report.known == 1
    assert [r["url"] for r in stored(tmp_path)].count(site.url("/zh/1.html")) == 1
    skipped = []
    assert len(list(read_corpus(tmp_path, lambda name, reason: skipped.append(name)))) == 3 and len(skipped) == 1
