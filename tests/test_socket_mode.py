"""Socket Mode, end to end: `newsbot serve --mode socket` as its own process against a local fake of
Slack's Socket Mode (tests/fake_socket_mode.py). Every envelope is acked within Slack's 3 seconds,
also right after a reconnect; an event Slack delivers again is answered once; a dropped connection
is opened again; failing to connect is retried, logged and given up plainly."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from conftest import BOT_TOKEN, NEWSBOT, SEEDS, action_body, slash_command_body
from fake_slack import FakeSlack, Reply
from fake_socket_mode import FakeSocketMode

from bot.render import ACTIONS_BLOCK, SHARE

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


def test_a_click_on_share_is_acked_and_shares_the_answer(connected):
    slack, socket = connected
    socket.send("slash_commands", command_payload("谁带领通义实验室?", slack.response_url("to-share")))
    (answer,) = slack.wait_for("/respond/to-share")
    (actions,) = [b for b in answer.body["blocks"] if b.get("block_id") == ACTIONS_BLOCK]
    answer_id = next(e["value"] for e in actions["elements"] if e["action_id"] == SHARE)
    click = json.loads(dict(parse_qsl(action_body(SHARE, answer_id, slack.response_url("share-click"))))["payload"])
    envelope = socket.send("interactive", click)
    assert socket.wait_for_ack(envelope).seconds < ACK_LIMIT
    shared, deleted = slack.wait_for("/respond/share-click", count=2)
    assert shared.body["response_type"] == "in_channel" and deleted.body == {"delete_original": True}


def test_a_slow_slack_never_delays_an_ack(connected):
    """Answers run apart from acks: while Slack takes 4 s to take each answer, new envelopes are
    still acked at once."""
    slack, socket = connected
    slack.script("/respond/slow", Reply(delay=4.0))
    envelopes = [socket.send("slash_commands", command_payload("通义实验室由谁带领?", slack.response_url(f"slow{n}")))
                 for n in range(3)]
    assert all(socket.wait_for_ack(e).seconds < 1.0 for e in envelopes)
    assert len(slack.wait_for("/respond/slow", 3, timeout=30)) == 3


@pytest.mark.parametrize("after_hello", [0.0, 0.01, 0.1])
def test_envelopes_right_after_a_reconnect_are_acked_in_time(connected, after_hello):
    """Slack asks the app to reconnect routinely (``disconnect``, refresh_requested); the new
    connection is open within a second and what arrives on it at once is acked within 3 s."""
    slack, socket = connected
    connections = len(socket.connections)
    asked = time.monotonic()
    socket.disconnect()
    assert socket.wait_for_connections(connections + 1, timeout=10)
    assert socket.hellos[-1] - asked < 1.0
    time.sleep(after_hello)
    envelope = socket.send("slash_commands", command_payload("阿里巴巴 CEO 是谁?", slack.response_url(f"re{after_hello}")))
    ack = socket.wait_for_ack(envelope)
    assert ack is not None and ack.seconds < ACK_LIMIT, f"acked after {ack.seconds if ack else 'never'} s"
    assert slack.wait_for(f"/respond/re{after_hello}")


def test_a_dropped_connection_is_opened_again(connected):
    """A connection Slack closes without notice (a network blip) is replaced, and answers go on."""
    slack, socket = connected
    connections = len(socket.connections)
    socket.drop()
    assert socket.wait_for_connections(connections + 1, timeout=30)
    envelope = socket.send("slash_commands", command_payload("谁批准了林俊旸的辞职?", slack.response_url("dropped")))
    assert socket.wait_for_ack(envelope).seconds < ACK_LIMIT
    assert slack.wait_for("/respond/dropped")


def last_line(process: subprocess.Popen) -> tuple[int, list[str]]:
    output, _ = process.communicate(timeout=60)
    return process.returncode, output.strip().splitlines()


def test_a_socket_url_that_refuses_connections_is_retried_then_given_up(seed_index_dir):
    with FakeSlack() as slack:
        with FakeSocketMode(slack) as gone:
            pass  # its port is closed now: the URL Slack hands out refuses connections
        slack.script("/api/apps.connections.open", Reply(body={"ok": True, "url": gone.url}))
        started = time.monotonic()
        code, lines = last_line(start_socket_bot(slack, seed_index_dir, NEWSBOT_SOCKET_GIVE_UP_SECONDS="4"))
    assert code == 2 and "giving up" in lines[-1] and "NEWSBOT_SOCKET_GIVE_UP_SECONDS" in lines[-1]
    retries = [line for line in lines if "not connected to Slack" in line]
    assert [line.rsplit("trying again in ", 1)[1] for line in retries] == ["1 s", "2 s"]  # pauses that grow
    assert not any("connected to Slack over Socket Mode" in line or "Traceback" in line for line in lines)
    assert time.monotonic() - started < 30


def test_an_app_token_revoked_while_running_stops_the_bot_in_one_line(seed_index_dir):
    with FakeSlack() as slack, FakeSocketMode(slack) as socket:
        process = start_socket_bot(slack, seed_index_dir)
        assert socket.wait_for_connections(1, timeout=60)
        slack.script("/api/apps.connections.open", Reply(body={"ok": False, "error": "token_revoked"}))
        socket.disconnect()
        code, lines = last_line(process)
    assert code == 2 and "SLACK_APP_TOKEN" in lines[-1] and "token_revoked" in lines[-1]
    assert not any("Traceback" in line for line in lines)


def test_a_bot_token_slack_refuses_stops_socket_mode_in_one_line(seed_index_dir):
    with FakeSlack() as slack, FakeSocketMode(slack) as socket:
        slack.script("/api/auth.test", Reply(body={"ok": False, "error": "token_revoked"}))
        code, lines = last_line(start_socket_bot(slack, seed_index_dir))
        assert not socket.connections
    assert code == 2 and "SLACK_BOT_TOKEN" in lines[-1] and "token_revoked" in lines[-1]
