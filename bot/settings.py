"""Settings from the environment and ``.env``: Slack's own variable names, ``NEWSBOT_*`` for the rest."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.analysis import AnalyzerOptions
from index.build import IndexOptions
from index.passages import PassageOptions
from index.query import QueryOptions
from index.search import SearchOptions


MAX_TOP_K = 20  # passages per answer; `ask -k` allows the same (Slack shows what fits and counts the rest)


class SettingsError(Exception):
    """Settings that cannot start newsbot; the message names each bad variable on one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    port: int = Field(3000, ge=0, le=65535, validation_alias=AliasChoices("PORT", "NEWSBOT_PORT"))
    host: str = "0.0.0.0"
    command: str = "/news"
    slack_api_url: str = "https://slack.com/api/"
    corpus: Path = Path("seeds")
    index: Path = Path(".newsbot-index")
    feedback_db: Path = Path(".newsbot-feedback.sqlite")  # votes, shared answers, threads, recent questions (SQLite)
    feeds: Path | None = None  # a file of feed and page URLs, one per line, for `newsbot ingest` and `serve`
    refresh_seconds: float = Field(900.0, ge=0)  # `serve` polls the feeds this often (with NEWSBOT_FEEDS; 0: never)
    watch_seconds: float = Field(5.0, ge=0)  # `serve` checks the corpus folder for new news this often (0: never)
    top_k: int = Field(3, ge=1, le=MAX_TOP_K)
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"
    workers: int = Field(32, ge=1, le=256)  # HTTP threads: they only verify and ack
    answer_workers: int = Field(64, ge=1, le=512)  # threads that search and deliver answers (mostly waiting on Slack)
    queue_size: int = Field(512, ge=1, le=100_000)  # answers waiting for a thread; beyond, "busy"
    max_body_bytes: int = Field(1 << 20, ge=1024, le=64 << 20)  # larger HTTP requests get 413
    delivery_attempts: int = Field(4, ge=1, le=10)  # tries per answer on 429 / 5xx / network errors
    max_retry_after: float = Field(30.0, ge=0, le=600)  # longest Retry-After honoured, in seconds
    drain_seconds: float = Field(8.0, ge=0, le=60)  # on SIGTERM, how long answers in flight may take
    socket_give_up_seconds: float = Field(300.0, gt=0)  # Socket Mode gives up after this long without a connection
    verify_index: bool = True  # check every index file against its checksum when serving starts
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Index switches (changing one rebuilds the index on next use).
    stop_words: bool = True
    simplified: bool = True
    bigrams: bool = True
    hmm: bool = False
    merge_short_lines: bool = True
    max_passage_chars: int = Field(300, ge=0)
    context_in_index: bool = True
    ecdict: bool = True
    # Question switches.
    lexicon: bool = True
    pinyin: bool = True
    stemming: bool = True
    structured: bool = True
    names: bool = True
    phrases_first: bool = True
    sounds: bool = True
    common_share: float = Field(0.02, ge=0, le=1)
    context_match: float = Field(0.25, ge=0, le=1)
    feedback_passages: int = Field(0, ge=0, le=50)
    feedback_terms: int = Field(10, ge=1, le=100)
    feedback_weight: float = Field(0.3, ge=0)
    precise_questions: bool = True
    unknown_by_bigrams: bool = True
    bigram_weight: float = Field(0.5, ge=0)
    coordination: bool = True
    phrase_weight: float = Field(1.0, ge=0)
    min_answer_probability: float | None = Field(None, ge=0, le=1)
    # Time.
    time_filters: bool = True
    named_date_boost: float = Field(2.0, ge=1)
    recency: bool = True
    recency_half_life_days: float = Field(365.0, gt=0)
    recent_window_days: int = Field(365, ge=0)
    now: date | None = None

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or len(value) < 2 or " " in value:
            raise ValueError("must look like /news")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _no_spaces(cls, value: object) -> object:
        """A secret set but empty (or spaces) is a mistake, never a way to switch a check off."""
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("is set but empty; give the real value or unset it")
            if value != value.strip():
                raise ValueError("has spaces or a newline around it")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    def _named_like(self, options: type) -> dict:
        """The settings that share a name with a field of the dataclass ``options``, by name."""
        return {f.name: getattr(self, f.name) for f in fields(options) if f.name in Settings.model_fields}

    def index_options(self) -> IndexOptions:
        return IndexOptions(
            analyzer=AnalyzerOptions(**self._named_like(AnalyzerOptions)),
            passages=PassageOptions(**self._named_like(PassageOptions)),
            ecdict=self.ecdict,
        )

    def search_options(self) -> SearchOptions:
        return SearchOptions(query=QueryOptions(**self._named_like(QueryOptions)), **self._named_like(SearchOptions))

    def mode(self) -> Literal["socket", "http", "console"]:
        """Socket Mode with an app token, HTTP with a bot token and signing secret, else a local console."""
        if self.slack_app_token is not None:
            self.require("slack_bot_token")
            return "socket"
        if self.slack_bot_token is not None or self.slack_signing_secret is not None:
            self.require("slack_bot_token", "slack_signing_secret")
            return "http"
        return "console"

    def require(self, *names: str) -> None:
        missing = [env_name(name) for name in names if getattr(self, name) is None]
        if missing:
            raise SettingsError("\n".join(f"missing setting {name}" for name in missing))


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return alias if isinstance(alias, str) else f"NEWSBOT_{field.upper()}"


# What only `newsbot serve` uses: a bad value here must not stop `newsbot ask`, `eval`, `index` or `ingest`.
SERVER_SETTINGS = frozenset({
    "slack_bot_token", "slack_signing_secret", "slack_app_token", "port", "host", "command", "slack_api_url",
    "response_type", "workers", "answer_workers", "queue_size", "max_body_bytes", "delivery_attempts",
    "max_retry_after", "drain_seconds", "verify_index", "log_level", "refresh_seconds", "watch_seconds",
    "socket_give_up_seconds",
})


def _field_named(name: str) -> str:
    """The field a validation error names, by field name or by its alias (PORT → port)."""
    aliases = {_init_name(field): field for field in Settings.model_fields}
    return aliases.get(name, name)


def _init_name(field: str) -> str:
    """The name a setting is given by in code: its alias where it has one (PORT), else its field name."""
    alias = Settings.model_fields[field].validation_alias
    return env_name(field) if alias is not None else field


def load_settings(ignore: frozenset[str] = frozenset()) -> Settings:
    """Settings from the environment; a bad value raises :class:`SettingsError` naming its variable,
    unless its setting is in ``ignore`` (settings the command does not use): then its default stands."""
    try:
        return Settings()
    except ValidationError as exc:
        bad = {_field_named(str(error["loc"][0]) if error["loc"] else "?"): error for error in exc.errors()}
    relevant = {field: error for field, error in bad.items() if field not in ignore}
    if not relevant:
        return Settings(**{_init_name(field): Settings.model_fields[field].default for field in bad})
    lines = []
    for field, error in relevant.items():
        name = env_name(field) if field in Settings.model_fields else field
        lines.append(f"bad setting {name}: {error['msg'].removeprefix('Value error, ')}")
    raise SettingsError("\n".join(lines))
