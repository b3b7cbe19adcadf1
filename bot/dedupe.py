"""Each Slack event answered once: Slack re-sends an event it thinks was missed (HTTP retries,
Socket Mode ``retry_attempt``), and a retry of an event already taken is acked and skipped."""

from __future__ import annotations

import threading

from cachetools import TTLCache


class EventLedger:
    """Event ids taken recently, bounded in number and age (Slack retries within minutes)."""

    def __init__(self, ttl_seconds: float = 3600, capacity: int = 100_000) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=capacity, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def claim(self, event_id: str) -> bool:
        """True the first time ``event_id`` is claimed; False for every retry of it."""
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = True
            return True

    def release(self, event_id: str) -> None:
        """Forget a claim that could not be acted on, so Slack's retry is taken."""
        with self._lock:
            self._seen.pop(event_id, None)
