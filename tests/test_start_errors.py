"""`newsbot serve` that cannot start says why in one line naming the setting, and exits 2."""

from __future__ import annotations

import socket

import pytest
from conftest import BOT_TOKEN, SEEDS, SIGNING_SECRET
from fake_slack import FakeSlack, Reply
from http_client import free_port, get, start_server
from test_cli import one_line, run


@pytest.fixture
def http_env(seed_index_dir):
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "NEWSBOT_HOST": "127.0.0.1",
        "NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(seed_index_dir), "PORT": str(free_port()),
    }


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_token_slack_refuses_is_one_line(http_env, tmp_path, error):
    with FakeSlack() as slack:
        slack.script("/api/auth.test", Reply(body={"ok": False, "error": error}))
        line = one_line(run("serve", "--mode", "http", env=http_env | {"NEWSBOT_SLACK_API_URL": slack.api_url}, cwd=tmp_path))
    assert "SLACK_BOT_TOKEN" in line and error in line


def test_slack_out_of_reach_does_not_stop_the_http_bot_which_says_so_in_healthz(seed_index_dir, tmp_path):
    """A container may start before Slack is in reach: it serves /healthz (slack "unreachable") and
    answers once Slack is there."""
    with FakeSlack() as gone:
        pass  # its port is closed now: Slack out of reach
    process, port = start_server(gone, seed_index_dir, tmp_path)
    try:
        status, health = get(port, "/healthz")
        assert status == 200 and health["slack"] == "unreachable"
    finally:
        process.kill()
        process.wait()
    assert "cannot reach Slack" in process.stdout.read()


def test_slack_out_of_reach_stops_socket_mode_in_one_line(seed_index_dir, tmp_path):
    api = f"http://127.0.0.1:{free_port()}/api/"
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-A0001-1-notreal", "NEWSBOT_SLACK_API_URL": api,
           "NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(seed_index_dir)}
    line = one_line(run("serve", "--mode", "socket", env=env, cwd=tmp_path))
    assert "cannot reach Slack" in line and "NEWSBOT_SLACK_API_URL" in line


def test_a_port_in_use_is_one_line(http_env, tmp_path):
    with FakeSlack() as slack, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = http_env | {"NEWSBOT_SLACK_API_URL": slack.api_url, "PORT": str(taken.getsockname()[1])}
        line = one_line(run("serve", "--mode", "http", env=env, cwd=tmp_path))
    assert "cannot listen" in line and "PORT" in line


@pytest.mark.parametrize("error", ["invalid_auth", "not_allowed_token_type"])
def test_an_app_token_slack_refuses_is_one_line(seed_index_dir, tmp_path, error):
    with FakeSlack() as slack:
        slack.script("/api/apps.connections.open", Reply(body={"ok": False, "error": error}))
        env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-A0001-1-notreal", "NEWSBOT_SLACK_API_URL": slack.api_url,
               "NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(seed_index_dir)}
        line = one_line(run("serve", env=env, cwd=tmp_path))
    assert "SLACK_APP_TOKEN" in line and error in line
