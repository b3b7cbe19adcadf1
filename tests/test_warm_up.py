"""Everything lazy loads once: at warm-up, or under a lock when many first questions arrive at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import SEEDS

PROBE = textwrap.dedent("""
    import sys, threading
    from lemminflect.codecs.LemmaLUCodec import LemmaLUCodec
    loads = []
    original = LemmaLUCodec.load
    LemmaLUCodec.load = staticmethod(lambda *a, **k: loads.append(1) or original(*a, **k))
    from index import Engine
    engine = Engine(sys.argv[1], sys.argv[2])
    if sys.argv[3] == "warm":
        engine.warm()
        print("after warm-up", len(loads))
    else:
        engine.index()
    start = threading.Barrier(20)
    answered = []
    def ask(i):
        start.wait()
        answered.append(engine.ask(f"who leads Tongyi now {i}?", 1).answered)
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads: t.start()
    for t in threads: t.join()
    print("loads", len(loads), "answered", sum(answered))
""")


def probe(index_dir, mode: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, str(SEEDS), str(index_dir), mode],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_twenty_first_english_questions_at_once_load_the_word_tables_once(seed_index_dir):
    assert "loads 1 answered 20" in probe(seed_index_dir, "cold")


def test_warm_up_loads_the_word_tables_before_any_question(seed_index_dir):
    output = probe(seed_index_dir, "warm")
    assert "after warm-up 1" in output and "loads 1 answered 20" in output
