"""nbgrader's own Submit button as a front door: what students submit to the course's
nbgrader exchange is collected, queued and graded, and its feedback released, by
nbgrader's own API (`NbGraderAPI.collect` and `release_feedback`).

Every few seconds the door runs `collect --update` for each released assignment (what
`nbgrader collect` does: the newest inbound submission of each student into
submitted/<student>/<assignment>/), and queues each collected notebook whose nbgrader
timestamp the queue does not know yet: its bytes are kept in the inbox like an upload's,
with the time nbgrader gave it. Once graded (gradebook, autograded/, feedback/ with
nbgrader's files), the dispatcher asks nbgrader to release that student's feedback, so
"Fetch Feedback" shows the page. The course's limit of submissions per window holds at
this door as at the web's (no oracle through either): a submission past it waits, and is
graded once the window allows, if it is still the student's latest.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .. import names
from ..course.config import Assignment
from ..course.generate import nbgrader_config
from ..running.nbgrader_files import TIMESTAMP
from . import inbox
from .store import Store, now

POLL_SECONDS = 2.0
MAX_STAMP = 64  # characters of a timestamp.txt kept as the submission's key
log = logging.getLogger("autograder.service")


def api(root: Path):
    """nbgrader's API for the course, with its nbgrader_config.py (the exchange's root
    and the course id are there)."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = nbgrader_config(root)
    return NbGraderAPI(CourseDirectory(config=config, root=str(root)), config=config)


def has_exchange(root: Path) -> bool:
    """Whether the course's nbgrader_config.py gives it an exchange that exists (a
    course id, and the exchange's folder)."""
    config = nbgrader_config(root)
    course_id = config.CourseDirectory.get("course_id", "")
    exchange = config.Exchange.get("root", "/srv/nbgrader/exchange")
    return bool(course_id) and Path(exchange).is_dir()


class ExchangeDoor:
    """Collects from the exchange into the queue until `stop`."""

    def __init__(
        self,
        root: Path,
        store: Store,
        assignments: list[Assignment],
        wake: Callable[[], None],
    ):
        self.root, self.store, self.assignments, self.wake = (
            root,
            store,
            assignments,
            wake,
        )
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="exchange", daemon=True)
        self.deferred: set[tuple[str, str]] = set()  # over the limit, said once

    def start(self) -> ExchangeDoor:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        nbgrader = api(self.root)
        while not self.stopping.wait(POLL_SECONDS):
            for assignment in self.assignments:
                try:
                    self.collect(nbgrader, assignment)
                except Exception:  # a broken exchange must not stop the web door
                    log.exception(
                        "collecting %s from the exchange failed", assignment.name
                    )

    def collect(self, nbgrader, assignment) -> int:
        """One round for one assignment: how many submissions it queued."""
        outcome = nbgrader.collect(assignment.name, update=True)
        if not outcome.get("success", False):
            log.warning("nbgrader collect %s: %s", assignment.name, outcome.get("log"))
        queued = 0
        for folder in sorted((self.root / "submitted").glob(f"*/{assignment.name}")):
            stamp_file, notebook = folder / TIMESTAMP, folder / assignment.notebook
            if (
                not (stamp_file.is_file() and notebook.is_file())
                or notebook.is_symlink()
            ):
                continue
            stamp = stamp_file.read_text(errors="replace").strip()[:MAX_STAMP]
            student = folder.parent.name
            if not names.plain_id(student):  # not a folder collect made
                continue
            if self.store.knows(student, assignment.name, stamp):
                continue
            data = notebook.read_bytes()
            ident = self.store.new_id()
            digest = hashlib.sha256(data).hexdigest()
            keep = functools.partial(inbox.keep, self.root, ident, data)
            rule = assignment.service  # the web's limit: no oracle through this door
            since = now() - datetime.timedelta(minutes=rule.window_minutes)
            window = (since, rule.submissions)
            if not self.store.add_within(
                ident,
                student,
                assignment.name,
                digest,
                window,
                keep,
                stamp=stamp,
                exchange=True,
            ):  # graded once the window allows it, if it is still their latest
                if (student, stamp) not in self.deferred:
                    self.deferred.add((student, stamp))
                    log.info(
                        "%s submitted %s over the limit: graded later",
                        student,
                        assignment.name,
                    )
                continue
            queued += 1
        if queued:
            self.wake()
        return queued


def release_feedback(root: Path, assignment: str, student: str) -> None:
    """nbgrader's release_feedback for one student (the formgrader's button)."""
    outcome = api(root).release_feedback(assignment, student)
    if not outcome.get("success", False):
        log.warning(
            "nbgrader release_feedback %s %s: %s",
            assignment,
            student,
            outcome.get("log"),
        )
