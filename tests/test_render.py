"""Block Kit and text rendering: quoted passages, bold matches, escaped mrkdwn, Slack's limits."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import MAX_BLOCKS, MESSAGE_CHARS, SECTION_TEXT_LIMIT, answer_message, match_spans, shorten, text_answer, with_actions
from index import Answer, Citation, Hit


def hit(text: str, matched: list[str], url: str | None = None, rank: int = 1) -> Hit:
    citation = Citation(doc_id="doc-1", title="标题 <b>", source="新华社", date="2024-05-01", paragraph=3,
                        path="news/a.txt", url=url, heading="第一节")
    return Hit(rank=rank, score=1.5, text=text, citation=citation, matched=matched)


def answer(*hits: Hit) -> Answer:
    return Answer(question="q & <a>?", answered=True, hits=list(hits))


def test_passages_are_quoted_with_matches_in_bold_and_mrkdwn_escaped():
    message = answer_message(answer(hit("A&B <script> 长江*大桥* 通车\n第二行 长江", ["长江", "通车"])))
    section = message["blocks"][2]["text"]["text"]
    assert section.startswith(">") and "\n>第二行" in section
    assert "A&amp;B &lt;script&gt;" in section
    assert "*长江*" in section and "*通车*" in section
    assert "∗大桥∗" in section  # the passage's own asterisks cannot turn bold
    assert "q &amp; &lt;a&gt;?" in message["blocks"][0]["text"]["text"]


def test_citation_line_links_the_title_when_the_url_is_known():
    message = answer_message(answer(hit("正文", [], url="https://news.test/a?x=1|2")))
    context = message["blocks"][3]["elements"][0]["text"]
    assert context == "\u200b*2024-05-01*\u200b · 新华社 · <https://news.test/a?x=1%7C2|标题 &lt;b&gt;> › 第一节 · ¶3"


def test_limits_of_block_kit_are_respected():
    long_text = "很长的段落。" * 2000
    message = answer_message(answer(*[hit(long_text, ["段落"], rank=i) for i in range(1, 40)]))
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT


def message_chars(message: dict) -> int:
    texts = [message["text"]] + [b["text"]["text"] for b in message["blocks"] if "text" in b]
    texts += [e["text"] if isinstance(e["text"], str) else e["text"]["text"] for b in message["blocks"] for e in b.get("elements", [])]
    return sum(map(len, texts))


def test_ten_long_passages_are_shortened_at_sentence_ends_to_fit_one_message():
    sentence = "国务院常务会议今天研究部署进一步扩大内需的政策措施,会议指出要稳定大宗消费。"  # 38 characters
    message = answer_message(answer(*[hit(sentence * 53, ["会议"], rank=i) for i in range(1, 11)]))  # 2,014 each
    assert len(message["blocks"]) <= MAX_BLOCKS and message_chars(message) <= MESSAGE_CHARS
    with_buttons = with_actions(message, "a" * 32, share=True)
    assert len(with_buttons["blocks"]) <= MAX_BLOCKS and message_chars(with_buttons) <= MESSAGE_CHARS
    quotes = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"][1:]
    assert len(quotes) == 10 and all(q.endswith("。…") and len(q) <= SECTION_TEXT_LIMIT for q in quotes)


def test_passages_that_cannot_all_fit_end_in_a_count_of_the_rest():
    message = answer_message(answer(*[hit("很长的段落。" * 400, ["段落"], rank=i) for i in range(1, 41)]))
    assert len(message["blocks"]) <= MAX_BLOCKS and message_chars(message) <= MESSAGE_CHARS
    with_buttons = with_actions(message, "a" * 32, share=True)
    assert len(with_buttons["blocks"]) <= MAX_BLOCKS and message_chars(with_buttons) <= MESSAGE_CHARS
    shown = sum(b["type"] == "section" for b in message["blocks"]) - 1
    last = message["blocks"][-1]
    assert 0 < shown < 40 and last["type"] == "context" and last["elements"][0]["text"].startswith(f"+{40 - shown} more")


def test_shorten_cuts_at_a_sentence_end_in_the_second_half_or_else_mid_text():
    assert shorten("第一句。第二句很长很长。第三句。", 14) == "第一句。第二句很长很长。…"
    assert shorten("One. Two is here. Three", 20) == "One. Two is here.…"
    assert shorten("一二三四五六七八九十", 6) == "一二三四五…"
    assert shorten("short", 10) == "short"


def test_overlapping_matches_merge_into_one_bold_span():
    assert match_spans("通义实验室推进", ["通义", "实验室", "通义实验室"]) == [(0, 5)]
    assert match_spans("DeepMind 和 deepmind", ["deepmind"]) == [(0, 8), (11, 19)]


def test_text_answer_matches_the_slack_answer_passage_for_passage():
    a = answer(hit("第一段 长江", ["长江"]), hit("第二段 长江", ["长江"], rank=2))
    text = text_answer(a, bold=lambda s: f"[{s}]")
    assert text.splitlines()[0] == "1. 第一段 [长江]"
    assert "   — 2024-05-01 · 新华社 · 标题 <b> › 第一节 · ¶3" in text
    assert "2. 第二段 [长江]" in text


def test_citation_names_the_other_documents_that_carry_the_passage():
    repeated = hit("粮食总产量连续九年稳定。", [])
    others = [{"doc_id": f"d{i}", "source": source} for i, source in enumerate(["央视", "人民网", "央视", "澎湃 <新闻>", "中新网"])]
    repeated = Hit(rank=1, score=1.0, text=repeated.text, citation=replace(repeated.citation, also_in=others), matched=[])
    line = answer_message(answer(repeated))["blocks"][3]["elements"][0]["text"]
    assert line.endswith("¶3 · also reported by 央视, 人民网, 澎湃 &lt;新闻&gt; +1")
    assert "also reported by" not in answer_message(answer(hit("粮食", [])))["blocks"][3]["elements"][0]["text"]


HOSTILE_URLS = ["!channel", "!here", "<!channel>", "@U0BOSS", "#C0SECRET", "!subteam^S0ADMINS", "javascript:alert(1)",
                "data:text/html,x", "ftp://files.test/a", "https://", "http://ok.test/a b", "https://x.test/\n<!here>"]


def mentions_or_links(mrkdwn: str) -> list[str]:
    """Everything Slack would read as a control sequence: ``<...>`` spans."""
    return re.findall(r"<[^>]*>", mrkdwn)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_url_that_is_not_an_http_link_is_never_a_link_or_mention(url):
    message = answer_message(answer(hit("正文", [], url=url)))
    context = message["blocks"][3]["elements"][0]["text"]
    assert mentions_or_links(context) == []
    assert "\n" not in text_answer(answer(hit("正文", [], url=url))).split("   — ")[1].split("(score")[0]


@pytest.mark.parametrize("field", ["title", "source", "heading", "doc_id"])
@pytest.mark.parametrize("value", ["<!channel>", "<@U0BOSS>", "<#C0SECRET|x>", "<!subteam^S1|admins>", "<https://evil.test|ok>"])
def test_control_sequences_in_news_fields_are_escaped(field, value):
    base = hit("正文", [])
    message = answer_message(answer(replace(base, citation=replace(base.citation, **{field: value}))))
    assert mentions_or_links(message["blocks"][3]["elements"][0]["text"]) == []


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(max_size=3000),
    title=st.none() | st.text(max_size=10_000),
    source=st.none() | st.text(max_size=10_000),
    heading=st.none() | st.text(max_size=5_000),
    url=st.none() | st.text(max_size=5_000) | st.text(max_size=3000).map(lambda s: "https://x.test/" + s),
    question=st.text(min_size=1, max_size=500),
    also_in=st.lists(st.fixed_dictionaries({"doc_id": st.text(max_size=500), "source": st.none() | st.text(max_size=500)}), max_size=6),
)
def test_any_citation_renders_within_slack_limits_and_without_control_sequences(text, title, source, heading, url, question, also_in):
    citation = Citation(doc_id="d", title=title, source=source, date="2024-05-01", paragraph=1, path="p", url=url,
                        heading=heading, also_in=also_in)
    message = answer_message(Answer(question=question, answered=True, hits=[Hit(rank=1, score=1.0, text=text, citation=citation)]))
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        for element in [block.get("text")] + block.get("elements", []):
            if element:
                assert len(element["text"]) <= SECTION_TEXT_LIMIT
                links = mentions_or_links(element["text"])
                assert all(link.startswith(("<http://", "<https://")) for link in links), links
