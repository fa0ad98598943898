"""The service's graders: `jobs` threads, each with one warm grader process of its own
(`engines.Processes(1)`), claiming the next submission from the queue, placing it in
nbgrader's submitted/ folder as `nbgrader collect` does, grading it with the grade verb
(gradebook row, autograded/, feedback/, and a feedback page of its own) and recording
its final status. Each thread keeps its gradebook open between gradings (`KeptWriters`).

A notebook that uses its whole time budget holds one thread and its process, never the
service; a grader process that dies costs its submission one more try, then `crashed`
(`parallel.MAX_ATTEMPTS`); an instance killed mid-grading leaves a lease that runs out,
and the submission is graded again (`store.MAX_ATTEMPTS`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import threading
from pathlib import Path

from ..batch.engines import Cluster, Processes
from ..course.config import load_assignment
from ..errors import AutograderError
from ..outputs.kept_writers import KeptWriters
from ..running.nbgrader_files import SECRET, TIMESTAMP
from ..verbs.grade import GradeRequest, grade
from . import inbox
from .store import Store

FEEDBACK = Path("service") / "feedback"
IDLE_SECONDS = 0.2  # how often an idle grader looks at the queue
log = logging.getLogger("autograder.service")


def feedback_page(root: Path, row: dict) -> Path:
    """The feedback page of one submission (its own, kept with its history)."""
    folder = root / FEEDBACK / row["id"] / row["student"] / row["assignment"]
    assignment = load_assignment(row["assignment"], root)
    return folder / f"{Path(assignment.notebook).stem}.html"


class Dispatcher:
    """`jobs` grading threads for the course at `root`, until `stop`."""

    def __init__(
        self,
        root: Path,
        store: Store,
        instance: str,
        jobs: int = 1,
        gradebook: str = "",
        on_final=None,
        scheduler: str | None = None,
        on_change=None,
    ):
        """`gradebook`: nbgrader's gradebook the scores go to ("": the course's);
        `on_final(student, assignment)` is called once a grading's status is
        recorded, `on_change(ident)` whenever a status is (grading, then final);
        `scheduler`: a Dask cluster's, whose workers grade instead of a grader
        process of each thread."""
        self.root, self.store, self.instance = root, store, instance
        self.gradebook, self.on_final = gradebook, on_final
        self.on_change = on_change or (lambda ident: None)
        self.scheduler = scheduler
        self.stopping = threading.Event()
        self.wake = threading.Event()  # a new submission: look now
        self.threads = [
            threading.Thread(target=self._run, name=f"grader-{n}", daemon=True)
            for n in range(jobs)
        ]

    def start(self) -> Dispatcher:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        for thread in self.threads:
            thread.join()

    def _run(self) -> None:
        engine = Cluster(self.scheduler) if self.scheduler else Processes(1)
        writers = KeptWriters()  # this thread's gradebooks, open between gradings
        with engine, contextlib.closing(writers):
            while not self.stopping.is_set():
                try:
                    row = self.store.claim(self.instance)
                except Exception:  # the database is away for a moment: try again
                    log.exception("could not read the queue")
                    row = None
                if row is None:
                    self.wake.wait(IDLE_SECONDS)
                    self.wake.clear()
                    continue
                self.on_change(row["id"])
                try:
                    self._grade(row, engine, writers)
                except Exception:  # said; this grader goes on with the next one
                    log.exception("grading %s could not be recorded", row["id"])

    def _grade(
        self, row: dict, engine: Processes | Cluster, writers: KeptWriters
    ) -> None:
        renewing = threading.Event()
        lease = threading.Thread(target=self._renew, args=(row["id"], renewing))
        lease.start()
        try:
            fields = self._graded(row, engine, writers)
        except AutograderError as error:  # the course's: a broken assignment, say
            log.error("grading %s failed: %s", row["id"], error)
            fields = {
                "status": "crashed",
                "score": 0.0,
                "max_score": self._points(row),
                "message": f"the course could not grade it: {error}; an instructor "
                "can regrade it once that is fixed",
            }
        except Exception as error:  # ours, not the student's: said; the queue goes on
            log.exception("grading %s failed", row["id"])
            fields = {
                "status": "crashed",
                "score": 0.0,
                "max_score": self._points(row),
                "message": f"the grader failed ({type(error).__name__}); an instructor "
                "can regrade it",
            }
        try:  # the lease is renewed until the status is recorded
            if not self._finish(row["id"], fields):
                log.warning("%s was taken over by another instance", row["id"])
                return
            self.on_change(row["id"])
            if self.on_final is not None:
                self.on_final(row["student"], row["assignment"])
        finally:
            renewing.set()
            lease.join()

    def _finish(self, ident: str, fields: dict) -> bool:
        """Record the final status, trying again while the database is locked (an
        instructor's nbgrader, a backup) for as long as the lease is renewed."""
        delay = 0.5
        while True:
            try:
                return self.store.finish(ident, self.instance, **fields)
            except Exception:
                if self.stopping.is_set():
                    raise
                log.exception("could not record %s yet; trying again", ident)
                self.stopping.wait(delay)
                delay = min(delay * 2, 10.0)

    def _points(self, row: dict) -> float | None:
        try:
            return load_assignment(row["assignment"], self.root).max_score
        except AutograderError:
            return None

    def _renew(self, ident: str, done: threading.Event) -> None:
        while not done.wait(self.store.lease / 4):
            try:
                self.store.renew(ident, self.instance)
            except Exception:
                log.exception("could not renew the lease of %s", ident)

    def _graded(
        self, row: dict, engine: Processes | Cluster, writers: KeptWriters
    ) -> dict:
        assignment = load_assignment(row["assignment"], self.root)
        folder = self.root / "submitted" / row["student"] / assignment.name
        folder.mkdir(parents=True, exist_ok=True)
        notebook = folder / assignment.notebook
        shutil.copyfile(inbox.path_of(self.root, row["id"]), notebook)
        (folder / TIMESTAMP).write_text(row["stamp"])
        if not row["exchange"]:  # the exchange's secret is another submission's
            (folder / SECRET).unlink(missing_ok=True)
        page = feedback_page(self.root, row)
        request = GradeRequest(
            assignment,
            [notebook],
            jobs=None if self.scheduler else 1,
            scheduler=self.scheduler,
            gradebook=self.gradebook,
            feedback=page.parents[2],
            writers=writers,
        )
        said: list[str] = []
        graded = grade(request, engine, _quiet(), said.append)
        (result,) = graded.run.report.submissions
        _keep_result(result_of(self.root, row), result.to_dict())
        problems = graded.warnings + graded.errors
        for line in said + problems:
            log.info("%s: %s", row["id"], line)
        message = result.message or ("; ".join(problems) if graded.failed else "")
        if row["exchange"] and not graded.failed:  # "Fetch Feedback" shows it
            from .exchange import release_feedback

            release_feedback(self.root, assignment.name, row["student"])
        return {
            "status": result.status,
            "score": result.score,
            "max_score": result.max_score,
            "message": message[:2000],
        }


def result_of(root: Path, row: dict) -> Path:
    """The results of one grading (as `grade --json` writes each), for the class
    report: kept with its feedback page, never shown to a student."""
    return root / FEEDBACK / row["id"] / "result.json"


def _keep_result(path: Path, result: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result), encoding="utf-8")
    except OSError:  # the report leaves it out; the grade is recorded regardless
        log.exception("could not keep the results of %s", path.parent.name)


def _quiet():
    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=False)
