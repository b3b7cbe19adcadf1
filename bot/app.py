"""The slack-bolt app: thin listeners for the slash command, mentions and direct messages.

Listeners only acknowledge and queue: the search and the reply run on the :class:`AnswerQueue`,
so an ack never waits for an answer, and a full queue is told to the user at once."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App, BoltResponse

from bot.answering import AnswerQueue
from bot.dedupe import SeenRecently
from bot.delivery import Delivery
from bot.replies import Replier
from bot.settings import Settings

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
BUSY = "newsbot is answering a lot of questions right now. Please ask again in a minute."


class _NoRequestBodies(logging.Filter):
    """bolt logs the body of a request no listener handles; the body holds what users wrote."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Unhandled request ("):
            record.msg, record.args = "an unhandled Slack request (its body is not logged)", ()
        return True


def create_app(
    settings: Settings,
    replier: Replier,
    answers: AnswerQueue,
    delivery: Delivery,
    events: SeenRecently,
    verify_requests: bool,
) -> App:
    """A bolt app that queues each question on ``answers`` and replies through ``delivery``.

    ``verify_requests`` is on for HTTP (bolt checks signatures again, behind
    :class:`~bot.verification.SignedRequestsOnly`) and off for Socket Mode, whose connection is
    authenticated by the app token."""
    bolt_log = logging.getLogger("bot.bolt")
    if not any(isinstance(f, _NoRequestBodies) for f in bolt_log.filters):
        bolt_log.addFilter(_NoRequestBodies())
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret is not None else ""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token is not None else None
    app = App(
        signing_secret=secret,
        token=token,
        token_verification_enabled=False,  # the server checks the token at start, with a clear message
        request_verification_enabled=verify_requests,
        process_before_response=True,  # listeners only queue, so acking after them is immediate
        logger=bolt_log,
    )
    app.client.base_url = settings.slack_api_url

    @app.middleware
    def once_per_event(body: dict, next: Callable[[], None]) -> BoltResponse | None:
        """A retried event is acked and skipped; when the queue is full, Slack is asked to retry."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str):
            return next()
        if not events.claim(event_id):
            log.info("skipped a retry of an event already taken")
            return BoltResponse(status=200, body="")
        if answers.full():
            events.release(event_id)
            log.warning("busy: asked Slack to send an event again later")
            return BoltResponse(status=503, body="busy")
        return next()

    def queue_post(question: str, channel: str, thread_ts: str | None) -> None:
        if not answers.submit(lambda: delivery.post(channel, replier.reply(question).slack_message(), thread_ts)):
            log.warning("busy: dropped a question from %s", channel)

    @app.command(settings.command)
    def answer_command(ack, command: dict) -> None:
        text, response_url = command.get("text") or "", command.get("response_url")
        if not response_url:
            ack(text="Slack sent no response_url with this command.")
            return

        def answer() -> None:
            delivery.respond(response_url, replier.reply(text).slack_message() | {"response_type": settings.response_type})

        if answers.submit(answer):
            ack()
        else:
            ack(text=BUSY, response_type="ephemeral")

    @app.event("app_mention")
    def answer_mention(event: dict) -> None:
        if event.get("channel") and event.get("ts"):
            queue_post(_MENTION.sub(" ", event.get("text") or ""), event["channel"], event.get("thread_ts") or event["ts"])

    @app.event("message")
    def answer_direct_message(event: dict) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("channel"):
            return
        queue_post(event.get("text") or "", event["channel"], event.get("thread_ts"))

    @app.error
    def log_failure(error: Exception) -> None:
        """Log only: an answer's own failures are apologised for by the job that met them, and no
        error path may ever reply to a request on the strength of its body alone."""
        log.error("a listener failed: %s", type(error).__name__, exc_info=error)

    return app
