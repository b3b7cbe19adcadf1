"""Talking to the bot over real HTTP on 127.0.0.1, and starting it in-process against a fake Slack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import BOT_TOKEN, NEWSBOT, SEEDS, SIGNING_SECRET
from fake_slack import FakeSlack

from bot.server import HttpBot
from bot.settings import Settings
from index import Engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port: int, body: str | bytes, headers: dict[str, str], timeout: float = 10.0, path: str = "/slack/events") -> tuple[int, str]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def start_bot(engine: Engine, slack: FakeSlack, **settings) -> HttpBot:
    """The HTTP bot on a free port in this process, serving from a thread; ``close()`` it after."""
    settings.setdefault("feedback_db", Path(tempfile.mkdtemp(prefix="newsbot-feedback-")) / "feedback.sqlite")
    bot = HttpBot(
        Settings(
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=0,
            host="127.0.0.1", slack_api_url=slack.api_url, **settings,
        ),
        engine,
    )
    threading.Thread(target=bot.run, daemon=True).start()
    return bot


def start_server(slack: FakeSlack, index_dir: Path, cwd: Path | None = None, **env: str) -> tuple[subprocess.Popen, int]:
    """``newsbot serve --mode http`` as its own process, as it runs in production, once /healthz is 200.

    Its output (stdout and stderr together) is on ``process.stdout``; ``env`` adds variables."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_"))} | {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PORT": str(port),
        "NEWSBOT_HOST": "127.0.0.1", "NEWSBOT_SLACK_API_URL": slack.api_url, "NEWSBOT_CORPUS": str(SEEDS),
        "NEWSBOT_INDEX": str(index_dir),
        "NEWSBOT_FEEDBACK_DB": str(Path(tempfile.mkdtemp(prefix="newsbot-feedback-")) / "feedback.sqlite"),
    } | env
    process = subprocess.Popen([NEWSBOT, "serve", "--mode", "http"], env=environment, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz")[0] == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError(f"the bot did not start: {process.stdout.read()}")
    process.kill()
    raise RuntimeError("the bot did not start within 60 s")
