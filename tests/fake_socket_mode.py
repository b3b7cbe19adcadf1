"""A local stand-in for Slack's Socket Mode: ``apps.connections.open`` on the fake Web API hands out
a WebSocket URL on 127.0.0.1, where each new connection is greeted with ``hello``; the test sends
envelopes (slash commands, events, clicks), Slack's ``disconnect``, and reads the acks with the
time each took."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass

from fake_slack import FakeSlack, Reply
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve


@dataclass
class Ack:
    envelope_id: str
    sent: float  # time.monotonic() when the envelope went out
    acked: float  # ...and when its ack came back

    @property
    def seconds(self) -> float:
        return self.acked - self.sent


class FakeSocketMode:
    """Use as ``with FakeSocketMode(slack) as socket``: ``slack`` answers ``apps.connections.open``
    with this server's URL (or with what the test scripts instead)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.acks: dict[str, Ack] = {}
        self.connections: list[ServerConnection] = []
        self.hellos: list[float] = []  # when each connection was greeted
        self._sent: dict[str, float] = {}
        self._numbers = itertools.count(1)
        self._changed = threading.Condition()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.port = self._server.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=fake"

    def __enter__(self) -> FakeSocketMode:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.slack.script("/api/apps.connections.open", Reply(body={"ok": True, "url": self.url}))
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()

    def _handle(self, connection: ServerConnection) -> None:
        with self._changed:
            self.connections.append(connection)
            self.hellos.append(time.monotonic())
            self._changed.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"},
                                    "connection_info": {"app_id": "A0001"}}))
        try:
            for message in connection:
                envelope_id = json.loads(message).get("envelope_id")
                with self._changed:
                    if envelope_id in self._sent and envelope_id not in self.acks:
                        self.acks[envelope_id] = Ack(envelope_id, self._sent[envelope_id], time.monotonic())
                        self._changed.notify_all()
        except ConnectionClosed:
            pass

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.connections) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def send(self, kind: str, payload: dict, retry_attempt: int = 0, envelope_id: str | None = None) -> str:
        """Send an envelope on the newest connection; returns its id."""
        envelope_id = envelope_id or f"env-{next(self._numbers)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        with self._changed:
            connection = self.connections[-1]
            self._sent[envelope_id] = time.monotonic()
        connection.send(json.dumps(envelope))
        return envelope_id

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that this connection will close soon: the client should open another."""
        with self._changed:
            connection = self.connections[-1]
        connection.send(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}}))

    def drop(self) -> None:
        """Close the newest connection without notice, as a network failure would."""
        with self._changed:
            connection = self.connections[-1]
        connection.close()

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while envelope_id not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self.acks[envelope_id]
