"""Socket Mode acks across reconnects, against the local fake of Slack's Socket Mode (tests/).

    python bench/socket_mode.py [--rounds 10]

`newsbot serve --mode socket` runs on the seed index as its own process. Each round sends Slack's
``disconnect`` three times; after each new ``hello`` a slash command goes out 0, 10 or 100 ms later.
Printed: the slowest and median ack for each delay (Slack allows 3 s), and the time from
``disconnect`` to the new connection's ``hello``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_slack import FakeSlack  # noqa: E402
from fake_socket_mode import FakeSocketMode  # noqa: E402
from test_socket_mode import command_payload, start_socket_bot  # noqa: E402

from index import Engine  # noqa: E402

DELAYS = (0.0, 0.01, 0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    index_dir = Path(tempfile.mkdtemp(prefix="newsbot-socket-bench-")) / "index"
    Engine(ROOT / "seeds", index_dir).index()
    acks: dict[float, list[float]] = {delay: [] for delay in DELAYS}
    reconnects: list[float] = []
    with FakeSlack() as slack, FakeSocketMode(slack) as socket:
        process = start_socket_bot(slack, index_dir)
        try:
            if not socket.wait_for_connections(1, timeout=60):
                raise SystemExit("the bot did not connect")
            for round_ in range(args.rounds):
                for delay in DELAYS:
                    connections, asked = len(socket.connections), time.monotonic()
                    socket.disconnect()
                    socket.wait_for_connections(connections + 1, timeout=10)
                    reconnects.append(socket.hellos[-1] - asked)
                    time.sleep(delay)
                    envelope = socket.send("slash_commands", command_payload("阿里巴巴 CEO 是谁?", slack.response_url(f"r{round_}-{delay}")))
                    ack = socket.wait_for_ack(envelope, timeout=10)
                    acks[delay].append(ack.seconds if ack else float("inf"))
        finally:
            process.terminate()
            process.wait(timeout=20)
    for delay, seconds in acks.items():
        seconds.sort()
        print(f"envelope {delay * 1000:.0f} ms after hello: slowest ack {seconds[-1] * 1000:.1f} ms, "
              f"median {seconds[len(seconds) // 2] * 1000:.1f} ms (Slack allows 3,000)")
    reconnects.sort()
    print(f"disconnect → new hello: slowest {reconnects[-1] * 1000:.0f} ms, median {reconnects[len(reconnects) // 2] * 1000:.0f} ms "
          f"({len(reconnects)} disconnects)")


if __name__ == "__main__":
    main()
