"""Stress: `newsbot serve` under a burst, a steady stream and slow Slack, measured as Slack sees it.

Runs the real server process against a local fake of Slack on 127.0.0.1 (the tests' FakeSlack):

1. a burst of signed slash commands sent all at once;
2. slow ``response_url``s (each takes seconds to answer) sent at once, while
3. a steady stream of commands arrives at a fixed rate for a while.

Reports, per phase, how many commands were acked and within Slack's 3 s, the slowest and p99 ack,
how many answers arrived, and the server's memory over the run. Exits 1 if any command was not
acked within 3 s or not answered, or memory grew by more than ``--max-growth-mb``. Writes the
report to docs/stress.md (``--doc``).

    make stress
    make stress ARGS="--seconds 10 --rate 5"
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import SEEDS, sign, slash_command_body  # noqa: E402
from fake_slack import FakeSlack, Reply  # noqa: E402
from http_client import start_server  # noqa: E402

from index import Engine  # noqa: E402

ACK_LIMIT = 3.0  # seconds Slack waits for an ack
QUESTIONS = ["谁带领通义实验室?", "who leads Tongyi now?", "林俊旸为什么离职?", "Why did Lin Junyang leave?",
             "基模四杰是哪四个人?", "what did Wu Yongming say?", "明天巴黎天气如何?"]


def send(port: int, slack: FakeSlack, name: str, number: int) -> float | None:
    """One signed slash command; its ack time in seconds, or None if it was not acked within 3 s."""
    body = slash_command_body(QUESTIONS[number % len(QUESTIONS)], slack.response_url(name))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=sign(body))
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=ACK_LIMIT) as response:
            response.read()
            ok = response.status == 200
    except (urllib.error.URLError, TimeoutError, OSError):
        return None
    return time.perf_counter() - started if ok else None


def summarise(name: str, acks: list[float | None], slack: FakeSlack, prefix: str, wait: float) -> dict:
    answered = len(slack.wait_for(prefix, count=len(acks), timeout=wait))
    times = sorted(a for a in acks if a is not None)
    return {
        "phase": name,
        "sent": len(acks),
        "acked_in_3s": len(times),
        "ack_p50_ms": round(1000 * times[len(times) // 2], 1) if times else None,
        "ack_p99_ms": round(1000 * times[min(len(times) - 1, int(len(times) * 0.99))], 1) if times else None,
        "ack_max_ms": round(1000 * times[-1], 1) if times else None,
        "answered": answered,
    }


class MemoryWatch(threading.Thread):
    """Samples the server's resident memory every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.process, self.every, self.samples = psutil.Process(pid), every, []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                self.samples.append(self.process.memory_info().rss / 2**20)
            except psutil.Error:
                return


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="newsbot-stress-") as scratch, FakeSlack() as slack:
        Engine(SEEDS, Path(scratch) / "index").build()
        slack.script("/respond/slow-", Reply(delay=args.slow_seconds))
        process, port = start_server(slack, Path(scratch) / "index", Path(scratch),
                                     NEWSBOT_ANSWER_WORKERS=str(args.answer_workers), NEWSBOT_LOG_LEVEL="WARNING")
        log_lines: list[str] = []  # read as it comes, so a full pipe never blocks the server
        threading.Thread(target=lambda: log_lines.extend(process.stdout), daemon=True).start()
        watch = MemoryWatch(process.pid)
        watch.start()
        time.sleep(1.0)
        phases = []
        try:
            with ThreadPoolExecutor(max(args.burst, args.slow) + 64) as pool:
                burst = list(pool.map(lambda i: send(port, slack, f"burst-{i}", i), range(args.burst)))
                phases.append(summarise("burst", burst, slack, "/respond/burst-", 60))
                memory_after_burst = watch.samples[-1] if watch.samples else None
                slow = [pool.submit(send, port, slack, f"slow-{i}", i) for i in range(args.slow)]
                steady, started = [], time.perf_counter()
                for i in range(int(args.rate * args.seconds)):
                    time.sleep(max(0.0, started + i / args.rate - time.perf_counter()))
                    steady.append(pool.submit(send, port, slack, f"steady-{i}", i))
                slow_acks = [f.result() for f in slow]
                steady_acks = [f.result() for f in steady]
            phases.append(summarise(f"slow response_url ({args.slow_seconds:g} s)", slow_acks, slack, "/respond/slow-", 120))
            phases.append(summarise(f"steady {args.rate:g}/s for {args.seconds:g} s", steady_acks, slack, "/respond/steady-", 60))
        finally:
            watch.stopped.set()
            process.terminate()
            process.wait(timeout=30)
        samples = watch.samples or [0.0]
        return {
            "phases": phases,
            "rss_mb": {"start": round(samples[0], 1), "after_burst": round(memory_after_burst or samples[0], 1),
                       "max": round(max(samples), 1), "end": round(samples[-1], 1)},
            "settings": {"answer_workers": args.answer_workers, "burst": args.burst, "slow": args.slow,
                         "rate": args.rate, "seconds": args.seconds, "slow_seconds": args.slow_seconds},
            "exit_code": process.returncode,
            "warnings": [line.rstrip() for line in log_lines if " WARNING " in line or " ERROR " in line][:20],
        }


def report_markdown(report: dict) -> str:
    rows = ["| phase | sent | acked < 3 s | ack p50 ms | ack p99 ms | ack max ms | answered |", "|---|---:|---:|---:|---:|---:|---:|"]
    for p in report["phases"]:
        rows.append(f"| {p['phase']} | {p['sent']} | {p['acked_in_3s']} | {p['ack_p50_ms']} | {p['ack_p99_ms']} | {p['ack_max_ms']} | {p['answered']} |")
    rss = report["rss_mb"]
    return "\n".join([
        "# Stress", "",
        "One run of `make stress` on this project's 2-core machine: `newsbot serve` as its own process, a local",
        "fake of Slack on 127.0.0.1, signed slash commands over real HTTP, the seed corpus. Settings: "
        + ", ".join(f"{k} {v}" for k, v in report["settings"].items()) + ".", "",
        *rows, "",
        f"Server memory (RSS): {rss['start']} MB at start, {rss['after_burst']} MB after the burst, "
        f"{rss['max']} MB at most, {rss['end']} MB at the end. Exit status after SIGTERM: {report['exit_code']}.", "",
    ])


def failures(report: dict, max_growth_mb: float) -> list[str]:
    problems = []
    for phase in report["phases"]:
        if phase["acked_in_3s"] != phase["sent"]:
            problems.append(f"{phase['phase']}: {phase['sent'] - phase['acked_in_3s']} not acked within 3 s")
        if phase["answered"] != phase["sent"]:
            problems.append(f"{phase['phase']}: {phase['sent'] - phase['answered']} not answered")
    growth = report["rss_mb"]["end"] - report["rss_mb"]["after_burst"]
    if growth > max_growth_mb:
        problems.append(f"memory grew by {growth:.0f} MB after the burst")
    if report["exit_code"] != 0:
        problems.append(f"the server exited {report['exit_code']} on SIGTERM")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--burst", type=int, default=100, help="commands sent at once")
    parser.add_argument("--slow", type=int, default=40, help="commands whose response_url is slow")
    parser.add_argument("--slow-seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=float, default=20.0, help="steady commands per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the steady stream lasts")
    parser.add_argument("--answer-workers", type=int, default=64)
    parser.add_argument("--max-growth-mb", type=float, default=50.0)
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--doc", default=str(ROOT / "docs" / "stress.md"), help="write the report here ('' for nowhere)")
    args = parser.parse_args()
    report = run(args)
    text = report_markdown(report)
    print(text)
    if args.doc:
        Path(args.doc).write_text(text, encoding="utf-8")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1), encoding="utf-8")
    problems = failures(report, args.max_growth_mb)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
