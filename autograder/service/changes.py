"""Waiting for a submission's status to change (`GET /api/submissions/ID?wait=&seen=`):
a grading thread of this instance that records a status tells every waiter at once; a
waiter also looks again every LOOK_AGAIN seconds (another instance may record it).

At most MAX_WAITING requests wait at a time, so that waiting pages never hold the
connections an upload needs (uvicorn's limit), and at most MAX_EACH for one student's
submissions, so that nobody takes the room of the others: past either, a request is
answered at once and its page asks again, as it does after a wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

MAX_WAITING = 200
MAX_EACH = 4  # one person's pages (tabs) waiting at once
LOOK_AGAIN = 1.0  # seconds
LONGEST_WAIT = 25.0  # seconds: under the proxies' usual idle timeouts


class Changes:
    def __init__(self) -> None:
        # submission id -> its waiters (each its event loop and its event)
        self._waiting: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]]
        self._waiting = {}
        self._asking: Counter[str] = Counter()  # person -> their requests waiting
        self._lock = threading.Lock()
        self.closed = False  # the service stops: nobody waits any more

    def notify(self, ident: str | None = None) -> None:
        """The status of submission `ident` (of every one: None) changed, from any
        thread: its waiters look at once."""
        with self._lock:
            if ident is None:
                waiting = [w for group in self._waiting.values() for w in group]
            else:
                waiting = list(self._waiting.get(ident, ()))
        for loop, event in waiting:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # its loop is closed: nobody waits there
                pass

    def close(self) -> None:
        """The service stops: every waiter is answered now."""
        self.closed = True
        self.notify()

    async def wait(self, ident: str, seconds: float) -> None:
        """Until `ident`'s status changes here, or at most `seconds` (LOOK_AGAIN at
        most)."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiting.setdefault(ident, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), min(seconds, LOOK_AGAIN))
        except TimeoutError:
            pass
        finally:
            with self._lock:
                group = self._waiting.get(ident, set())
                group.discard(waiter)
                if not group:
                    self._waiting.pop(ident, None)

    async def after(
        self,
        row: dict,
        seen: str | None,
        wait: float,
        read: Callable[[], dict | None],
    ) -> dict:
        """`row` once its status is not `seen` (read again with `read`, in a thread,
        when it changes), or as it is after `wait` seconds (LONGEST_WAIT at most), or
        at once when the room is full (MAX_WAITING in all, MAX_EACH for the student
        whose submission it is: only they, or an instructor, ask for it) or the
        service stops."""
        who = str(row.get("student", ""))
        until = time.monotonic() + min(wait, LONGEST_WAIT)
        if seen != row["status"] or wait <= 0:
            return row
        with self._lock:
            full = self._asking.total() >= MAX_WAITING or self._asking[who] >= MAX_EACH
            if full or self.closed:
                return row
            self._asking[who] += 1
        try:
            while seen == row["status"] and time.monotonic() < until:
                if self.closed:
                    break
                await self.wait(row["id"], until - time.monotonic())
                fresh: dict | None = await run_in_threadpool(read)
                row = fresh if fresh is not None else row
        finally:
            with self._lock:
                self._asking[who] -= 1
                if self._asking[who] <= 0:
                    del self._asking[who]
        return row
