"""Forged, garbled and oversized requests: none makes the bot talk, none gets a 500, none is logged."""

from __future__ import annotations

import json
import logging
import time

import pytest
from conftest import SEEDS, event_body, sign, slash_command_body
from fake_slack import FakeSlack
from http_client import post, start_bot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index import Engine

MARKER = "secret-user-text-7f3a"


@pytest.fixture(scope="module")
def bot(slack, seed_index_dir):
    bot = start_bot(Engine(SEEDS, seed_index_dir), slack, max_body_bytes=64 * 1024)
    yield bot
    bot.close()


def answers_sent(slack: FakeSlack) -> list:
    return slack.calls_to("/respond/") + slack.calls_to("/api/chat.postMessage")


def mention_body(channel: str = "CVICTIM") -> str:
    return event_body({"type": "app_mention", "user": "U0001", "text": f"<@UBOT0001> {MARKER}",
                       "ts": "1700000000.000100", "channel": channel, "event_ts": "1700000000.000100"})


@pytest.mark.parametrize("timestamp", ["x", "", "1e3", "-5", " 1700000000", "١٧٠٠".encode().decode("latin-1"), "17²", "9" * 40, "1.5", "0x10"])
@pytest.mark.parametrize("kind", ["command", "event"])
def test_garbled_timestamps_get_401_and_the_bot_posts_nothing(bot, slack, timestamp, kind):
    before = len(answers_sent(slack))
    if kind == "command":
        body, content_type = slash_command_body(MARKER, slack.response_url("victim")), "application/x-www-form-urlencoded"
    else:
        body, content_type = mention_body(), "application/json"
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    status, _ = post(bot.port, body, headers)
    assert status == 401
    time.sleep(0.3)
    assert len(answers_sent(slack)) == before


def test_a_signature_made_with_a_garbled_timestamp_is_still_refused(bot, slack):
    body = slash_command_body(MARKER, slack.response_url("garbled-signed"))
    headers = sign(body) | {"X-Slack-Request-Timestamp": "1e3"}
    assert post(bot.port, body, headers)[0] == 401
    assert slack.wait_for("/respond/garbled-signed", timeout=1.0) == []


def test_unsigned_event_naming_a_channel_gets_401_and_no_post(bot, slack):
    before = len(slack.calls_to("/api/chat.postMessage"))
    status, _ = post(bot.port, mention_body(), {"Content-Type": "application/json"})
    assert status == 401
    time.sleep(0.3)
    assert len(slack.calls_to("/api/chat.postMessage")) == before


def test_oversized_body_gets_413_without_being_read(bot, slack):
    body = slash_command_body("通义" * 40_000, slack.response_url("huge-body"))
    status, _ = post(bot.port, body, sign(body))
    assert status == 413
    assert slack.wait_for("/respond/huge-body", timeout=1.0) == []


def test_bad_content_length_gets_400(bot):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=5)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Length", "abc")
    connection.endheaders()
    assert connection.getresponse().status == 400
    connection.close()


@pytest.mark.parametrize("body, content_type", [
    (b"\xff\xfe garbage", "application/x-www-form-urlencoded"),
    (b"{not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
])
def test_signed_garbage_is_never_a_server_error(bot, slack, body, content_type):
    before = len(answers_sent(slack))
    status, _ = post(bot.port, body, sign(body.decode("utf-8", "replace")) | {"Content-Type": content_type})
    assert status < 500
    time.sleep(0.2)
    assert len(answers_sent(slack)) == before


def test_only_the_events_path_takes_posts(bot):
    body = "x=1"
    assert post(bot.port, body, sign(body), path="/other")[0] == 404


def test_rejected_requests_leave_no_body_in_the_log(bot, slack, caplog):
    caplog.set_level(logging.DEBUG)
    body = slash_command_body(MARKER, slack.response_url("logged"))
    post(bot.port, body, {"Content-Type": "application/x-www-form-urlencoded"})
    post(bot.port, body, sign(body, secret="wrong-secret"))
    time.sleep(0.2)
    assert "rejected a request" in caplog.text
    assert MARKER not in caplog.text and "logged" not in caplog.text


def test_questions_and_tokens_never_reach_the_log_at_info(bot, slack, caplog):
    caplog.set_level(logging.INFO)
    body = slash_command_body(f"{MARKER} 通义", slack.response_url("quiet"))
    assert post(bot.port, body, sign(body))[0] == 200
    assert slack.wait_for("/respond/quiet")
    body = mention_body("CQUIET")
    assert post(bot.port, body, sign(body) | {"Content-Type": "application/json"})[0] == 200
    slack.wait_for("/api/chat.postMessage")
    time.sleep(0.2)
    assert MARKER not in caplog.text and "xoxb-" not in caplog.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=600) | st.text(max_size=300).map(str.encode),
    timestamp=st.none() | st.text(max_size=20) | st.integers(-2**63, 2**63).map(str),
    signature=st.none() | st.text(max_size=80) | st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex()),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_random_unsigned_requests_are_refused_and_never_answered(bot, slack, body, timestamp, signature, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    for name, value in (("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)):
        if value is not None and value.isascii() and value.isprintable() and value == value.strip():
            headers[name] = value
    before = len(answers_sent(slack))
    status, _ = post(bot.port, body, headers)
    assert status in (400, 401, 413)
    assert len(answers_sent(slack)) == before


def test_url_verification_still_works_signed(bot):
    body = json.dumps({"type": "url_verification", "challenge": "c-42", "token": "x"})
    status, reply = post(bot.port, body, sign(body) | {"Content-Type": "application/json"})
    assert status == 200 and "c-42" in reply


SLACK_KEYS = ["type", "event", "event_id", "command", "text", "response_url", "channel", "user", "ts", "thread_ts",
              "channel_type", "subtype", "bot_id", "team_id", "api_app_id", "authorizations", "challenge", "token"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(["event_callback", "app_mention", "message", "im"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(SLACK_KEYS), inner, max_size=5),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(st.sampled_from(SLACK_KEYS), json_values, max_size=8), as_form=st.booleans())
def test_signed_payloads_of_any_shape_never_crash_the_bot(bot, payload, as_form):
    if as_form:
        body = "&".join(f"{key}={json.dumps(value)}" for key, value in payload.items())
        headers = sign(body)
    else:
        body = json.dumps(payload)
        headers = sign(body) | {"Content-Type": "application/json"}
    status, _ = post(bot.port, body, headers)
    assert status < 500


def test_a_replayed_signed_request_is_acked_and_ignored(bot, slack):
    body = slash_command_body("谁带领通义实验室?", slack.response_url("replayed"))
    headers = sign(body)
    assert post(bot.port, body, headers)[0] == 200
    assert post(bot.port, body, headers)[0] == 200
    assert post(bot.port, body, headers)[0] == 200
    assert len(slack.wait_for("/respond/replayed")) == 1
    time.sleep(0.5)
    assert len(slack.calls_to("/respond/replayed")) == 1


def test_a_chunked_signed_request_is_answered(bot, slack):
    import http.client

    body = slash_command_body("谁带领通义实验室?", slack.response_url("chunked")).encode()
    connection = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=5)
    connection.request("POST", "/slack/events", body=iter([body[:50], body[50:]]), headers=sign(body.decode()),
                       encode_chunked=True)
    assert connection.getresponse().status == 200
    connection.close()
    assert slack.wait_for("/respond/chunked")
