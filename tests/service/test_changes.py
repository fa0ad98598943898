"""Waiting for a status to change: a grading thread's notice wakes every waiter at once, a waiter looks
again within a second anyway (another instance's change), and past MAX_WAITING nobody waits."""

from __future__ import annotations

import asyncio
import threading
import time

from autograder.service import changes
from autograder.service.changes import Changes


def test_a_change_recorded_by_another_thread_answers_the_waiter_at_once():
    told = Changes()
    rows = [{"status": "queued"}]

    async def waiting() -> tuple[dict, float]:
        started = time.monotonic()
        row = await told.after(rows[0], "queued", 20, lambda: rows[-1])
        return row, time.monotonic() - started

    def grader():
        time.sleep(0.3)
        rows.append({"status": "grading"})
        told.notify()

    threading.Thread(target=grader).start()
    row, took = asyncio.run(waiting())
    assert row == {"status": "grading"} and took < changes.LOOK_AGAIN  # before it would look again


def test_a_change_nobody_here_was_told_of_is_seen_within_a_second():
    quiet = Changes()
    reads = iter([{"status": "queued"}, {"status": "graded"}])  # another instance graded it
    started = time.monotonic()
    row = asyncio.run(quiet.after({"status": "queued"}, "queued", 20, lambda: next(reads)))
    assert row == {"status": "graded"} and time.monotonic() - started < 3 * changes.LOOK_AGAIN


def test_nobody_waits_past_the_bound_or_the_longest_wait(monkeypatch):
    crowded = Changes()
    monkeypatch.setattr(changes, "MAX_WAITING", 0)
    started = time.monotonic()
    assert asyncio.run(crowded.after({"status": "queued"}, "queued", 20, lambda: None)) == {"status": "queued"}
    assert time.monotonic() - started < 0.5
    monkeypatch.setattr(changes, "MAX_WAITING", 10)
    monkeypatch.setattr(changes, "LONGEST_WAIT", 0.3)
    started = time.monotonic()
    assert asyncio.run(crowded.after({"status": "queued"}, "queued", 20, lambda: None))["status"] == "queued"
    assert 0.25 < time.monotonic() - started < 2
    assert crowded.room()  # every waiter is gone
