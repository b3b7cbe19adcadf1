"""Run compose.yaml for real and check what an operator relies on (make docker-smoke).

Usage: python tools/docker_smoke.py [--compose podman-compose]

With podman (as root) and podman-compose, it starts compose.yaml's service, with the news from a
host folder (a copy of seeds/), the index in its named volume and Slack out of reach. Then it checks:
- the service is healthy without Slack (`/healthz` says "slack": "unreachable"), runs as uid 10001;
- a restart opens the index it left (the same generation, no rebuild);
- once the local fake of Slack is there, the bot notices (`"slack": "ok"`) and answers a signed
  slash command at its response_url, and refuses a forged one;
- a SIGTERM stops it cleanly.
The override compose.smoke.yaml (written to a temporary folder) only puts the service on the host
network and points it at the fake Slack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import BOT_TOKEN, SIGNING_SECRET, sign, slash_command_body  # noqa: E402
from fake_slack import FakeSlack  # noqa: E402

PROJECT = "newsbot-smoke"
OVERRIDE = """services:
  newsbot:
    network_mode: host
    environment:
      PORT: "{port}"
      NEWSBOT_HOST: 127.0.0.1
      NEWSBOT_SLACK_API_URL: http://127.0.0.1:{slack_port}/api/
      SLACK_BOT_TOKEN: {token}
      SLACK_SIGNING_SECRET: {secret}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(port: int, until: Callable[[dict], bool] = lambda h: True, timeout: float = 180) -> dict:
    """/healthz once it answers 200 and ``until`` holds (or the last answer on timeout)."""
    deadline, last = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                last = json.loads(response.read())
                if until(last):
                    return last
        except OSError:
            pass
        time.sleep(0.5)
    return last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compose", default=str(Path(sys.executable).with_name("podman-compose")))
    args = parser.parse_args()
    port, slack_port = free_port(), free_port()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="newsbot-smoke-") as folder:
        news = Path(folder) / "news"
        shutil.copytree(ROOT / "seeds", news)
        os.chmod(news, 0o777)  # uid 10001 in the container may write (feeds are ingested here)
        override = Path(folder) / "compose.smoke.yaml"
        override.write_text(OVERRIDE.format(port=port, slack_port=slack_port, token=BOT_TOKEN, secret=SIGNING_SECRET), encoding="utf-8")
        env = os.environ | {"NEWSBOT_NEWS": str(news)}
        compose = [args.compose, "-p", PROJECT, "-f", str(ROOT / "compose.yaml"), "-f", str(override)]

        def run(*words: str, check: bool = True) -> subprocess.CompletedProcess:
            print("$", "compose", " ".join(words), flush=True)
            done = subprocess.run([*compose, *words], env=env, cwd=ROOT, text=True, capture_output=True)
            if check and done.returncode != 0:
                raise SystemExit(f"compose {' '.join(words)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            return done

        started = time.monotonic()
        run("build")
        print(f"built in {time.monotonic() - started:.1f} s")
        try:
            started = time.monotonic()
            run("up", "-d")
            first = health(port, lambda h: h.get("ok"))
            print(f"healthy after {time.monotonic() - started:.1f} s without Slack: {first}")
            if first.get("slack") != "unreachable" or not first.get("passages"):
                failures.append(f"not healthy without Slack: {first}")
            user = subprocess.run(["podman", "exec", f"{PROJECT}_newsbot_1", "id", "-u"], text=True, capture_output=True).stdout.strip()
            print(f"runs as uid {user}")
            if user != "10001":
                failures.append(f"runs as uid {user}, not 10001")
            run("restart")
            again = health(port, lambda h: h.get("ok"))
            print(f"after a restart: {again}")
            if again.get("generation") != first.get("generation"):
                failures.append("the index was rebuilt after a restart")
            with FakeSlack(port=slack_port) as slack:
                reached = health(port, lambda h: h.get("slack") == "ok", timeout=90)
                print(f"once Slack is there: {reached}")
                if reached.get("slack") != "ok":
                    failures.append("never noticed that Slack came")
                body = slash_command_body("谁带领通义实验室?", slack.response_url("smoke"))
                request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=sign(body))
                with urllib.request.urlopen(request, timeout=3) as response:
                    print(f"POST /slack/events (signed /news) -> {response.status}")
                answers = slack.wait_for("/respond/smoke", timeout=30)
                if not answers or "靖人" not in json.dumps(answers[0].body, ensure_ascii=False):
                    failures.append("no answer naming 靖人 arrived at response_url")
                else:
                    print(f"answer: {answers[0].body['text']}")
                try:
                    forged = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(),
                                                    headers=sign(body, secret="wrong"))
                    urllib.request.urlopen(forged, timeout=3)
                    failures.append("a forged request was accepted")
                except urllib.error.HTTPError as error:
                    print(f"POST /slack/events (wrong signature) -> {error.code}")
                    if error.code != 401:
                        failures.append(f"a forged request got {error.code}")
            started = time.monotonic()
            run("stop", "-t", "15")
            code = subprocess.run(["podman", "inspect", "--format", "{{.State.ExitCode}}", f"{PROJECT}_newsbot_1"],
                                  text=True, capture_output=True).stdout.strip()
            print(f"stopped in {time.monotonic() - started:.1f} s, exit code {code}")
            if code != "0":
                failures.append(f"exit code {code} on SIGTERM")
        finally:
            logs = run("logs", check=False)
            print("container log (last lines):\n  " + "\n  ".join((logs.stdout + logs.stderr).strip().splitlines()[-6:]))
            run("down", "-v", check=False)
    if failures:
        print("docker-smoke FAILED: " + "; ".join(failures))
        return 1
    print("docker-smoke passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
