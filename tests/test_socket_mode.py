"""Socket Mode, end to end: `newsbot serve --mode socket` as its own process against a local fake of
Slack's Socket Mode (tests/fake_socket_mode.py). Envelopes are acked within Slack's 3 seconds and
answered; an event Slack delivers again is answered once; a dropped connection is opened again."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from conftest import BOT_TOKEN, NEWSBOT, SEEDS, slash_command_body
from fake_slack import FakeSlack
from fake_socket_mode import FakeSocketMode

APP_TOKEN = "xapp-1-A0001-1-notreal"
ACK_LIMIT = 3.0  # Slack's: an envelope not acked by then is delivered again


def start_socket_bot(slack: FakeSlack, index_dir: Path, **env: str) -> subprocess.Popen:
    """``newsbot serve --mode socket`` as its own process; its output is on ``process.stdout``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_"))} | {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "NEWSBOT_SLACK_API_URL": slack.api_url,
        "NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(index_dir),
        "NEWSBOT_FEEDBACK_DB": str(Path(tempfile.mkdtemp(prefix="newsbot-feedback-")) / "feedback.sqlite"),
    } | env
    return subprocess.Popen([NEWSBOT, "serve", "--mode", "socket"], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def connected(seed_index_dir):
    """A fake Slack, its Socket Mode server and the bot connected to it."""
    with FakeSlack() as slack, FakeSocketMode(slack) as socket:
        process = start_socket_bot(slack, seed_index_dir)
        try:
            assert socket.wait_for_connections(1, timeout=60), "the bot did not connect"
            yield slack, socket
        finally:
            process.terminate()
            process.wait(timeout=20)


def command_payload(text: str, response_url: str) -> dict:
    return dict(parse_qsl(slash_command_body(text, response_url)))


def event_payload(event: dict, event_id: str) -> dict:
    return {"token": "legacy-unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
            "event_id": event_id, "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT0001", "is_bot": True}], "event": event}


def mention(text: str, ts: str) -> dict:
    return {"type": "app_mention", "user": "U0001", "text": f"<@UBOT0001> {text}", "ts": ts, "channel": "C0001",
            "event_ts": ts}


def test_a_slash_command_is_acked_at_once_and_answered_at_its_response_url(connected):
    slack, socket = connected
    envelope = socket.send("slash_commands", command_payload("who leads Tongyi now?", slack.response_url("cmd")))
    ack = socket.wait_for_ack(envelope)
    assert ack is not None and ack.seconds < ACK_LIMIT
    answer = slack.wait_for("/respond/cmd")
    assert answer and "通义" in json.dumps(answer[0].body, ensure_ascii=False)


def test_a_mention_is_answered_in_its_thread(connected):
    slack, socket = connected
    before = len(slack.calls_to("/api/chat.postMessage"))
    ts = f"{time.time():.6f}"
    envelope = socket.send("events_api", event_payload(mention("谁批准了林俊旸的辞职?", ts), "EvMention1"))
    assert socket.wait_for_ack(envelope).seconds < ACK_LIMIT
    posted = slack.wait_for("/api/chat.postMessage", before + 1)[before:]
    assert len(posted) == 1 and posted[0].body["thread_ts"] == ts


def test_an_event_delivered_three_times_is_answered_once(connected):
    """Slack sends an event again (``retry_attempt`` 1, 2) when it thinks the first was missed."""
    slack, socket = connected
    before = len(slack.calls_to("/api/chat.postMessage"))
    ts = f"{time.time():.6f}"
    envelopes = [socket.send("events_api", event_payload(mention("通义实验室由谁带领?", ts), "EvRetried1"), retry_attempt=n)
                 for n in range(3)]
    assert all(socket.wait_for_ack(e).seconds < ACK_LIMIT for e in envelopes)
    slack.wait_for("/api/chat.postMessage", before + 1)
    time.sleep(1.0)  # time for a second answer, were there one
    assert len(slack.calls_to("/api/chat.postMessage")) == before + 1


def test_a_dropped_connection_is_opened_again(connected):
    """A connection Slack closes without notice (a network blip) is replaced, and answers go on."""
    slack, socket = connected
    connections = len(socket.connections)
    socket.drop()
    assert socket.wait_for_connections(connections + 1, timeout=30)
    envelope = socket.send("slash_commands", command_payload("谁批准了林俊旸的辞职?", slack.response_url("dropped")))
    assert socket.wait_for_ack(envelope).seconds < ACK_LIMIT
    assert slack.wait_for("/respond/dropped")
