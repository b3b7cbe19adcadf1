"""The README's example output is what the commands print today (tools/readme_examples.py reruns them;
the examples over the CCTV archive are left to `make docs`, their index taking minutes to build)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_the_readme_examples_are_what_the_commands_print():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_examples.py"), "--check", "--seeds-only"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
