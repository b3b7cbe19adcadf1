"""Speed and memory at news-archive scale: newsbot against rank-bm25 and bm25s, on the same tokens.

    python bench/bench.py [--sizes 10000,100000,1000000] [--json FILE] [--queries 300]

For each size it takes that many paragraphs of the CCTV news corpus (../shared/data; beyond its
403k paragraphs they are reused under new ids), builds every engine, and measures build time
(segmentation and indexing apart), index size, peak memory while building, load time and memory
in a fresh process, and query latency p50/p99 for retrieval alone and (newsbot) a whole ask.
It prints a table, writes the JSON and draws docs/performance.png. Compare engines within one run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
CCTV = SHARED / "data" / "cctv_xwlb_news" / "articles.jsonl.gz"
WORK = Path(os.environ.get("NEWSBOT_BENCH_WORK", ROOT / "bench" / "results"))
RANK_BM25_LIMIT_S = 600
ENGINES = ("newsbot", "rank_bm25", "bm25s")
FIGURES = ["build_s", "segment_s", "index_mb", "build_peak_mb", "load_s", "rss_after_load_mb", "rss_after_queries_mb",
           "p50_ms", "p99_ms", "ask_p50_ms", "ask_p99_ms", "ask_en_p50_ms", "ask_en_p99_ms"]


def paragraphs(n: int) -> list[str]:
    out: list[str] = []
    with gzip.open(CCTV, "rt", encoding="utf-8") as handle:
        for line in handle:
            out.extend(p for p in json.loads(line)["text"].split("\n") if p.strip())
            if len(out) >= n:
                break
    while len(out) < n:  # reuse, under new ids
        out.extend(out[: n - len(out)])
    return out[:n]


def questions(count: int) -> tuple[list[str], list[str]]:
    """Real questions: Chinese ones from the QA sets; English ones about the news (the English news,
    temporal and seed questions) and from XQuAD."""
    chinese = []
    for name in ("antiterror_news_mrc", "cmrc2018", "dureader_robust", "drcd"):
        path = SHARED / "data" / name / "questions.jsonl"
        if path.exists():
            chinese += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines()[:count]]
    random.Random(0).shuffle(chinese)
    english = []
    for path in ("eval/english_news_questions.jsonl", "eval/temporal_questions.jsonl", "eval/seed_questions.jsonl",
                 "data/xquad_en_zh_dev/questions.jsonl"):
        if (SHARED / path).exists():
            english += [q["question"] for q in map(json.loads, (SHARED / path).read_text(encoding="utf-8").splitlines())
                        if q.get("lang", "en") == "en"]
    random.Random(0).shuffle(english)
    return chinese[:count], english[:count]


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(0.99 * len(samples)))]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# --- steps, each run in a fresh process so peak memory and load are its own ---------------------


def step_newsbot_build(size: int) -> dict:
    from index.build import IndexOptions, build_index
    from index.passages import PassageOptions

    corpus = WORK / f"corpus-{size}.jsonl"
    index_dir = WORK / f"newsbot-{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    options = IndexOptions(passages=PassageOptions(dedupe=False))
    started = time.perf_counter()
    report = build_index(corpus, index_dir, options)
    build_s = time.perf_counter() - started
    return {"build_s": build_s, "segment_s": report.segment_seconds, "index_mb": folder_mb(index_dir),
            "build_peak_mb": peak_mb(), "passages": report.passages, "chars_per_s": report.characters / report.segment_seconds,
            "build_chars_per_s": report.characters / build_s}


def step_jieba(size: int) -> dict:
    """The reference for build speed: plain jieba (jieba.lcut) on one core, same paragraphs."""
    import jieba

    texts = paragraphs(min(size, 20_000))
    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return {"jieba_chars_per_s": sum(map(len, texts)) / (time.perf_counter() - started)}


def step_tokenize(size: int) -> dict:
    """The same tokens for the other engines: newsbot's analyzer, on all cores."""
    import multiprocessing

    texts = paragraphs(size)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count(), initializer=_init_tokenizer) as pool:
        tokens = pool.map(_tokenize, texts, chunksize=512)
    seconds = time.perf_counter() - started
    with open(WORK / f"tokens-{size}.jsonl", "w", encoding="utf-8") as handle:
        for row in tokens:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"segment_s": seconds}


_tokenizer = None


def _init_tokenizer() -> None:
    global _tokenizer
    from index.analysis import Analyzer

    _tokenizer = Analyzer()


def _tokenize(text: str) -> list[str]:
    return _tokenizer.tokens(text)


def _load_tokens(size: int) -> list[list[str]]:
    with open(WORK / f"tokens-{size}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def step_rank_bm25_build(size: int) -> dict:
    """rank-bm25 has no file format of its own (people pickle it, which no one should load from
    disk they do not control): its index on disk is the token file, and loading is rebuilding."""
    from rank_bm25 import BM25Okapi

    tokens = _load_tokens(size)
    started = time.perf_counter()
    BM25Okapi(tokens)
    build_s = time.perf_counter() - started
    return {"build_s": build_s, "index_mb": (WORK / f"tokens-{size}.jsonl").stat().st_size / 2**20, "build_peak_mb": peak_mb()}


def step_bm25s_build(size: int) -> dict:
    import bm25s

    tokens = _load_tokens(size)
    started = time.perf_counter()
    model = bm25s.BM25(k1=1.5, b=0.75, method="robertson")
    model.index(tokens, show_progress=False)
    build_s = time.perf_counter() - started
    folder = WORK / f"bm25s-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    model.save(folder)
    return {"build_s": build_s, "index_mb": folder_mb(folder), "build_peak_mb": peak_mb()}


def _query_tokens(chinese: list[str]) -> list[list[str]]:
    from index.analysis import Analyzer

    analyzer = Analyzer()
    return [t for t in (analyzer.tokens(q) for q in chinese) if t]


def step_query(engine: str, size: int, count: int, runs: int) -> dict:
    chinese, english = questions(count)
    query_tokens = _query_tokens(chinese)
    result: dict = {}
    started = time.perf_counter()
    if engine == "newsbot":
        from index.analysis import Analyzer
        from index.search import OpenIndex
        from index.store import current_generation

        analyzer = Analyzer()
        started = time.perf_counter()
        index = OpenIndex(current_generation(WORK / f"newsbot-{size}"), analyzer)
        result["load_s"] = time.perf_counter() - started
        result["rss_after_load_mb"] = rss_mb()
        queries = [index.queries.tokens_query(t) for t in query_tokens]
        retrieve = lambda q: index.scorer.top(q, 10)  # noqa: E731
        asks = {"ask": chinese, "ask_en": english}
        for key, qs in asks.items():
            for q in qs[:20]:
                index.search(q, 3)
            times = []
            for q in qs:
                t0 = time.perf_counter()
                index.search(q, 3)
                times.append((time.perf_counter() - t0) * 1000)
            result[f"{key}_p50_ms"], result[f"{key}_p99_ms"] = percentiles(times)
    elif engine == "rank_bm25":
        from rank_bm25 import BM25Okapi

        model = BM25Okapi(_load_tokens(size))
        result["load_s"] = time.perf_counter() - started
        result["rss_after_load_mb"] = rss_mb()
        queries = query_tokens[:runs]
        retrieve = model.get_scores
    else:
        import bm25s

        model = bm25s.BM25.load(WORK / f"bm25s-{size}", mmap=True)
        result["load_s"] = time.perf_counter() - started
        result["rss_after_load_mb"] = rss_mb()
        queries = [[t] for t in query_tokens]
        retrieve = lambda q: model.retrieve(q, k=10, show_progress=False, n_threads=1)  # noqa: E731
    for q in queries[:10]:
        retrieve(q)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        retrieve(q)
        times.append((time.perf_counter() - t0) * 1000)
    result["p50_ms"], result["p99_ms"] = percentiles(times)
    result["queries"] = len(times)
    result["rss_after_queries_mb"] = rss_mb()
    return result


def run_step(*args: str) -> dict:
    """Run one step in a fresh interpreter and return what it printed as JSON."""
    done = subprocess.run([sys.executable, __file__, "--step", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"step {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_size(size: int, count: int, skip: set[str]) -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / f"corpus-{size}.jsonl", "w", encoding="utf-8") as handle:
        for i, text in enumerate(paragraphs(size)):
            handle.write(json.dumps({"id": f"p{i}", "text": text}, ensure_ascii=False) + "\n")
    jieba_before = run_step("jieba", str(size))["jieba_chars_per_s"]  # the build's yardstick, measured beside it
    results: dict = {"newsbot": run_step("newsbot-build", str(size))}
    jieba_after = run_step("jieba", str(size))["jieba_chars_per_s"]
    results["newsbot"] |= {"jieba_chars_per_s": (jieba_before + jieba_after) / 2, "jieba_before_after": [jieba_before, jieba_after]}
    results["newsbot"] |= run_step("query", "newsbot", str(size), str(count), str(count))
    print(f"  newsbot done: {results['newsbot']}", flush=True)
    tokens = run_step("tokenize", str(size))
    if "bm25s" not in skip:
        results["bm25s"] = run_step("bm25s-build", str(size)) | tokens
        results["bm25s"] |= run_step("query", "bm25s", str(size), str(count), str(count))
        print(f"  bm25s done: {results['bm25s']}", flush=True)
    if "rank_bm25" not in skip:
        built = run_step("rank_bm25-build", str(size)) | tokens
        runs = 5
        probe = run_step("query", "rank_bm25", str(size), str(count), "3")
        runs = max(5, min(count, int(60_000 / max(probe["p50_ms"], 1))))  # about a minute of queries
        results["rank_bm25"] = built | run_step("query", "rank_bm25", str(size), str(count), str(runs))
        print(f"  rank_bm25 done: {results['rank_bm25']}", flush=True)
    for leftover in WORK.glob(f"*-{size}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink()
    return results


def rank_bm25_estimate_s(previous: dict | None, size: int, last_size: int) -> float:
    """Projected rank-bm25 time at ``size`` (build, load and a minute of queries) from the last size."""
    if not previous:
        return 0.0
    scale = size / last_size
    return scale * (previous["build_s"] + previous["load_s"]) + 60 + previous["p50_ms"] * scale * 5 / 1000


def print_table(results: dict) -> None:
    print(f"{'size':>9} {'engine':>10} " + " ".join(f"{k:>17}" for k in FIGURES))
    for size, engines in results["sizes"].items():
        for engine, figures in engines.items():
            cells = [figures.get(k) for k in FIGURES]
            print(f"{int(size):>9,} {engine:>10} " + " ".join(f"{'—' if c is None else format(c, ',.3f'):>17}" for c in cells))
        if "newsbot" in engines:
            print(f"{'':>9} {'':>10} build: {build_line(engines['newsbot'])}")
            for other in ("rank_bm25", "bm25s"):
                if other in engines:
                    ratio = engines[other]["p50_ms"] / engines["newsbot"]["p50_ms"]
                    print(f"{'':>9} {'':>10} retrieval p50: {other} / newsbot = {ratio:,.0f}×")


def build_line(newsbot: dict) -> str:
    """Build speed against plain ``jieba.lcut`` on one core, measured just before and just after the build."""
    reference = newsbot["jieba_chars_per_s"]
    before, after = newsbot["jieba_before_after"]
    return (f"{newsbot['chars_per_s']:,.0f} chars/s while segmenting = {newsbot['chars_per_s'] / reference:.2f}× "
            f"one core's jieba.lcut ({reference:,.0f}: {before:,.0f} before, {after:,.0f} after); "
            f"{newsbot['build_chars_per_s']:,.0f} chars/s over the whole build = {newsbot['build_chars_per_s'] / reference:.2f}×")


README_BLOCK = ("<!-- make bench writes this table -->", "<!-- end of make bench's table -->")


def readme_table(results: dict) -> str:
    """The README's summary of a run: its largest size, engine by engine."""
    size = max(results["sizes"], key=int)
    engines = results["sizes"][size]
    names = [name for name in ENGINES if name in engines]

    def row(label: str, cell: Callable[[dict], str]) -> str:
        return f"| {label} | " + " | ".join(cell(engines[name]) for name in names) + " |"

    def ms(value: float) -> str:
        return f"{value:.2f}" if value < 10 else f"{value:,.0f}"

    def mb(value: float | None) -> str:
        return "—" if value is None else f"{value / 1024:.1f} GB" if value >= 1024 else f"{value:,.0f} MB"

    def load(f: dict) -> str:
        seconds = f"{f['load_s']:.3f} s" if f["load_s"] < 1 else f"{f['load_s']:,.1f} s"
        return f"{seconds}; {mb(f['rss_after_load_mb'])} / {mb(f.get('rss_after_queries_mb'))}"

    def build(f: dict) -> str:
        if "chars_per_s" in f:  # newsbot segments as it builds
            return f"{f['build_s']:,.0f} s ({f['segment_s']:,.0f} s), peak {f['build_peak_mb'] / 1024:.1f} GB"
        return f"{f['build_s']:,.0f} s + {f['segment_s']:,.0f} s, peak {f['build_peak_mb'] / 1024:.1f} GB"

    def ask(f: dict) -> str:
        return f"{ms(f['ask_p50_ms'])} / {ms(f['ask_en_p50_ms'])} ms" if "ask_p50_ms" in f else "—"

    lines = [
        f"| {int(size):,} paragraphs | " + " | ".join(name.replace("_", "-") for name in names) + " |",
        "|---|" + "---:|" * len(names),
        row("retrieval p50 / p99", lambda f: f"{ms(f['p50_ms'])} / {ms(f['p99_ms'])} ms"),
        row("whole `ask` p50 (Chinese / English questions)", ask),
        row("load in a fresh process; memory after it / after the questions", load),
        row("build (of it, segmentation on 2 cores)", build),
    ]
    if size in results.get("skipped", {}):
        lines.append(f"\nAt {int(size):,} paragraphs, skipped {results['skipped'][size]}.")
    if "newsbot" in engines:
        lines.append(f"\nBuild: {build_line(engines['newsbot'])}.")
    return "\n".join(lines)


def write_readme(results: dict, path: Path) -> None:
    """Put :func:`readme_table` between the README's markers (left alone when they are missing)."""
    text = path.read_text(encoding="utf-8")
    start, end = README_BLOCK
    if start not in text or end not in text:
        print(f"{path}: no {start!r} … {end!r} block; the README's table is not updated")
        return
    head, rest = text.split(start, 1)
    path.write_text(head + start + "\n" + readme_table(results) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")


def write_markdown(results: dict, path: Path) -> None:
    """docs/performance.md: the table of one run, engine by engine and size by size."""
    lines = [
        "# Performance",
        "",
        "One run of `make bench` on this project's 2-core machine: CCTV news paragraphs, the same tokens",
        "(newsbot's analyzer) for every engine, retrieval of the top 10 for real questions from",
        "`../shared/data`. `ask` is newsbot's whole answer: analysis, cross-language expansion,",
        "retrieval, coverage and phrase rerank, and citations (`ask_en`: English questions about the news and from XQuAD).",
        "rank-bm25 has no file format (pickling it is unsafe to load), so its index is the token file",
        "and its load is a rebuild.",
        "",
        "| paragraphs | engine | " + " | ".join(FIGURES) + " |",
        "|---:|---|" + "---:|" * len(FIGURES),
    ]
    for size, engines in results["sizes"].items():
        for engine, figures in engines.items():
            cells = ["—" if figures.get(k) is None else f"{figures[k]:,.3f}" for k in FIGURES]
            lines.append(f"| {int(size):,} | {engine} | " + " | ".join(cells) + " |")
    for size, reason in results.get("skipped", {}).items():
        lines.append(f"\nAt {int(size):,} paragraphs, skipped {reason}.")
    lines.append(f"\nBuild on {results['machine']['cores']} cores, against plain `jieba.lcut` on one core:\n")
    lines += [f"- {int(size):,} paragraphs: {build_line(engines['newsbot'])}" for size, engines in results["sizes"].items() if "newsbot" in engines]
    lines += ["", "![latency and memory against corpus size](performance.png)"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def draw(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(s) for s in results["sizes"])
    fig, (latency, memory) = plt.subplots(1, 2, figsize=(11, 4.2))
    for engine in ENGINES:
        xs = [s for s in sizes if engine in results["sizes"][str(s)]]
        if not xs:
            continue
        latency.plot(xs, [results["sizes"][str(s)][engine]["p50_ms"] for s in xs], marker="o", label=engine)
        memory.plot(xs, [results["sizes"][str(s)][engine]["rss_after_load_mb"] for s in xs], marker="o", label=engine)
    for axis, title, unit in ((latency, "retrieval latency, p50", "ms"), (memory, "memory after load", "MB")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("paragraphs")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--step":
        name, *rest = sys.argv[2:]
        step = {"newsbot-build": step_newsbot_build, "jieba": step_jieba, "tokenize": step_tokenize, "rank_bm25-build": step_rank_bm25_build,
                "bm25s-build": step_bm25s_build, "query": step_query}[name]
        args = [int(a) if a.isdigit() else a for a in rest]
        print(json.dumps(step(*args)))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--json", dest="json_path", default=str(ROOT / "docs" / "performance.json"),
                        help="the run's figures (docs/performance.md is made from them)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--plot", default=str(ROOT / "docs" / "performance.png"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"),
                        help="the README whose speed table is rewritten ('': none)")
    parser.add_argument("--skip", default="", help="engines to leave out, comma separated")
    parser.add_argument("--report-only", action="store_true", help="redraw the table, plot and docs from --json")
    args = parser.parse_args()
    if args.report_only:
        results = json.loads(Path(args.json_path).read_text(encoding="utf-8"))
        print_table(results)
        draw(results, Path(args.plot))
        write_markdown(results, Path(args.plot).with_suffix(".md"))
        if args.readme:
            write_readme(results, Path(args.readme))
        return
    if not CCTV.exists():
        print(f"skipped: {CCTV} is absent")
        return
    results: dict = {"sizes": {}, "machine": {"cores": os.cpu_count()}, "skipped": {}}
    previous, last_size = None, None
    for size in sorted(int(s) for s in args.sizes.split(",")):
        skip = set(filter(None, args.skip.split(",")))
        estimate = rank_bm25_estimate_s(previous, size, last_size or size)
        if estimate > RANK_BM25_LIMIT_S:
            skip.add("rank_bm25")
            results["skipped"][str(size)] = f"rank_bm25: projected {estimate / 60:.0f} min > 10 min"
        skipped = results["skipped"].get(str(size))
        print(f"size {size:,}" + (f" (skipping rank_bm25: {skipped})" if skipped else ""), flush=True)
        results["sizes"][str(size)] = measure_size(size, args.queries, skip)
        previous, last_size = results["sizes"][str(size)].get("rank_bm25"), size
    Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_path).write_text(json.dumps(results, indent=1), encoding="utf-8")
    print_table(results)
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    draw(results, Path(args.plot))
    write_markdown(results, Path(args.plot).with_suffix(".md"))
    if args.readme:
        write_readme(results, Path(args.readme))
    readme = f" and {args.readme}'s table" if args.readme else ""
    print(f"wrote {args.json_path}, {args.plot}, {Path(args.plot).with_suffix('.md')}{readme}")


if __name__ == "__main__":
    main()
