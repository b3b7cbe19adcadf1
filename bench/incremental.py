"""Incremental indexing at news-archive scale: how soon new news is searchable, and what the
background merge costs the questions asked meanwhile.

    python bench/incremental.py [--size 1000000] [--articles 1000] [--queries 300]

On the benchmark corpus of ``size`` paragraphs (the one bench/bench.py uses, written here when
missing), all in one process and one run, side by side:

1. the full build (reused when this corpus's index is already built);
2. ``articles`` CCTV stories (about five paragraphs each) added as a new JSON Lines file: the time
   from the file being written to the first answer from it (update, open, ask), in a process that
   has loaded the dictionaries and the ranking loop before (as ``newsbot serve`` does at start;
   reported apart);
3. question latency p50/p99 (Chinese and English ``ask``, and retrieval alone) with the search
   settings ``newsbot serve`` uses, after one untimed round: on the full index and on the full
   index plus its delta (side by side, each question to both in turn), on the latter while the
   background merge runs, and on the merged index (side by side with the full one again);
4. a story published in an RSS feed on a local HTTP server: the time from the poll to its answer.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import itertools
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import CCTV, WORK, paragraphs, percentiles, questions  # noqa: E402
from index.analysis import Analyzer  # noqa: E402
from index.build import IndexOptions, build_index, corpus_fingerprint  # noqa: E402
from index.lexicon import preload  # noqa: E402
from index.passages import PassageOptions  # noqa: E402
from index.search import OpenIndex, SearchOptions  # noqa: E402
from index.store import IndexFormatError, current_generation, make_current_generation, read_manifest  # noqa: E402
from index.update import merge_in_background, update_index  # noqa: E402
from index.web import ingest  # noqa: E402

OPTIONS = IndexOptions(passages=PassageOptions(dedupe=False))  # as bench/bench.py builds (paragraphs reused)


def corpus_folder(size: int) -> Path:
    """A folder holding the benchmark corpus (a hard link to bench/bench.py's file, written if missing)."""
    source = WORK / f"corpus-{size}.jsonl"
    if not source.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        with open(source, "w", encoding="utf-8") as handle:
            for i, text in enumerate(paragraphs(size)):
                handle.write(json.dumps({"id": f"p{i}", "text": text}, ensure_ascii=False) + "\n")
    folder = WORK / f"update-corpus-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.name != "base.jsonl":
            leftover.unlink()
    if not (folder / "base.jsonl").exists():
        os.link(source, folder / "base.jsonl")
    return folder


def new_stories(count: int) -> list[dict]:
    """The last ``count`` CCTV stories of five paragraphs or more, under new ids."""
    stories = []
    with gzip.open(CCTV, "rt", encoding="utf-8") as handle:
        for line in handle:
            story = json.loads(line)
            if story["text"].count("\n") >= 4:
                stories.append(story)
    return [{**story, "id": f"new-{i}"} for i, story in enumerate(stories[-count:])]


def latencies(indexes: dict[str, OpenIndex], chinese: list[str], english: list[str],
              stop: threading.Event | None = None) -> dict[str, dict]:
    """p50/p99 of Chinese and English asks and of retrieval, per index: each question goes to every
    index in turn, the order rotating from question to question, after one untimed round; with
    ``stop``, rounds repeat until it is set."""
    names = list(indexes)
    tokens = {name: [ix.queries.tokens_query(ix.analyzer.tokens(q)) for q in chinese] for name, ix in indexes.items()}
    runs = {"ask_zh": (lambda name, i: indexes[name].search(chinese[i], 3), len(chinese)),
            "ask_en": (lambda name, i: indexes[name].search(english[i], 3), len(english)),
            "retrieval": (lambda name, i: indexes[name].scorer.top(tokens[name][i], 10), len(chinese))}
    times: dict[str, dict[str, list[float]]] = {name: {key: [] for key in runs} for name in names}
    for round_ in itertools.count():
        for key, (run, count) in runs.items():
            for i in range(count):
                for j in range(len(names)):
                    name = names[(i + j) % len(names)]
                    started = time.perf_counter()
                    run(name, i)
                    if round_:
                        times[name][key].append((time.perf_counter() - started) * 1000)
        if round_ and (stop is None or stop.is_set()):
            break
    return {name: {f"{key}_{p}": round(v, 2) for key, samples in by_key.items()
                   for p, v in zip(("p50_ms", "p99_ms"), percentiles(samples))} for name, by_key in times.items()}


def full_build_of(corpus: Path, index_dir: Path) -> bool:
    """Whether a full build of ``corpus`` is (or, under a delta from an earlier run, was) in ``index_dir``:
    then it is made current again rather than built anew."""
    try:
        current = current_generation(index_dir)
        manifest = read_manifest(current) if current else {}
        if manifest.get("kind") == "delta":
            current = index_dir / manifest["base"]
            manifest = read_manifest(current)
    except IndexFormatError:
        return False
    if manifest.get("corpus_fingerprint") != corpus_fingerprint(corpus):
        return False
    make_current_generation(index_dir, current)
    return True


def open_current(index_dir: Path) -> OpenIndex:
    """The current generation, opened as ``newsbot serve`` opens it (default search settings)."""
    return OpenIndex(current_generation(index_dir), Analyzer(OPTIONS.analyzer), SearchOptions())


def feed_to_answer(corpus: Path, index_dir: Path) -> dict:
    """A new story in an RSS feed served on 127.0.0.1: poll, store, update, open, answer."""
    site = WORK / "update-site"
    site.mkdir(exist_ok=True)
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(site), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    title = "格陵兰冰盖观测站发布年度融化报告"
    body = ("格陵兰冰盖观测站周三发布年度报告,今年夏季冰盖融化面积创下观测以来第三高纪录,"
            "研究人员在报告中呼吁加强北极气候监测合作。")
    (site / "story.html").write_text(f"<html><head><title>{title}</title></head><body><nav>首页</nav><article><h1>{title}</h1>"
                                     f"<p>{body}</p><p>{body}</p></article></body></html>", encoding="utf-8")
    (site / "feed.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>冰盖通讯</title><link>{base}/</link>'
        f"<item><title>{title}</title><link>{base}/story.html</link><pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate>"
        f"</item></channel></rss>", encoding="utf-8")
    started = time.perf_counter()
    ingest([f"{base}/feed.xml"], corpus)
    stored = time.perf_counter()
    update_index(corpus, index_dir, OPTIONS)
    index = open_current(index_dir)
    answer = index.search("格陵兰冰盖融化报告", 3)
    done = time.perf_counter()
    server.shutdown()
    found = bool(answer.hits) and "格陵兰" in answer.hits[0].text
    return {"feed_ingest_s": round(stored - started, 3), "feed_to_answer_s": round(done - started, 3), "feed_answered": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--json", dest="json_path", default=str(WORK / "incremental.json"))
    parser.add_argument("--no-merge", dest="merge", action="store_false", help="leave out the background merge (a quick check)")
    args = parser.parse_args()
    if not CCTV.exists():
        print(f"skipped: {CCTV} is not here")
        return
    corpus, index_dir = corpus_folder(args.size), WORK / f"update-index-{args.size}"
    result: dict = {"size": args.size, "articles": args.articles}
    if not full_build_of(corpus, index_dir):
        started = time.perf_counter()
        build_index(corpus, index_dir, OPTIONS)
        result["full_build_s"] = round(time.perf_counter() - started, 1)
    chinese, english = questions(args.queries)
    full = open_current(index_dir)
    started = time.perf_counter()
    preload(OPTIONS.ecdict)  # the dictionaries' tables and the ranking loop loaded,
    full.search(chinese[0], 3)  # as a running bot does once at start
    result["start_load_s"] = round(time.perf_counter() - started, 2)
    stories = new_stories(args.articles)
    (corpus / "added.jsonl").write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stories), encoding="utf-8")
    started = time.perf_counter()
    report = update_index(corpus, index_dir, OPTIONS)
    updated = time.perf_counter()
    delta = open_current(index_dir)
    answer = delta.search(f'{stories[-1]["title"]} {max(stories[-1]["text"].splitlines(), key=len)[:60]}', 3)
    answered = time.perf_counter()  # its paragraphs may be in the base too (reused there), its title is not;
    # its longest paragraph, not its first: that is often a dateline every story shares ("央视网消息(新闻联播):")
    result |= {"update_how": report.how, "added_passages": report.added, "update_s": round(updated - started, 3),
               "to_searchable_s": round(answered - started, 3),
               "new_story_found": any(stories[-1]["id"] in {h.citation.doc_id, *(o["doc_id"] for o in h.citation.also_in)}
                                      for h in answer.hits)}  # a copy of an indexed story is cited beside it
    side_by_side = latencies({"full": full, "delta": delta}, chinese, english)  # this machine drifts
    result |= {"full": side_by_side["full"], "delta_idle": side_by_side["delta"]}
    if args.merge:
        stop = threading.Event()
        merge_started = time.perf_counter()
        merge = merge_in_background(corpus, index_dir, OPTIONS)
        threading.Thread(target=lambda: (merge.join(), stop.set()), daemon=True).start()
        result["delta_during_merge"] = latencies({"delta": delta}, chinese, english, stop)["delta"]
        result["merge_s"] = round(time.perf_counter() - merge_started, 1)
        result["merge_exit"] = merge.exitcode
        os.sync()  # the merge's files on disk: their write-back would slow what follows
        merged = open_current(index_dir)
        result["merged_kind"] = merged.manifest["kind"]
        side_by_side = latencies({"full": full, "merged": merged}, chinese, english)
        result |= {"merged_idle": side_by_side["merged"], "full_beside_merged": side_by_side["full"]}
    result |= feed_to_answer(corpus, index_dir)
    Path(args.json_path).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    for name in ("full", "delta_idle", "delta_during_merge", "merged_idle", "full_beside_merged"):
        figures = result.get(name, {})
        print(f"{name:>20}: " + "  ".join(f"{k} {v}" for k, v in figures.items()))
    print(f"update: {result['added_passages']:,} passages in {result['update_s']} s; searchable after {result['to_searchable_s']} s; "
          f"merge {result.get('merge_s', '—')} s; feed → answer {result['feed_to_answer_s']} s")


if __name__ == "__main__":
    main()
