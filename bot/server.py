"""Running the bot: HTTP under waitress (with /healthz), Socket Mode, or a local console."""

from __future__ import annotations

import json
import logging
import signal
import threading
import sys
from collections.abc import Callable, Iterable
from typing import TextIO
from urllib.error import URLError

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from waitress.server import create_server

from bot.answering import AnswerQueue
from bot.app import create_app
from bot.conversation import Conversation
from bot.feedback import FeedbackError, FeedbackStore
from bot.dedupe import SeenRecently
from bot.delivery import Delivery, retry_handlers, slack_error
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.metrics import Metrics
from bot.replies import Replier
from bot.settings import Settings
from bot.socket_mode import PromptSocketModeClient, SocketModeHandler
from bot.verification import SignedRequestsOnly, plain_response
from index import Engine

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
_QUIET = logging.getLogger("bot.server.token_check")  # the check's own failures become one start error
_QUIET.propagate = False
_QUIET.addHandler(logging.NullHandler())


class StartError(Exception):
    """The bot cannot start; the message names the setting or path, on one line."""


class SlackUnreachable(StartError):
    """Slack did not answer at all (as opposed to refusing the token)."""


def check_slack(token: str | None, api_url: str, method: str = "auth.test", setting: str = "SLACK_BOT_TOKEN") -> None:
    """Call ``method`` with ``token``: the token is valid and Slack is reachable, or :class:`StartError`
    naming ``setting``. ``auth.test`` checks the bot token, ``apps.connections.open`` the app token."""
    client = WebClient(token=token, base_url=api_url, retry_handlers=retry_handlers(3, 5.0), logger=_QUIET, timeout=10)
    try:
        client.api_call(method, http_verb="POST")
    except SlackApiError as exc:
        raise StartError(f"{setting} was refused by Slack ({slack_error(exc)})") from None
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SlackUnreachable(f"cannot reach Slack at {client.base_url} ({reason}); check NEWSBOT_SLACK_API_URL") from None


class SlackCheck:
    """The bot token checked against Slack, for an HTTP bot that must start whether or not Slack is
    in reach (a container starting before the network): a refused token stops the start; Slack out
    of reach is logged and checked again every ``retry_seconds`` in the background. ``state`` is
    what ``/healthz`` reports: "ok", "unreachable" or "refused"."""

    def __init__(self, token: str | None, api_url: str, retry_seconds: float = 30.0) -> None:
        self.token, self.api_url, self.retry_seconds = token, api_url, retry_seconds
        self.state = "unchecked"
        self._stop = threading.Event()

    def start(self) -> None:
        try:
            check_slack(self.token, self.api_url)
            self.state = "ok"
        except SlackUnreachable as exc:
            self.state = "unreachable"
            log.warning("%s; starting anyway, and checking again every %.0f s", exc, self.retry_seconds)
            threading.Thread(target=self._keep_checking, name="slack-check", daemon=True).start()

    def _keep_checking(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            try:
                check_slack(self.token, self.api_url)
            except SlackUnreachable:
                continue
            except StartError as exc:
                self.state = "refused"
                log.error("%s", exc)
                return
            self.state = "ok"
            log.info("Slack is in reach and accepts SLACK_BOT_TOKEN")
            return

    def stop(self) -> None:
        self._stop.set()


class Bot:
    """What both transports share: the answer queue, delivery, event dedupe and the bolt app."""

    def __init__(self, settings: Settings, engine: Engine, verify_requests: bool, wait_for_slack: bool = True) -> None:
        """``wait_for_slack``: Slack must be in reach to start (else it is checked in the background)."""
        engine.warm()  # the index is open and every lazy table loaded before the first question
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token is not None else None
        self.metrics = Metrics(engine)
        self.delivery = Delivery(
            WebClient(token=token, base_url=settings.slack_api_url),
            attempts=settings.delivery_attempts,
            max_retry_after=settings.max_retry_after,
            metrics=self.metrics,
        )
        self.slack_check = SlackCheck(token, settings.slack_api_url)
        if wait_for_slack:
            check_slack(token, settings.slack_api_url)
            self.slack_check.state = "ok"
        else:
            self.slack_check.start()
        self.answers = AnswerQueue(settings.answer_workers, settings.queue_size)
        replier = Replier(engine, settings.top_k, settings.command, self.metrics)
        try:
            self.feedback = FeedbackStore(settings.feedback_db)
        except FeedbackError as exc:
            raise StartError(f"{exc} (NEWSBOT_FEEDBACK_DB)") from None
        conversation = Conversation(replier, self.delivery, self.feedback, self.metrics)
        self.app = create_app(settings, conversation, self.answers, SeenRecently(), verify_requests)
        self.settings = settings

    def drain(self) -> None:
        """Finish the answers in flight, for at most ``drain_seconds``."""
        left = self.answers.close(self.settings.drain_seconds)
        if left:
            log.warning("stopped with %d answer(s) unfinished after %.1f s", left, self.settings.drain_seconds)
        self.slack_check.stop()
        self.feedback.close()


def health_app(engine: Engine, is_ready: Callable[[], bool], slack: Callable, metrics: Metrics,
               slack_state: Callable[[], str] = lambda: "ok") -> Callable:
    """WSGI: ``GET /healthz`` (200 when an answer can be given, else 503; it says whether Slack is in
    reach), ``GET /metrics`` (Prometheus), ``POST /slack/events`` to ``slack``, 404 for everything else."""

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            if is_ready():
                index = engine.index()
                status, report = "200 OK", {"ok": True, "generation": index.generation.name, "passages": index.manifest["n_passages"],
                                            "newest": index.manifest.get("newest_date"), "slack": slack_state()}
            else:
                status, report = "503 Service Unavailable", {"ok": False, "reason": "stopping"}
            body = json.dumps(report).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/metrics" and method in ("GET", "HEAD"):
            body = metrics.exposition()
            start_response("200 OK", [("Content-Type", METRICS_CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        return plain_response(start_response, "404 Not Found", "not found")

    return wsgi


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM/SIGINT; waitress lets SystemExit through its loop."""


def _already_stopping(signum: int, frame: object) -> None:
    log.info("%s received again: still finishing answers in flight", signal.Signals(signum).name)


def _raise_stop(signum: int, frame: object) -> None:
    for each in (signal.SIGTERM, signal.SIGINT):  # a second signal must not cut the drain short
        signal.signal(each, _already_stopping)
    raise _Stop(signal.Signals(signum).name)


def _stop_on_signals() -> None:
    for each in (signal.SIGTERM, signal.SIGINT):
        signal.signal(each, _raise_stop)


class HttpBot:
    """The bot's HTTP server: signature checks, then bolt, behind waitress."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.bot = Bot(settings, engine, verify_requests=True, wait_for_slack=False)
        assert settings.slack_signing_secret is not None
        slack = SignedRequestsOnly(
            SlackRequestHandler(self.bot.app, EVENTS_PATH),
            settings.slack_signing_secret.get_secret_value(),
            settings.max_body_bytes,
        )
        self.stopping = False
        wsgi = health_app(engine, lambda: not self.stopping, slack, self.bot.metrics, lambda: self.bot.slack_check.state)
        try:
            self.server = create_server(
                wsgi, host=settings.host, port=settings.port, threads=settings.workers, ident="newsbot",
                max_request_body_size=settings.max_body_bytes,
            )
        except OSError as exc:
            raise StartError(f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc}); check PORT and NEWSBOT_HOST") from None

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def run(self) -> None:
        """Serve until closed from another thread or interrupted by a signal."""
        try:
            self.server.run()
        except OSError:
            if not self.stopping:
                raise  # close() from another thread can pull the sockets from under the loop: that is the stop

    def close(self) -> None:
        """Stop accepting requests, then finish the answers already under way (within the drain limit)."""
        self.stopping = True
        self.server.close()
        self.bot.drain()


def serve_http(settings: Settings, engine: Engine) -> None:
    """Serve Slack's HTTP requests on ``settings.port`` until SIGTERM or SIGINT."""
    bot = HttpBot(settings, engine)
    _stop_on_signals()
    log.info("newsbot listening on http://%s:%s%s (command %s)", settings.host, bot.port, EVENTS_PATH, settings.command)
    try:
        bot.run()
    except _Stop as stop:
        log.info("%s received: finishing answers in flight", stop)
    finally:
        bot.close()
        log.info("newsbot stopped")


def serve_socket_mode(settings: Settings, engine: Engine) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) until SIGTERM or SIGINT; raises
    :class:`StartError` when the app token is refused or no connection can be made for
    ``settings.socket_give_up_seconds``."""
    bot = Bot(settings, engine, verify_requests=False)
    assert settings.slack_app_token is not None
    app_token = settings.slack_app_token.get_secret_value()
    check_slack(app_token, settings.slack_api_url, "apps.connections.open", "SLACK_APP_TOKEN")
    failures: list[str] = []
    failed = threading.Event()

    def give_up(why: str) -> None:
        failures.append(why)
        failed.set()

    client = PromptSocketModeClient(app_token, bot.app.client, settings.socket_give_up_seconds, give_up)
    handler = SocketModeHandler(bot.app, client)
    _stop_on_signals()
    try:
        handler.connect()
        if not failures:
            log.info("newsbot connected to Slack over Socket Mode (command %s)", settings.command)
        while not failed.wait(0.5):  # wakes now and then, so a signal is handled at once
            pass
    except _Stop:
        log.info("stopping Socket Mode")
    finally:
        client.close()
        bot.drain()
        log.info("newsbot stopped")
    if failures:
        raise StartError(failures[0])


def run_console(engine: Engine, top_k: int, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, bold=lambda s: s) -> None:
    """Answer questions typed on stdin exactly as the slash command would, rendered as text."""
    replier = Replier(engine, top_k)
    interactive = stdin.isatty()
    if interactive:
        stdout.write("newsbot console: no Slack tokens set, so questions are answered here. Ctrl-D to quit.\n")
    while True:
        if interactive:
            stdout.write("\nnews> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        stdout.write(replier.reply(line).console_text(bold) + "\n")
        if not interactive:
            stdout.write("\n")
        stdout.flush()
