"""Answers rendered for people: Slack Block Kit (mrkdwn) and plain text, from the same pieces."""

from __future__ import annotations

import re
from collections.abc import Callable

from index import Answer, Hit
from index.documents import web_link

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 3000
PASSAGE_CHARS = 2400
MIN_PASSAGE_CHARS = 400  # a passage is never shortened below this to make room: later ones give way instead
MAX_BLOCKS = 50
MESSAGE_CHARS = 12_000  # all of a message's text; Slack rejects much longer ones (msg_blocks_too_long)
MORE_TEXT = "+{count} more passage(s) not shown. Ask with fewer words or a narrower question to see others."
_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(?=\s)")
# What a citation shows of each field: enough to recognise it, never enough to crowd the message.
TITLE_CHARS, SOURCE_CHARS, HEADING_CHARS, DOC_ID_CHARS = 160, 60, 100, 100
ZWSP = "\u200b"  # lets Slack see the edge of *bold* inside Chinese text, which has no spaces
_FORMATTING = str.maketrans({"*": "∗", "_": "＿", "~": "～", "`": "ʻ"})

USAGE = (
    "Ask me about the news, in English or Chinese:\n"
    "• `{command} who leads Tongyi now?`\n"
    "• `{command} 谁批准了林俊旸的辞职?`\n"
    "I answer with the best-matching passages from the news, each with its source, date and paragraph."
)
NO_ANSWER = "Nothing in the news matches “{question}”. Try other words, or a name as it is written in the news."
NO_ANSWER_IN_WINDOW = "Nothing in the news {window} matches “{question}”. Try a wider range, or none."
NOT_ANSWERED = "Nothing in the news answers “{question}”."
AFTER_NEWS = "Nothing in the news answers “{question}”: it asks about a time after the newest news here, of {date}."
AHEAD = "Nothing in the news answers “{question}”: it asks about the days ahead, which no news has reported yet."
NOT_NEWS = {  # refusals of the kinds of question no news answers (index.answerability.KINDS)
    "personal": "Nothing in the news answers “{question}”: it is about you or yours, and the news is about the world.",
    "how_to": "Nothing in the news answers “{question}”: it asks how to do something or where to go, which the news does not advise on.",
    "live": "Nothing in the news answers “{question}”: it asks for a live price or what to pay, which the news reports only after the fact.",
    "private": "Nothing in the news answers “{question}”: it asks for a password or code, which no news prints.",
}
CLOSEST_LABEL = "Closest coverage, not an answer:"
SHARE, VOTE_UP, VOTE_DOWN = "share", "vote_up", "vote_down"  # the action ids of an answer's buttons
ACTIONS_BLOCK = "newsbot_actions"
ACTION_CHARS = 40  # what the buttons' labels take of a message's characters
SHARED_BY = "Shared by <@{user}>"
CLOSEST_SHOWN = 2
APOLOGY = "Sorry, something went wrong while searching the news. Please try again in a moment."


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack reserves: &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_quoted(text: str) -> str:
    """Escape passage text and defuse the marks that would turn parts of it bold, italic or code."""
    return escape_mrkdwn(text).translate(_FORMATTING)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def match_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of the matched words in ``text``, case-insensitive, longest first."""
    if not words:
        return []
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        if spans and match.start() <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], match.end()))
        else:
            spans.append(match.span())
    return spans


def highlight(text: str, words: list[str], escape: Callable[[str], str], bold: Callable[[str], str]) -> str:
    out, cursor = [], 0
    for start, end in match_spans(text, words):
        out.append(escape(text[cursor:start]))
        out.append(bold(escape(text[start:end])))
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


def citation_line(hit: Hit, escape: Callable[[str], str], link: Callable[[str, str], str],
                  emphasis: Callable[[str], str] = lambda s: s) -> str:
    """date · source · title › section · ¶n · also reported by …, the date first (``emphasis`` on it), "earlier
    news" before it when a present answer shows older news, and the title linked when the url is an
    http(s) link. Every field is shortened and escaped: news text never becomes markup."""
    c = hit.citation
    where = escape(truncate(c.title or c.doc_id, TITLE_CHARS if c.title else DOC_ID_CHARS))
    url = web_link(c.url)
    if url:
        where = link(url, where)
    if c.heading:
        where = f"{where} › {escape(truncate(c.heading, HEADING_CHARS))}"
    parts = [
        "earlier news" if hit.earlier else None,
        emphasis(escape(truncate(c.date, 10))) if c.date else "undated",
        escape(truncate(c.source, SOURCE_CHARS)) if c.source else None,
        where,
        f"¶{c.paragraph}",
        _also_in(c.also_in, escape),
    ]
    return " · ".join(part for part in parts if part)


def _also_in(others: list[dict], escape: Callable[[str], str], shown: int = 3) -> str | None:
    """"also reported by 央视, 人民网 +2": the other documents that carry the passage word for word, or
    the story with small edits."""
    if not others:
        return None
    names = list(dict.fromkeys(truncate(o.get("source") or o.get("title") or o["doc_id"], SOURCE_CHARS) for o in others))
    more = len(names) - shown
    return "also reported by " + ", ".join(map(escape, names[:shown])) + (f" +{more}" if more > 0 else "")


def _mrkdwn_link(url: str, label: str) -> str:
    """``<url|label>`` for an http(s) ``url``; the characters that would end the link early are encoded."""
    safe_url = url.replace("&", "&amp;").replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe_url}|{label.replace('|', '¦')}>"


def _mrkdwn_bold(text: str) -> str:
    return f"{ZWSP}*{text}*{ZWSP}" if text.strip() else text


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at the last sentence end that fits when there is
    one in its second half, with "…" to say it goes on."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    cut = ends[-1] if ends and ends[-1] > limit // 2 else len(head)
    return head[:cut].rstrip() + "…"


def passage_blocks(hit: Hit, limit: int = PASSAGE_CHARS) -> list[dict]:
    text = highlight(shorten(hit.text, limit), hit.matched, escape_quoted, _mrkdwn_bold)
    quoted = "\n".join(f">{line}" for line in text.split("\n"))
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate(quoted, SECTION_TEXT_LIMIT)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _citation_mrkdwn(hit)}]},
    ]


def _citation_mrkdwn(hit: Hit) -> str:
    line = citation_line(hit, escape_mrkdwn, _mrkdwn_link, _mrkdwn_bold)
    if len(line) > CONTEXT_TEXT_LIMIT:  # only a very long link can do this: show the citation without it
        line = citation_line(hit, escape_mrkdwn, lambda url, label: label, _mrkdwn_bold)
    return truncate(line, CONTEXT_TEXT_LIMIT)


def message_blocks(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_LIMIT)}}]


def no_answer_text(answer: Answer, question: str) -> str:
    """Why there is no answer: nothing in range, a time after the newest news, a kind of question no
    news answers, nothing that answers it (the closest coverage follows), or nothing that matches at all."""
    if answer.window:
        return NO_ANSWER_IN_WINDOW.format(window=answer.window, question=question)
    if answer.reason == "after_news":
        return (AFTER_NEWS if answer.news_until else AHEAD).format(question=question, date=answer.news_until)
    if answer.reason in NOT_NEWS:
        return NOT_NEWS[answer.reason].format(question=question)
    if answer.reason == "weak":
        return NOT_ANSWERED.format(question=question)
    return NO_ANSWER.format(question=question)


def header_text(answer: Answer, question: str) -> str:
    """“Top 3 from the news for “…””, and for a question about the present, as of when."""
    header = f"Top {len(answer.hits)} from the news for “{question}”"
    return header + (f", as of {answer.as_of}" if answer.as_of else "")


def answer_message(answer: Answer) -> dict:
    """A Slack message (``text`` fallback plus ``blocks``) for an answer, always within Slack's limits:
    at most 50 blocks, 3,000 characters a section and 12,000 in all. Long passages are shortened at a
    sentence end; when even that is not enough the last ones give way to "+N more"."""
    question = escape_quoted(truncate(answer.question, 200))
    if not answer.answered:
        text = no_answer_text(answer, question)
        blocks = message_blocks(text)
        if answer.closest:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"_{CLOSEST_LABEL}_"}]})
        return {"text": text, "blocks": _with_passages(blocks, answer.closest[:CLOSEST_SHOWN], 2 * len(text), divided=False)}
    header = header_text(answer, question)
    return {"text": header, "blocks": _with_passages(message_blocks(f"*{header}*"), answer.hits, 2 * len(header) + 2)}


def _with_passages(blocks: list[dict], hits: list[Hit], used: int, divided: bool = True) -> list[dict]:
    """``blocks`` followed by each hit's passage and citation, within the message limits."""
    reserve = len(MORE_TEXT) + 20 + ACTION_CHARS
    room = MESSAGE_CHARS - used - reserve - sum(len(_citation_mrkdwn(hit)) for hit in hits)
    share = room // max(1, len(hits))  # each passage's room, quoting and bold marks included
    blocks = list(blocks)
    for shown, hit in enumerate(hits):
        passage = passage_blocks(hit, max(MIN_PASSAGE_CHARS, min(PASSAGE_CHARS, share)))
        overflow = _block_chars(passage[0]) - share
        if overflow > 0:  # the marks made it longer than its share: shorten the text by as much
            passage = passage_blocks(hit, max(MIN_PASSAGE_CHARS, min(PASSAGE_CHARS, share) - overflow))
        more = ([{"type": "divider"}] if divided else []) + passage
        size = sum(_block_chars(block) for block in more)
        if used + size > MESSAGE_CHARS - reserve or len(blocks) + len(more) > MAX_BLOCKS - 2:  # "+N more", the buttons
            count = len(hits) - shown
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": MORE_TEXT.format(count=count)}]})
            break
        blocks += more
        used += size
    return blocks


def with_actions(message: dict, answer_id: str, share: bool) -> dict:
    """The message with its buttons: 👍 and 👎 (and "Share in channel" for a reply only the asker sees)."""
    buttons = ([("Share in channel", SHARE)] if share else []) + [("👍", VOTE_UP), ("👎", VOTE_DOWN)]
    elements = [{"type": "button", "action_id": action, "value": answer_id, "text": {"type": "plain_text", "text": label}}
                for label, action in buttons]
    return message | {"blocks": message["blocks"] + [{"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}]}


def shared_message(message: dict, user_id: str, answer_id: str) -> dict:
    """The same answer (``message``, as rendered without buttons) for the channel: the passages, who
    shared it, and 👍/👎."""
    by = {"type": "context", "elements": [{"type": "mrkdwn", "text": SHARED_BY.format(user=escape_mrkdwn(user_id))}]}
    return with_actions({"text": message["text"], "blocks": message["blocks"] + [by]}, answer_id, share=False)


def _block_chars(block: dict) -> int:
    """The characters of text a block carries."""
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(element.get("text", "")) for element in block.get("elements", []))


def text_answer(answer: Answer, bold: Callable[[str], str] = lambda s: s) -> str:
    """The same answer as plain text, for the console and the command line."""
    if not answer.answered:
        if not answer.closest:
            return no_answer_text(answer, answer.question)
        return "\n".join([no_answer_text(answer, answer.question), "", CLOSEST_LABEL, "", _passages_text(answer.closest[:CLOSEST_SHOWN], bold)])
    lines = [header_text(answer, answer.question), ""] if answer.as_of else []
    return "\n".join(lines + [_passages_text(answer.hits, bold)]).rstrip()


def _passages_text(hits: list[Hit], bold: Callable[[str], str]) -> str:
    lines = []
    for hit in hits:
        body = highlight(hit.text, hit.matched, lambda s: s, bold).replace("\n", "\n   ")
        lines.append(f"{hit.rank}. {body}")
        lines.append(f"   — {citation_line(hit, str, lambda url, label: label)}   (score {hit.score:.2f})")
        if web_link(hit.citation.url):
            lines.append(f"   {hit.citation.url}")
        lines.append("")
    return "\n".join(lines).rstrip()
