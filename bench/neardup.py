"""How well near-duplicate stories collapse, on the CCTV news with syndicated copies made from it.

    python bench/neardup.py [--copies 1000] [--data ../shared/data]

Each of ``--copies`` articles gets an edited copy, as another outlet would run it: its own dateline
in place of the original's, one sentence shortened, the last sentence dropped, spacing and
punctuation changed, dated the same day or the next. Every article of the archive goes through the
same grouping the index build uses (index/neardup.py), in date order. Printed: the share of copies
grouped with their original (target ≥ 95%), the share of the archive's distinct articles grouped
with another one (target < 1%; the archive itself holds a few genuine repeats), and the time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.metadata import day_number, parse_date  # noqa: E402
from index.neardup import NearDuplicateOptions, StoryGrouping, sketch_articles  # noqa: E402

OUTLETS = ("新华社北京电 ", "人民网讯 ", "中新网消息,", "环球网报道 ", "央视新闻客户端消息:")
_DATELINE = re.compile(r"^[^:：]{0,20}[:：]\s*")
_SENTENCE = re.compile(r"(?<=[。！？!?])")


def edited_copy(text: str, rng: random.Random) -> str:
    """The article as another outlet runs it."""
    body = _DATELINE.sub("", text, count=1)
    sentences = [s for s in _SENTENCE.split(body) if s.strip()]
    if len(sentences) > 2:
        sentences = sentences[:-1]  # the ending trimmed
        i = rng.randrange(len(sentences))
        clauses = sentences[i].split(",") if "," in sentences[i] else sentences[i].split("，")
        if len(clauses) > 1:
            del clauses[rng.randrange(len(clauses))]  # one sentence shortened
            sentences[i] = ",".join(clauses)
    copy = rng.choice(OUTLETS) + "".join(sentences)
    return copy.replace("，", ", ").replace("。", "。 ")  # other punctuation and spacing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--containment", type=float, default=NearDuplicateOptions().containment, help="share of the shorter article the other must hold")
    args = parser.parse_args()
    source = args.data / "cctv_xwlb_news" / "articles.jsonl.gz"
    if not source.exists():
        print(f"neardup: {source} is absent; skipped")
        return
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle]
    rng = random.Random(7)
    originals = rng.sample([i for i, a in enumerate(articles) if len(a["text"]) >= 200], args.copies)
    items = [(day_number(parse_date(a.get("date"))), i, a["text"], None) for i, a in enumerate(articles)]
    items += [(items[i][0] + rng.choice((0, 1)), len(articles) + n, edited_copy(articles[i]["text"], rng), i)
              for n, i in enumerate(originals)]
    items.sort(key=lambda item: (item[0], item[1]))
    options = NearDuplicateOptions(containment=args.containment)
    started = time.perf_counter()
    sketches = sketch_articles([text for _, _, text, _ in items], options)
    sketched = time.perf_counter()
    days = np.array([day for day, _, _, _ in items], dtype=np.int32)
    grouped = StoryGrouping(options).stories(sketches, days)
    seconds = time.perf_counter() - started
    story = {number: int(grouped[at]) for at, (_, number, _, _) in enumerate(items)}
    collapsed = sum(story[number] == story[original] for _, number, _, original in items if original is not None)
    sizes: dict[int, int] = {}
    for number in range(len(articles)):
        sizes[story[number]] = sizes.get(story[number], 0) + 1
    merged = sum(sizes[story[number]] > 1 for number in range(len(articles)))
    print(f"copies grouped with their original: {collapsed}/{args.copies} = {collapsed / args.copies:.1%} (target ≥ 95%)")
    print(f"distinct articles grouped with another: {merged}/{len(articles)} = {merged / len(articles):.2%} (target < 1%)")
    print(f"{len(items):,} articles: sketched in {sketched - started:.1f} s ({(sketched - started) / len(items) * 1e6:.0f} µs each),"
          f" grouped in {seconds - (sketched - started):.1f} s")


if __name__ == "__main__":
    main()
