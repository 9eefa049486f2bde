"""The labels database: validation, newest-first listing, current grades, concurrent reviewers, crashes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from skyssl.app.labels_db import LabelsDB
from skyssl.errors import ArtefactError, InputError
from tests.app.conftest import running_server


def test_labels_are_listed_newest_first_and_the_latest_grade_wins(tmp_path):
    db = LabelsDB(tmp_path / "labels.sqlite")
    first = db.add(7, "A", "ada", "arc")
    db.add(8, "other", "bob")
    db.add(7, "not-lens", "bob", "a ring galaxy")
    assert [row["id"] for row in db.labels(object_id=7)] == [3, first["id"]]
    assert [row["object_id"] for row in db.labels(reviewer="bob")] == [7, 8]
    assert db.latest_grades([7, 8, 9]) == {7: "not-lens", 8: "other"}
    assert [row["id"] for row in db.labels(limit=2)] == [3, 2]
    assert LabelsDB(tmp_path / "labels.sqlite").count() == 3  # reopening keeps everything


@pytest.mark.parametrize(("grade", "reviewer", "note", "words"), [
    ("maybe", "ada", "", "grade must be one of"),
    ("A", " ", "", "reviewer must be"),
    ("A", "r" * 65, "", "reviewer must be"),
    ("A", "ada", "n" * 2001, "note must be"),
])
def test_invalid_labels_raise_and_write_nothing(tmp_path, grade, reviewer, note, words):
    db = LabelsDB(tmp_path / "labels.sqlite")
    with pytest.raises(InputError, match=words):
        db.add(1, grade, reviewer, note)
    assert db.count() == 0


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "labels.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ArtefactError, match="not a usable labels database"):
        LabelsDB(path)
    with pytest.raises(InputError, match="no such folder"):
        LabelsDB(tmp_path / "missing" / "labels.sqlite")
    (tmp_path / "a-folder.sqlite").mkdir()
    with pytest.raises(InputError, match="cannot open the labels database"):
        LabelsDB(tmp_path / "a-folder.sqlite")


def test_the_database_is_in_wal_mode(tmp_path):
    LabelsDB(tmp_path / "labels.sqlite")
    with sqlite3.connect(tmp_path / "labels.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_reviewers_through_a_real_server_lose_no_label(index_dir, labels_path, catalogue):
    from skyssl.app import create_app

    n_reviewers, per_reviewer = 8, 25
    ids = [int(i) for i in catalogue["object_id"]]
    start = threading.Barrier(n_reviewers)

    def review(base_url: str, reviewer: int) -> list[int]:
        stored = []
        with httpx.Client(base_url=base_url, timeout=60) as http:
            start.wait()
            for n in range(per_reviewer):
                response = http.post("/api/labels", json={"object_id": ids[(reviewer * 7 + n) % len(ids)],
                                                          "grade": "AB"[n % 2], "reviewer": f"r{reviewer}",
                                                          "note": f"{reviewer}/{n}"})
                response.raise_for_status()
                stored.append(response.json()["id"])
        return stored

    with running_server(create_app(index_dir, labels=labels_path)) as url:
        with ThreadPoolExecutor(n_reviewers) as pool:
            acknowledged = [i for ids_ in pool.map(lambda r: review(url, r), range(n_reviewers)) for i in ids_]
        export = httpx.get(f"{url}/api/labels/export.csv", timeout=60).text
    rows = LabelsDB(labels_path).labels()
    assert len(acknowledged) == len(set(acknowledged)) == n_reviewers * per_reviewer
    assert sorted(row["id"] for row in rows) == sorted(acknowledged)
    assert {row["note"] for row in rows} == {f"{r}/{n}" for r in range(n_reviewers) for n in range(per_reviewer)}
    assert len(export.strip().splitlines()) == 1 + n_reviewers * per_reviewer


WRITER = textwrap.dedent("""
    import json, sys
    from skyssl.app.labels_db import LabelsDB

    db = LabelsDB(sys.argv[1])
    n = 0
    while True:
        row = db.add(n % 50, "A", "crash-test", "x" * (n % 300))
        print(json.dumps(row["id"]), flush=True)  # acknowledged only after the commit returned
        n += 1
""")


def test_a_writer_killed_mid_stream_keeps_every_acknowledged_label(tmp_path):
    path = tmp_path / "labels.sqlite"
    LabelsDB(path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    acknowledged = []
    deadline = time.monotonic() + 60
    try:
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            if not line:
                break
            acknowledged.append(json.loads(line))
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    acknowledged += [json.loads(line) for line in writer.stdout.read().splitlines() if line.strip()]
    assert len(acknowledged) >= 150, "the writer did not get going"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {row["id"] for row in LabelsDB(path).labels()}
    assert set(acknowledged) <= stored
