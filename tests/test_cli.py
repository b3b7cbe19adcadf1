"""The newsbot command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import NEWSBOT, SEEDS


def run(*args: str, env: dict | None = None, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_"))}
    return subprocess.run([NEWSBOT, *args], env=clean | (env or {}), cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    """The single line a command that could not go on printed, having exited with status 2."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture
def index_env(seed_index_dir):
    return {"NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(seed_index_dir)}


def test_ask_json_has_the_documented_shape(index_env, tmp_path):
    result = run("ask", "--json", "谁带领通义实验室?", env=index_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == "谁带领通义实验室?" and answer["answered"] is True
    hit = answer["hits"][0]
    assert {"rank", "score", "text", "citation"} <= hit.keys()
    assert hit["rank"] == 1 and isinstance(hit["score"], float)
    citation = hit["citation"]
    assert {"doc_id", "title", "source", "date", "paragraph", "path", "url"} <= citation.keys()
    assert (citation["source"], citation["date"]) == ("TechWeb", "2026-03-05")
    assert "靖人会继续带领通义实验室" in hit["text"] or "明确周靖人继续带队" in hit["text"]


def test_ask_json_without_an_answer(index_env, tmp_path):
    answer = json.loads(run("ask", "--json", "明天巴黎天气如何?", env=index_env, cwd=tmp_path).stdout)
    assert answer == {"question": "明天巴黎天气如何?", "answered": False, "hits": [], "as_of": None, "window": None,
                      "reason": "no_match", "news_until": None, "confidence": None, "closest": [], "evidence": None}


def test_ask_text_and_top_k(index_env, tmp_path):
    result = run("ask", "--top-k", "2", "基模四杰是哪四个人?", env=index_env, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("1. ") and "\n2. " in result.stdout and "\n3. " not in result.stdout
    assert "2026-03-05 · TechWeb" in result.stdout


def test_ask_builds_a_missing_index_by_itself_and_index_build_reports(tmp_path):
    env = {"NEWSBOT_CORPUS": str(SEEDS), "NEWSBOT_INDEX": str(tmp_path / "fresh")}
    first = run("ask", "--json", "谁批准了林俊旸的辞职?", env=env, cwd=tmp_path)
    assert json.loads(first.stdout)["answered"] and "building the index" in first.stderr
    second = run("ask", "--json", "谁批准了林俊旸的辞职?", env=env, cwd=tmp_path)
    assert "building" not in second.stderr
    build = run("index", "build", "--corpus", str(SEEDS), "--index", str(tmp_path / "other"), cwd=tmp_path)
    assert build.returncode == 0 and build.stdout.startswith("indexed ") and "passages from 1 documents" in build.stdout


def test_unreadable_corpus_files_are_named_and_skipped(tmp_path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("【新华社】5月1日电 长江大桥今天正式通车。2024年5月1日", encoding="utf-8")
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    result = run("index", "build", "--corpus", str(corpus), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert result.returncode == 0
    assert "skipped broken.txt" in result.stderr and "1 documents" in result.stdout


def test_empty_question_is_a_clear_error(index_env, tmp_path):
    result = run("ask", "  ", env=index_env, cwd=tmp_path)
    assert result.returncode == 1 and "Ask a question" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "env, name",
    [
        ({"NEWSBOT_TOP_K": "many"}, "NEWSBOT_TOP_K"),
        ({"SLACK_BOT_TOKEN": "not-a-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1-A-1-x"}, "SLACK_BOT_TOKEN"),
        ({"PORT": "http"}, "PORT"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "   "}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "", "SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
    ],
)
def test_bad_settings_stop_the_start_with_one_line_naming_them(env, name, tmp_path):
    assert name in one_line(run("serve", env=env, cwd=tmp_path))


def test_settings_are_read_from_a_dot_env_file(tmp_path):
    (tmp_path / ".env").write_text("NEWSBOT_TOP_K=zero\n", encoding="utf-8")
    result = run("serve", cwd=tmp_path)
    assert result.returncode != 0 and "NEWSBOT_TOP_K" in result.stderr


def test_console_answers_like_the_slash_command(index_env, tmp_path):
    result = run("serve", env=index_env, cwd=tmp_path, stdin="谁带领通义实验室?\nhelp\n明天巴黎天气如何?\n")
    assert result.returncode == 0, result.stderr
    assert "1. " in result.stdout and "2026-03-05 · TechWeb" in result.stdout
    assert "/news who leads Tongyi now?" in result.stdout
    assert "Nothing in the news matches" in result.stdout
    assert "\x1b[" not in result.stdout  # no terminal styling when the output is not a terminal


def test_eval_on_a_qa_set_indexes_its_contexts_and_reports_every_figure(tmp_path):
    contexts = tmp_path / "contexts.jsonl"
    questions = tmp_path / "questions.jsonl"
    contexts.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"id": "c1", "title": "长江大桥", "text": "长江大桥今天正式通车,全长一千六百米。"},
        {"id": "c2", "title": "黄河", "text": "黄河水位持续上涨,沿岸启动防汛预案。"},
        {"id": "c3", "title": "地铁", "text": "地铁五号线明年开通,连接城东和城西。"},
    ]), encoding="utf-8")
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        {"question": "长江大桥全长多少米?", "context_id": "c1"},
        {"question": "黄河沿岸启动了什么预案?", "context_id": "c2"},
        {"question": "地铁五号线连接哪里?", "context_id": "c1"},  # deliberately wrong gold: a miss
    ]), encoding="utf-8")
    result = run("eval", str(questions), "--contexts", str(contexts), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert set(figures) == {"n", "answerable", "hit@1", "hit@3", "hit@5", "mrr@10", "no_answer_accuracy", "false_refusals", "p50_ms"}
    assert figures["n"] == 3 and figures["hit@1"] == pytest.approx(2 / 3) and figures["no_answer_accuracy"] is None


def test_eval_on_seed_questions_reports_no_answer_accuracy(index_env, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "谁带领通义实验室?", "gold": ["靖人会继续带领通义实验室"]}) + "\n"
                         + json.dumps({"question": "明天巴黎天气如何?", "gold": []}) + "\n", encoding="utf-8")
    result = run("eval", str(questions), env=index_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hit@1  1.000" in result.stdout and "no_answer_accuracy  1.000" in result.stdout


@pytest.mark.parametrize("content, where", [
    ('{"question": "a", "gold": []}\n{broken\n', ":2: not JSON"),
    ('["a list"]\n', ":1: not a JSON object"),
    ('{"gold": []}\n', ':1: no "question" string'),
    ('{"question": "a", "gold": "x"}\n', ':1: "gold" is not a list of strings'),
])
def test_a_malformed_eval_file_is_one_line_naming_file_and_line(index_env, tmp_path, content, where):
    questions = tmp_path / "q.jsonl"
    questions.write_text(content, encoding="utf-8")
    assert f"q.jsonl{where}" in one_line(run("eval", str(questions), env=index_env, cwd=tmp_path))


def test_an_empty_or_unreadable_corpus_is_an_error_and_the_old_index_stays(tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    (news / "ok.txt").write_text("【新华社】5月1日电 长江大桥今天正式通车。2024年5月1日", encoding="utf-8")
    assert run("index", "build", "--corpus", str(news), "--index", str(tmp_path / "i"), cwd=tmp_path).returncode == 0
    (news / "ok.txt").unlink()
    empty = run("index", "build", "--corpus", str(news), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert empty.returncode == 2 and "no news files" in empty.stderr and "still in use" in empty.stderr
    (news / "broken.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    unreadable = run("index", "build", "--corpus", str(news), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert unreadable.returncode == 2 and "none of the 1 news file(s)" in unreadable.stderr
    info = run("index", "info", "--corpus", str(news), "--index", str(tmp_path / "i"), cwd=tmp_path)
    assert "stale" in info.stdout  # the old index is still there, just not of this corpus


def test_an_index_path_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "index-file").write_text("x", encoding="utf-8")
    assert "index-file" in one_line(run("ask", "通义", "--corpus", str(SEEDS), "--index", str(tmp_path / "index-file"), cwd=tmp_path))


@pytest.mark.parametrize("setting", [{"PORT": "abc"}, {"SLACK_BOT_TOKEN": ""}, {"NEWSBOT_QUEUE_SIZE": "0"}])
def test_a_bad_server_setting_does_not_stop_ask_but_stops_serve(index_env, tmp_path, setting):
    asked = run("ask", "谁带领通义实验室?", env=index_env | setting, cwd=tmp_path)
    assert asked.returncode == 0 and "通义实验室" in asked.stdout, asked.stderr
    assert next(iter(setting)) in one_line(run("serve", env=index_env | setting, cwd=tmp_path))


def test_a_bad_setting_ask_uses_still_stops_it_in_one_line(index_env, tmp_path):
    assert "NEWSBOT_TOP_K" in one_line(run("ask", "x", env=index_env | {"NEWSBOT_TOP_K": "abc"}, cwd=tmp_path))


def test_top_k_is_the_same_range_on_the_command_line_and_in_settings(index_env, tmp_path):
    assert run("ask", "-k", "20", "谁带领通义实验室?", env=index_env, cwd=tmp_path).returncode == 0
    assert run("ask", "-k", "21", "x", env=index_env, cwd=tmp_path).returncode == 2
    assert run("ask", "x", env=index_env | {"NEWSBOT_TOP_K": "20"}, cwd=tmp_path).returncode == 0
    assert "NEWSBOT_TOP_K" in one_line(run("ask", "x", env=index_env | {"NEWSBOT_TOP_K": "21"}, cwd=tmp_path))


def test_zero_build_workers_is_refused(index_env, tmp_path):
    result = run("index", "build", "--workers", "0", env=index_env, cwd=tmp_path)
    assert result.returncode == 2 and "--workers" in result.stderr
