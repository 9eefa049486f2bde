"""The labels database: who graded which object as what, when — in SQLite, safe under several reviewers.

Every label is one appended row (nothing is updated in place), so a regrade keeps the history and the
latest row per object is its current grade. The database runs in WAL mode with `synchronous=FULL`
and a busy timeout: readers never block writers, writers in other processes queue instead of failing,
and a label is on disk (fsynced) before its request is acknowledged, so a crash — `kill -9` or power
loss — loses nothing that was committed.

Each thread keeps its own connection open. Opening one per call would be simpler, but SQLite
checkpoints the WAL (with an fsync) whenever the last connection closes, which made every read pay
a disk flush. Writers within this process take a lock before the database's own write lock, so they
queue in order instead of polling SQLite's busy handler, whose back-off sleeps add tens of ms.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from skyssl.errors import ArtefactError, InputError

GRADES = ("A", "B", "not-lens", "other")
MAX_REVIEWER_CHARS = 64
MAX_NOTE_CHARS = 2000
BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 1
COLUMNS = ("id", "object_id", "grade", "reviewer", "note", "created_at")

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    object_id INTEGER NOT NULL,
    grade TEXT NOT NULL CHECK (grade IN ({", ".join(f"'{g}'" for g in GRADES)})),
    reviewer TEXT NOT NULL CHECK (length(reviewer) BETWEEN 1 AND {MAX_REVIEWER_CHARS}),
    note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= {MAX_NOTE_CHARS}),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS labels_object ON labels (object_id, id);
CREATE INDEX IF NOT EXISTS labels_reviewer ON labels (reviewer, id);
"""


def utc_now_iso() -> str:
    """The current time as ISO 8601 UTC with microseconds, e.g. 2026-11-23T18:40:00.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_label(grade: str, reviewer: str, note: str) -> tuple[str, str, str]:
    """The label's fields, cleaned; :class:`InputError` with the rule that was broken."""
    if grade not in GRADES:
        raise InputError(f"grade must be one of {', '.join(GRADES)}, not {grade!r}")
    reviewer = reviewer.strip()
    if not 1 <= len(reviewer) <= MAX_REVIEWER_CHARS:
        raise InputError(f"reviewer must be 1 to {MAX_REVIEWER_CHARS} characters after trimming spaces")
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"note must be at most {MAX_NOTE_CHARS} characters, got {len(note)}")
    return grade, reviewer, note


class LabelsDB:
    """A labels database file; created (with its schema) on first open."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputError(f"{self.path.parent}: no such folder for the labels database")
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        try:
            conn = self._connection()
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            missing = set(COLUMNS) - {row[1] for row in conn.execute("PRAGMA table_info(labels)")}
        except sqlite3.OperationalError as exc:
            self.close()
            raise InputError(f"{self.path}: cannot open the labels database ({exc}); give another place with "
                             "--labels") from None
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ArtefactError(f"{self.path} is not a usable labels database ({exc})") from None
        if missing:
            self.close()
            raise ArtefactError(f"{self.path}: table 'labels' lacks column(s) {', '.join(sorted(missing))}")

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are explicit), opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=FULL")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (the last one to close checkpoints the WAL into the database)."""
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    @contextmanager
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection (a writer takes the write lock up front, so it
        waits its turn instead of failing to upgrade); commits on success, rolls back on error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def add(self, object_id: int, grade: str, reviewer: str, note: str = "") -> dict:
        """Append one label and return the stored row (committed before this returns)."""
        grade, reviewer, note = check_label(grade, reviewer, note)
        created_at = utc_now_iso()
        with self._write_lock, self._transaction(write=True) as conn:
            cursor = conn.execute("INSERT INTO labels (object_id, grade, reviewer, note, created_at) "
                                  "VALUES (?, ?, ?, ?, ?)", (int(object_id), grade, reviewer, note, created_at))
            label_id = int(cursor.lastrowid)
        return {"id": label_id, "object_id": int(object_id), "grade": grade, "reviewer": reviewer, "note": note,
                "created_at": created_at}

    def labels(self, object_id: int | None = None, reviewer: str | None = None, limit: int | None = None
               ) -> list[dict]:
        """Labels matching the given object and/or reviewer (all when neither), newest first, at most `limit`."""
        clauses, values = [], []
        if object_id is not None:
            clauses.append("object_id = ?")
            values.append(int(object_id))
        if reviewer is not None:
            clauses.append("reviewer = ?")
            values.append(reviewer)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        if limit is not None:
            values.append(int(limit))
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM labels {where} ORDER BY id DESC"
                                + (" LIMIT ?" if limit is not None else ""), values)
            return [dict(row) for row in rows]

    def latest_grades(self, object_ids: Sequence[int]) -> dict[int, str]:
        """The current (latest) grade of each of the given objects that has one."""
        ids = sorted({int(i) for i in object_ids})
        if not ids:
            return {}
        grades: dict[int, str] = {}
        with self._transaction() as conn:
            for start in range(0, len(ids), 500):  # stay far below SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                rows = conn.execute(
                    f"SELECT object_id, grade FROM labels WHERE id IN (SELECT max(id) FROM labels WHERE object_id "
                    f"IN ({', '.join('?' * len(chunk))}) GROUP BY object_id)", chunk)
                grades.update({int(row["object_id"]): row["grade"] for row in rows})
        return grades

    def count(self) -> int:
        with self._transaction() as conn:
            return int(conn.execute("SELECT count(*) FROM labels").fetchone()[0])
