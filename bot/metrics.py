"""What a running bot exposes at ``/metrics`` for Prometheus (prometheus-client): questions and how
they ended, refusals by reason, answer latency, deliveries to Slack and their retries, votes and
shares, and the index in use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from index import Answer, Engine

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The bot's counters, in a registry of their own (so tests and several bots in one process never mix)."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter("newsbot_questions", "Questions asked, by how they ended", ["outcome"], registry=self.registry)
        self.refusals = Counter("newsbot_refusals", "Questions the news has no answer for, by reason", ["reason"],
                                registry=self.registry)
        self.latency = Histogram("newsbot_answer_seconds", "Time to search the news for one question", registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.deliveries = Counter("newsbot_slack_deliveries", "Messages sent to Slack, by method and result", ["method", "result"],
                                  registry=self.registry)
        self.retries = Counter("newsbot_slack_retries", "Slack API calls tried again, by why", ["reason"], registry=self.registry)
        self.votes = Counter("newsbot_feedback_votes", "Votes on answers, by vote", ["vote"], registry=self.registry)
        self.shares = Counter("newsbot_answers_shared", "Answers shared in a channel by the asker", registry=self.registry)
        self.registry.register(_IndexCollector(engine))

    def retried(self, reason: str) -> None:
        self.retries.labels(reason).inc()

    def answered(self, answer: Answer, seconds: float) -> None:
        self.latency.observe(seconds)
        if answer.answered:
            self.questions.labels("answered").inc()
        else:
            self.questions.labels("refused").inc()
            self.refusals.labels(answer.reason or "no_match").inc()

    def noticed(self, failed: bool) -> None:
        """A question answered with a notice: usage or a question refused as malformed, or an apology."""
        self.questions.labels("error" if failed else "notice").inc()

    def delivered(self, method: str, ok: bool) -> None:
        self.deliveries.labels(method, "ok" if ok else "failed").inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _IndexCollector(Collector):
    """The index in use, read when scraped: its passages, newest article date and generation."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator:
        index = self.engine.index()
        passages = GaugeMetricFamily("newsbot_index_passages", "Passages in the index in use")
        passages.add_metric([], index.manifest["n_passages"])
        yield passages
        if index.newest is not None:
            newest = GaugeMetricFamily("newsbot_index_newest_article_timestamp_seconds", "Date of the newest article, as a Unix time")
            newest.add_metric([], datetime(index.newest.year, index.newest.month, index.newest.day, tzinfo=timezone.utc).timestamp())
            yield newest
        generation = InfoMetricFamily("newsbot_index_generation", "The index generation in use")
        generation.add_metric([], {"generation": index.generation.name})
        yield generation
