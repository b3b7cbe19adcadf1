"""The slack-bolt app: thin listeners for the slash command, mentions and direct messages."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.render import APOLOGY
from bot.replies import Replier
from bot.settings import Settings

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def create_app(settings: Settings, replier: Replier, executor: ThreadPoolExecutor) -> App:
    """A bolt app answering through ``replier``; listeners run on ``executor`` so many can wait at once."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    app = App(
        signing_secret=secret,
        client=WebClient(token=token, base_url=settings.slack_api_url),
        request_verification_enabled=secret is not None,
        listener_executor=executor,
        logger=log,
    )

    @app.command(settings.command)
    def answer_command(ack, command, respond):
        ack()
        respond(**replier.reply(command.get("text", "")).slack_message(), response_type=settings.response_type)

    @app.event("app_mention")
    def answer_mention(event, say):
        question = _MENTION.sub(" ", event.get("text", ""))
        say(**replier.reply(question).slack_message(), thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    def answer_direct_message(event, say):
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        say(**replier.reply(event.get("text", "")).slack_message(), thread_ts=event.get("thread_ts"))

    @app.error
    def apologise(error, body, respond, say):
        log.error("listener failed: %s", error, exc_info=error)
        try:
            if body.get("response_url"):
                respond(text=APOLOGY, response_type="ephemeral")
            elif say is not None:
                say(text=APOLOGY)
        except Exception:
            log.exception("could not deliver the apology")

    return app
