"""Running the bot: HTTP under waitress (with /healthz), Socket Mode, or a local console."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.app import create_app
from bot.replies import Replier
from bot.settings import Settings
from index import Engine

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def health_app(engine: Engine, slack: Callable) -> Callable:
    """WSGI: ``GET /healthz`` reports the index, everything else goes to bolt."""

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            index = engine.index()
            body = json.dumps({"ok": True, "passages": index.manifest["n_passages"]}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return wsgi


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM/SIGINT; waitress lets SystemExit through its loop."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


class HttpBot:
    """The bot's HTTP server: bolt behind waitress, with its own pool of listener threads."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        engine.index()
        self.executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="listener")
        replier = Replier(engine, settings.top_k, settings.command)
        app = create_app(settings, replier, self.executor)
        wsgi = health_app(engine, SlackRequestHandler(app, EVENTS_PATH))
        self.server = create_server(wsgi, host=settings.host, port=settings.port, threads=settings.workers, ident="newsbot")
        self.settings = settings

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def run(self) -> None:
        """Serve until closed from another thread or interrupted by a signal."""
        self.server.run()

    def close(self) -> None:
        """Stop accepting requests, then finish the answers already under way."""
        self.server.close()
        self.executor.shutdown(wait=True)


def serve_http(settings: Settings, engine: Engine) -> None:
    """Serve Slack's HTTP requests on ``settings.port`` until SIGTERM or SIGINT."""
    bot = HttpBot(settings, engine)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    log.info("newsbot listening on http://%s:%s%s (command %s)", settings.host, bot.port, EVENTS_PATH, settings.command)
    try:
        bot.run()
    except _Stop as stop:
        log.info("%s received: finishing answers in flight", stop)
    finally:
        bot.close()
        log.info("newsbot stopped")


def serve_socket_mode(settings: Settings, engine: Engine) -> None:
    """Connect to Slack over Socket Mode (no public URL needed)."""
    engine.index()
    executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="listener")
    app = create_app(settings, Replier(engine, settings.top_k, settings.command), executor)
    assert settings.slack_app_token is not None
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value(), web_client=app.client)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        handler.start()
    except (_Stop, KeyboardInterrupt):
        log.info("stopping Socket Mode")
    finally:
        handler.close()
        executor.shutdown(wait=True)


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
