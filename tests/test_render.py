"""Block Kit and text rendering: quoted passages, bold matches, escaped mrkdwn, Slack's limits."""

from __future__ import annotations

from dataclasses import replace

from bot.render import MAX_BLOCKS, SECTION_TEXT_LIMIT, answer_message, match_spans, text_answer
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
    assert context == "新华社 · 2024-05-01 · <https://news.test/a?x=1%7C2|标题 &lt;b&gt;> › 第一节 · ¶3"


def test_limits_of_block_kit_are_respected():
    long_text = "很长的段落。" * 2000
    message = answer_message(answer(*[hit(long_text, ["段落"], rank=i) for i in range(1, 40)]))
    assert len(message["blocks"]) <= MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT


def test_overlapping_matches_merge_into_one_bold_span():
    assert match_spans("通义实验室推进", ["通义", "实验室", "通义实验室"]) == [(0, 5)]
    assert match_spans("DeepMind 和 deepmind", ["deepmind"]) == [(0, 8), (11, 19)]


def test_text_answer_matches_the_slack_answer_passage_for_passage():
    a = answer(hit("第一段 长江", ["长江"]), hit("第二段 长江", ["长江"], rank=2))
    text = text_answer(a, bold=lambda s: f"[{s}]")
    assert text.splitlines()[0] == "1. 第一段 [长江]"
    assert "   — 新华社 · 2024-05-01 · 标题 <b> › 第一节 · ¶3" in text
    assert "2. 第二段 [长江]" in text


def test_citation_names_the_other_documents_that_carry_the_passage():
    repeated = hit("粮食总产量连续九年稳定。", [])
    others = [{"doc_id": f"d{i}", "source": source} for i, source in enumerate(["央视", "人民网", "央视", "澎湃 <新闻>", "中新网"])]
    repeated = Hit(rank=1, score=1.0, text=repeated.text, citation=replace(repeated.citation, also_in=others), matched=[])
    line = answer_message(answer(repeated))["blocks"][3]["elements"][0]["text"]
    assert line.endswith("¶3 · also in 央视, 人民网, 澎湃 &lt;新闻&gt; +1")
    assert "also in" not in answer_message(answer(hit("粮食", [])))["blocks"][3]["elements"][0]["text"]
