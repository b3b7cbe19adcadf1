"""Acting once on what Slack sends once: Slack re-sends an event it thinks was missed (HTTP
retries, Socket Mode ``retry_attempt``), and anyone who captured a signed request could send it
again within its five minutes. A key seen recently is claimed only the first time."""

from __future__ import annotations

import threading

from cachetools import TTLCache


class SeenRecently:
    """Keys (event ids, request signatures) claimed recently, bounded in number and age."""

    def __init__(self, ttl_seconds: float = 3600, capacity: int = 100_000) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=capacity, ttl=ttl_seconds)
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is claimed; False while it is remembered."""
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = True
            return True

    def release(self, key: str) -> None:
        """Forget a claim that could not be acted on, so that a retry is taken."""
        with self._lock:
            self._seen.pop(key, None)
