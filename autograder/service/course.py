"""The course a service serves: its folder, its queue and tokens (`Store`), its graders
(`Dispatcher`), and the rules a submission meets before it is queued: a student of the
roster, a released assignment, a notebook, and the submission limit per window."""

from __future__ import annotations

import datetime
import functools
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import names
from ..course.config import Assignment, list_assignments, load_assignment
from ..errors import AutograderError
from ..verbs.student_check import named_assignment
from . import inbox
from .changes import Changes
from .dispatch import Dispatcher, feedback_page
from .exchange import ExchangeDoor, has_exchange
from .inbox import Refused
from .lti_outbox import Outbox, Sender
from .lti_store import LtiStore
from .store import LEASE_SECONDS, Store, counted, now

DUE_SECONDS = 30.0  # how long a due date read from the gradebook is shown as it was


@dataclass
class AssignmentRow:
    name: str
    notebook: str
    due: str
    latest: str
    best: str


class Course:
    """The course at `root`, its queue in the database at `url`."""

    def __init__(
        self,
        root: Path,
        url: str,
        jobs: int = 1,
        lease: float = LEASE_SECONDS,
        scheduler: str | None = None,
    ):
        """`jobs` submissions graded at a time, on this machine or on the Dask
        cluster whose scheduler is at `scheduler`."""
        self.root, self.url = root, url
        self.title = root.name
        self.store = Store(url, lease)
        self.instance = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
        self._counting = threading.Lock()
        self.changes = Changes()  # who waits for a status to change
        self._dues: dict[str, tuple[float, str]] = {}  # read when, shown
        self.dispatcher = Dispatcher(
            root,
            self.store,
            self.instance,
            jobs,
            url,
            on_final=self.score_changed,
            scheduler=scheduler,
            on_change=self.changes.notify,
        )
        # grades back to the LMS of a student who launched from one (LTI)
        self.outbox = Outbox(self.store.engine)
        self.lti = LtiStore(self.store.engine)  # the LMSs registered, who is who there
        self.sender = Sender(self.outbox, self.lti, root)
        released = [self._released(name) for name in list_assignments(root)]
        self.assignments = [a for a in released if a is not None]
        self.max_upload_bytes = int(
            max((a.limits.max_notebook_mb for a in self.assignments), default=20.0)
            * 1024
            * 1024
        )
        # nbgrader's Submit button: when the course has an exchange (nbgrader_config.py)
        self.exchange: ExchangeDoor | None = None
        if has_exchange(root):
            self.exchange = ExchangeDoor(root, self.store, self.assignments, self.wake)

    def _released(self, name: str) -> Assignment | None:
        try:
            assignment = load_assignment(name, self.root)
        except AutograderError:  # a broken one is refused by `grade` with its message
            return None
        return assignment if assignment.release_notebook.is_file() else None

    def start(self) -> Course:
        from ..outputs.master_record import record_master

        for assignment in self.assignments:  # once, before graders (or instances) race
            record_master(assignment, self.url)
        self.dispatcher.start()
        self.sender.start()
        if self.exchange is not None:
            self.exchange.start()
        return self

    def stop(self) -> None:
        if self.exchange is not None:
            self.exchange.stop()
        self.dispatcher.stop()
        self.sender.stop()

    def score_changed(self, student: str, assignment: str) -> None:
        """A grading of `student`'s `assignment` is recorded: when the score that
        counts is new, it goes to their LMS (if they launched from one)."""
        rule = [a.service.counts for a in self.assignments if a.name == assignment]
        rows = self.store.listed(student=student, assignment=assignment)
        counts = counted(rows, rule[0] if rule else "latest")
        if counts is None or counts["max_score"] is None:
            return
        last = self.outbox.latest(student, assignment)
        if last and (last["score"], last["max_score"]) == (
            counts["score"],
            counts["max_score"],
        ):
            return
        if self.outbox.enqueue(
            student, assignment, counts["score"], counts["max_score"]
        ):
            self.sender.wake.set()

    def wake(self) -> None:
        """Something was queued (an upload, a regrade): the graders look now."""
        self.dispatcher.wake.set()

    def regrade(self, ident: str | None) -> None:
        """Grade submission `ident` (every one: None) again."""
        for row in self.store.listed():
            if ident is None or row["id"] == ident:
                self.store.requeue(row["id"])
        self.wake()
        self.changes.notify(ident)  # its page (every page) sees it queued again

    def too_large(self) -> str:
        return f"a notebook may be at most {self.max_upload_bytes / 2**20:g} MB"

    def assignment(
        self, name: str | None, filename: str = "", metadata: dict | None = None
    ) -> Assignment:
        """The released assignment `name`, else the one the notebook's metadata names
        (as `check` reads it), else the one whose notebook has its file name."""
        name = name or named_assignment(metadata) or None
        if name is None:
            by_file = [a for a in self.assignments if a.notebook == filename]
            if len(self.assignments) == 1 or len(by_file) == 1:
                return (by_file or self.assignments)[0]
            names_ = ", ".join(a.name for a in self.assignments)
            raise Refused(400, f"say which assignment this is for (one of: {names_})")
        for assignment in self.assignments:
            if assignment.name == name:
                return assignment
        raise Refused(404, f"no released assignment is named {names.text(name, 100)}")

    def release_notebook(self, name: str) -> Path | None:
        found = [a for a in self.assignments if a.name == name]
        return found[0].release_notebook if found else None

    def receive(
        self, student: str, data: bytes, filename: str, name: str | None
    ) -> str:
        """Check an upload, keep it on disk, then queue it: its id."""
        shown_name = names.text(Path(filename).name or "the upload", 100)
        limit = self.max_upload_bytes / 2**20
        sha256, metadata = inbox.check(data, shown_name, limit)
        assignment = self.assignment(name, Path(filename).name, metadata)
        if len(data) > assignment.limits.max_notebook_mb * 2**20:
            raise Refused(413, f"{shown_name} is larger than {assignment.name} allows")
        rule = assignment.service
        since = now() - datetime.timedelta(minutes=rule.window_minutes)
        ident = self.store.new_id()
        keep = functools.partial(inbox.keep, self.root, ident, data)  # disk, then queue
        with self._counting:  # counted and queued as one step: no race past the limit
            window = (since, rule.submissions)  # (a lock of theirs on PostgreSQL)
            if not self.store.add_within(
                ident, student, assignment.name, sha256, window, keep
            ):
                raise Refused(
                    429,
                    f"you have submitted {assignment.name} {rule.submissions} times in "
                    f"the last {rule.window_minutes:g} minutes, the most this course "
                    "allows; try again later (your latest submission is graded)",
                )
        self.wake()
        return ident

    def feedback_page(self, row: dict) -> Path:
        return feedback_page(self.root, row)

    def assignments_for(self, student: str) -> list[AssignmentRow]:
        rows = []
        mine = self.store.listed(student=student)
        for assignment in self.assignments:
            theirs = [r for r in mine if r["assignment"] == assignment.name]
            latest, best = (counted(theirs, rule) for rule in ("latest", "best"))
            rows.append(
                AssignmentRow(
                    assignment.name,
                    assignment.notebook,
                    self._due(assignment),
                    f"{latest['score']:g}" if latest else "—",
                    f"{best['score']:g}" if best else "—",
                )
            )
        return rows

    def enrol(self, student: str) -> None:
        """Put `student` on nbgrader's roster if they are not on it (as `nbgrader
        autograde` does for a student it has not seen)."""
        from nbgrader.api import Gradebook, InvalidEntry

        with Gradebook(self.url) as gradebook:
            try:
                gradebook.update_or_create_student(student)
            except InvalidEntry:  # added by a sign-in of theirs at the same moment
                gradebook.find_student(student)

    def _due(self, assignment: Assignment) -> str:
        """The due date nbgrader's gradebook holds for the assignment, if any (read
        again at most every DUE_SECONDS, not for every page)."""
        read, shown = self._dues.get(assignment.name, (float("-inf"), ""))
        if time.monotonic() - read < DUE_SECONDS:
            return shown
        try:
            from nbgrader.api import Gradebook

            with Gradebook(self.url) as gradebook:
                due = gradebook.find_assignment(assignment.name).duedate
            shown = due.strftime("%Y-%m-%d %H:%M UTC") if due else ""
        except Exception:  # none set, or no such assignment in the gradebook yet
            shown = ""
        self._dues[assignment.name] = (time.monotonic(), shown)
        return shown
