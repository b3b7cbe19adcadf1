"""The ``newsbot`` command line: build the index, ask, evaluate, serve."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from tqdm import tqdm

from bot.render import text_answer
from bot.settings import MAX_TOP_K, SERVER_SETTINGS, Settings, SettingsError, load_settings
from index import EmptyCorpusError, Engine, IndexUnavailable, QuestionError


class FatalError(click.ClickException):
    """A one-line error that stops the command with exit status 2 (bad setting, path or index)."""

    exit_code = 2


def _settings(corpus: Path | None = None, index: Path | None = None, serving: bool = False) -> Settings:
    """The settings, with --corpus/--index applied; a bad value stops the command in one line, unless
    only ``serve`` uses that setting and this is not ``serve``."""
    try:
        settings = load_settings(frozenset() if serving else SERVER_SETTINGS)
    except SettingsError as exc:
        raise FatalError(str(exc)) from None
    updates = {key: value for key, value in (("corpus", corpus), ("index", index)) if value is not None}
    return settings.model_copy(update=updates)


def _report_skipped(name: str, reason: str) -> None:
    click.echo(f"skipped {name}: {reason}", err=True)


def _engine(settings: Settings, verify_content: bool = False) -> Engine:
    if not settings.corpus.exists():
        raise FatalError(f"corpus not found: {settings.corpus} (set --corpus or NEWSBOT_CORPUS)")
    if settings.index.exists() and not settings.index.is_dir():
        raise FatalError(f"the index path {settings.index} is a file, not a folder (set --index or NEWSBOT_INDEX)")
    return Engine(
        settings.corpus,
        settings.index,
        settings.index_options(),
        settings.search_options(),
        on_build=lambda: click.echo(f"building the index of {settings.corpus} (first use, corpus changed or index damaged)…", err=True),
        on_error=_report_skipped,
        verify_content=verify_content,
    )


def _open(engine: Engine) -> None:
    """Open (or build) the engine's index; failing that, one line and exit 2."""
    try:
        engine.index()
    except IndexUnavailable as exc:
        raise FatalError(f"{exc} (NEWSBOT_INDEX, NEWSBOT_CORPUS)") from None


corpus_option = click.option("--corpus", type=click.Path(path_type=Path), help="News files to index [NEWSBOT_CORPUS, default seeds].")
index_option = click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index directory [NEWSBOT_INDEX, default .newsbot-index].")


@click.group()
@click.version_option(package_name="newsbot")
def cli() -> None:
    """newsbot: answers questions about the news with cited passages, on Slack or here."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.group()
def index() -> None:
    """Build or inspect the search index."""


@index.command("build")
@corpus_option
@index_option
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Segmentation processes [default: all cores].")
def index_build(corpus: Path | None, index_dir: Path | None, workers: int | None) -> None:
    """Index the corpus; the previous index stays in use until the new one is complete."""
    settings = _settings(corpus, index_dir)
    engine = _engine(settings)
    try:
        with tqdm(unit=" passages", desc="indexing", disable=None, file=sys.stderr) as bar:
            report = engine.build(workers=workers, progress=bar.update)
    except EmptyCorpusError as exc:
        raise FatalError(f"{exc}; the previous index, if any, is still in use") from None
    except OSError as exc:
        raise FatalError(f"cannot build the index in {settings.index}: {exc.strerror or exc}") from None
    rate = report.characters / report.segment_seconds if report.segment_seconds else 0.0
    click.echo(
        f"indexed {report.passages:,} passages from {report.documents:,} documents, {report.terms:,} terms, "
        f"in {report.seconds:.1f} s (segmentation {rate:,.0f} chars/s) → {settings.index}"
    )
    if report.skipped:
        click.echo(f"{len(report.skipped)} file(s) or line(s) skipped, listed above", err=True)


@index.command("update")
@corpus_option
@index_option
def index_update(corpus: Path | None, index_dir: Path | None) -> None:
    """Bring the index up to date: what changed becomes a delta beside the full build (a full build when much did)."""
    from index.update import update_index

    settings = _settings(corpus, index_dir)
    engine = _engine(settings)
    try:
        report = update_index(settings.corpus, settings.index, engine.options, on_error=_report_skipped)
    except EmptyCorpusError as exc:
        raise FatalError(f"{exc}; the previous index, if any, is still in use") from None
    except OSError as exc:
        raise FatalError(f"cannot update the index in {settings.index}: {exc.strerror or exc}") from None
    if report.how == "unchanged":
        click.echo(f"{settings.index} is up to date")
    elif report.how == "delta":
        click.echo(f"added {report.added:,} passages and deleted {report.deleted:,} ({len(report.changed_files)} file(s) changed) "
                   f"in {report.seconds:.1f} s; {report.passages:,} passages in all → {settings.index}")
    else:
        click.echo(f"built in full ({report.why}): {report.passages:,} passages in {report.seconds:.1f} s → {settings.index}")


@index.command("info")
@corpus_option
@index_option
def index_info(corpus: Path | None, index_dir: Path | None) -> None:
    """Show what the current index holds and whether it is up to date."""
    settings = _settings(corpus, index_dir)
    engine = _engine(settings)
    fresh = engine.is_fresh()
    if not fresh:
        click.echo(f"{settings.index}: missing or stale; it will be built on first use")
        return
    _open(engine)
    manifest = engine.index().manifest
    keys = ("corpus", "kind", "n_documents", "n_copies", "n_passages", "n_terms", "newest_date", "built_at", "base",
            "n_delta_passages", "n_deleted")
    click.echo(json.dumps({key: manifest[key] for key in keys if key in manifest} | {"fresh": fresh}, ensure_ascii=False, indent=2))


@index.command("verify")
@corpus_option
@index_option
def index_verify(corpus: Path | None, index_dir: Path | None) -> None:
    """Check every file of the index against its checksum, and that the index is fresh (exit 1 if not)."""
    settings = _settings(corpus, index_dir)
    problems = _engine(settings).verify()
    if problems:
        for problem in problems:
            click.echo(f"{settings.index}: {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"{settings.index}: every file matches its checksum; the index is fresh")


@cli.command()
@click.argument("question")
@click.option("--top-k", "-k", type=click.IntRange(1, MAX_TOP_K), default=None,
              help=f"Passages to show, 1-{MAX_TOP_K} [NEWSBOT_TOP_K, default 3].")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@corpus_option
@index_option
def ask(question: str, top_k: int | None, as_json: bool, corpus: Path | None, index_dir: Path | None) -> None:
    """Answer QUESTION with the best passages and their citations."""
    settings = _settings(corpus, index_dir)
    engine = _engine(settings)
    _open(engine)
    try:
        answer = engine.ask(question, top_k or settings.top_k)
    except QuestionError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(text_answer(answer, lambda s: click.style(s, bold=True)))


@cli.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contexts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="QA set contexts: indexed as documents into a temporary index.")
@click.option("--distractors", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="More news (.jsonl or .jsonl.gz) indexed beside the contexts.")
@click.option("--eval-index", type=click.Path(path_type=Path), help="Keep the QA index here and reuse it while fresh.")
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@corpus_option
@index_option
def evaluate_command(questions: Path, contexts: Path | None, distractors: tuple[Path, ...], eval_index: Path | None,
                     limit: int | None, as_json: bool, corpus: Path | None, index_dir: Path | None) -> None:
    """Measure hit@1/3/5, MRR@10, refusals (of unanswerable questions; of answerable ones whose right
    passage ranked in the top 3) and median latency on QUESTIONS."""
    from index.evaluate import CaseFileError, evaluate, load_cases, qa_engine

    settings = _settings(corpus, index_dir)
    try:
        cases = load_cases(questions, limit)
    except CaseFileError as exc:
        raise FatalError(str(exc)) from None
    if contexts is None:
        engine = _engine(settings)
        _open(engine)
        result = evaluate(engine, cases)
    else:
        with qa_engine(contexts, list(distractors), settings.index_options(), settings.search_options(), eval_index) as engine:
            result = evaluate(engine, cases)
    if as_json:
        click.echo(json.dumps(result))
        return
    by_lang = result.pop("by_lang", {})
    for key, value in result.items():
        click.echo(f"{key:>20}  {_shown(value)}" + "".join(f"  {lang} {_shown(figures[key])}" for lang, figures in by_lang.items()))


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--feeds", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file of feed and page URLs, one per line; # starts a comment [NEWSBOT_FEEDS].")
@corpus_option
def ingest(urls: tuple[str, ...], feeds: Path | None, corpus: Path | None) -> None:
    """Fetch feeds and pages (URLS, and those listed in --feeds) and store their new articles in the corpus."""
    from index.web import ingest as ingest_urls

    settings = _settings(corpus)
    wanted = list(urls) + _feed_list(feeds or settings.feeds)
    if not wanted:
        raise FatalError("no URLs to fetch: give some, or a file of them with --feeds or NEWSBOT_FEEDS")
    if settings.corpus.exists() and not settings.corpus.is_dir():
        raise FatalError(f"the corpus {settings.corpus} is a file, not a folder (set --corpus or NEWSBOT_CORPUS)")
    report = ingest_urls(wanted, settings.corpus, on_error=_report_skipped)
    click.echo(f"stored {len(report.stored):,} new article(s) in {settings.corpus}; {report.known:,} feed item(s) already stored, "
               f"{len(report.unchanged):,} source(s) unchanged, {len(report.failed):,} URL(s) skipped")
    if report.failed and not report.stored and not report.unchanged and not report.known:
        raise SystemExit(1)


@cli.command()
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the voted answers as evaluation questions (JSON Lines, the format `newsbot eval` reads).")
def feedback(export_path: Path | None) -> None:
    """Summarise the 👍/👎 votes on answers [NEWSBOT_FEEDBACK_DB]; --export turns them into evaluation questions."""
    from bot.feedback import FeedbackError, FeedbackStore

    settings = _settings()
    if not settings.feedback_db.exists():
        raise FatalError(f"no feedback database at {settings.feedback_db} yet (NEWSBOT_FEEDBACK_DB)")
    try:
        store = FeedbackStore(settings.feedback_db)
    except FeedbackError as exc:
        raise FatalError(f"{exc} (NEWSBOT_FEEDBACK_DB)") from None
    summary = store.summary()
    click.echo(f"{summary['answers']:,} answer(s) shown; {summary['helpful']:,} vote(s) helpful, {summary['wrong']:,} wrong")
    for question, count in summary["most_marked_wrong"]:
        click.echo(f"  marked wrong {count}×: {question}")
    if export_path is not None:
        cases = list(store.cases())
        export_path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8")
        click.echo(f"wrote {len(cases):,} evaluation question(s) to {export_path} (answers marked wrong have an empty gold: "
                   f"the bot should not answer them so; put the right passage's text in gold where the news has it)")
    store.close()


def _feed_list(path: Path | None) -> list[str]:
    """The URLs listed in the feed file, if any; an unreadable file stops the command in one line."""
    from index.web import read_url_list

    try:
        return read_url_list(path) if path is not None else []
    except (OSError, UnicodeDecodeError) as exc:
        raise FatalError(f"cannot read the feed list {path}: {getattr(exc, 'strerror', None) or exc} (--feeds, NEWSBOT_FEEDS)") from None


def _shown(value: float | int | None) -> str:
    return "n/a" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value:.3f}")


@cli.command()
@click.option("--mode", type=click.Choice(["auto", "http", "socket", "console"]), default="auto", show_default=True,
              help="auto: Socket Mode with SLACK_APP_TOKEN, HTTP with SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, else a console.")
def serve(mode: str) -> None:
    """Run the Slack bot (or, with no Slack tokens, a local console)."""
    from bot.refresh import Refresher
    from bot.server import StartError
    from bot.server import run_console, serve_http, serve_socket_mode

    settings = _settings(serving=True)
    try:
        chosen = settings.mode() if mode == "auto" else mode
        if chosen == "http":
            settings.require("slack_bot_token", "slack_signing_secret")
        elif chosen == "socket":
            settings.require("slack_bot_token", "slack_app_token")
    except SettingsError as exc:
        raise FatalError(str(exc)) from None
    logging.getLogger().setLevel(settings.log_level)
    # slack_sdk logs each retry at INFO with the URL it calls, and a response_url is a credential.
    logging.getLogger("slack_sdk").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    engine = _engine(settings, verify_content=settings.verify_index)
    _open(engine)
    refresher = Refresher(engine, settings.feeds, settings.refresh_seconds, settings.watch_seconds, prepare=chosen != "console")
    refresher.start()
    try:
        if chosen == "console":
            run_console(engine, settings.top_k, bold=lambda s: click.style(s, bold=True) if sys.stdout.isatty() else s)
        elif chosen == "http":
            serve_http(settings, engine)
        else:
            serve_socket_mode(settings, engine)
    except (StartError, IndexUnavailable) as exc:
        raise FatalError(str(exc)) from None
    finally:
        refresher.stop()
        engine.close()


def main() -> None:
    cli(prog_name="newsbot")
