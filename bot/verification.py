"""Only requests Slack signed reach the bot: a WSGI layer in front of bolt.

Every ``POST`` is read (up to a size limit) and its ``X-Slack-Signature`` checked against the
signing secret and a timestamp within five minutes, before bolt or anything else looks at the body.
An unsigned, forged, stale or garbled request gets 401 (or 400/413) and nothing of its body is
used or logged. A signed request sent again (the same signature within its five minutes) is a
replay: it is acked and ignored."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from bot.dedupe import SeenRecently

log = logging.getLogger(__name__)
MAX_CLOCK_SKEW = 5 * 60  # seconds: Slack's own rule against replays
_MAX_TIMESTAMP_DIGITS = 12


def plain_response(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


# The fields bolt reads while routing a request, and the JSON type each must have when present.
_OBJECT_FIELDS = ("event", "view", "container", "message", "channel", "user", "team", "enterprise")
_STRING_FIELDS = ("type", "event_id", "command", "text", "response_url", "team_id", "api_app_id", "callback_id",
                  "enterprise_id", "user_id", "channel_id", "trigger_id", "token", "challenge")
_EVENT_STRING_FIELDS = ("type", "subtype", "text", "channel", "channel_type", "ts", "thread_ts", "user", "bot_id")


def _typed(record: dict, fields: tuple[str, ...], kind: type | tuple[type, ...]) -> bool:
    return all(isinstance(record[name], kind) for name in fields if name in record and record[name] is not None)


def _slack_shaped(payload: object) -> bool:
    if not isinstance(payload, dict):
        return False
    if not (_typed(payload, _STRING_FIELDS, str) and _typed(payload, _OBJECT_FIELDS, (dict, str))):
        return False
    if "event" in payload and not (isinstance(payload["event"], dict) and _typed(payload["event"], _EVENT_STRING_FIELDS, str)):
        return False
    for name in ("authorizations", "actions"):
        if name in payload and not (isinstance(payload[name], list) and all(isinstance(a, dict) for a in payload[name])):
            return False
    return True


def well_formed(body: bytes, content_type: str) -> bool:
    """The body is UTF-8 and, read the way bolt reads it, a JSON object or a form (whose ``payload``,
    if any, is a JSON object), with the fields bolt routes on of the types Slack sends."""
    try:
        text = body.decode("utf-8")
        if not text:
            return True
        if content_type == "application/json" or text.startswith("{"):
            return _slack_shaped(json.loads(text))
        form = dict(parse_qsl(text, keep_blank_values=True))
        return _slack_shaped(json.loads(form["payload"]) if "payload" in form else form)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False


class SignedRequestsOnly:
    """WSGI middleware: passes a request to ``app`` only when Slack signed it with ``signing_secret``."""

    def __init__(self, app: Callable, signing_secret: str, max_body_bytes: int, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret.strip():
            raise ValueError("the signing secret is empty")
        self.app = app
        self._secret = signing_secret.encode()
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self._signatures = SeenRecently(ttl_seconds=2 * MAX_CLOCK_SKEW)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return plain_response(start_response, "400 Bad Request", "bad Content-Length")
        if length < 0:
            return plain_response(start_response, "400 Bad Request", "bad Content-Length")
        if length > self.max_body_bytes:
            log.info("rejected a request: body of %d bytes is over the limit", length)
            return plain_response(start_response, "413 Payload Too Large", "request body too large")
        body = environ["wsgi.input"].read(length) if length else b""
        reason = self.rejection(body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE"))
        if reason is not None:
            log.info("rejected a request: %s", reason)
            return plain_response(start_response, "401 Unauthorized", "invalid request signature")
        signature = environ["HTTP_X_SLACK_SIGNATURE"]
        if not self._signatures.claim(signature):
            log.info("ignored a replayed request")
            return plain_response(start_response, "200 OK", "")
        content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip()
        if not well_formed(body, content_type):
            log.info("rejected a signed request: its body is not a Slack payload")
            return plain_response(start_response, "400 Bad Request", "body is not a Slack payload")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        def start_unless_refused(status: str, headers: list, exc_info=None):
            if not status.startswith("2"):  # not taken (busy, say): Slack's retry of it must be
                self._signatures.release(signature)
            return start_response(status, headers, exc_info)

        return self.app(environ, start_unless_refused)

    def rejection(self, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        """Why a request is not Slack's, or None when it is."""
        if not timestamp or not signature:
            return "no signature"
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS):
            return "malformed timestamp"
        if abs(self.clock() - int(timestamp)) > MAX_CLOCK_SKEW:
            return "timestamp more than five minutes off"
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        if not signature.isascii() or not hmac.compare_digest(expected, signature):
            return "bad signature"
        return None
