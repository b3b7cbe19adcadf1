"""The slack-bolt app: thin listeners for the slash command, mentions and direct messages.

Listeners only acknowledge and queue: the search and the reply run on the :class:`AnswerQueue`,
so an ack never waits for an answer, and a full queue is told to the user at once."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_bolt import App, BoltResponse

from bot.answering import AnswerQueue
from bot.conversation import Conversation
from bot.dedupe import SeenRecently
from bot.render import SHARE, VOTE_DOWN, VOTE_UP
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
    conversation: Conversation,
    answers: AnswerQueue,
    events: SeenRecently,
    verify_requests: bool,
) -> App:
    """A bolt app that queues each question and each click on ``answers``, for ``conversation`` to handle.

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

    def queue(job: Callable[[], None], what: str) -> None:
        if not answers.submit(job):
            log.warning("busy: dropped %s", what)

    def in_channel(text: str, event: dict, thread_ts: str | None) -> None:
        queue(lambda: conversation.answer_in_channel(text, event["channel"], thread_ts, _text(event, "user")), "a question")

    @app.command(settings.command)
    def answer_command(ack, command: dict) -> None:
        text, response_url = command.get("text") or "", command.get("response_url")
        if not response_url:
            ack(text="Slack sent no response_url with this command.")
            return
        job = lambda: conversation.answer_command(text, response_url, _text(command, "user_id"), settings.response_type)  # noqa: E731
        if answers.submit(job):
            ack()
        else:
            ack(text=BUSY, response_type="ephemeral")

    @app.event("app_mention")
    def answer_mention(event: dict) -> None:
        if _text(event, "channel") and _text(event, "ts"):
            in_channel(_MENTION.sub(" ", _text(event, "text") or ""), event, _text(event, "thread_ts") or event["ts"])

    @app.event("message")
    def answer_message(event: dict) -> None:
        """Direct messages, and replies in the thread of one of the bot's answers (a mention there is
        answered as a mention)."""
        channel, thread_ts, text = _text(event, "channel"), _text(event, "thread_ts"), _text(event, "text") or ""
        if event.get("subtype") or event.get("bot_id") or not channel:
            return
        if event.get("channel_type") == "im":
            in_channel(text, event, thread_ts)
        elif thread_ts and thread_ts != event.get("ts") and "<@" not in text and conversation.is_answer_thread(channel, thread_ts):
            in_channel(text, event, thread_ts)

    @app.action(SHARE)
    def share(ack, body: dict, action: dict) -> None:
        ack()
        answer_id, user, response_url = _text(action, "value"), _text(body.get("user") or {}, "id"), _text(body, "response_url")
        if answer_id and user and response_url:
            queue(lambda: conversation.share(answer_id, user, response_url), "a share")

    def vote(body: dict, action: dict, value: int) -> None:
        answer_id, user = _text(action, "value"), _text(body.get("user") or {}, "id")
        if answer_id and user:
            queue(lambda: conversation.vote(answer_id, user, value, _text(body, "response_url")), "a vote")

    @app.action(VOTE_UP)
    def vote_up(ack, body: dict, action: dict) -> None:
        ack()
        vote(body, action, 1)

    @app.action(VOTE_DOWN)
    def vote_down(ack, body: dict, action: dict) -> None:
        ack()
        vote(body, action, -1)

    @app.event("app_home_opened")
    def publish_home(event: dict) -> None:
        if event.get("tab") == "home" and (user := _text(event, "user")):
            queue(lambda: conversation.home(user), "an App Home view")

    @app.error
    def log_failure(error: Exception) -> None:
        """Log only: an answer's own failures are apologised for by the job that met them, and no
        error path may ever reply to a request on the strength of its body alone."""
        log.error("a listener failed: %s", type(error).__name__, exc_info=error)

    return app


def _text(payload: dict, key: str) -> str | None:
    """A string field of a Slack payload, or None (a field of any other type is ignored)."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None
