"""Sharing, rating and following up on answers, and App Home: real HTTP on 127.0.0.1, signed
requests, the local fake of Slack's Web API and response_url, a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from conftest import NEWSBOT, SEEDS, action_body, event_body, sign, slash_command_body
from http_client import post, start_bot

from bot.render import ACTIONS_BLOCK, SHARE, VOTE_DOWN, VOTE_UP


@pytest.fixture(scope="module")
def bot(slack, seed_engine, tmp_path_factory):
    database = tmp_path_factory.mktemp("feedback") / "feedback.sqlite"
    running = start_bot(seed_engine, slack, feedback_db=database)
    yield running, database
    running.close()


def buttons(message: dict) -> dict[str, str]:
    """Action id → the answer id its button carries."""
    (actions,) = [b for b in message["blocks"] if b.get("block_id") == ACTIONS_BLOCK]
    return {e["action_id"]: e["value"] for e in actions["elements"]}


def ask(bot, slack, question: str, name: str) -> dict:
    body = slash_command_body(question, slack.response_url(name))
    assert post(bot.port, body, sign(body))[0] == 200
    (call,) = slack.wait_for(f"/respond/{name}")
    return call.body


def click(bot, action: str, value: str, response_url: str, user: str = "U0001") -> None:
    body = action_body(action, value, response_url, user)
    status, text = post(bot.port, body, sign(body))
    assert status == 200, text


def test_an_answer_carries_share_and_vote_buttons(bot, slack):
    running, _ = bot
    message = ask(running, slack, "谁批准了林俊旸的辞职?", "buttons")
    assert message["response_type"] == "ephemeral"
    assert set(buttons(message)) == {SHARE, VOTE_UP, VOTE_DOWN} and len(set(buttons(message).values())) == 1


def test_share_posts_the_answer_in_the_channel_and_removes_the_private_copy(bot, slack):
    running, _ = bot
    message = ask(running, slack, "谁带领通义实验室?", "to-share")
    answer_id = buttons(message)[SHARE]
    click(running, SHARE, answer_id, slack.response_url("share-click"), user="U0042")
    shared, deleted = slack.wait_for("/respond/share-click", count=2)
    assert shared.body["response_type"] == "in_channel" and shared.body["replace_original"] is False
    texts = json.dumps(shared.body["blocks"], ensure_ascii=False)
    assert "Shared by <@U0042>" in texts
    sections = lambda m: [b for b in m["blocks"] if b["type"] in ("section", "context")]  # noqa: E731
    assert sections(shared.body)[:-1] == sections(message)  # the same passages and citations, then who shared them
    assert SHARE not in buttons(shared.body) and {VOTE_UP, VOTE_DOWN} <= set(buttons(shared.body))
    assert deleted.body == {"delete_original": True}


def test_votes_land_in_the_database_and_feedback_exports_them_for_eval(bot, slack, tmp_path, seed_index_dir):
    running, database = bot
    good = buttons(ask(running, slack, "谁批准了林俊旸的辞职?", "good"))[VOTE_UP]
    bad = buttons(ask(running, slack, "Who won the 2030 World Cup final?", "bad"))
    bad = bad.get(VOTE_DOWN)
    click(running, VOTE_UP, good, slack.response_url("vote-1"), user="U0001")
    click(running, VOTE_UP, good, slack.response_url("vote-2"), user="U0002")
    click(running, VOTE_DOWN, bad, slack.response_url("vote-3"), user="U0001")
    for name in ("vote-1", "vote-2", "vote-3"):
        (thanks,) = slack.wait_for(f"/respond/{name}")
        assert thanks.body["response_type"] == "ephemeral" and thanks.body["text"].startswith("Thanks")
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT answer_id, user_hash, vote FROM votes ORDER BY created").fetchall()
        shown = json.loads(db.execute("SELECT passages FROM answers WHERE id = ?", (good,)).fetchone()[0])
    assert [(a, v) for a, _, v in rows] == [(good, 1), (good, 1), (bad, -1)]
    assert len({h for _, h, _ in rows}) == 2 and not any(h.startswith("U0") for _, h, _ in rows)  # hashed
    assert shown[0]["doc_id"] and "paragraph" in shown[0]
    exported = tmp_path / "cases.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")} | {"NEWSBOT_FEEDBACK_DB": str(database)}
    done = subprocess.run([NEWSBOT, "feedback", "--export", str(exported)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 vote(s) helpful, 1 wrong" in done.stdout
    cases = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [c["question"] for c in cases] == ["谁批准了林俊旸的辞职?", "Who won the 2030 World Cup final?"]
    assert cases[0]["gold"] and cases[0]["gold"][0] in shown[0]["text"] and cases[1]["gold"] == []
    env |= {"NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(seed_index_dir)}
    evaluated = subprocess.run([NEWSBOT, "eval", str(exported), "--json"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["hit@1"] == 1.0 and result["no_answer_accuracy"] == 1.0


def test_a_click_on_an_unknown_answer_says_it_is_gone(bot, slack):
    running, _ = bot
    click(running, VOTE_UP, "0" * 32, slack.response_url("gone"))
    (reply,) = slack.wait_for("/respond/gone")
    assert "no longer available" in reply.body["text"]


def test_a_reply_in_the_thread_of_an_answer_is_answered_there_with_its_context(bot, slack):
    running, _ = bot
    first = event_body({"type": "app_mention", "user": "U0001", "channel": "C0009", "ts": "1700000000.000100",
                        "text": "<@UBOT0001> why did Lin Junyang leave?"})
    assert post(running.port, first, {**sign(first), "Content-Type": "application/json"})[0] == 200
    (answer,) = slack.wait_for("/api/chat.postMessage", count=1, timeout=20)
    assert answer.body["thread_ts"] == "1700000000.000100"
    follow_up = event_body({"type": "message", "user": "U0001", "channel": "C0009", "channel_type": "channel",
                            "ts": "1700000050.000100", "thread_ts": "1700000000.000100", "text": "who approved it?"})
    assert post(running.port, follow_up, {**sign(follow_up), "Content-Type": "application/json"})[0] == 200
    calls = slack.wait_for("/api/chat.postMessage", count=2, timeout=20)
    reply = calls[1].body
    assert reply["thread_ts"] == "1700000000.000100"
    first_passage = [b for b in reply["blocks"] if b["type"] == "section"][1]["text"]["text"].replace("*", "").replace("\u200b", "")
    assert "批准" in first_passage and "林俊旸" in first_passage
    elsewhere = event_body({"type": "message", "user": "U0001", "channel": "C0009", "channel_type": "channel",
                            "ts": "1700000060.000100", "thread_ts": "1600000000.000100", "text": "who approved it?"})
    assert post(running.port, elsewhere, {**sign(elsewhere), "Content-Type": "application/json"})[0] == 200
    time.sleep(1)
    assert len(slack.calls_to("/api/chat.postMessage")) == 2  # a thread the bot did not start is not its business


def test_app_home_shows_how_to_ask_the_index_and_recent_questions(bot, slack):
    running, _ = bot
    ask(running, slack, "谁带领通义实验室?", "home-question")
    opened = event_body({"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"})
    assert post(running.port, opened, {**sign(opened), "Content-Type": "application/json"})[0] == 200
    (call,) = slack.wait_for("/api/views.publish")
    assert call.body["user_id"] == "U0001"
    view = call.body["view"] if isinstance(call.body["view"], dict) else json.loads(call.body["view"])
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home" and "/news who leads Tongyi now?" in text and "谁批准了林俊旸的辞职?" in text
    assert "passages" in text and "谁带领通义实验室?" in text


def test_metrics_count_votes_and_shares(bot, slack):
    running, _ = bot
    answer_id = buttons(ask(running, slack, "谁带领通义实验室?", "metric-vote"))[VOTE_UP]
    click(running, VOTE_UP, answer_id, slack.response_url("metric-vote-click"), user="U0077")
    slack.wait_for("/respond/metric-vote-click")
    with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/metrics", timeout=5) as response:
        families = list(text_string_to_metric_families(response.read().decode()))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}
    assert samples[("newsbot_feedback_votes_total", (("vote", "helpful"),))] >= 1
    assert ("newsbot_answers_shared_total", ()) in samples
