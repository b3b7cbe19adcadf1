"""The index on disk: plain ``.npy`` arrays, a JSON Lines passage file and a JSON manifest.

Layout of an index directory::

    CURRENT              name of the generation in use (replaced atomically)
    gen-<stamp>/         one complete, immutable build
        manifest.json    format, analyzer, corpus fingerprint, BM25 parameters, counts, and the
                         size and SHA-256 of every other file
        *.npy            arrays, opened memory-mapped (never pickled)
        terms.bin        the vocabulary, UTF-8, sorted, cut by term_offsets.npy
        passages.jsonl   one passage with its citation per line, cut by passages_offsets.npy
        passage_days.npy each passage's article date in days since 1970-01-01 (INT32_MIN: undated)
        repeats.jsonl    for each passage in repeated_passages.npy, the other documents that carry
                         it word for word (cut by repeats_offsets.npy)
        passage_keys.npy, passage_docs.npy, passage_files.npy
                         each passage's text fingerprint, its document's and its corpus file's
                         (what an update needs to find repeats and what a changed file replaces)
        passage_article.npy, article_*.npy
                         each passage's article; each article's story (the first article of the
                         syndicated copies it belongs to), date and near-duplicate sketch

A generation is a whole build (``"kind": "full"``) or a delta over one (``"kind": "delta"``, naming
its ``"base"``): the news added, changed and deleted since the base was built (``index.update``).

A build writes a new generation beside the old one and only then points CURRENT at it, so a build
that fails or is killed leaves the previous index intact and in use. Opening a generation checks
every file's size (cheap); :func:`check_files` with ``content=True`` checks every byte.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import json
import mmap
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

FORMAT_VERSION = 10
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
_LOCK = ".build.lock"


class IndexFormatError(Exception):
    """The index on disk is missing, incomplete or of another format."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Serialise builds of one index directory across processes."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / _LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class GenerationWriter:
    """Writes one generation into a scratch directory, then publishes it atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.scratch = root / f".tmp-{uuid.uuid4().hex}"
        self.scratch.mkdir()
        self._claim = os.open(self.scratch, os.O_RDONLY)  # held while writing: cleaners leave it be
        fcntl.flock(self._claim, fcntl.LOCK_EX)

    def path(self, name: str) -> Path:
        return self.scratch / name

    def open_array(self, name: str, dtype: type, length: int) -> np.ndarray:
        """A new ``.npy`` file of ``length`` items, memory-mapped for writing."""
        return np.lib.format.open_memmap(self.scratch / f"{name}.npy", mode="w+", dtype=dtype, shape=(length,))

    def save_array(self, name: str, array: np.ndarray) -> None:
        np.save(self.scratch / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)

    def publish(self, manifest: dict, make_current: bool = True) -> Path:
        """Seal the generation under a new name and (unless not ``make_current``) point CURRENT at it."""
        files = {}
        for child in sorted(self.scratch.iterdir()):
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
                files[child.name] = {"bytes": os.fstat(handle.fileno()).st_size, "sha256": _sha256(handle)}
        manifest = {**manifest, "files": files}
        (self.scratch / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        with open(self.scratch / MANIFEST, "rb") as handle:
            os.fsync(handle.fileno())
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        final = self.root / name
        os.rename(self.scratch, final)
        os.close(self._claim)
        if make_current:
            make_current_generation(self.root, final)
        else:
            _fsync_dir(self.root)
        return final

    def discard(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(self._claim)


def make_current_generation(root: Path, generation: Path) -> None:
    """Point CURRENT at ``generation`` atomically, then delete what no longer serves."""
    pointer = root / f".{CURRENT}.{uuid.uuid4().hex}"
    pointer.write_text(generation.name + "\n", encoding="utf-8")
    os.replace(pointer, root / CURRENT)
    _fsync_dir(root)
    remove_stale_generations(root, keep=generation.name)


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def check_files(generation: Path, manifest: dict, content: bool = False) -> list[str]:
    """What is wrong with the files of a generation, against the sizes (and, with ``content``, the
    SHA-256 checksums) its manifest recorded; empty when nothing is."""
    problems = []
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return ["the manifest lists no files"]
    for name, expected in sorted(recorded.items()):
        path = generation / name
        try:
            size = path.stat().st_size
            if size != expected["bytes"]:
                problems.append(f"{name}: {size:,} bytes, {expected['bytes']:,} expected")
            elif content:
                with open(path, "rb") as handle:
                    if _sha256(handle) != expected["sha256"]:
                        problems.append(f"{name}: content differs from its checksum")
        except OSError as exc:
            problems.append(f"{name}: {exc.strerror or exc}")
        except (KeyError, TypeError):
            problems.append(f"{name}: no size or checksum in the manifest")
    return problems


def remove_stale_generations(root: Path, keep: str) -> None:
    """Delete older generations (but ``keep`` and the base it builds on) and leftovers of killed
    builds; a build still writing holds its scratch folder and keeps it. Open memory maps stay valid."""
    kept = {keep, base_name(root / keep)}
    for child in root.iterdir():
        if not child.is_dir() or child.name in kept:
            continue
        if child.name.startswith("gen-") or (child.name.startswith(".tmp-") and not _claimed(child)):
            shutil.rmtree(child, ignore_errors=True)


def _claimed(scratch: Path) -> bool:
    try:
        fd = os.open(scratch, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def base_name(generation: Path) -> str | None:
    """The name of the full generation a delta generation builds on (None for a full one)."""
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = manifest.get("base") if isinstance(manifest, dict) else None
    return base if isinstance(base, str) and base.startswith("gen-") and "/" not in base else None


def current_generation(root: Path) -> Path | None:
    """The generation CURRENT names, or None when there is none (or CURRENT is unreadable)."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name.startswith("gen-") or "/" in name or name.startswith("gen-.."):
        return None
    path = root / name
    return path if (path / MANIFEST).is_file() else None


def read_manifest(generation: Path) -> dict:
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"unreadable manifest in {generation}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexFormatError(f"index format {found} is not {FORMAT_VERSION}")
    return manifest


def load_array(generation: Path, name: str) -> np.ndarray:
    """A memory-mapped, read-only array; pickled objects are refused.

    It is handed out as a plain ndarray over the map: slicing a ``np.memmap`` runs Python code on
    every access, which a query making thousands of them would pay for."""
    try:
        array = np.load(generation / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexFormatError(f"{name}.npy: {exc}") from exc
    if array.ndim != 1:
        raise IndexFormatError(f"{name}.npy: {array.ndim} dimensions, 1 expected")
    return array.view(np.ndarray)


def check_offsets(offsets: np.ndarray, entries: int, total: int, name: str) -> None:
    """Offsets that cut ``total`` items (or bytes) into ``entries`` pieces: from 0, never falling,
    ending at ``total``; anything else raises :class:`IndexFormatError`."""
    if len(offsets) != entries + 1 or offsets[0] != 0 or offsets[-1] != total or np.any(np.diff(offsets) < 0):
        raise IndexFormatError(f"{name} does not cut its data: the index is damaged")


def _map(path: Path) -> mmap.mmap | bytes:
    with _opened(path) as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


@contextlib.contextmanager
def _opened(path: Path) -> Iterator:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise IndexFormatError(f"{path.name}: {exc.strerror or exc}") from exc
    with handle:
        yield handle


def plain_ints(offsets: np.ndarray) -> memoryview:
    """An int64 array (memory-mapped or not) read as plain Python ints: indexing it costs far less
    than indexing the array, which makes a NumPy scalar each time."""
    return memoryview(np.ascontiguousarray(offsets, dtype=np.int64)).cast("B").cast("q")


@dataclass
class StringTable(Sequence[str]):
    """Sorted strings in one UTF-8 blob; a string's id is its rank; lookup by binary search (on the
    bytes: UTF-8 sorts as the strings do)."""

    blob: mmap.mmap | bytes
    offsets: np.ndarray

    def __post_init__(self) -> None:
        self._bounds = plain_ints(self.offsets)

    @classmethod
    def open(cls, generation: Path, name: str = "terms") -> StringTable:
        table = cls(_map(generation / f"{name}.bin"), load_array(generation, f"{name}_offsets"))
        check_offsets(table.offsets, len(table.offsets) - 1, len(table.blob), f"{name}_offsets.npy")
        return table

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, term_id: int) -> str:  # type: ignore[override]
        return self._bytes(term_id).decode("utf-8")

    def _bytes(self, term_id: int) -> bytes:
        return self.blob[self._bounds[term_id] : self._bounds[term_id + 1]]

    def id(self, term: str) -> int | None:
        at, key = self._first_from(term)
        return at if at < len(self) and self._bytes(at) == key else None

    def has_prefix(self, prefix: str) -> bool:
        """Whether any string starts with ``prefix``."""
        at, key = self._first_from(prefix)
        return at < len(self) and self._bytes(at).startswith(key)

    def _first_from(self, text: str) -> tuple[int, bytes]:
        """The id of the first string not below ``text`` (``len(self)``: none), and ``text`` as bytes."""
        key = text.encode("utf-8", "surrogatepass")
        return bisect.bisect_left(range(len(self)), key, key=self._bytes), key


def write_string_table(writer: GenerationWriter, sorted_strings: list[str], name: str = "terms") -> None:
    encoded = [string.encode("utf-8") for string in sorted_strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    writer.path(f"{name}.bin").write_bytes(b"".join(encoded))
    writer.save_array(f"{name}_offsets", offsets)


@dataclass
class TermMap:
    """Keys (a :class:`StringTable`) each pointing at a list of term ids, in compressed sparse rows."""

    keys: StringTable
    offsets: np.ndarray
    terms: np.ndarray

    @classmethod
    def open(cls, generation: Path, name: str) -> TermMap:
        term_map = cls(StringTable.open(generation, name), load_array(generation, f"{name}_rows"), load_array(generation, f"{name}_terms"))
        check_offsets(term_map.offsets, len(term_map.keys), len(term_map.terms), f"{name}_rows.npy")
        return term_map

    def __post_init__(self) -> None:
        self._cached = lru_cache(maxsize=1 << 16)(self._lookup)  # questions ask for the same few thousand words
        self._starts = lru_cache(maxsize=1 << 14)(lambda word: self.keys.has_prefix(word + " "))

    def get(self, key: str) -> tuple[int, ...] | None:
        """The term ids stored for ``key`` (possibly none), or None when the key is unknown."""
        return self._cached(key)

    def starts_phrases(self, word: str) -> bool:
        """Whether any key is a phrase whose first word is ``word``."""
        return self._starts(word)

    def _lookup(self, key: str) -> tuple[int, ...] | None:
        at = self.keys.id(key)
        if at is None:
            return None
        return tuple(int(t) for t in self.terms[int(self.offsets[at]) : int(self.offsets[at + 1])])


def write_term_map(writer: GenerationWriter, name: str, mapping: dict[str, list[int]]) -> None:
    keys = sorted(mapping)
    write_string_table(writer, keys, name)
    rows = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum([len(mapping[k]) for k in keys], out=rows[1:])
    writer.save_array(f"{name}_rows", rows)
    writer.save_array(f"{name}_terms", np.array([t for k in keys for t in mapping[k]], dtype=np.int32))


class PassageFile:
    """Random access to the passage records by passage number, and to where each was repeated."""

    def __init__(self, generation: Path) -> None:
        self.blob = _map(generation / "passages.jsonl")
        self.offsets = load_array(generation, "passages_offsets")
        self.repeat_blob = _map(generation / "repeats.jsonl")
        self.repeat_offsets = load_array(generation, "repeats_offsets")
        self.repeated = load_array(generation, "repeated_passages")  # ascending passage numbers
        check_offsets(self.offsets, len(self.offsets) - 1, len(self.blob), "passages_offsets.npy")
        check_offsets(self.repeat_offsets, len(self.repeated), len(self.repeat_blob), "repeats_offsets.npy")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, number: int) -> dict:
        return json.loads(self.blob[int(self.offsets[number]) : int(self.offsets[number + 1])])

    def repeats(self, number: int) -> list[dict]:
        """The other documents that carry passage ``number`` word for word (dropped as repeats)."""
        at = int(np.searchsorted(self.repeated, number))
        if at == len(self.repeated) or self.repeated[at] != number:
            return []
        return json.loads(self.repeat_blob[int(self.repeat_offsets[at]) : int(self.repeat_offsets[at + 1])])


class RecordFileWriter:
    """Writes JSON records one per line, with their byte offsets (``{name}_offsets``) for random access."""

    def __init__(self, writer: GenerationWriter, name: str) -> None:
        self._writer = writer
        self._name = name
        self._handle = open(writer.path(f"{name}.jsonl"), "wb")
        self._offsets = [0]

    def append(self, record: dict | list) -> None:
        line = json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
        self._handle.write(line)
        self._offsets.append(self._offsets[-1] + len(line))

    def close(self) -> None:
        self._handle.close()
        self._writer.save_array(f"{self._name}_offsets", np.array(self._offsets, dtype=np.int64))


def write_repeats(writer: GenerationWriter, repeats: dict[int, list[dict]]) -> None:
    """Where each repeated passage was repeated: ``repeated_passages`` and a record per passage."""
    numbers = sorted(repeats)
    records = RecordFileWriter(writer, "repeats")
    for number in numbers:
        records.append(repeats[number])
    records.close()
    writer.save_array("repeated_passages", np.array(numbers, dtype=np.int64))
