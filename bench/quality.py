"""Answer quality, mechanism by mechanism: regenerates docs/quality.md and docs/quality.png.

    python bench/quality.py [--sets seed,cmrc2018,...] [--limit N] [--data ../shared/data]

Each row turns one more mechanism on, from plain jieba + BM25 to newsbot's defaults, and every
row is measured on every question set with ``newsbot eval``'s own code. Indexes are kept under
bench/results/indexes and reused while fresh. Sets whose data is absent are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.analysis import AnalyzerOptions  # noqa: E402
from index.build import IndexOptions  # noqa: E402
from index.engine import Engine  # noqa: E402
from index.evaluate import evaluate, load_cases, qa_engine  # noqa: E402
from index.passages import PassageOptions  # noqa: E402
from index.query import QueryOptions  # noqa: E402
from index.search import SearchOptions  # noqa: E402

SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "bench" / "results"
SETS = {  # name: (questions, contexts, distractors, target hit@1); no contexts: the news alone (or seeds/) is the corpus
    "seed": (SHARED / "eval/seed_questions.jsonl", None, None, 0.95),
    "seed_phrasings": (ROOT / "bench/questions/seed_phrasings.jsonl", None, None, 0.95),  # our own new phrasings
    "temporal": (SHARED / "eval/temporal_questions.jsonl", None, SHARED / "data/cctv_xwlb_news/articles.jsonl.gz", 0.85),
    "cmrc2018": (SHARED / "data/cmrc2018/questions.jsonl", SHARED / "data/cmrc2018/contexts.jsonl", None, 0.97),
    "drcd": (SHARED / "data/drcd/questions.jsonl", SHARED / "data/drcd/contexts.jsonl", None, 0.92),
    "dureader_robust": (SHARED / "data/dureader_robust/questions.jsonl", SHARED / "data/dureader_robust/contexts.jsonl", None, 0.75),
    "antiterror_news_mrc": (SHARED / "data/antiterror_news_mrc/questions.jsonl", SHARED / "data/antiterror_news_mrc/contexts.jsonl", None, 0.75),
    "antiterror+cctv": (SHARED / "data/antiterror_news_mrc/questions.jsonl", SHARED / "data/antiterror_news_mrc/contexts.jsonl",
                        SHARED / "data/cctv_xwlb_news/articles.jsonl.gz", 0.45),
    "xquad_en_zh_dev": (SHARED / "data/xquad_en_zh_dev/questions.jsonl", SHARED / "data/xquad_en_zh_dev/contexts.jsonl", None, 0.85),
    "english_news": (SHARED / "eval/english_news_questions.jsonl", None, SHARED / "data/cctv_xwlb_news/articles.jsonl.gz", None),
    # questions no news answers: the share refused is shown instead of hit@1
    "unanswerable": (SHARED / "eval/unanswerable_questions.jsonl", None, SHARED / "data/cctv_xwlb_news/articles.jsonl.gz", 0.90),
    "unanswerable_more": (ROOT / "bench/questions/unanswerable_more.jsonl", None, SHARED / "data/cctv_xwlb_news/articles.jsonl.gz", 0.90),
}

PLAIN_INDEX = IndexOptions(
    analyzer=AnalyzerOptions(simplified=False, bigrams=False, hmm=True),
    passages=PassageOptions(merge_short_lines=False, max_passage_chars=0, context_in_index=False),
    ecdict=False,
)
PLAIN_SEARCH = SearchOptions(
    query=QueryOptions(lexicon=False, pinyin=False, stemming=False, structured=False, precise_questions=False, bigram_weight=0.0,
                       unknown_by_bigrams=False, names=False, phrases_first=False, sounds=False, common_share=0.0),
    context_match=1.0,
    coordination=False,
    phrase_weight=0.0,
    min_answer_probability=0.0,
    time_filters=False,
    recency=False,
)


def rows() -> list[tuple[str, IndexOptions, SearchOptions]]:
    """Plain jieba + BM25, then one mechanism more per row, ending at the defaults; after them,
    mechanisms measured and left off."""
    index, search = PLAIN_INDEX, PLAIN_SEARCH
    out = [("plain jieba + BM25", index, search)]

    def add(label: str, index_change=None, query_change=None, search_change=None) -> None:
        nonlocal index, search
        if index_change:
            index = index_change(index)
        if query_change:
            search = replace(search, query=replace(search.query, **query_change))
        if search_change:
            search = replace(search, **search_change)
        out.append((label, index, search))

    add("+ passages: short lines joined, 300-char cuts, title/heading searched",
        index_change=lambda i: replace(i, passages=PassageOptions()))
    add("+ Traditional → Simplified (OpenCC)", index_change=lambda i: replace(i, analyzer=replace(i.analyzer, simplified=True)))
    add("+ character bigrams beside words", index_change=lambda i: replace(i, analyzer=replace(i.analyzer, bigrams=True)),
        query_change={"bigram_weight": 0.5})
    add("+ jieba's HMM off: words its dictionary lacks are left to the bigrams",
        index_change=lambda i: replace(i, analyzer=AnalyzerOptions()))
    add("+ questions cut into whole words", query_change={"precise_questions": True})
    add("+ a question word the news lacks searched by its bigrams", query_change={"unknown_by_bigrams": True})
    add("+ coordination rerank (BM25 × coverage)", search_change={"coordination": True})
    add("+ verbatim phrase rerank (× 1 + share of the question found in one run)",
        search_change={"phrase_weight": SearchOptions().phrase_weight})
    add("+ CC-CEDICT lexicon", query_change={"lexicon": True})
    add("+ English inflections (lemma + stem)", query_change={"stemming": True})
    add("+ pinyin names", query_change={"pinyin": True})
    add("+ structured query (Pirkola)", query_change={"structured": True})
    add("+ ECDICT beside CC-CEDICT (main senses; one-character renderings only as a main sense)",
        index_change=lambda i: replace(i, ecdict=True))
    add("+ names apart from words (Canada → 加拿大 before pinyin; US → 美国)", query_change={"names": True})
    add("+ dictionary phrases before their words (prime minister → 总理, not prime + minister)",
        query_change={"phrases_first": True})
    add("+ foreign names by sound (Rousseff → 罗塞夫)", query_change={"sounds": True})
    add(f"+ an English word in over {QueryOptions().common_share:.0%} of the passages only rescores what rarer words find",
        query_change={"common_share": QueryOptions().common_share})
    add(f"+ a concept found only in a passage's headline counts {SearchOptions().context_match:g}",
        search_change={"context_match": SearchOptions().context_match})
    add("+ dates: since:/before: filters, dates named in words favoured", search_change={"time_filters": True})
    add("+ recency: a question about the present prefers the newest news that answers it", search_change={"recency": True})
    defaults = SearchOptions()
    add("+ no answer: the fitted answerability model under its threshold, and kinds no news answers = newsbot",
        search_change={"min_answer_probability": defaults.min_answer_probability})
    assert (index, search) == (IndexOptions(), SearchOptions()), "the last row must be newsbot's defaults"
    out.append(("(not adopted) newsbot + pseudo-relevance feedback (5 passages, 10 words at 0.3)", index,
                replace(search, feedback_passages=5)))
    return out


def headline(figures: dict) -> float:
    """A set's figure in the mechanism table: hit@1, or for a set of unanswerable questions, the share refused."""
    return figures["hit@1"] if figures.get("answerable", 1) else figures["no_answer_accuracy"]


def defaults_label(labels: list[str]) -> str:
    """The row that is newsbot's defaults (the rows after it are alternatives left off)."""
    return next(label for label in labels if label.endswith("= newsbot"))


def index_dir(name: str, options: IndexOptions) -> Path:
    digest = hashlib.sha256(json.dumps(options.signature(), sort_keys=True).encode()).hexdigest()[:12]
    return RESULTS / "indexes" / f"{name}-{digest}"


def news_corpus(name: str, news: Path) -> Path:
    """A folder holding only a link to ``news``, for a set whose corpus is that news alone."""
    folder = RESULTS / "corpora" / name
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / news.name
    if not link.is_symlink():
        link.symlink_to(news.resolve())
    return folder


def measure(name: str, index: IndexOptions, search: SearchOptions, limit: int | None) -> dict:
    questions, contexts, distractors, _ = SETS[name]
    cases = load_cases(questions, limit)
    if contexts is None:
        corpus = news_corpus(name, distractors) if distractors else ROOT / "seeds"
        return evaluate(Engine(corpus, index_dir(name, index), index, search), cases)
    extra = [distractors] if distractors else []
    with qa_engine(contexts, extra, index, search, index_dir(name, index)) as engine:
        return evaluate(engine, cases)


def write_report(results: dict, labels: list[str], sets: list[str], limit: int | None, ran: list[str], seconds: float) -> None:
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    lines = [
        "# Answer quality",
        "",
        "hit@1 (share of answerable questions whose first passage is the right one; for the sets of",
        "unanswerable questions, the share refused) per question set,",
        "one mechanism turned on per row; the row ending \"= newsbot\" is newsbot's defaults, and rows",
        "marked \"not adopted\" were measured on top of it and left off. Regenerate with",
        "`make quality` (it writes this file and `quality.png`).",
        "",
        "| mechanism | " + " | ".join(sets) + " |",
        "|---|" + "---:|" * len(sets),
    ]
    for label in labels:
        cells = [results.get(label, {}).get(s) for s in sets]
        lines.append(f"| {label} | " + " | ".join("—" if c is None else f"{headline(c):.3f}" for c in cells) + " |")
    lines.append("| *target* | " + " | ".join("—" if SETS[s][3] is None else f"*≥ {SETS[s][3]:.2f}*" for s in sets) + " |")
    final = results[defaults_label(labels)]
    lines += ["", "## newsbot's defaults in full", "",
              "No-answer accuracy is the share of unanswerable questions refused; false refusals, the share of answerable",
              "questions refused although the right passage ranked in the top 3.", "",
              "| set | n | hit@1 | hit@3 | hit@5 | MRR@10 | no-answer accuracy | false refusals | p50 ms |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sets:
        r = final[s]
        for name, q in [(s, r), *((f"{s} ({lang})", q) for lang, q in r.get("by_lang", {}).items())]:
            refusals = " | ".join("—" if q.get(k) is None else f"{q[k]:.3f}" for k in ("no_answer_accuracy", "false_refusals"))
            ranks = " | ".join(f"{q[k]:.3f}" if q.get("answerable", 1) else "—" for k in ("hit@1", "hit@3", "hit@5", "mrr@10"))
            lines.append(f"| {name} | {q['n']:,} | {ranks} | "
                         f"{refusals} | {q['p50_ms']:.1f} |")
    lines += [
        "",
        "Sets (from `../shared/`, and two of this project's own in `bench/questions/`): `seed` is the public",
        "seed questions (English and Chinese) over `seeds/`, and `seed_phrasings` new English phrasings",
        "about the same article (answerable, and some that it cannot answer);",
        "the others index their contexts as documents through the normal ingest (a context becomes",
        "several passages) and count a hit when a passage of the gold context is returned;",
        "`antiterror+cctv` adds the 403k paragraphs of CCTV news as distractors; `temporal` asks",
        "\"now\" questions (English and Chinese) of the CCTV news alone, and counts a hit only when the",
        "passage names the right person and its article is dated on or after the question's `since`;",
        "`xquad_en_zh_dev` asks English questions of the Chinese XQuAD paragraphs (development half);",
        "`english_news` asks English questions about specific CCTV stories of the CCTV news alone;",
        "`unanswerable` (public) and `unanswerable_more` (ours, of the same kinds) ask the CCTV news",
        "questions it cannot answer.",
        f"{'Questions per set limited to ' + str(limit) + '. ' if limit else ''}The last run measured {', '.join(ran)} "
        f"in {seconds / 60:.0f} min{'; the other sets are kept from the runs before' if set(sets) - set(ran) else ''}.",
        "",
        "![hit@1 per set](quality.png)",
    ]
    (docs / "quality.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    draw(results, labels, sets, docs / "quality.png")


def draw(results: dict, labels: list[str], sets: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [labels[0], defaults_label(labels)]
    width = 0.38
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for k, label in enumerate(shown):
        values = [headline(results[label][s]) for s in sets]
        bars = ax.bar([i + (k - 0.5) * width for i in range(len(sets))], values, width,
                      label="plain jieba + BM25" if k == 0 else "newsbot")
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    for i, s in enumerate(sets):
        if SETS[s][3] is not None:
            ax.plot([i - width, i + width], [SETS[s][3]] * 2, color="black", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(sets)), sets, rotation=15)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("hit@1 (unanswerable sets: share refused)")
    ax.set_title("hit@1 per question set (dashed: target)")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="questions per set")
    parser.add_argument("--ends-only", default="antiterror+cctv,temporal,english_news,unanswerable,unanswerable_more",
                        help="sets measured on the first row and the rows with the default index only (each other "
                             "row there is a large index build)")
    parser.add_argument("--merge", action="store_true", help="keep earlier results of sets not measured now")
    args = parser.parse_args()
    sets = [s for s in args.sets.split(",") if SETS[s][0].exists()]
    skipped = set(args.sets.split(",")) - set(sets)
    if skipped:
        print(f"skipped (data absent): {', '.join(sorted(skipped))}")
    started = time.perf_counter()
    saved = RESULTS / "quality.json"
    results: dict[str, dict] = json.loads(saved.read_text(encoding="utf-8")) if args.merge and saved.exists() else {}
    table = rows()
    ends_only = set(args.ends_only.split(","))
    for name in sets:
        for number, (label, index, search) in enumerate(table):
            if name in ends_only and number > 0 and index != IndexOptions():
                continue
            results.setdefault(label, {})[name] = r = measure(name, index, search, args.limit)
            print(f"{name:>20}  {headline(r):.3f}  {label}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, indent=1), encoding="utf-8")
    measured = [s for s in SETS if any(s in row for row in results.values())]
    write_report(results, [label for label, _, _ in table], measured, args.limit, sets, time.perf_counter() - started)
    print("wrote docs/quality.md and docs/quality.png")


if __name__ == "__main__":
    main()
