"""The bot over real HTTP on 127.0.0.1, spoken to the way Slack speaks to it."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import BOT_TOKEN, SEEDS, SIGNING_SECRET, event_body, sign, slash_command_body
from fake_slack import BOT_USER_ID
from http_client import get, post, start_bot, start_server

from bot.render import APOLOGY
from index import Engine


def section_texts(message: dict) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def context_texts(message: dict) -> list[str]:
    return [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]


@pytest.fixture(scope="module")
def server(slack, seed_index_dir, tmp_path_factory):
    """``newsbot serve`` in HTTP mode as its own process, as it runs in production."""
    process, port = start_server(slack, seed_index_dir, tmp_path_factory.mktemp("serve"))
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


def test_healthz_reports_the_index(server):
    _, port = server
    status, body = get(port, "/healthz")
    assert status == 200 and body["ok"] is True and body["passages"] > 0


def test_signed_slash_command_is_acked_then_answered_with_cited_passages(server, slack):
    _, port = server
    body = slash_command_body("谁带领通义实验室?", slack.response_url("tongyi"))
    status, ack = post(port, body, sign(body), timeout=3)
    assert status == 200 and ack == ""
    (call,) = slack.wait_for("/respond/tongyi")
    message = call.body
    assert message["response_type"] == "ephemeral"
    quotes = section_texts(message)[1:]
    assert quotes and all(q.startswith(">") for q in quotes)
    assert "靖人会继续" in quotes[0]
    assert "*带领" in quotes[0]  # the matched words are bold
    assert "*2026-03-05*\u200b · TechWeb" in context_texts(message)[0]
    assert "¶" in context_texts(message)[0]


def test_english_question_is_answered_from_chinese_news_with_the_matched_chinese_in_bold(server, slack):
    _, port = server
    body = slash_command_body("who leads Tongyi now?", slack.response_url("english"))
    assert post(port, body, sign(body), timeout=3)[0] == 200
    (call,) = slack.wait_for("/respond/english")
    first = section_texts(call.body)[1]
    plain = first.replace("\u200b", "").replace("*", "")
    assert "靖人会继续带领通义实验室" in plain or "明确周靖人继续带队" in plain
    assert "*带领" in first or "*带队" in first
    assert "*通义" in first


@pytest.mark.parametrize(
    "name, headers",
    [
        ("unsigned", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("wrong-secret", "wrong"),
        ("stale", "stale"),
    ],
)
def test_unsigned_forged_and_replayed_requests_get_401_and_no_answer(server, slack, name, headers):
    _, port = server
    body = slash_command_body("谁带领通义实验室?", slack.response_url(f"rejected-{name}"))
    if headers == "wrong":
        headers = sign(body, secret="not-the-secret")
    elif headers == "stale":
        headers = sign(body, timestamp=int(time.time()) - 6 * 60)
    status, _ = post(port, body, headers)
    assert status == 401
    assert slack.wait_for(f"/respond/rejected-{name}", timeout=1.5) == []


@pytest.mark.parametrize("text", ["", "help"])
def test_empty_command_and_help_show_usage(server, slack, text):
    _, port = server
    body = slash_command_body(text, slack.response_url(f"usage-{text or 'empty'}"))
    assert post(port, body, sign(body))[0] == 200
    (call,) = slack.wait_for(f"/respond/usage-{text or 'empty'}")
    assert "/news who leads Tongyi now?" in call.body["text"]


def test_question_with_no_answer_in_the_news_says_so(server, slack):
    _, port = server
    body = slash_command_body("明天巴黎天气如何?", slack.response_url("weather"))
    assert post(port, body, sign(body))[0] == 200
    (call,) = slack.wait_for("/respond/weather")
    assert call.body["text"].startswith("Nothing in the news matches")


def test_huge_question_is_answered_politely(server, slack):
    _, port = server
    body = slash_command_body("通义" * 2000, slack.response_url("huge"))
    assert post(port, body, sign(body))[0] == 200
    (call,) = slack.wait_for("/respond/huge")
    assert "4000 characters long" in call.body["text"]


def test_url_verification_challenge(server):
    _, port = server
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    headers = sign(body) | {"Content-Type": "application/json"}
    status, reply = post(port, body, headers)
    assert status == 200 and "abc123" in reply


def test_app_mention_is_answered_in_its_thread(server, slack):
    _, port = server
    body = event_body({"type": "app_mention", "user": "U0001", "text": f"<@{BOT_USER_ID}> 谁批准了林俊旸的辞职?",
                       "ts": "1700000000.000100", "channel": "C0001", "event_ts": "1700000000.000100"})
    assert post(port, body, sign(body) | {"Content-Type": "application/json"})[0] == 200
    calls = slack.wait_for("/api/chat.postMessage")
    mention = [c for c in calls if c.body.get("thread_ts") == "1700000000.000100"]
    assert mention, calls
    assert any("批准" in text for text in section_texts(mention[0].body))


def test_direct_message_is_answered(server, slack):
    _, port = server
    before = len(slack.calls_to("/api/chat.postMessage"))
    body = event_body({"type": "message", "channel_type": "im", "user": "U0001", "text": "基模四杰是哪四个人?",
                       "ts": "1700000001.000100", "channel": "D0001", "event_ts": "1700000001.000100"})
    assert post(port, body, sign(body) | {"Content-Type": "application/json"})[0] == 200
    calls = slack.wait_for("/api/chat.postMessage", count=before + 1)
    dm = [c for c in calls if c.body.get("channel") == "D0001"]
    assert dm and "基模四杰" in json.dumps(dm[0].body, ensure_ascii=False)


def test_metrics_count_questions_refusals_and_deliveries_and_describe_the_index(server, slack):
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    _, port = server
    for name, question in (("m1", "谁批准了林俊旸的辞职?"), ("m2", "What is the price of Alibaba stock today?")):
        body = slash_command_body(question, slack.response_url(name))
        assert post(port, body, sign(body), timeout=3)[0] == 200
        slack.wait_for(f"/respond/{name}")
    delivered = ("newsbot_slack_deliveries_total", (("method", "respond"), ("result", "ok")))
    deadline = time.monotonic() + 5
    while True:  # a delivery is counted just after the fake Slack has it
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.headers["Content-Type"].startswith("text/plain")
            families = list(text_string_to_metric_families(response.read().decode()))
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}
        if samples.get(delivered, 0) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert samples[("newsbot_questions_total", (("outcome", "answered"),))] >= 1
    assert samples[("newsbot_refusals_total", (("reason", "live"),))] >= 1
    assert samples[delivered] >= 2
    assert samples[("newsbot_answer_seconds_count", ())] >= 2
    assert samples[("newsbot_index_passages", ())] == get(port, "/healthz")[1]["passages"]
    assert samples[("newsbot_index_newest_article_timestamp_seconds", ())] > 0
    assert any(name == "newsbot_index_generation_info" for name, _ in samples)


def test_sigterm_stops_the_server_cleanly(server):
    process, port = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    output = process.stdout.read()
    assert "Traceback" not in output and "newsbot stopped" in output
    assert "will be unused" not in output and BOT_TOKEN not in output and SIGNING_SECRET not in output


# --- in-process: the same server with an engine made slow or broken on purpose ----------------


class SlowEngine(Engine):
    def ask(self, question: str, top_k: int = 3):
        time.sleep(1.5)
        return super().ask(question, top_k)


class BrokenEngine(Engine):
    def ask(self, question: str, top_k: int = 3):
        raise RuntimeError("disk on fire")


def test_twenty_slow_commands_at_once_are_all_acked_in_time_and_all_answered(slack, seed_index_dir):
    bot = start_bot(SlowEngine(SEEDS, seed_index_dir), slack)
    try:
        def send(i: int) -> int:
            body = slash_command_body("谁带领通义实验室?", slack.response_url(f"burst-{i:02d}"))
            return post(bot.port, body, sign(body), timeout=3.0)[0]  # Slack gives up after 3 s

        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(send, range(20)))
        assert statuses == [200] * 20
        answers = slack.wait_for("/respond/burst-", count=20, timeout=30)
        assert sorted(c.path for c in answers) == [f"/respond/burst-{i:02d}" for i in range(20)]
        assert all(c.body["blocks"] for c in answers)
    finally:
        bot.close()


def test_a_failure_inside_the_bot_gets_an_apology(slack, seed_index_dir):
    bot = start_bot(BrokenEngine(SEEDS, seed_index_dir), slack)
    try:
        body = slash_command_body("谁带领通义实验室?", slack.response_url("broken"))
        assert post(bot.port, body, sign(body))[0] == 200
        (call,) = slack.wait_for("/respond/broken")
        assert call.body["text"] == APOLOGY
    finally:
        bot.close()

