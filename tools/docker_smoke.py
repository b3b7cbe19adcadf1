"""Build the Docker image, run it, send it a signed slash command, and check the answer and a clean stop.

Usage: python tools/docker_smoke.py [--engine podman|docker] [--image localhost/newsbot:smoke]
Slack is replaced by the tests' local fake (Web API and response_url) on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import BOT_TOKEN, SIGNING_SECRET, sign, slash_command_body  # noqa: E402
from fake_slack import FakeSlack  # noqa: E402


def sh(*args: str, check: bool = True, show: bool = False) -> subprocess.CompletedProcess:
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, check=check, text=True, capture_output=not show)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="podman")
    parser.add_argument("--image", default="localhost/newsbot:smoke")
    args = parser.parse_args()
    engine, image, name = args.engine, args.image, "newsbot-smoke"

    started = time.monotonic()
    build = [engine, "build", "--pull=never", "-t", image, str(ROOT)]
    if engine == "podman":
        build[2:2] = ["--format", "docker"]
    sh(*build, show=True)
    print(f"built {image} in {time.monotonic() - started:.1f} s")
    size = sh(engine, "image", "inspect", "--format", "{{.Size}}", image).stdout.strip()
    print(f"image size: {int(size) / 1e6:.0f} MB")
    user = sh(engine, "image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    print(f"image user: {user}")

    failures = []
    port = free_port()
    with FakeSlack() as slack:
        sh(engine, "rm", "-f", name, check=False)
        sh(engine, "run", "-d", "--name", name, "--network=host",
           "-e", f"SLACK_BOT_TOKEN={BOT_TOKEN}", "-e", f"SLACK_SIGNING_SECRET={SIGNING_SECRET}",
           "-e", f"PORT={port}", "-e", f"NEWSBOT_SLACK_API_URL={slack.api_url}", image)
        try:
            health = wait_healthy(port)
            print(f"GET /healthz -> {health}")
            if engine == "podman":
                check = sh(engine, "healthcheck", "run", name, check=False)
                print(f"podman healthcheck run -> exit {check.returncode} {check.stdout.strip()}")
                if check.returncode != 0:
                    failures.append("HEALTHCHECK failed")

            body = slash_command_body("谁带领通义实验室?", slack.response_url("smoke"))
            request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=sign(body))
            t0 = time.monotonic()
            with urllib.request.urlopen(request, timeout=3) as response:
                print(f"POST /slack/events (signed /news) -> {response.status} in {1000 * (time.monotonic() - t0):.0f} ms")
            answers = slack.wait_for("/respond/smoke", timeout=20)
            if not answers:
                failures.append("no answer arrived at response_url")
            else:
                message = answers[0].body
                first = next(b for b in message["blocks"] if b["type"] == "section" and b["text"]["text"].startswith(">"))
                context = next(b for b in message["blocks"] if b["type"] == "context")["elements"][0]["text"]
                print(f"answer: {message['text']}")
                print(f"  first passage: {first['text']['text'][:80]}…")
                print(f"  citation: {context}")
                if "靖人" not in first["text"]["text"] or "2026-03-05" not in context or "TechWeb" not in context:
                    failures.append("unexpected first passage or citation")

            forged = sign(body, secret="wrong")
            try:
                urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=forged), timeout=3)
                failures.append("forged request was accepted")
            except urllib.error.HTTPError as error:
                print(f"POST /slack/events (wrong signature) -> {error.code}")
                if error.code != 401:
                    failures.append(f"forged request got {error.code}")
        finally:
            t0 = time.monotonic()
            sh(engine, "stop", "-t", "10", name, check=False)
            stopped = time.monotonic() - t0
            code = sh(engine, "inspect", "--format", "{{.State.ExitCode}}", name, check=False).stdout.strip()
            print(f"stop (SIGTERM) took {stopped:.1f} s, exit code {code}")
            logs = sh(engine, "logs", name, check=False)
            print("container log (last lines):\n  " + "\n  ".join((logs.stdout + logs.stderr).strip().splitlines()[-5:]))
            sh(engine, "rm", "-f", name, check=False)
            if code != "0" or stopped > 8:
                failures.append("no clean exit on SIGTERM")

    if failures:
        print("docker-smoke FAILED: " + "; ".join(failures))
        return 1
    print("docker-smoke passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
