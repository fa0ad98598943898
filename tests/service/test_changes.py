"""Waiting for a status to change: a grading thread's notice wakes the submission's waiters at once (and
no one else's), a waiter looks again within a second anyway (another instance's change), past MAX_WAITING
nobody waits, and a service that stops answers every waiter."""

from __future__ import annotations

import asyncio
import threading
import time

from autograder.service import changes
from autograder.service.changes import Changes


def later(seconds: float, then) -> None:
    threading.Thread(target=lambda: (time.sleep(seconds), then())).start()


def test_a_change_recorded_by_another_thread_answers_its_waiter_at_once():
    told = Changes()
    rows = [{"id": "a1", "status": "queued"}]
    reads = {"a1": 0, "b2": 0}

    def read(ident):
        reads[ident] += 1
        return rows[-1] if ident == "a1" else {"id": "b2", "status": "queued"}

    async def waiting() -> tuple[dict, float]:
        started = time.monotonic()
        other = asyncio.create_task(told.after({"id": "b2", "status": "queued"}, "queued", 0.6,
                                               lambda: read("b2")))
        row = await told.after(rows[0], "queued", 20, lambda: read("a1"))
        took = time.monotonic() - started
        await other
        return row, took

    later(0.3, lambda: (rows.append({"id": "a1", "status": "grading"}), told.notify("a1")))
    row, took = asyncio.run(waiting())
    assert row["status"] == "grading" and took < changes.LOOK_AGAIN  # before it would look again
    assert reads["b2"] == 1  # another submission's waiter was not woken by it: it read once, at its end


def test_a_change_nobody_here_was_told_of_is_seen_within_a_second():
    quiet = Changes()
    reads = iter([{"id": "a1", "status": "queued"}, {"id": "a1", "status": "graded"}])
    started = time.monotonic()
    row = asyncio.run(quiet.after({"id": "a1", "status": "queued"}, "queued", 20, lambda: next(reads)))
    assert row["status"] == "graded" and time.monotonic() - started < 3 * changes.LOOK_AGAIN


def test_nobody_waits_past_the_bound_the_longest_wait_or_the_service(monkeypatch):
    crowded = Changes()
    queued = {"id": "a1", "status": "queued"}
    monkeypatch.setattr(changes, "MAX_WAITING", 0)
    started = time.monotonic()
    assert asyncio.run(crowded.after(queued, "queued", 20, lambda: None)) == queued
    assert time.monotonic() - started < 0.5
    monkeypatch.setattr(changes, "MAX_WAITING", 10)
    monkeypatch.setattr(changes, "LONGEST_WAIT", 0.3)
    started = time.monotonic()
    assert asyncio.run(crowded.after(queued, "queued", 20, lambda: None)) == queued
    assert 0.25 < time.monotonic() - started < 2
    monkeypatch.setattr(changes, "MAX_WAITING", 1)  # every waiter is gone: the one place is free
    started = time.monotonic()
    assert asyncio.run(crowded.after(queued, "queued", 20, lambda: None)) == queued
    assert time.monotonic() - started > 0.25
    monkeypatch.setattr(changes, "MAX_WAITING", 10)
    monkeypatch.setattr(changes, "MAX_EACH", 1)  # one student's second tab is answered at once

    async def two_tabs_and_another_student() -> list[float]:
        async def timed(row) -> float:
            started = time.monotonic()
            await crowded.after(row, "queued", 0.5, lambda: row)
            return time.monotonic() - started

        ada, bob = {"id": "a1", "student": "ada", "status": "queued"}, {"id": "b1", "student": "bob",
                                                                         "status": "queued"}
        return await asyncio.gather(timed(ada), timed(dict(ada, id="a2")), timed(bob))

    first, second, other = asyncio.run(two_tabs_and_another_student())
    assert first > 0.25 and second < 0.1 and other > 0.25  # (LONGEST_WAIT is 0.3 s here)
    monkeypatch.setattr(changes, "LONGEST_WAIT", 20)
    later(0.2, crowded.close)  # the service stops
    started = time.monotonic()
    assert asyncio.run(crowded.after(queued, "queued", 20, lambda: queued)) == queued
    assert time.monotonic() - started < changes.LOOK_AGAIN
