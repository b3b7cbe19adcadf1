"""What the bot says to a message: usage, a polite refusal, or an answer from the index."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.metrics import Metrics
from bot.render import APOLOGY, USAGE, answer_message, message_blocks, text_answer
from index import Answer, Engine, QuestionError

log = logging.getLogger(__name__)
HELP_WORDS = {"", "help", "-h", "--help", "?", "帮助"}


@dataclass(frozen=True)
class Reply:
    """Either an answer from the news or a notice (usage, a refusal, an apology)."""

    answer: Answer | None = None
    notice: str | None = None

    def slack_message(self) -> dict:
        if self.answer is not None:
            return answer_message(self.answer)
        assert self.notice is not None
        return {"text": self.notice, "blocks": message_blocks(self.notice)}

    def console_text(self, bold=lambda s: s) -> str:
        return text_answer(self.answer, bold) if self.answer is not None else str(self.notice)


class Replier:
    """Turns what someone typed into a :class:`Reply`, never raising."""

    def __init__(self, engine: Engine, top_k: int = 3, command: str = "/news", metrics: Metrics | None = None) -> None:
        self.engine = engine
        self.top_k = top_k
        self.command = command
        self.metrics = metrics

    def reply(self, text: str, context: str | None = None) -> Reply:
        """``context``: the question this one follows up on (in a thread of the bot's answer)."""
        if text.strip().lower() in HELP_WORDS:
            return Reply(notice=USAGE.format(command=self.command))
        started = time.perf_counter()
        try:
            answer = self.engine.ask(text, self.top_k, context)
        except QuestionError as exc:
            self._noticed(failed=False)
            return Reply(notice=str(exc))
        except Exception as exc:  # the question is not logged: it is what a user wrote
            log.error("failed to answer a question: %s", type(exc).__name__, exc_info=exc)
            self._noticed(failed=True)
            return Reply(notice=APOLOGY)
        if self.metrics is not None:
            self.metrics.answered(answer, time.perf_counter() - started)
        return Reply(answer=answer)

    def _noticed(self, failed: bool) -> None:
        if self.metrics is not None:
            self.metrics.noticed(failed)
