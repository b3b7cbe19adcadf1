"""Two versions of the retrieval engine side by side in one process: the working tree's ``index``
package against the one at a git revision, on the same index and the same questions.

    python bench/ab.py --base HEAD~1 [--index DIR | --size 100000] [--queries 1000] [--passes 3] [--ask]

This machine's speed drifts by tens of percent within minutes, so two runs of ``make bench`` do not
compare well. Here each question is timed on both versions in turn, and the version that goes
first alternates from question to question (the second to run a question finds its postings in the
CPU's cache). Retrieval (the top 10 for a question's tokens) also checks that both versions find
the same passages with the same scores. ``--ask`` times whole answers instead.

The base revision's ``index`` package is exported with ``git archive`` into a temporary folder as
``base_index`` (its imports rewritten); it reads its data files (dictionaries, models) from the
working tree. Both versions must read the index's format. Without ``--index``, an index of
``--size`` paragraphs of the bench's corpus is built once into the bench's work folder and kept.
"""

from __future__ import annotations

import argparse
import importlib
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

from bench import WORK, paragraphs, percentiles, questions

ROOT = Path(__file__).resolve().parent.parent


def export_base(revision: str, folder: Path) -> None:
    """The ``index`` package at ``revision`` as ``folder/base_index``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "index"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    package = folder / "base_index"
    (folder / "index").rename(package)
    for source in package.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        source.write_text(re.sub(r"^(\s*)(from|import) index\b", r"\1\2 base_index", text, flags=re.M), encoding="utf-8")


def bench_index(size: int) -> Path:
    """An index of ``size`` bench paragraphs, built once by the working tree's code and kept."""
    import json

    from index.build import IndexOptions, build_index
    from index.passages import PassageOptions

    folder = WORK / f"ab-index-{size}"
    if not (folder / "CURRENT").exists():
        corpus = WORK / f"ab-corpus-{size}.jsonl"
        corpus.parent.mkdir(parents=True, exist_ok=True)
        with open(corpus, "w", encoding="utf-8") as handle:
            for i, text in enumerate(paragraphs(size)):
                handle.write(json.dumps({"id": f"p{i}", "text": text}, ensure_ascii=False) + "\n")
        print(f"building {folder} ...", flush=True)
        build_index(corpus, folder, IndexOptions(passages=PassageOptions(dedupe=False)))
        corpus.unlink()
    return folder


def open_index(package: str, folder: Path):
    search = importlib.import_module(f"{package}.search")
    analysis = importlib.import_module(f"{package}.analysis")
    store = importlib.import_module(f"{package}.store")
    return search.OpenIndex(store.current_generation(folder), analysis.Analyzer())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the git revision to compare the working tree with")
    parser.add_argument("--index", type=Path, help="a built index (default: one of --size bench paragraphs)")
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--ask", action="store_true", help="time whole answers (Chinese and English) instead of retrieval")
    args = parser.parse_args()
    folder = args.index or bench_index(args.size)
    with tempfile.TemporaryDirectory() as scratch:
        export_base(args.base, Path(scratch))
        sys.path.insert(0, scratch)
        versions = {"base": open_index("base_index", folder), "new": open_index("index", folder)}
        chinese, english = questions(args.queries)
        if args.ask:
            runs = {name: [(lambda q, ix=ix: ix.search(q, 3), q) for q in chinese + english] for name, ix in versions.items()}
        else:
            tokens = [t for t in map(versions["new"].analyzer.tokens, chinese) if t]
            runs = {name: [(lambda q, ix=ix: ix.scorer.top(q, 10), ix.queries.tokens_query(t)) for t in tokens]
                    for name, ix in versions.items()}
            differ = differences(runs["base"], runs["new"])
            print(f"{len(tokens)} questions, {differ} with different passages or scores")
        times = interleaved(runs, args.passes)
    what = "ask" if args.ask else "retrieval"
    for name, samples in times.items():
        p50, p99 = percentiles(samples)
        print(f"{name:>5} {what} p50 {p50:.4f} ms  p99 {p99:.3f} ms  mean {statistics.mean(samples):.4f} ms")
    base, new = (statistics.median(times[n]) for n in ("base", "new"))
    print(f"new / base p50: {new / base:.3f}")


def differences(base: list, new: list) -> int:
    """How many questions the two versions rank differently (passages or scores)."""
    count = 0
    for (run_base, question_base), (run_new, question_new) in zip(base, new):
        (docs_base, scores_base), (docs_new, scores_new) = run_base(question_base), run_new(question_new)
        count += not (np.array_equal(docs_base, docs_new) and np.array_equal(scores_base, scores_new))
    return count


def interleaved(runs: dict[str, list], passes: int) -> dict[str, list[float]]:
    """Every question on both versions in turn, after one untimed pass; who goes first alternates."""
    names = list(runs)
    for name in names:
        for run, question in runs[name]:
            run(question)
    times: dict[str, list[float]] = {name: [] for name in names}
    for number in range(passes):
        for i in range(len(runs[names[0]])):
            for name in names if (i + number) % 2 else reversed(names):
                run, question = runs[name][i]
                started = time.perf_counter()
                run(question)
                times[name].append((time.perf_counter() - started) * 1000)
    return times


if __name__ == "__main__":
    main()
