"""The App Home tab: how to ask (in English and Chinese), what the news covers, your recent questions."""

from __future__ import annotations

from datetime import date

from bot.render import escape_mrkdwn, truncate

EXAMPLES = ("who leads Tongyi now?", "谁批准了林俊旸的辞职?", "what happened to Qwen in March 2026?", "最近一周有哪些关于人工智能的新闻?")


def home_view(command: str, passages: int, newest: date | None, recent: list[str]) -> dict:
    """A Block Kit ``home`` view."""
    examples = "\n".join(f"• `{command} {example}`" for example in EXAMPLES)
    covers = f"The news here: {passages:,} passages" + (f", the newest from {newest.isoformat()}." if newest else ".")
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "newsbot: ask the news"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Ask in English or Chinese, with the command, by mentioning me, or here in a "
                                                               "direct message. Reply in the thread of an answer to follow up.\n" + examples}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": covers}]},
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Your recent questions*\n" + (
            "\n".join(f"• {escape_mrkdwn(truncate(q, 200))}" for q in recent) if recent else "_None yet._")}},
    ]
    return {"type": "home", "blocks": blocks}
