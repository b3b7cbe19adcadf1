"""A local stand-in for Slack: the Web API (``/api/<method>``) and ``response_url`` endpoints, recording calls."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_USER_ID = "UBOT0001"


@dataclass
class Call:
    path: str
    body: dict


class FakeSlack:
    """Start with ``with FakeSlack() as slack``; ``slack.api_url`` and ``slack.response_url(n)`` are its addresses."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = threading.Condition()
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
                fake._record(Call(self.path, body))
                reply = fake._reply(self.path)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def _reply(self, path: str) -> dict:
        if path == "/api/auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": "BBOT0001", "team_id": "T0001", "user": "newsbot"}
        if path == "/api/chat.postMessage":
            return {"ok": True, "ts": f"{time.time():.6f}", "channel": "C1"}
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
