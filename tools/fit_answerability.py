"""Fit the answerability model that decides when the news has no answer.

    python tools/fit_answerability.py [--data ../shared/data] [--per-set 300] [--out index/data/answerability.json]

The questions are generated, never the public examples: each QA set's questions asked of its own
contexts are positives where newsbot ranks the right passage in the top 3, and the same questions
asked of a corpus that cannot answer them (another set's contexts, or years of CCTV news) are
negatives; so are questions about other articles asked of one article alone (the smallest corpus,
as a single story in ``seeds/`` is). Both kinds come from small corpora and from the large news
archive, in Chinese and in English, so the model learns what does not grow with the corpus. The
threshold is set so that at most ``--false-refusals`` of the positives are refused (1.5%: real
questions match less well than these, which were written from the passage that answers them). Needs scikit-learn (``pip install -e .[fit]``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.answerability import FEATURES, TERMS, AnswerModel, terms  # noqa: E402
from index.build import IndexOptions  # noqa: E402
from index.evaluate import first_hit_rank, load_cases, qa_engine  # noqa: E402
from index.search import QuestionError, SearchOptions  # noqa: E402

WORK = ROOT / "bench" / "results" / "answerability"
ROWS = WORK / "rows.json"  # the last gathered evidence, for --refit
CCTV = "cctv_xwlb_news/articles.jsonl.gz"
QA_SETS = ("cmrc2018", "drcd", "dureader_robust", "antiterror_news_mrc", "xquad_en_zh_dev")
ANSWERED_IN_OWN = ("cmrc2018", "drcd", "antiterror_news_mrc", "xquad_en_zh_dev", "dureader_robust")
# (questions of, asked of these contexts, with these distractors): questions the corpus cannot answer
CROSSINGS = (
    ("cmrc2018", "drcd", ()), ("drcd", "cmrc2018", ()), ("dureader_robust", "antiterror_news_mrc", ()),
    ("antiterror_news_mrc", "cmrc2018", ()), ("xquad_en_zh_dev", "antiterror_news_mrc", ()),
    ("cmrc2018", None, (CCTV,)), ("dureader_robust", None, (CCTV,)), ("xquad_en_zh_dev", None, (CCTV,)),
)
# (questions of, with these distractors beside its own contexts): positives in a large archive
ANSWERED_IN_ARCHIVE = (("antiterror_news_mrc", (CCTV,)), ("xquad_en_zh_dev", (CCTV,)))
# sets whose articles become corpora of their own, a few paragraphs each, like one article in seeds/
ONE_ARTICLE = ("drcd", "xquad_en_zh_dev")  # (CMRC 2018 has too few paragraphs per article)
ARTICLES_PER_SET = 12


def sample(data: Path, name: str, count: int, seed: int) -> list:
    cases = load_cases(data / name / "questions.jsonl")
    return random.Random(seed).sample(cases, min(count, len(cases)))


def gather(data: Path, contexts: str | None, distractors: tuple[str, ...], cases: list, answerable: bool) -> list[tuple[list[float], int]]:
    """(features, label) for each question: answerable ones only where the right passage is in the top 3."""
    source = data / contexts / "contexts.jsonl" if contexts else None
    extra = [data / d for d in distractors]
    name = "+".join([contexts or "news", *(d.split("/")[0] for d in distractors)])
    return _ask_all(source or extra[0], extra if source else extra[1:], name, cases, answerable)


def _ask_all(source: Path, extra: list[Path], name: str, cases: list, answerable: bool, quiet: bool = False) -> list[tuple[list[float], int]]:
    rows = []
    with qa_engine(source, extra, IndexOptions(), SearchOptions(min_answer_probability=0.0), WORK / name) as engine:
        engine.index()
        for case in cases:
            try:
                answer = engine.ask(case.question, 3)
            except QuestionError:
                continue
            if answer.evidence is None:
                continue  # nothing matched at all: refused before any evidence
            if answerable and first_hit_rank(case, answer) is None:
                continue
            rows.append(([answer.evidence[f] for f in FEATURES], int(answerable)))
    if not quiet:
        print(f"  {name}: {len(rows)} {'answered' if answerable else 'unanswerable'} questions", flush=True)
    return rows


def fit(rows: list[tuple[list[float], int]], false_refusals: float) -> AnswerModel:
    from sklearn.linear_model import LogisticRegression

    x = np.array([terms(dict(zip(FEATURES, r[0]))) for r in rows])
    y = np.array([r[1] for r in rows])
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit((x - means) / scales, y)
    probabilities = model.predict_proba((x - means) / scales)[:, 1]
    threshold = float(np.quantile(probabilities[y == 1], false_refusals))
    refused = float(np.mean(probabilities[y == 0] < threshold))
    print(f"fitted on {int(y.sum())} answered and {int((1 - y).sum())} unanswerable questions: threshold {threshold:.3f} "
          f"refuses {false_refusals:.0%} of the answered and {refused:.0%} of the unanswerable", flush=True)
    return AnswerModel(
        weights={n: round(float(w), 6) for n, w in zip(TERMS, model.coef_[0])},
        bias=round(float(model.intercept_[0]), 6),
        means={n: round(float(m), 6) for n, m in zip(TERMS, means)},
        scales={n: round(float(s), 6) for n, s in zip(TERMS, scales)},
        threshold=round(threshold, 4),
    )


def one_article_corpora(data: Path, name: str, seed: int) -> list[tuple[list[float], int]]:
    """Each of a few articles of a set as a corpus of its own: its questions are the answerable ones,
    as many questions about the set's other articles the unanswerable ones."""
    contexts = [json.loads(line) for line in (data / name / "contexts.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    articles: dict[str, list[dict]] = {}
    for context in contexts:
        articles.setdefault(context.get("title") or context["id"].rsplit("-", 1)[0], []).append(context)
    cases = load_cases(data / name / "questions.jsonl")
    rng = random.Random(seed)
    eligible = sorted(k for k, v in articles.items() if len(v) >= 3)
    chosen = rng.sample(eligible, min(ARTICLES_PER_SET, len(eligible)))
    rows = []
    for number, title in enumerate(chosen):
        ids = {c["id"] for c in articles[title]}
        own = [c for c in cases if c.gold_doc in ids]
        others = rng.sample([c for c in cases if c.gold_doc not in ids], min(len(own), 40))
        corpus = WORK / "articles" / f"{name}-{number}.jsonl"
        corpus.parent.mkdir(parents=True, exist_ok=True)
        corpus.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in articles[title]), encoding="utf-8")
        rows += _ask_all(corpus, [], f"articles/{name}-{number}", own[:40], answerable=True, quiet=True)
        rows += _ask_all(corpus, [], f"articles/{name}-{number}", others, answerable=False, quiet=True)
    print(f"  {name}: {len(chosen)} articles on their own, {sum(r[1] for r in rows)} answered and "
          f"{sum(1 - r[1] for r in rows)} unanswerable questions", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--per-set", type=int, default=300, help="questions drawn from each set for each corpus")
    parser.add_argument("--false-refusals", type=float, default=0.015, help="share of answered questions the threshold may refuse")
    parser.add_argument("--out", type=Path, default=ROOT / "index" / "data" / "answerability.json")
    parser.add_argument("--refit", action="store_true", help="fit again on the evidence the last run gathered, asking nothing")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.refit:
        saved = json.loads(ROWS.read_text(encoding="utf-8"))
        if saved["features"] != list(FEATURES):
            sys.exit("fit_answerability: the saved evidence has other features; run without --refit")
        _write(fit([(r[0], r[1]) for r in saved["rows"]], args.false_refusals), args.out, started)
        return
    missing = [name for name in (*QA_SETS, CCTV.split("/")[0]) if not (args.data / name).exists()]
    if missing:
        sys.exit(f"fit_answerability: {args.data} lacks {', '.join(missing)}")
    rows = []
    for number, name in enumerate(ANSWERED_IN_OWN):
        cases = sample(args.data, name, args.per_set, number)
        rows += gather(args.data, name, (), cases, answerable=True)
    for number, (name, distractors) in enumerate(ANSWERED_IN_ARCHIVE):
        rows += gather(args.data, name, distractors, sample(args.data, name, args.per_set, 100 + number), answerable=True)
    for number, (name, contexts, distractors) in enumerate(CROSSINGS):
        rows += gather(args.data, contexts, distractors, sample(args.data, name, args.per_set, 200 + number), answerable=False)
    for number, name in enumerate(ONE_ARTICLE):
        rows += one_article_corpora(args.data, name, 300 + number)
    ROWS.write_text(json.dumps({"features": list(FEATURES), "rows": rows}), encoding="utf-8")
    _write(fit(rows, args.false_refusals), args.out, started)


def _write(model: AnswerModel, out: Path, started: float) -> None:
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
