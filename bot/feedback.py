"""What people did with answers, in a SQLite file: the answers shown (so a click can be acted on),
👍/👎 votes, the questions each person asked (for App Home) and the threads answers started (for
follow-ups). The schema is migrated when the file is opened; user ids are stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index import Answer

# Each entry brings the schema from the version before it to its own (PRAGMA user_version).
MIGRATIONS = (
    """CREATE TABLE answers (id TEXT PRIMARY KEY, question TEXT NOT NULL, passages TEXT NOT NULL,
                            answered INTEGER NOT NULL, message TEXT NOT NULL, created REAL NOT NULL);
       CREATE TABLE votes (answer_id TEXT NOT NULL REFERENCES answers(id), user_hash TEXT NOT NULL,
                          vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), created REAL NOT NULL,
                          PRIMARY KEY (answer_id, user_hash));
       CREATE TABLE questions (user_hash TEXT NOT NULL, question TEXT NOT NULL, created REAL NOT NULL);
       CREATE INDEX questions_by_user ON questions (user_hash, created);
       CREATE TABLE threads (channel TEXT NOT NULL, thread_ts TEXT NOT NULL, question TEXT NOT NULL,
                            created REAL NOT NULL, PRIMARY KEY (channel, thread_ts));
       CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
       INSERT INTO settings VALUES ('user_key', lower(hex(randomblob(32))));""",
)
KEEP_QUESTIONS = 20  # per person, for App Home
GOLD_CHARS = 40  # an exported 👍 case: the first passage's opening, which the right passage contains


class FeedbackError(Exception):
    """The feedback database cannot be opened or is of a newer schema; the message says which file."""


@dataclass(frozen=True)
class ShownAnswer:
    """An answer as it was shown: the question, the passages (doc id and paragraph) and the message."""

    id: str
    question: str
    passages: list[dict]
    answered: bool
    message: dict


class FeedbackStore:
    """One SQLite file, shared by the bot's threads (one connection, serialised)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
            self._key = self._db.execute("SELECT value FROM settings WHERE name = 'user_key'").fetchone()[0].encode()
        except sqlite3.Error as exc:
            raise FeedbackError(f"cannot open the feedback database {path}: {exc}") from None
        except OSError as exc:
            raise FeedbackError(f"cannot open the feedback database {path}: {exc.strerror or exc}") from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise FeedbackError(f"the feedback database {self.path} is of a newer newsbot (schema {version})")
        for number, script in enumerate(MIGRATIONS[version:], version + 1):
            self._db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def user_hash(self, user_id: str) -> str:
        """A user id keyed-hashed with this file's random key: the same person, the same hash."""
        return hmac.new(self._key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def remember(self, answer: Answer, message: dict, user_id: str | None) -> str:
        """Store an answer as shown (and who asked it); returns its id for the buttons."""
        answer_id = uuid.uuid4().hex
        hits = answer.hits if answer.answered else answer.closest
        passages = [{"doc_id": h.citation.doc_id, "paragraph": h.citation.paragraph, "title": h.citation.title,
                     "text": h.text} for h in hits]
        now = time.time()
        with self._lock:
            self._db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)", (
                answer_id, answer.question, json.dumps(passages, ensure_ascii=False), int(answer.answered),
                json.dumps(message, ensure_ascii=False), now))
            if user_id:
                self._asked(self.user_hash(user_id), answer.question, now)
        return answer_id

    def _asked(self, user_hash: str, question: str, now: float) -> None:
        self._db.execute("INSERT INTO questions VALUES (?, ?, ?)", (user_hash, question, now))
        self._db.execute("DELETE FROM questions WHERE user_hash = ? AND rowid NOT IN (SELECT rowid FROM questions "
                         "WHERE user_hash = ? ORDER BY created DESC LIMIT ?)", (user_hash, user_hash, KEEP_QUESTIONS))

    def shown(self, answer_id: str) -> ShownAnswer | None:
        with self._lock:
            row = self._db.execute("SELECT id, question, passages, answered, message FROM answers WHERE id = ?",
                                   (answer_id,)).fetchone()
        if row is None:
            return None
        return ShownAnswer(row[0], row[1], json.loads(row[2]), bool(row[3]), json.loads(row[4]))

    def vote(self, answer_id: str, user_id: str, vote: int) -> bool:
        """Record (or change) a person's vote on an answer; False when the answer is unknown."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            self._db.execute("INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?)",
                             (answer_id, self.user_hash(user_id), vote, time.time()))
        return True

    def recent_questions(self, user_id: str, limit: int = 5) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT question FROM questions WHERE user_hash = ? ORDER BY created DESC LIMIT ?",
                                    (self.user_hash(user_id), limit)).fetchall()
        return [row[0] for row in rows]

    def started_thread(self, channel: str, thread_ts: str, question: str) -> None:
        """An answer was posted at ``thread_ts``: replies there follow up on ``question``."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?)", (channel, thread_ts, question, time.time()))

    def thread_question(self, channel: str, thread_ts: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT question FROM threads WHERE channel = ? AND thread_ts = ?",
                                   (channel, thread_ts)).fetchone()
        return row[0] if row else None

    def summary(self) -> dict:
        """Counts of answers shown, votes each way, and the questions most often marked wrong."""
        with self._lock:
            answers = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            up, down = self._db.execute("SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM votes").fetchone()
            wrong = self._db.execute("SELECT a.question, COUNT(*) FROM votes v JOIN answers a ON a.id = v.answer_id "
                                     "WHERE v.vote = -1 GROUP BY a.question ORDER BY COUNT(*) DESC, a.question LIMIT 10").fetchall()
        return {"answers": answers, "helpful": up, "wrong": down, "most_marked_wrong": [list(row) for row in wrong]}

    def cases(self) -> Iterator[dict]:
        """Every voted answer as an evaluation case in ``newsbot eval``'s format: marked helpful, its
        first passage's opening is the gold text; marked wrong, ``gold`` is empty (the bot should not
        answer so) and ``wrong`` lists what it showed. Edit ``gold`` to the right text to keep it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT a.question, a.passages, a.answered, SUM(v.vote = 1), SUM(v.vote = -1) FROM answers a "
                "JOIN votes v ON v.answer_id = a.id GROUP BY a.id ORDER BY MIN(v.created)").fetchall()
        for question, passages_json, answered, up, down in rows:
            passages = json.loads(passages_json)
            if up > down and answered and passages:
                yield {"question": question, "gold": [passages[0]["text"][:GOLD_CHARS]], "votes": {"up": up, "down": down}}
            elif down > up:
                yield {"question": question, "gold": [], "wrong": [p["text"][:GOLD_CHARS] for p in passages],
                       "votes": {"up": up, "down": down}}
