"""Keep the README's example output true: run each example's commands and write what they print.

    python tools/readme_examples.py           # rewrite the examples in README.md
    python tools/readme_examples.py --check   # exit 1, showing the differences, when any is out of date

An example is a ```text block right after a ``<!-- example -->`` comment. Its lines starting with
``$ `` are commands; what follows each, up to the next command, is its output. Each example's
commands run with bash in a fresh folder of its own standing for ``/home/me`` (``~``), with the
project's ``newsbot`` first on PATH, the seed news as ``~/news`` (also the default corpus) and Slack
settings cleared; examples run several at a time. Options in the comment:

- ``input="…"``: standard input for the block's commands (``\\n`` for a new line);
- ``lines=N``: keep the first N lines of each command's output, then "…";
- ``site``: a local news site at http://127.0.0.1:8000/ (a feed of two stories, one of them gone,
  and a page; the address is that of a free port, shown as 8000), listed in ``~/feeds.txt``;
- ``cctv``: the CCTV archive of ``../shared/data`` as ``~/cctv`` (its index takes minutes to build;
  ``--seeds-only`` leaves these examples alone, as ``make test`` does).

Timings, generation names and build times differ from run to run: ``--check`` compares the examples
with those masked, so only a change in what the commands say fails it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CCTV = ROOT.parent / "shared" / "data" / "cctv_xwlb_news" / "articles.jsonl.gz"
HOME = "/home/me"
MARKER = re.compile(r"<!-- example(?P<options>[^>]*)-->\n```text\n(?P<body>.*?)```", re.S)
OPTION = re.compile(r'(\w+)(?:="((?:[^"\\]|\\.)*)"|=(\S+))?')
VOLATILE = [
    (re.compile(r"\b\d+(?:\.\d+)? s\b"), "<seconds> s"),
    (re.compile(r"[\d,]+ chars/s"), "<rate> chars/s"),
    (re.compile(r"gen-\d{8}T\d{6}-[0-9a-f]{8}"), "gen-<stamp>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "<built at>"),
]


def options_of(text: str) -> dict[str, str]:
    return {m.group(1): (m.group(2) if m.group(2) is not None else m.group(3) or "") for m in OPTION.finditer(text)}


def commands_of(body: str) -> list[str]:
    return [line[2:] for line in body.splitlines() if line.startswith("$ ")]


def run_block(body: str, options: dict[str, str], home: Path, env: dict[str, str], port: int | None) -> str:
    """The block rewritten from a real run of its commands."""
    stdin = options["input"].replace("\\n", "\n") if "input" in options else None
    keep = int(options["lines"]) if "lines" in options else None
    chunks = []
    for command in commands_of(body):
        real = command.replace("~/", f"{home}/")
        if port is not None:
            real = real.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(["bash", "-c", real], cwd=home, env=env, input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900)
        printed = done.stdout.replace(str(home), HOME)
        if port is not None:
            printed = printed.replace(f"127.0.0.1:{port}", "127.0.0.1:8000")
        lines = [line for line in printed.rstrip("\n").splitlines() if not line.startswith("building the index of")]
        if keep is not None and len(lines) > keep:
            lines = lines[:keep] + ["…"]
        chunks.append("\n".join([f"$ {command}", *lines]))
    return "\n\n".join(chunks) + "\n"


def masked(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def regenerate(readme: str, shared: Path, seeds_only: bool) -> str:
    """The README with every example rerun, each in a home of its own (so none sees another's
    changes), several at a time; the CCTV ones share one archive index in ``shared``."""

    def rerun(match: re.Match) -> str:
        options = options_of(match.group("options"))
        if "cctv" in options and (seeds_only or not CCTV.exists()):
            return match.group(0)
        with tempfile.TemporaryDirectory(prefix="newsbot-readme-") as folder, ExitStack() as stack:
            home = Path(folder)
            shutil.copytree(ROOT / "seeds", home / "news")
            if "cctv" in options:
                for name in ("cctv", "cctv-index"):
                    (home / name).symlink_to(shared / name)
            port = stack.enter_context(_news_site(home)) if "site" in options else None
            body = run_block(match.group("body"), options, home, environment(home), port)
        return f"<!-- example{match.group('options')}-->\n```text\n{body}```"

    matches = list(MARKER.finditer(readme))
    (shared / "cctv").mkdir()
    (shared / "cctv-index").mkdir()
    if CCTV.exists():
        (shared / "cctv" / CCTV.name).symlink_to(CCTV)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        rerun_blocks = list(pool.map(rerun, matches))
    out, cursor = [], 0
    for match, block in zip(matches, rerun_blocks):
        out += [readme[cursor : match.start()], block]
        cursor = match.end()
    return "".join(out) + readme[cursor:]


@contextmanager
def _news_site(home: Path) -> Iterator[int]:
    """The tests' local news site with a feed of two stories (one gone) and a page; yields its port."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_news_site import FakeNewsSite, article_page, rss

    with FakeNewsSite() as site:
        site.put("/storm.html", article_page("北欧风暴致数万户停电", ["周二夜间的风暴袭击挪威西海岸,数万户家庭停电,电力公司表示周四前恢复供电。"],
                                             "2026-03-04", "北欧通讯社", chinese=True))
        site.put("/wind.html", article_page("Norway approves an offshore wind fund",
                                            ["OSLO, March 5, 2026 (Nordic Wire) - Norway's parliament approved a fund for three offshore wind farms."],
                                            "2026-03-05", "Nordic Wire", chinese=False))
        site.put("/feed.xml", rss("北欧通讯社", [(site.url("/storm.html"), "北欧风暴致数万户停电", "2026-03-04"),
                                             (site.url("/gone.html"), "已删除的报道", "2026-03-03")]), "application/rss+xml")
        port = int(site.url("/").split(":")[2].split("/")[0])
        (home / "feeds.txt").write_text("# our sources\nhttp://127.0.0.1:8000/feed.xml\nhttp://127.0.0.1:8000/wind.html\n"
                                        .replace("127.0.0.1:8000", f"127.0.0.1:{port}"), encoding="utf-8")
        yield port


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_"))}
    bin_dir = Path(sys.executable).parent
    return env | {"HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "NO_COLOR": "1",
                  "NEWSBOT_CORPUS": str(home / "news"), "NEWSBOT_INDEX": str(home / ".newsbot-index"),
                  "NEWSBOT_FEEDBACK_DB": str(home / "feedback.sqlite"), "COLUMNS": "100"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when an example is out of date")
    parser.add_argument("--seeds-only", action="store_true", help="leave the examples over the CCTV archive alone")
    args = parser.parse_args()
    readme = README.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="newsbot-readme-shared-") as shared:
        fresh = regenerate(readme, Path(shared), args.seeds_only)
    if args.check:
        if masked(fresh) == masked(readme):
            print("README examples are up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(masked(readme).splitlines(True), masked(fresh).splitlines(True),
                                                   "README.md", "README.md (as run now)"))
        print("README examples are out of date: run python tools/readme_examples.py", file=sys.stderr)
        return 1
    README.write_text(fresh, encoding="utf-8")
    print(f"rewrote {len(MARKER.findall(readme))} example(s) in README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
