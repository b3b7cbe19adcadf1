"""Answers with their buttons, what a click on them does, follow-ups in threads and App Home:
everything the listeners in ``bot.app`` hand over (each job runs on the answer queue)."""

from __future__ import annotations

import logging

from bot.delivery import Delivery
from bot.feedback import FeedbackStore
from bot.home import home_view
from bot.metrics import Metrics
from bot.render import shared_message, with_actions
from bot.replies import Replier

log = logging.getLogger(__name__)
GONE = "That answer is no longer available to share or rate. Ask again to get a fresh one."
THANKS = {1: "Thanks: noted as a helpful answer.", -1: "Thanks: noted as a wrong answer. It helps us find what to fix."}
MAX_CONTEXT_CHARS = 300  # a thread's questions kept as context for the next follow-up


class Conversation:
    """Answers questions and acts on clicks, through ``delivery``; votes and threads in ``store``."""

    def __init__(self, replier: Replier, delivery: Delivery, store: FeedbackStore, metrics: Metrics | None = None) -> None:
        self.replier, self.delivery, self.store, self.metrics = replier, delivery, store, metrics

    def answer_command(self, text: str, response_url: str, user_id: str | None, response_type: str) -> None:
        """A slash command: the answer at its ``response_url``, with "Share in channel" when only the asker sees it."""
        reply = self.replier.reply(text)
        message = reply.slack_message()
        if reply.answer is not None:
            message = with_actions(message, self.store.remember(reply.answer, message, user_id), share=response_type == "ephemeral")
        self.delivery.respond(response_url, message | {"response_type": response_type})

    def answer_in_channel(self, text: str, channel: str, thread_ts: str | None, user_id: str | None) -> None:
        """A mention or a direct message (or a reply in the thread of an answer): the answer is posted
        in the thread, a follow-up borrowing what the thread asked before."""
        context = self.store.thread_question(channel, thread_ts) if thread_ts else None
        reply = self.replier.reply(text, context)
        message = reply.slack_message()
        if reply.answer is not None:
            message = with_actions(message, self.store.remember(reply.answer, message, user_id), share=False)
        asked = (f"{context} {reply.answer.question}" if context else reply.answer.question)[-MAX_CONTEXT_CHARS:] \
            if reply.answer is not None else None
        if asked and thread_ts:  # known before posting: a reply may come as soon as the answer shows
            self.store.started_thread(channel, thread_ts, asked)
        posted = self.delivery.post(channel, message, thread_ts)
        if asked and posted and not thread_ts:  # a direct message's answer starts its own thread
            self.store.started_thread(channel, posted, asked)

    def is_answer_thread(self, channel: str, thread_ts: str) -> bool:
        return self.store.thread_question(channel, thread_ts) is not None

    def share(self, answer_id: str, user_id: str, response_url: str) -> None:
        """Post the answer in the channel, saying who shared it, and remove the asker's private copy."""
        shown = self.store.shown(answer_id)
        if shown is None:
            self.delivery.respond(response_url, {"response_type": "ephemeral", "replace_original": False, "text": GONE})
            return
        if self.delivery.respond(response_url, shared_message(shown.message, user_id, answer_id) | {"response_type": "in_channel",
                                                                                          "replace_original": False}):
            self.delivery.respond(response_url, {"delete_original": True})
            if self.metrics is not None:
                self.metrics.shares.inc()

    def vote(self, answer_id: str, user_id: str, vote: int, response_url: str | None) -> None:
        known = self.store.vote(answer_id, user_id, vote)
        if self.metrics is not None and known:
            self.metrics.votes.labels("helpful" if vote > 0 else "wrong").inc()
        if response_url:
            self.delivery.respond(response_url, {"response_type": "ephemeral", "replace_original": False,
                                                 "text": THANKS[vote] if known else GONE})

    def home(self, user_id: str) -> None:
        """Publish the user's App Home: how to ask, what the index holds, their recent questions."""
        index = self.replier.engine.index()
        view = home_view(self.replier.command, index.manifest["n_passages"], index.newest, self.store.recent_questions(user_id))
        self.delivery.publish_home(user_id, view)
