"""Talking to the bot over real HTTP on 127.0.0.1, and starting it in-process against a fake Slack."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request

from conftest import BOT_TOKEN, SIGNING_SECRET
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
    bot = HttpBot(
        Settings(
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=0,
            host="127.0.0.1", slack_api_url=slack.api_url, **settings,
        ),
        engine,
    )
    threading.Thread(target=bot.run, daemon=True).start()
    return bot
