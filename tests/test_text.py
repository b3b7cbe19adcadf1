"""The fast NFKC path must give exactly what unicodedata gives."""

import random
import unicodedata

from index.text import dedupe_key, longest_shared_run, nfkc, normalize

_RANGES = [(0x20, 0x7E), (0xC0, 0x17F), (0x300, 0x36F), (0x3000, 0x303F), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
           (0xFF01, 0xFF5E), (0xFF61, 0xFFDC), (0x2460, 0x24FF), (0x1100, 0x11FF), (0xAC00, 0xD7A3)]


def test_nfkc_matches_unicodedata_on_random_mixed_text():
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(chr(rng.randint(*rng.choice(_RANGES))) for _ in range(rng.randint(0, 40)))
        assert nfkc(text) == unicodedata.normalize("NFKC", text), repr(text)


def test_nfkc_on_news_text():
    assert nfkc("阿里（Alibaba）ＣＥＯ：吴泳铭，２０２６年") == "阿里(Alibaba)CEO:吴泳铭,2026年"
    assert nfkc("Ａ\u0301") == "Á"  # a full-width letter with a combining accent composes after mapping
    assert nfkc("\uf900") == unicodedata.normalize("NFKC", "\uf900")  # compatibility ideograph


def test_normalize_collapses_spaces_and_dedupe_key_ignores_them():
    assert normalize("　通义　 实验室\u200b ") == "通义 实验室"
    assert dedupe_key("通义 实验室") == dedupe_key("通义实验室")


def test_longest_shared_run():
    assert longest_shared_run("香港楼市交投量大幅下滑的原因", "受夹击的香港楼市交投量大幅下滑。") == 11
    assert longest_shared_run("abc", "xyz") == 0
    assert longest_shared_run("", "abc") == 0
    assert longest_shared_run("通义", "通义") == 2
