"""Answering apart from acknowledging: a bounded queue of answer jobs served by a fixed pool of
threads. Slack's 3-second ack never waits for a search or a slow ``response_url``; when the queue
is full, the caller is told at once (and tells the user the bot is busy)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class AnswerQueue:
    """``submit`` jobs; ``workers`` daemon threads run them in order; ``close`` drains with a deadline."""

    def __init__(self, workers: int, capacity: int) -> None:
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=capacity)
        self._accepting = True
        for number in range(workers):
            threading.Thread(target=self._work, name=f"answer-{number}", daemon=True).start()

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue ``job``; False (and nothing queued) when the queue is full or closed."""
        if not self._accepting:
            return False
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            return False
        return True

    def full(self) -> bool:
        return not self._accepting or self._jobs.full()

    def close(self, timeout: float) -> int:
        """Stop taking jobs and wait up to ``timeout`` seconds for those queued or running; returns
        how many were left unfinished (their threads are daemons and end with the process)."""
        self._accepting = False
        deadline = time.monotonic() + timeout
        with self._jobs.all_tasks_done:
            while self._jobs.unfinished_tasks and (left := deadline - time.monotonic()) > 0:
                self._jobs.all_tasks_done.wait(left)
            return self._jobs.unfinished_tasks

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception as exc:  # a job reports its own failures; this is the last guard
                log.error("an answer job failed: %s", type(exc).__name__, exc_info=exc)
            finally:
                self._jobs.task_done()
