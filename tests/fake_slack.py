"""A local stand-in for Slack: the Web API (``/api/<method>``) and ``response_url`` endpoints, recording
calls. A path can be scripted to answer slowly, with errors, or with ``Retry-After``."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_USER_ID = "UBOT0001"


@dataclass
class Call:
    path: str
    body: dict
    at: float = 0.0  # time.monotonic() when it arrived


@dataclass
class Reply:
    """How the fake answers one call: HTTP status, extra headers, a JSON body and a delay first."""

    status: int = 200
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class FakeSlack:
    """Start with ``with FakeSlack() as slack``; ``slack.api_url`` and ``slack.response_url(n)`` are its addresses."""

    def __init__(self, port: int = 0) -> None:
        """``port``: where to listen on 127.0.0.1 (0: any free port)."""
        self.calls: list[Call] = []
        self._changed = threading.Condition()
        self._scripts: dict[str, list[Reply]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                fake._record(Call(self.path, body, time.monotonic()))
                reply = fake._next_reply(self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                data = json.dumps(reply.body if reply.body is not None else fake._default_body(self.path)).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the bot gave up waiting
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def script(self, prefix: str, *replies: Reply) -> None:
        """Answer calls whose path starts with ``prefix`` with ``replies`` in turn, the last one for ever after."""
        with self._changed:
            self._scripts[prefix] = list(replies)

    def _next_reply(self, path: str) -> Reply:
        with self._changed:
            matches = [p for p in self._scripts if path.startswith(p)]
            if not matches:
                return Reply()
            replies = self._scripts[max(matches, key=len)]
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _default_body(self, path: str) -> dict:
        if path == "/api/auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": "BBOT0001", "team_id": "T0001", "user": "newsbot"}
        if path == "/api/chat.postMessage":
            return {"ok": True, "ts": f"{time.time():.6f}", "channel": "C1"}
        if path == "/api/views.publish":
            return {"ok": True, "view": {"id": "V0001"}}
        if path.startswith("/respond/"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def calls_to(self, prefix: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """The calls whose path starts with ``prefix``, once there are ``count`` of them (or on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.path.startswith(prefix)]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._changed.wait(left)

    def __enter__(self) -> FakeSlack:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
