"""The engines newsbot is measured against, on newsbot's own tokens: tantivy, Lucene, bm25s (numba
backend) and rank-bm25.

Each engine has a build (tokens file in, index folder out, figures back) and an ``open`` that
returns its load figures and a function retrieving the top 10 for one query's tokens. The token
files are written by bench.py: ``tokens-N.jsonl`` (a JSON list per paragraph) and ``tokens-N.txt``
(the same tokens joined by spaces, for the engines that split on whitespace).

An engine that cannot be installed here raises :class:`Absent` with the reason; the bench reports
it in its results instead of leaving the engine out silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

PYSERINI = "pyserini==0.22.1"  # its wheel carries Anserini's fat jar: Lucene 9.5, runs on Java 11+
LUCENE_SOURCE = Path(__file__).resolve().parent / "lucene" / "LuceneBench.java"

Retrieve = Callable[[object], object]


class Absent(RuntimeError):
    """The engine cannot run on this machine; the message says why."""


def load_tokens(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


# --- tantivy -------------------------------------------------------------------------------------


def tantivy_build(tokens_txt: Path, folder: Path) -> dict:
    """One writer thread with a heap large enough for one segment (tantivy-py cannot force a merge);
    term frequencies but no positions, nothing stored."""
    try:
        import tantivy
    except ImportError as error:
        raise Absent(f"tantivy is not installed ({error})") from error
    schema = _tantivy_schema(tantivy)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(folder))
    writer = index.writer(heap_size=2_000_000_000, num_threads=1)
    with open(tokens_txt, encoding="utf-8") as handle:
        for line in handle:
            writer.add_document(tantivy.Document(body=line.rstrip("\n")))
    writer.commit()
    writer.wait_merging_threads()
    build_s = time.perf_counter() - started
    index.reload()
    return {"build_s": build_s, "segments": index.searcher().num_segments, "version": _version("tantivy")}


def _tantivy_schema(tantivy):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    return builder.build()


def tantivy_open(folder: Path) -> tuple[Retrieve, Callable[[list[str]], object]]:
    """``count=False``: counting every match would turn off tantivy's block-max pruning."""
    import tantivy

    index = tantivy.Index.open(str(folder))
    searcher = index.searcher()
    schema = index.schema

    def prepare(tokens: list[str]):
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in tokens])

    return (lambda query: searcher.search(query, 10, count=False)), prepare


# --- bm25s with numba ----------------------------------------------------------------------------


def bm25s_build(tokens_jsonl: Path, folder: Path) -> dict:
    import bm25s

    tokens = load_tokens(tokens_jsonl)
    started = time.perf_counter()
    model = bm25s.BM25(k1=1.5, b=0.75, method="robertson", backend="numba")
    model.index(tokens, show_progress=False)
    build_s = time.perf_counter() - started
    shutil.rmtree(folder, ignore_errors=True)
    model.save(folder)
    return {"build_s": build_s, "version": _version("bm25s")}


def bm25s_open(folder: Path) -> tuple[Retrieve, Callable[[list[str]], object], float]:
    """Returns the retrieval, the query preparation and the seconds numba took to compile it
    (the first query's time less a warm query's)."""
    import bm25s

    model = bm25s.BM25.load(folder, mmap=True, show_progress=False)

    def retrieve(query: list[str]):
        return model.retrieve([query], k=10, show_progress=False, n_threads=1, backend_selection="numba")

    probe = next(iter(model.vocab_dict))
    started = time.perf_counter()
    retrieve([probe])
    first = time.perf_counter() - started
    started = time.perf_counter()
    retrieve([probe])
    return retrieve, list, first - (time.perf_counter() - started)


# --- rank-bm25 -----------------------------------------------------------------------------------


def rank_bm25_build(tokens_jsonl: Path) -> dict:
    """rank-bm25 has no file format of its own (people pickle it, which no one should load from
    disk they do not control): its index on disk is the token file, and loading is rebuilding."""
    from rank_bm25 import BM25Okapi

    tokens = load_tokens(tokens_jsonl)
    started = time.perf_counter()
    BM25Okapi(tokens)
    return {"build_s": time.perf_counter() - started, "version": _version("rank-bm25")}


def rank_bm25_open(tokens_jsonl: Path) -> Retrieve:
    from rank_bm25 import BM25Okapi

    return BM25Okapi(load_tokens(tokens_jsonl)).get_scores


# --- Lucene, in its own JVM ----------------------------------------------------------------------


def lucene_classpath(work: Path) -> str:
    """Lucene's jar (from the pyserini wheel, fetched once into ``work``) and LuceneBench compiled
    against it."""
    if not shutil.which("java") or not shutil.which("javac"):
        raise Absent("no java/javac on this machine (Lucene needs a JDK 11 or newer)")
    jars = work / "lucene-jar"
    jar = next(jars.glob("*-fatjar.jar"), None) if jars.exists() else None
    if jar is None:
        wheels = work / "lucene-wheel"
        fetched = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PYSERINI, "-d", str(wheels)],
                                 capture_output=True, text=True)
        wheel = next(wheels.glob("pyserini-*.whl"), None)
        if fetched.returncode != 0 or wheel is None:
            raise Absent(f"could not fetch {PYSERINI} for its Lucene jar: {fetched.stderr.strip()[-300:]}")
        jars.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            name = next(n for n in archive.namelist() if n.endswith("-fatjar.jar"))
            jar = jars / Path(name).name
            jar.write_bytes(archive.read(name))
        shutil.rmtree(wheels)
    classes = work / "lucene-classes"
    if not (classes / "LuceneBench.class").exists() or (classes / "LuceneBench.class").stat().st_mtime < LUCENE_SOURCE.stat().st_mtime:
        compiled = subprocess.run(["javac", "-d", str(classes), "-cp", str(jar), str(LUCENE_SOURCE)], capture_output=True, text=True)
        if compiled.returncode != 0:
            raise Absent(f"javac failed: {compiled.stderr.strip()[-300:]}")
    return f"{jar}{os.pathsep}{classes}"


def lucene_build(classpath: str, tokens_txt: Path, folder: Path) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    done = subprocess.run(["java", "-cp", classpath, "LuceneBench", "index", str(tokens_txt), str(folder), str(os.cpu_count())],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Lucene build failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"version": f"Lucene from {PYSERINI}, {_java_version()}"}


def lucene_query(classpath: str, folder: Path, queries_txt: Path) -> dict:
    """Searches timed inside the JVM; the JVM's start (launch to its first line) is reported apart."""
    started = time.perf_counter()
    process = subprocess.Popen(["java", "-cp", classpath, "LuceneBench", "search", str(folder), str(queries_txt)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    jvm_start_s = time.perf_counter() - started
    rest, errors = process.communicate()
    if process.returncode != 0 or first.strip() != "started":
        raise RuntimeError(f"Lucene search failed: {errors[-2000:]}")
    return json.loads(rest.strip().splitlines()[-1]) | {"jvm_start_s": jvm_start_s}


def _java_version() -> str:
    done = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return done.stderr.splitlines()[0] if done.stderr else "java"


def _version(package: str) -> str:
    from importlib.metadata import version

    return f"{package} {version(package)}"
