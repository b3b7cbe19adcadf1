"""The compiled cut (jieba-rs) must cut exactly as jieba does, on every kind of text the bot meets, and
the build must count exactly the terms the analyzer emits."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from itertools import islice

import jieba
import numpy as np
import pytest
from conftest import SEEDS, SHARED

from index.analysis import Analyzer, AnalyzerOptions, jieba_cuts
from index.build import Segmenter

MIXED = [
    "林俊旸 leads Tongyi 千问, ＡＢＣ  3.88亿美元 e-mail",
    "今年1-5月份，山东潍柴集团实现出口创汇3.88亿美元，同比增长75%",
    "中华人民共和国国务院总理在人民大会堂会见了来访的客人。",
    "在歐洲，梵語的學術研究，由德國學者陸特和漢斯雷頓開創。",
    "C++ 与 C# 的 2024年 benchmark：p99 < 5ms!!! 😀 #AI",
    "  \t\n「引号」『书名』《战国无双3》（）ω-force……——",
    "",
]


def _real_news(limit: int) -> list[str]:
    """Paragraphs of the seed corpus, and of the shared news and QA sets when they are present."""
    texts = [line for path in sorted(SEEDS.iterdir()) for line in path.read_text(encoding="utf-8").splitlines() if line]
    cctv = SHARED / "data" / "cctv_xwlb_news" / "articles.jsonl.gz"
    if cctv.exists():
        with gzip.open(cctv, "rt", encoding="utf-8") as handle:
            texts += [p for line in islice(handle, limit // 10) for p in json.loads(line)["text"].split("\n") if p]
    for name in ("drcd", "cmrc2018", "dureader_robust", "antiterror_news_mrc"):
        contexts = SHARED / "data" / name / "contexts.jsonl"
        if contexts.exists():
            with contexts.open(encoding="utf-8") as handle:
                texts += [json.loads(line)["text"] for line in islice(handle, limit // 10)]
    return texts


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def test_the_compiled_cut_is_jiebas_cut(reference):
    cut, cut_for_search = jieba_cuts(hmm=False)
    texts = MIXED + _real_news(2_000)
    assert len(texts) > 100
    for text in texts:
        assert list(cut(text)) == list(reference.cut(text, HMM=False)), text[:60]
        assert list(cut_for_search(text)) == list(reference.cut_for_search(text, HMM=False)), text[:60]


def test_with_the_hmm_jieba_itself_cuts(reference):
    cut, cut_for_search = jieba_cuts(hmm=True)
    for text in MIXED:
        assert list(cut(text)) == list(reference.cut(text, HMM=True))
        assert list(cut_for_search(text)) == list(reference.cut_for_search(text, HMM=True))


@pytest.mark.parametrize("options", [AnalyzerOptions(), AnalyzerOptions(bigrams=False), AnalyzerOptions(stop_words=False)])
def test_the_build_counts_the_terms_the_analyzer_emits(options):
    texts = MIXED + _real_news(500)
    analyzer, segmenter = Analyzer(options), Segmenter(options)
    names: list[str] = []
    for start in range(0, len(texts), 64):
        batch = texts[start : start + 64]
        segmented = segmenter.segment(batch)
        names += segmented.new_terms
        terms, tfs = np.frombuffer(segmented.terms, np.int32), np.frombuffer(segmented.tfs, np.uint16)
        ends = np.cumsum(np.frombuffer(segmented.distinct, np.int32))
        starts = ends - np.frombuffer(segmented.distinct, np.int32)
        for text, first, end, length in zip(batch, starts, ends, np.frombuffer(segmented.lengths, np.int32)):
            tokens = analyzer.tokens(text)
            counted = {names[term]: int(tf) for term, tf in zip(terms[first:end], tfs[first:end])}
            assert counted == Counter(tokens) and length == len(tokens), text[:60]
