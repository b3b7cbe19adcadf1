"""Shared fixtures: the seed corpus, a built index of it, and helpers to talk to the bot like Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import settings

from index import Engine

# Property tests without a count of their own try this many examples: enough for every `make test`;
# `make fuzz` (HYPOTHESIS_PROFILE=deep) tries twenty times more.
settings.register_profile("default", max_examples=1_000)
settings.register_profile("deep", max_examples=20_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
SEED_QUESTIONS = SHARED / "eval" / "seed_questions.jsonl"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token-not-real"
NEWSBOT = str(Path(sys.executable).with_name("newsbot"))  # the installed console script


@pytest.fixture(scope="module")
def slack():
    """The local fake of Slack's Web API and response_url, one per test module."""
    from fake_slack import FakeSlack

    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory) -> Path:
    """The seed corpus indexed once for the session (a copy, so tests may not disturb each other)."""
    root = tmp_path_factory.mktemp("seed-index")
    Engine(SEEDS, root / "index").build()
    return root / "index"


@pytest.fixture(scope="session")
def seed_engine(seed_index_dir) -> Engine:
    engine = Engine(SEEDS, seed_index_dir)
    engine.index()
    return engine


@pytest.fixture
def corpus(tmp_path) -> Path:
    """An empty corpus folder to fill per test."""
    path = tmp_path / "corpus"
    path.mkdir()
    return path


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    path = tmp_path / "seeds"
    shutil.copytree(SEEDS, path)
    return path


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body`` (v0 HMAC-SHA256 signature)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command_body(text: str, response_url: str, command: str = "/news") -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T0001",
            "channel_id": "C0001",
            "channel_name": "general",
            "user_id": "U0001",
            "user_name": "reader",
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
            "api_app_id": "A0001",
        }
    )


def action_body(action_id: str, value: str, response_url: str, user: str = "U0001") -> str:
    """A click on a button of a message (``block_actions``), as Slack posts it: a form with ``payload``."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T0001"},
        "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy-unused",
        "trigger_id": "1.2.3",
        "channel": {"id": "C0001", "name": "general"},
        "container": {"type": "message", "is_ephemeral": True},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "newsbot_actions", "value": value, "type": "button",
                     "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict) -> str:
    return json.dumps(
        {
            "token": "legacy-unused",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT0001", "is_bot": True}],
            "event": event,
        }
    )


def seed_questions() -> list[dict]:
    if not SEED_QUESTIONS.exists():
        return []
    return [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
