"""Socket Mode that acks in time across reconnects and says when it cannot connect.

slack_sdk's clients read one connection at a time: after Slack's routine ``disconnect`` the new
connection is read only once the old one has stopped (the built-in client waits out a 3 s read
timeout on it, past Slack's 3 s for an ack). Here every connection has a thread of its own that
reads it; a new one is opened and read before the old one is closed, so nothing waits for the old.
Acks go out on the newest connection. When no connection can be made, the client tries again with
growing pauses, logs each failure, and after ``give_up_after`` seconds without a connection gives up
(``on_failure`` is told why); a token Slack refuses is given up at once.

Messages are processed by slack_sdk's machinery (:class:`BaseSocketModeClient`: a queue, a
processor thread, workers) and dispatched to bolt as its own Socket Mode handlers do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from queue import Queue
from threading import Lock
from time import time as now

import websocket
from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.interval_runner import IntervalRunner
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web import WebClient

log = logging.getLogger(__name__)

REFUSED_TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"})
_FIRST_PAUSE, _LONGEST_PAUSE = 1.0, 30.0  # seconds between attempts to connect, doubling
_CLOSE_GRACE = 5.0  # a replaced connection is cut this long after its close frame if Slack has not closed it
_CONNECT_TIMEOUT = 10.0


class PromptSocketModeClient(BaseSocketModeClient):
    """A Socket Mode client whose connections are each read by a thread of their own."""

    def __init__(self, app_token: str, web_client: WebClient, give_up_after: float,
                 on_failure: Callable[[str], None], ping_interval: float = 10.0, concurrency: int = 10) -> None:
        self.app_token, self.web_client, self.logger = app_token, web_client, log
        self.give_up_after, self.on_failure, self.ping_interval = give_up_after, on_failure, ping_interval
        self.wss_uri = ""  # never logged: it carries a ticket
        self.message_queue = Queue()
        self.message_listeners = []
        self.socket_mode_request_listeners = []
        self.closed = False
        self.connect_operation_lock = Lock()
        self._send_lock = Lock()
        self._current: websocket.WebSocket | None = None
        self._stopping = threading.Event()
        self.message_processor = IntervalRunner(self.process_messages, 0.001).start()
        self.message_workers = ThreadPoolExecutor(max_workers=concurrency)
        threading.Thread(target=self._keep_alive, name="socket-mode-ping", daemon=True).start()

    def is_connected(self) -> bool:
        current = self._current
        return current is not None and current.connected

    def connect(self) -> None:
        self.connect_to_new_endpoint(force=True)

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        """Open a new connection (unless one is open and ``force`` is off) and read it; then close
        the one it replaces. Tries again with growing pauses until it connects or gives up."""
        with self.connect_operation_lock:
            if self.closed or (not force and self.is_connected()):
                return
            connection = self._open()
            if connection is None:
                return
            old, self._current = self._current, connection
            threading.Thread(target=self._read, args=(connection,), name="socket-mode-read", daemon=True).start()
        if old is not None:
            _close_soon(old)

    def _open(self) -> websocket.WebSocket | None:
        started, pause = time.monotonic(), _FIRST_PAUSE
        while not self.closed:
            try:
                self.wss_uri = self.issue_new_wss_url()
                connection = websocket.create_connection(self.wss_uri, timeout=_CONNECT_TIMEOUT, enable_multithread=True)
                connection.settimeout(None)
                if time.monotonic() - started > 1:
                    log.info("Socket Mode connected to Slack again after %.0f s", time.monotonic() - started)
                return connection
            except SlackApiError as exc:
                error = str(exc.response.get("error", "an error"))
                if error in REFUSED_TOKEN_ERRORS:
                    self._give_up(f"SLACK_APP_TOKEN was refused by Slack ({error})")
                    return None
                why = f"apps.connections.open answered {error}"
            except (OSError, websocket.WebSocketException) as exc:
                why = f"{type(exc).__name__}: {exc}"
            waited = time.monotonic() - started
            if waited + pause > self.give_up_after:
                self._give_up(f"Socket Mode: no connection to Slack for {waited:.0f} s ({why}); giving up "
                              "(NEWSBOT_SOCKET_GIVE_UP_SECONDS)")
                return None
            log.warning("Socket Mode: not connected to Slack (%s); trying again in %.0f s", why, pause)
            self._stopping.wait(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
        return None

    def _give_up(self, why: str) -> None:
        self.closed = True
        self.on_failure(why)

    def _read(self, connection: websocket.WebSocket) -> None:
        """Hand every message of ``connection`` to the processor until it closes; if it was the
        newest and the client is not closing, connect again."""
        while True:
            try:
                message = connection.recv()
            except (OSError, websocket.WebSocketException):
                break
            if not message:
                break
            self.enqueue_message(message if isinstance(message, str) else message.decode("utf-8", "replace"))
        if connection is self._current and not self.closed:
            log.warning("Socket Mode: Slack closed the connection; opening another")
            self.connect_to_new_endpoint()

    def _keep_alive(self) -> None:
        """Ping the newest connection now and then: a connection that died silently fails the ping
        and is replaced."""
        while not self._stopping.wait(self.ping_interval):
            current = self._current
            if current is None or self.closed:
                continue
            try:
                with self._send_lock:
                    current.ping()
            except (OSError, websocket.WebSocketException):
                log.warning("Socket Mode: the connection to Slack is gone; opening another")
                current.shutdown()

    def disconnect(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            _close_soon(current)

    def send_message(self, message: str) -> None:
        current = self._current
        if current is None:
            log.warning("Socket Mode: an ack could not be sent (not connected); Slack will send the envelope again")
            return
        try:
            with self._send_lock:
                current.send(message)
        except (OSError, websocket.WebSocketException) as exc:
            log.warning("Socket Mode: an ack could not be sent (%s); Slack will send the envelope again", type(exc).__name__)

    def close(self) -> None:
        self.closed = True
        self._stopping.set()
        self.disconnect()
        self.message_processor.shutdown()
        self.message_workers.shutdown(wait=False)


def _close_soon(connection: websocket.WebSocket) -> None:
    """Say goodbye on a connection its reader thread still reads (which ends when Slack closes it),
    and cut it if Slack has not within a few seconds."""
    try:
        connection.send_close()
    except (OSError, websocket.WebSocketException):
        pass
    timer = threading.Timer(_CLOSE_GRACE, connection.shutdown)
    timer.daemon = True
    timer.start()


class SocketModeHandler(BaseSocketModeHandler):
    """Dispatches each envelope to the bolt ``app`` and acks it with the app's response."""

    def __init__(self, app: App, client: PromptSocketModeClient) -> None:
        self.app, self.client = app, client
        client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        started = now()
        send_response(client, req, run_bolt_app(self.app, req), started)
