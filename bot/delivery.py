"""Everything that talks back to Slack: ``response_url`` replies and ``chat.postMessage``, with
bounded retries (429 after its ``Retry-After``, 5xx and dropped connections with backoff) and a
warning for whatever is finally dropped. Used by both transports."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Optional
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.metrics import Metrics

log = logging.getLogger(__name__)


class RateLimitRetry(RetryHandler):
    """Retries 429, after the ``Retry-After`` Slack asked for (at most ``max_wait`` seconds)."""

    def __init__(self, max_retry_count: int, max_wait: float, counted: Callable[[str], None]) -> None:
        super().__init__(max_retry_count)
        self.max_wait = max_wait
        self.counted = counted

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: Optional[HttpResponse] = None,
                   error: Optional[Exception] = None) -> bool:
        return _count(response is not None and response.status_code == 429, self.counted, "rate_limited")

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest, response: Optional[HttpResponse] = None,
                                 error: Optional[Exception] = None) -> None:
        state.next_attempt_requested = True
        time.sleep(min(self.max_wait, retry_after(response.headers if response else {})) + random.random() / 4)
        state.increment_current_attempt()


class ServerErrorRetry(RetryHandler):
    """Retries any 5xx answer, with exponential backoff."""

    def __init__(self, max_retry_count: int, counted: Callable[[str], None]) -> None:
        super().__init__(max_retry_count)
        self.counted = counted

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: Optional[HttpResponse] = None,
                   error: Optional[Exception] = None) -> bool:
        return _count(response is not None and 500 <= response.status_code < 600, self.counted, "server_error")


class ConnectionRetry(ConnectionErrorRetryHandler):
    """Retries a refused or reset connection."""

    def __init__(self, max_retry_count: int, counted: Callable[[str], None]) -> None:
        super().__init__(max_retry_count, error_types=[URLError, ConnectionResetError, ConnectionRefusedError])
        self.counted = counted

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: Optional[HttpResponse] = None,
                   error: Optional[Exception] = None) -> bool:
        return _count(super()._can_retry(state=state, request=request, response=response, error=error), self.counted, "connection")


def _count(retrying: bool, counted: Callable[[str], None], reason: str) -> bool:
    if retrying:
        counted(reason)
    return retrying


def retry_after(headers: dict) -> float:
    """Seconds a ``Retry-After`` header asks for (1 when absent or not a number of seconds)."""
    for key, value in headers.items():
        if key.lower() == "retry-after":
            text = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(str(text).strip()))
            except ValueError:
                return 1.0
    return 1.0


def slack_error(exc: SlackApiError) -> str:
    """What Slack said went wrong: its ``error`` code, else the HTTP status."""
    data = exc.response.data
    return str(data.get("error")) if isinstance(data, dict) and data.get("error") else f"HTTP {exc.response.status_code}"


def retry_handlers(attempts: int, max_retry_after: float, counted: Callable[[str], None] = lambda reason: None) -> list[RetryHandler]:
    """What is tried again, up to ``attempts`` in all; ``counted`` hears of each retry and why."""
    retries = attempts - 1
    return [RateLimitRetry(retries, max_retry_after, counted), ServerErrorRetry(retries, counted), ConnectionRetry(retries, counted)]


class Delivery:
    """Sends messages to Slack; never raises, returns whether the message arrived."""

    def __init__(self, client: WebClient, attempts: int = 4, max_retry_after: float = 30.0, timeout: float = 15.0,
                 metrics: Metrics | None = None) -> None:
        self.client = client
        self.metrics = metrics
        self.attempts = attempts
        self.timeout = timeout
        self._handlers = retry_handlers(attempts, max_retry_after, metrics.retried if metrics is not None else lambda reason: None)
        client.retry_handlers = self._handlers
        client.timeout = int(timeout)

    def respond(self, response_url: str, message: dict) -> bool:
        """Answer a slash command at its ``response_url``."""
        return self._counted("respond", self._respond(response_url, message))

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str | None:
        """Post into a channel or DM (in a thread when ``thread_ts`` is given); the posted message's
        ``ts``, or None when it did not arrive."""
        posted = self._post(channel, message, thread_ts)
        self._counted("post", posted is not None)
        return posted

    def publish_home(self, user_id: str, view: dict) -> bool:
        """Publish a user's App Home view."""
        try:
            self.client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            log.warning("App Home not published: views.publish failed (%s)", slack_error(exc))
            return self._counted("views_publish", False)
        except Exception as exc:
            log.warning("App Home not published: views.publish failed (%s)", type(exc).__name__)
            return self._counted("views_publish", False)
        return self._counted("views_publish", True)

    def _counted(self, method: str, ok: bool) -> bool:
        if self.metrics is not None:
            self.metrics.delivered(method, ok)
        return ok

    def _respond(self, response_url: str, message: dict) -> bool:
        webhook = WebhookClient(url=response_url, timeout=int(self.timeout), retry_handlers=self._handlers)
        try:
            response = webhook.send_dict(message)
        except Exception as exc:
            log.warning("dropped an answer: its response_url failed (%s)", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("dropped an answer: its response_url answered %d, after up to %d tries", response.status_code, self.attempts)
            return False
        return True

    def _post(self, channel: str, message: dict, thread_ts: str | None) -> str | None:
        try:
            response = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
        except SlackApiError as exc:
            log.warning("dropped an answer to %s: chat.postMessage failed (%s), after up to %d tries",
                        channel, slack_error(exc), self.attempts)
            return None
        except Exception as exc:
            log.warning("dropped an answer to %s: chat.postMessage failed (%s)", channel, type(exc).__name__)
            return None
        ts = response.get("ts") if isinstance(response.data, dict) else None
        return ts if isinstance(ts, str) else ""
