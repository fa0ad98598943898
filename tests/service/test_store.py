"""The service's queue in a real SQLite file: fair order, one claim per submission even
when instances race, leases that run out."""

from __future__ import annotations

import datetime
import threading

import pytest
from sqlalchemy import update

from autograder.service import store as store_module
from autograder.service.store import MAX_ATTEMPTS, Store, submissions


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'gradebook.db'}")


def queue(store, *students, assignment="toy"):
    return [store.add(store.new_id(), student, assignment, "0" * 64) for student in students]


def test_a_student_who_submits_once_is_served_before_anothers_twentieth(store):
    many = queue(store, *["amy"] * 20)
    once = queue(store, "bea")
    first = store.claim("one")
    assert first["id"] == many[0]  # the oldest
    second = store.claim("two")  # amy has one grading: bea's is next, not amy's second
    assert second["id"] == once[0]
    assert store.claim("three") is None  # both students are being graded
    store.finish(first["id"], "one", status="graded", score=1.0)
    assert store.claim("one")["id"] == many[1]


def test_among_waiting_students_the_one_served_longest_ago_goes_first(store):
    amy = queue(store, "amy", "amy")
    store.finish(store.claim("x")["id"], "x", status="graded", score=1.0)  # amy served just now
    cid = queue(store, "cid")
    assert store.claim("x")["id"] == cid[0]  # never served: before amy's second
    assert store.get(amy[1])["status"] == "queued"


def test_racing_instances_claim_each_submission_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    first = Store(url)
    ids = queue(first, *[f"s{n}" for n in range(30)])
    claimed: list[str] = []
    lock = threading.Lock()

    def grader(name: str) -> None:
        mine = Store(url)  # an instance of its own: its own connections
        while (row := mine.claim(name)) is not None:
            with lock:
                claimed.append(row["id"])

    threads = [threading.Thread(target=grader, args=(f"g{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)  # every one, none twice


def test_a_lease_that_runs_out_is_graded_again_then_crashed(store, monkeypatch):
    (ident,) = queue(store, "amy")

    def expire():
        past = store_module.now() - datetime.timedelta(seconds=1)
        with store.engine.begin() as db:
            db.execute(update(submissions).values(lease_until=past))

    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = store.claim(f"instance-{attempt}")
        assert (row["id"], row["attempts"]) == (ident, attempt)
        expire()  # the instance was killed while grading it
    assert store.claim("last") is None
    row = store.get(ident)
    assert row["status"] == "crashed" and "submit it again" in row["message"]
    assert not store.finish(ident, f"instance-{MAX_ATTEMPTS}", status="graded", score=1.0)


def test_a_regrade_queues_a_final_submission_again(store):
    (ident,) = queue(store, "amy")
    store.finish(store.claim("x")["id"], "x", status="graded", score=1.0)
    store.requeue(ident)
    assert store.get(ident)["status"] == "queued" and store.position(ident) == 0


def test_submissions_counted_in_a_window(store):
    queue(store, "amy", "amy", "bea")
    queue(store, "amy", assignment="other")
    since = store_module.now() - datetime.timedelta(minutes=5)
    kept = []
    admitted = [store.add_within(store.new_id(), "amy", "toy", "0" * 64, (since, most), lambda: kept.append(1))
                for most in (2, 3, 3)]
    assert admitted == [False, True, False] and kept == [1]  # on disk only when admitted
    later = store_module.now() + datetime.timedelta(seconds=5)
    assert store.add_within(store.new_id(), "amy", "toy", "0" * 64, (later, 1), lambda: None)
