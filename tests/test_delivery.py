"""Acks never wait for answers; answers survive a slow or failing Slack; events are answered once."""

from __future__ import annotations

import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import SEEDS, event_body, sign, slash_command_body
from fake_slack import FakeSlack, Reply
from http_client import get, post, start_bot, start_server

from bot.app import BUSY
from index import Engine

QUESTION = "谁带领通义实验室?"


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def engine(seed_index_dir):
    return Engine(SEEDS, seed_index_dir)


def command(port: int, slack: FakeSlack, name: str, timeout: float = 3.0) -> tuple[int, str]:
    """A signed slash command answered at ``/respond/<name>``; ``timeout`` is Slack's 3 s for the ack."""
    body = slash_command_body(QUESTION, slack.response_url(name))
    return post(port, body, sign(body), timeout=timeout)


def mention(port: int, event_id: str, channel: str, retry: int | None = None) -> int:
    body = event_body({"type": "app_mention", "user": "U0001", "text": "<@UBOT0001> 谁批准了林俊旸的辞职?",
                       "ts": "1700000000.000100", "channel": channel, "event_ts": "1700000000.000100"})
    body = body.replace('"event_id": "Ev', f'"event_id": "{event_id}", "unused": "Ev', 1)
    headers = sign(body) | {"Content-Type": "application/json"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return post(port, body, headers, timeout=3.0)[0]


def test_slow_response_urls_do_not_delay_the_acks_of_later_commands(slack, engine):
    slack.script("/respond/slow-", Reply(delay=2.0))
    bot = start_bot(engine, slack, answer_workers=16)
    try:
        with ThreadPoolExecutor(50) as pool:
            slow = list(pool.map(lambda i: command(bot.port, slack, f"slow-{i:02d}")[0], range(40)))
            time.sleep(0.3)  # the slow answers now hold every answering thread
            fast = list(pool.map(lambda i: command(bot.port, slack, f"fast-{i:02d}")[0], range(10)))
        assert slow == [200] * 40 and fast == [200] * 10
        assert len(slack.wait_for("/respond/slow-", count=40, timeout=30)) == 40
        assert len(slack.wait_for("/respond/fast-", count=10, timeout=30)) == 10
    finally:
        bot.close()


def test_a_response_url_failing_twice_gets_the_answer_on_the_third_try(slack, engine):
    slack.script("/respond/flaky", Reply(status=500), Reply(status=503), Reply())
    bot = start_bot(engine, slack)
    try:
        assert command(bot.port, slack, "flaky")[0] == 200
        calls = slack.wait_for("/respond/flaky", count=3)
        assert len(calls) == 3 and calls[-1].body["blocks"]
    finally:
        bot.close()


def test_rate_limited_post_waits_for_retry_after_then_succeeds(slack, engine):
    slack.script("/api/chat.postMessage", Reply(status=429, headers={"Retry-After": "1"}, body={"ok": False, "error": "ratelimited"}), Reply())
    bot = start_bot(engine, slack)
    try:
        assert mention(bot.port, "EvRate1", "CRATE") == 200
        calls = slack.wait_for("/api/chat.postMessage", count=2)
        assert len(calls) == 2 and calls[1].at - calls[0].at >= 1.0
        assert calls[1].body["channel"] == "CRATE"
    finally:
        bot.close()


def test_a_response_url_that_keeps_failing_is_dropped_with_a_warning(slack, engine, caplog):
    slack.script("/respond/down", Reply(status=500))
    bot = start_bot(engine, slack, delivery_attempts=3)
    caplog.set_level(logging.WARNING, logger="bot.delivery")
    try:
        assert command(bot.port, slack, "down")[0] == 200
        assert len(slack.wait_for("/respond/down", count=3)) == 3
        deadline = time.monotonic() + 10
        while "dropped an answer" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "dropped an answer" in caplog.text and "500" in caplog.text
        time.sleep(0.5)
        assert len(slack.calls_to("/respond/down")) == 3
    finally:
        bot.close()


def test_a_full_queue_answers_busy_at_once(slack, engine):
    slack.script("/respond/hold-", Reply(delay=3.0))
    bot = start_bot(engine, slack, answer_workers=1, queue_size=1)
    try:
        assert command(bot.port, slack, "hold-1") == (200, "")
        time.sleep(0.3)  # the first answer is running, holding the only thread
        assert command(bot.port, slack, "hold-2") == (200, "")  # waits in the queue
        status, ack = command(bot.port, slack, "hold-3")
        assert status == 200 and BUSY in ack
        assert mention(bot.port, "EvBusy1", "CBUSY") == 503  # Slack will send the event again
        assert len(slack.wait_for("/respond/hold-", count=2, timeout=15)) == 2
        time.sleep(0.5)
        assert [c.path for c in slack.calls_to("/respond/hold-")] == ["/respond/hold-1", "/respond/hold-2"]
        assert mention(bot.port, "EvBusy1", "CBUSY", retry=1) == 200  # the retry, now taken
        assert slack.wait_for("/api/chat.postMessage")[0].body["channel"] == "CBUSY"
    finally:
        bot.close()


def test_a_retried_event_is_answered_once(slack, engine):
    bot = start_bot(engine, slack)
    try:
        assert mention(bot.port, "EvOnce1", "CONCE") == 200
        assert mention(bot.port, "EvOnce1", "CONCE", retry=1) == 200
        assert mention(bot.port, "EvOnce1", "CONCE", retry=2) == 200
        assert mention(bot.port, "EvOnce2", "CONCE") == 200  # another event is answered
        slack.wait_for("/api/chat.postMessage", count=2)
        time.sleep(1.0)
        assert len(slack.calls_to("/api/chat.postMessage")) == 2
    finally:
        bot.close()


def test_healthz_is_503_while_stopping(slack, engine):
    bot = start_bot(engine, slack)
    assert get(bot.port, "/healthz")[0] == 200
    bot.stopping = True  # what close() sets first
    try:
        status, report = get(bot.port, "/healthz")
        assert status == 503 and report["ok"] is False
    finally:
        bot.close()


def test_repeated_sigterm_drains_within_the_limit_and_exits_0(slack, seed_index_dir, tmp_path):
    slack.script("/respond/drain-", Reply(delay=30.0))
    process, port = start_server(slack, seed_index_dir, tmp_path, NEWSBOT_DRAIN_SECONDS="2")
    try:
        with ThreadPoolExecutor(10) as pool:
            assert list(pool.map(lambda i: command(port, slack, f"drain-{i}")[0], range(10))) == [200] * 10
        slack.wait_for("/respond/drain-", count=10, timeout=10)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=8) == 0
        output = process.stdout.read()
        assert "newsbot stopped" in output and "unfinished" in output and "Traceback" not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_an_event_refused_as_busy_is_taken_when_slack_resends_it_unchanged(slack, engine):
    slack.script("/respond/hold-", Reply(delay=2.0))
    bot = start_bot(engine, slack, answer_workers=1, queue_size=1)
    body = event_body({"type": "app_mention", "user": "U0001", "text": "<@UBOT0001> 通义", "ts": "1.1", "channel": "CSAME"})
    headers = sign(body) | {"Content-Type": "application/json"}
    try:
        assert command(bot.port, slack, "hold-1")[0] == 200
        time.sleep(0.3)
        assert command(bot.port, slack, "hold-2")[0] == 200
        assert post(bot.port, body, headers)[0] == 503
        slack.wait_for("/respond/hold-", count=2, timeout=15)
        time.sleep(0.5)
        assert post(bot.port, body, headers)[0] == 200  # the same request again, signature and all
        assert slack.wait_for("/api/chat.postMessage")[0].body["channel"] == "CSAME"
    finally:
        bot.close()
