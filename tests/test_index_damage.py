"""A damaged index is noticed: rebuilt when the corpus is there, reported in one line when not, and
an intact old index keeps answering when a new one cannot be written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import index.engine
from index import Engine, IndexUnavailable
from index.store import current_generation, read_manifest
from test_cli import run

QUESTION = "谁批准了林俊旸的辞职?"


@pytest.fixture
def built(seed_corpus, tmp_path):
    """A fresh index of a copy of the seeds, and its generation folder."""
    engine = Engine(seed_corpus, tmp_path / "index")
    engine.build()
    return engine, current_generation(tmp_path / "index")


def truncate(path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def scribble(path, start: int = 128) -> None:
    """Overwrite the data after an ``.npy`` header with noise, keeping the size."""
    data = bytearray(path.read_bytes())
    data[start:] = np.random.default_rng(1).integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def fresh_engine(engine: Engine, **kwargs) -> Engine:
    return Engine(engine.corpus, engine.index_dir, **kwargs)


@pytest.mark.parametrize("damage", [
    lambda g: truncate(g / "post_docs.npy"),
    lambda g: truncate(g / "passages.jsonl", 0.9),
    lambda g: scribble(g / "post_offsets.npy"),
    lambda g: (g / "idf.npy").unlink(),
    lambda g: (g / "manifest.json").write_text("{", encoding="utf-8"),
    lambda g: truncate(g / "terms.bin", 0.99),
])
def test_a_damaged_index_is_rebuilt_and_answers(built, damage):
    engine, generation = built
    damage(generation)
    again = fresh_engine(engine)
    assert again.ask(QUESTION).answered
    assert current_generation(engine.index_dir) != generation


def test_scribbled_postings_of_the_right_size_are_caught_by_the_checksums(built):
    engine, generation = built
    scribble(generation / "post_docs.npy")
    assert any("post_docs.npy" in problem for problem in fresh_engine(engine).verify())
    rebuilt = fresh_engine(engine, verify_content=True)
    assert rebuilt.ask(QUESTION).answered
    assert fresh_engine(engine).verify() == []


def test_a_damaged_index_without_its_corpus_is_reported_in_one_line(built):
    engine, generation = built
    truncate(generation / "post_weights.npy")
    shutil.rmtree(engine.corpus)
    with pytest.raises(IndexUnavailable) as raised:
        fresh_engine(engine).index()
    assert "\n" not in str(raised.value) and str(engine.index_dir) in str(raised.value)


def test_a_stale_index_that_cannot_be_rebuilt_keeps_answering(built, monkeypatch, caplog):
    engine, generation = built
    (engine.corpus / "new.txt").write_text("【新华社】5月1日电 长江大桥今天正式通车。", encoding="utf-8")

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Read-only file system", str(engine.index_dir))

    monkeypatch.setattr(index.engine, "update_index", read_only)
    stale = fresh_engine(engine)
    assert not stale.is_fresh()
    assert stale.ask(QUESTION).answered
    assert "could not rebuild" in caplog.text and current_generation(engine.index_dir) == generation


def test_index_verify_reports_damage_and_exits_1(built, tmp_path):
    engine, generation = built
    env = {"NEWSBOT_CORPUS": str(engine.corpus), "NEWSBOT_INDEX": str(engine.index_dir)}
    ok = run("index", "verify", env=env, cwd=tmp_path)
    assert ok.returncode == 0 and "matches its checksum" in ok.stdout
    scribble(generation / "doc_len.npy")
    bad = run("index", "verify", env=env, cwd=tmp_path)
    assert bad.returncode == 1 and "doc_len.npy" in bad.stderr and "Traceback" not in bad.stderr


def test_a_damaged_index_with_no_news_left_stops_with_one_line(built, tmp_path):
    engine, generation = built
    truncate(generation / "post_tfs.npy")
    shutil.rmtree(engine.corpus)
    (tmp_path / "corpus-gone").mkdir()
    env = {"NEWSBOT_CORPUS": str(tmp_path / "corpus-gone"), "NEWSBOT_INDEX": str(engine.index_dir)}
    result = run("ask", QUESTION, env=env, cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("building")]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(lines) == 1 and "no news files" in lines[0]


def test_the_manifest_records_size_and_checksum_of_every_file(built):
    _, generation = built
    files = read_manifest(generation)["files"]
    on_disk = {p.name for p in generation.iterdir()} - {"manifest.json"}
    assert set(files) == on_disk
    assert all(files[name]["bytes"] == (generation / name).stat().st_size for name in on_disk)


def test_current_pointing_outside_the_index_is_ignored(built):
    engine, _ = built
    (engine.index_dir / "CURRENT").write_text("../../etc\n", encoding="utf-8")
    assert current_generation(engine.index_dir) is None
    assert fresh_engine(engine).ask(QUESTION).answered
