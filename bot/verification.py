"""Only requests Slack signed reach the bot: a WSGI layer in front of bolt.

Every ``POST`` is read (up to a size limit) and its ``X-Slack-Signature`` checked against the
signing secret and a timestamp within five minutes, before bolt or anything else looks at the body.
An unsigned, forged, stale or garbled request gets 401 (or 400/413) and nothing of its body is
used or logged."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)
MAX_CLOCK_SKEW = 5 * 60  # seconds: Slack's own rule against replays
_MAX_TIMESTAMP_DIGITS = 12


def plain_response(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


class SignedRequestsOnly:
    """WSGI middleware: passes a request to ``app`` only when Slack signed it with ``signing_secret``."""

    def __init__(self, app: Callable, signing_secret: str, max_body_bytes: int, clock: Callable[[], float] = time.time) -> None:
        if not signing_secret.strip():
            raise ValueError("the signing secret is empty")
        self.app = app
        self.verifier = SignatureVerifier(signing_secret)
        self.max_body_bytes = max_body_bytes
        self.clock = clock

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
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def rejection(self, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        """Why a request is not Slack's, or None when it is."""
        if not timestamp or not signature:
            return "no signature"
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS):
            return "malformed timestamp"
        if abs(self.clock() - int(timestamp)) > MAX_CLOCK_SKEW:
            return "timestamp more than five minutes off"
        if not signature.isascii() or not self.verifier.is_valid(body, timestamp, signature):
            return "bad signature"
        return None
