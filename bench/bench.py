"""Speed and memory at news-archive scale: newsbot against tantivy, Lucene, bm25s and rank-bm25, on
the same tokens.

    python bench/bench.py [--sizes 10000,100000,1000000] [--json FILE] [--queries 1000] [--passes 3]

For each size it takes that many distinct paragraphs of the CCTV news corpus (../shared/data; see
:func:`paragraphs` for how sizes beyond its distinct paragraphs are made), builds every engine, and
measures build time (segmentation and indexing apart), index size and bytes per posting, peak
memory while building, load time and memory in a fresh process, and query latency p50/p99 for
retrieval of the top 10 and (newsbot) a whole ask. The query runs are interleaved: each pass runs
every engine once, in a fresh process, and the percentiles pool the passes. It prints a table,
writes the JSON and draws docs/performance.png. Compare engines within one run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
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
sys.path.insert(0, str(ROOT / "bench"))
import anchors  # noqa: E402

SHARED = ROOT.parent / "shared"
CCTV = SHARED / "data" / "cctv_xwlb_news" / "articles.jsonl.gz"
WORK = Path(os.environ.get("NEWSBOT_BENCH_WORK", ROOT / "bench" / "results"))
RANK_BM25_LIMIT_S = 600
ENGINES = ("newsbot", "tantivy", "lucene", "bm25s", "rank_bm25")
FIGURES = ["build_s", "segment_s", "index_mb", "bytes_per_posting", "build_peak_mb", "load_s", "rss_after_load_mb",
           "rss_after_queries_mb", "p50_ms", "p99_ms", "ask_p50_ms", "ask_p99_ms", "ask_en_p50_ms", "ask_en_p99_ms"]
RETRIEVAL_FILES = ("post_*", "terms*", "idf.npy", "doc_len.npy", "term_max_weight.npy")  # newsbot's; the rest is text and metadata
SENTENCE_END = re.compile(r"(?<=[。！？!?；])")


def paragraphs(n: int) -> list[str]:
    """``n`` distinct paragraphs: the archive's own in its order (387k distinct of 403k), then as many
    made by :func:`made_paragraphs` as it takes."""
    distinct: dict[str, None] = {}
    with gzip.open(CCTV, "rt", encoding="utf-8") as handle:
        for line in handle:
            distinct.update((p, None) for p in json.loads(line)["text"].split("\n") if p.strip())
            if len(distinct) >= n:
                return list(distinct)[:n]
    return made_paragraphs(list(distinct), n)


def made_paragraphs(texts: list[str], n: int) -> list[str]:
    """``texts`` (distinct) and after them paragraphs made of their sentences drawn at random, each as
    many sentences as one of ``texts`` drawn at random, so lengths and word frequencies stay the
    same; a made paragraph that repeats one already taken is drawn again. ``n`` in all."""
    distinct = dict.fromkeys(texts)
    sentences, counts = [], []
    for text in texts:
        parts = [s for s in SENTENCE_END.split(text) if s]
        sentences += parts
        counts.append(len(parts))
    rng = random.Random(0)
    while len(distinct) < n:
        distinct.setdefault("".join(rng.choice(sentences) for _ in range(rng.choice(counts))), None)
    return list(distinct)


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


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def newsbot_retrieval_mb(index_dir: Path) -> float:
    from index.store import current_generation

    generation = current_generation(index_dir)
    return sum(f.stat().st_size for pattern in RETRIEVAL_FILES for f in generation.glob(pattern)) / 2**20


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
            "retrieval_mb": newsbot_retrieval_mb(index_dir), "build_peak_mb": peak_mb(), "passages": report.passages,
            "chars_per_s": report.characters / report.segment_seconds, "build_chars_per_s": report.characters / build_s}


def step_jieba(size: int) -> dict:
    """The reference for build speed: plain jieba (jieba.lcut) on one core, same paragraphs."""
    import jieba

    texts = paragraphs(min(size, 20_000))
    jieba.initialize()
    started = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    return {"jieba_chars_per_s": sum(map(len, texts)) / (time.perf_counter() - started)}


def step_tokenize(size: int, count: int) -> dict:
    """The same tokens for the other engines: newsbot's analyzer on all cores, written as JSON lists
    and as space-joined lines; and the questions' tokens likewise. Returns the segmentation time and
    the number of postings (distinct terms per paragraph, summed)."""
    import multiprocessing

    texts = [json.loads(line)["text"] for line in open(WORK / f"corpus-{size}.jsonl", encoding="utf-8")]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count(), initializer=_init_tokenizer) as pool:
        tokens = pool.map(_tokenize, texts, chunksize=512)
    seconds = time.perf_counter() - started
    _write_tokens(tokens, WORK / f"tokens-{size}")
    _write_tokens(_query_tokens(questions(count)[0]), WORK / f"queries-{size}")
    return {"segment_s": seconds, "postings": sum(len(set(row)) for row in tokens)}


def _write_tokens(rows: list[list[str]], stem: Path) -> None:
    with open(stem.with_suffix(".jsonl"), "w", encoding="utf-8") as as_json, open(stem.with_suffix(".txt"), "w", encoding="utf-8") as as_text:
        for row in rows:
            if any(not token or token.split() != [token] for token in row):
                raise ValueError(f"a token holds white space or is empty: {row}")
            as_json.write(json.dumps(row, ensure_ascii=False) + "\n")
            as_text.write(" ".join(row) + "\n")


_tokenizer = None


def _init_tokenizer() -> None:
    global _tokenizer
    from index.analysis import Analyzer

    _tokenizer = Analyzer()


def _tokenize(text: str) -> list[str]:
    return _tokenizer.tokens(text)


def _query_tokens(chinese: list[str]) -> list[list[str]]:
    from index.analysis import Analyzer

    analyzer = Analyzer()
    return [t for t in (analyzer.tokens(q) for q in chinese) if t]


def step_build(engine: str, size: int) -> dict:
    """Build one of the other engines from the token files; Lucene's peak is its JVM's."""
    tokens = WORK / f"tokens-{size}"
    folder = WORK / f"{engine}-{size}"
    if engine == "tantivy":
        figures = anchors.tantivy_build(tokens.with_suffix(".txt"), folder)
    elif engine == "lucene":
        figures = anchors.lucene_build(anchors.lucene_classpath(WORK), tokens.with_suffix(".txt"), folder)
    elif engine == "bm25s":
        figures = anchors.bm25s_build(tokens.with_suffix(".jsonl"), folder)
    else:
        figures = anchors.rank_bm25_build(tokens.with_suffix(".jsonl"))
        folder = tokens.with_suffix(".jsonl")
    stored_mb = folder_mb(folder) if folder.is_dir() else folder.stat().st_size / 2**20
    return figures | {"index_mb": stored_mb, "build_peak_mb": peak_mb(resource.RUSAGE_CHILDREN if engine == "lucene" else resource.RUSAGE_SELF)}


def step_query(engine: str, size: int, count: int, runs: int) -> dict:
    """One pass of ``runs`` questions for one engine in a fresh process: its load, its memory, and
    every question's milliseconds (after one untimed pass over the same questions)."""
    query_tokens = anchors.load_tokens(WORK / f"queries-{size}.jsonl")[:runs]
    if engine == "lucene":
        runs_file = WORK / f"queries-{size}-{runs}.txt"
        runs_file.write_text("".join(" ".join(q) + "\n" for q in query_tokens), encoding="utf-8")
        return anchors.lucene_query(anchors.lucene_classpath(WORK), WORK / f"lucene-{size}", runs_file)
    result: dict = {}
    compile_s = 0.0
    started = time.perf_counter()
    if engine == "newsbot":
        from index.analysis import Analyzer
        from index.search import OpenIndex
        from index.store import current_generation

        analyzer = Analyzer()
        started = time.perf_counter()
        index = OpenIndex(current_generation(WORK / f"newsbot-{size}"), analyzer)
        prepare, retrieve = index.queries.tokens_query, lambda q: index.scorer.top(q, 10)
    elif engine == "tantivy":
        retrieve, prepare = anchors.tantivy_open(WORK / f"tantivy-{size}")
    elif engine == "bm25s":
        retrieve, prepare, compile_s = anchors.bm25s_open(WORK / f"bm25s-{size}")
        result["compile_s"] = compile_s
    else:
        retrieve, prepare = anchors.rank_bm25_open(WORK / f"tokens-{size}.jsonl"), list
    result["load_s"] = time.perf_counter() - started - compile_s
    result["rss_after_load_mb"] = rss_mb()
    queries = [prepare(t) for t in query_tokens]
    result["times_ms"] = _timed(retrieve, queries, warm=engine != "rank_bm25")
    result["rss_after_queries_mb"] = rss_mb()
    if engine == "newsbot":
        chinese, english = questions(count)
        result["ask_ms"] = _timed(lambda q: index.search(q, 3), chinese)
        result["ask_en_ms"] = _timed(lambda q: index.search(q, 3), english)
    return result


def _timed(run: Callable, items: list, warm: bool = True) -> list[float]:
    """Milliseconds per item, after one untimed pass over all of them (unless ``warm`` is off)."""
    for item in items if warm else ():
        run(item)
    times = []
    for item in items:
        started = time.perf_counter()
        run(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def run_step(*args: str | int) -> dict:
    """Run one step in a fresh interpreter and return what it printed as JSON."""
    done = subprocess.run([sys.executable, __file__, "--step", *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"step {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_size(size: int, count: int, passes: int, skip: set[str], keep: bool = False) -> tuple[dict, dict]:
    """Every engine's figures at ``size`` paragraphs, and the engines that could not run, with why.
    The corpus, token files and indexes are removed afterwards unless ``keep``."""
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / f"corpus-{size}.jsonl", "w", encoding="utf-8") as handle:
        for i, text in enumerate(paragraphs(size)):
            handle.write(json.dumps({"id": f"p{i}", "text": text}, ensure_ascii=False) + "\n")
    jieba_before = run_step("jieba", size)["jieba_chars_per_s"]  # the build's yardstick, measured beside it
    results: dict = {"newsbot": run_step("newsbot-build", size)}
    jieba_after = run_step("jieba", size)["jieba_chars_per_s"]
    results["newsbot"] |= {"jieba_chars_per_s": (jieba_before + jieba_after) / 2, "jieba_before_after": [jieba_before, jieba_after]}
    tokens = run_step("tokenize", size, count)
    absent: dict = {}
    for engine in ENGINES[1:]:
        if engine not in skip:
            built = run_step("build", engine, size)
            if "absent" in built:
                absent[engine] = built["absent"]
            else:
                results[engine] = built | {"segment_s": tokens["segment_s"]}
    print(f"  built: {', '.join(results)}" + (f"; absent: {absent}" if absent else ""), flush=True)
    interleaved = [engine for engine in results if engine != "rank_bm25"]
    runs: dict[str, list[dict]] = {engine: [] for engine in interleaved}
    for number in range(passes):
        for engine in interleaved:
            runs[engine].append(run_step("query", engine, size, count, count))
        print(f"  pass {number + 1} of {passes} done", flush=True)
    if "rank_bm25" in results:  # too slow to interleave: a probe, then about a minute of questions
        probe_ms = statistics.median(run_step("query", "rank_bm25", size, count, 3)["times_ms"])
        runs["rank_bm25"] = [run_step("query", "rank_bm25", size, count, max(5, min(count, int(60_000 / max(probe_ms, 1)))))]
    for engine, engine_runs in runs.items():
        results[engine] |= summary(engine_runs)
        stored = results[engine].get("retrieval_mb", results[engine]["index_mb"])
        results[engine] |= {"postings": tokens["postings"], "bytes_per_posting": stored * 2**20 / tokens["postings"]}
        print(f"  {engine}: {results[engine]}", flush=True)
    for leftover in [] if keep else WORK.glob(f"*-{size}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink()
    return results, absent


def summary(runs: list[dict]) -> dict:
    """One engine's passes in one: latency percentiles over every pass's questions pooled, the other
    figures the passes' median."""
    figures: dict = {"passes": len(runs), "queries": len(runs[0]["times_ms"])}
    for key, label in (("times_ms", ""), ("ask_ms", "ask_"), ("ask_en_ms", "ask_en_")):
        if key in runs[0]:
            figures[f"{label}p50_ms"], figures[f"{label}p99_ms"] = percentiles([t for run in runs for t in run[key]])
    for key in runs[0]:
        if not key.endswith("_ms"):
            figures[key] = statistics.median(run[key] for run in runs)
    return figures


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
            for other in engines:
                if other != "newsbot":
                    print(f"{'':>9} {'':>10} retrieval {other} / newsbot: {ratios(engines[other], engines['newsbot'])}")
        for engine, reason in results.get("absent", {}).get(size, {}).items():
            print(f"{int(size):>9,} {engine:>10} absent: {reason}")


def ratios(other: dict, newsbot: dict) -> str:
    return ", ".join(f"{key[:3]} {other[key] / newsbot[key]:,.2f}×" for key in ("p50_ms", "p99_ms"))


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
        return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:,.0f}"

    def mb(value: float | None) -> str:
        return "—" if value is None else f"{value / 1024:.1f} GB" if value >= 1024 else f"{value:,.0f} MB"

    def load(f: dict) -> str:
        seconds = f"{f['load_s']:.3f} s" if f["load_s"] < 1 else f"{f['load_s']:,.1f} s"
        return f"{seconds}; {mb(f['rss_after_load_mb'])} / {mb(f.get('rss_after_queries_mb'))}"

    def stored(f: dict) -> str:
        return f"{mb(f.get('retrieval_mb', f['index_mb']))} ({f['bytes_per_posting']:.1f} B)"

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
        row("retrieval index (bytes per posting)", stored),
        row("build (of it, segmentation on 2 cores)", build),
    ]
    lines += [f"\n{line}" for line in notes(results, size)]
    if "newsbot" in engines:
        lines.append(f"\nBuild: {build_line(engines['newsbot'])}.")
    return "\n".join(lines)


def notes(results: dict, size: str) -> list[str]:
    """What a table at ``size`` leaves out: engines skipped or absent, the JVM's start and numba's compile."""
    engines = results["sizes"][size]
    out = [f"At {int(size):,} paragraphs, skipped {results['skipped'][size]}."] if size in results.get("skipped", {}) else []
    out += [f"{engine} is absent: {reason}." for engine, reason in results.get("absent", {}).get(size, {}).items()]
    if "lucene" in engines:
        out.append(f"Lucene's JVM starts in {engines['lucene']['jvm_start_s']:.2f} s before its load.")
    if "bm25s" in engines:
        out.append(f"bm25s compiles its numba retrieval in {engines['bm25s']['compile_s']:.1f} s at the first question.")
    return out


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
    versions = sorted({figures["version"] for engines in results["sizes"].values() for figures in engines.values() if "version" in figures})
    lines = [
        "# Performance",
        "",
        f"One run of `make bench` on this project's {results['machine']['cores']}-core machine, every engine on the same tokens",
        "(newsbot's analyzer): retrieval of the top 10 for real Chinese questions from `../shared/data`.",
        "",
        "- **Corpus**: distinct paragraphs of the CCTV news archive in its order (387k distinct of 403k);",
        "  beyond them, paragraphs made of the archive's sentences drawn at random, each as many sentences",
        "  as an archive paragraph drawn at random, so lengths and word frequencies stay the archive's.",
        "  No paragraph repeats at any size.",
        f"- **Passes**: {results.get('passes', 1)} interleaved passes (each engine once per pass, in a fresh process,",
        "  after one untimed pass over the questions); p50/p99 pool the passes, the other figures are",
        "  their median. rank-bm25 is too slow to interleave: it runs once, about a minute of questions.",
        "- **Engines**: " + "; ".join(versions) + ".",
        "  tantivy and Lucene index term frequencies without positions, in one segment; BM25 k1 = 1.5,",
        "  b = 0.75 everywhere but tantivy (k1 = 1.2, fixed). tantivy searches without counting hits",
        "  (counting turns off its block-max pruning). Lucene's searches are timed inside its JVM (default",
        "  settings, after 3 s of warm-up passes), whose start is reported apart, as is bm25s's numba compile.",
        "- **Sizes**: `index_mb` is the whole index folder (newsbot's holds the passages' text too);",
        "  `bytes_per_posting` counts only what retrieval reads (newsbot: postings, vocabulary, lengths).",
        "  rank-bm25 has no file format (pickling it is unsafe to load): its index is the token file",
        "  and its load is a rebuild.",
        "- `ask` is newsbot's whole answer: analysis, cross-language expansion, retrieval, coverage and",
        "  phrase rerank, and citations (`ask_en`: English questions about the news and from XQuAD).",
        "",
        "| paragraphs | engine | " + " | ".join(FIGURES) + " |",
        "|---:|---|" + "---:|" * len(FIGURES),
    ]
    for size, engines in results["sizes"].items():
        for engine, figures in engines.items():
            cells = ["—" if figures.get(k) is None else f"{figures[k]:,.3f}" for k in FIGURES]
            lines.append(f"| {int(size):,} | {engine} | " + " | ".join(cells) + " |")
    for size in results["sizes"]:
        lines += [f"\n{line}" for line in notes(results, size)]
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
        step = {"newsbot-build": step_newsbot_build, "jieba": step_jieba, "tokenize": step_tokenize, "build": step_build,
                "query": step_query}[name]
        args = [int(a) if a.isdigit() else a for a in rest]
        try:
            print(json.dumps(step(*args)))
        except anchors.Absent as absent:
            print(json.dumps({"absent": str(absent)}))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--json", dest="json_path", default=str(ROOT / "docs" / "performance.json"),
                        help="the run's figures (docs/performance.md is made from them)")
    parser.add_argument("--queries", type=int, default=1000, help="Chinese questions per pass (and English ones for ask)")
    parser.add_argument("--passes", type=int, default=3, help="interleaved passes over the questions")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "performance.png"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"),
                        help="the README whose speed table is rewritten ('': none)")
    parser.add_argument("--skip", default="", help="engines to leave out, comma separated")
    parser.add_argument("--keep", action="store_true", help="keep each size's corpus, tokens and indexes in the work folder")
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
    results: dict = {"sizes": {}, "machine": {"cores": os.cpu_count()}, "passes": args.passes, "skipped": {}, "absent": {}}
    previous, last_size = None, None
    for size in sorted(int(s) for s in args.sizes.split(",")):
        skip = set(filter(None, args.skip.split(",")))
        estimate = rank_bm25_estimate_s(previous, size, last_size or size)
        if estimate > RANK_BM25_LIMIT_S:
            skip.add("rank_bm25")
            results["skipped"][str(size)] = f"rank_bm25: projected {estimate / 60:.0f} min > 10 min"
        skipped = results["skipped"].get(str(size))
        print(f"size {size:,}" + (f" (skipping rank_bm25: {skipped})" if skipped else ""), flush=True)
        results["sizes"][str(size)], results["absent"][str(size)] = measure_size(size, args.queries, args.passes, skip, args.keep)
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
