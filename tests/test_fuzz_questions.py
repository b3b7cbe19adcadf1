"""Any question at all gets an answer or a polite refusal, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import answer_message, text_answer
from index import QuestionError

words = st.sampled_from(["who", "leads", "Tongyi", "now", "Lin", "Junyang", "通义", "实验室", "辞职", "的", "?", "「", "'s",
                         "AI", "2026", "prime minister", "通義", "ⅷ", "\u200b", "\ufeff", "\x00", "\ud800", "*_~`", "<!here>"])
questions = st.text(max_size=600) | st.lists(words, max_size=30).map(" ".join) | st.lists(words, max_size=30).map("".join)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(question=questions)
def test_any_question_is_answered_or_refused_politely(seed_engine, question):
    try:
        answer = seed_engine.ask(question, 3)
    except QuestionError as refusal:
        assert str(refusal)
        return
    answer_message(answer)
    text_answer(answer)
    assert all(hit.rank == rank for rank, hit in enumerate(answer.hits, 1))
