"""The pytest plugin that turns an assignment's hidden test files into graded outcomes.

Fixtures: `student` (the submission in the worker), `reference` (the solutions module),
`check` (comparisons), `settings` (the TOML's [suite] table), `assignment` (its config
and paths), `master` (public source of the master's cells by grade_id), `memo` (a dict
kept for the whole batch, for cheap values computed once per process), `cached`
(`cached(reference.train, *args)`: a costly reference result, computed once per course
and kept on disk, see autograder/suite/refcache.py). `record` (`record("loss_curve",
student=[...], reference=[...])` attaches plain data to the result as `artifacts`, for
feedback plots and reports). `misconceptions` (the known mistakes of the suite's
`misconceptions.py`, see autograder/suite/misconceptions.py). `compare`
(`compare("sigmoid", x)`: the student's function against the reference on the same
arguments, told on the first wrong element, known mistakes named; see
autograder/suite/compare.py). Markers: `points(n)` (a test's points), `part(name)` (when
the file name does not say it), `visible` (a check students may run before they submit).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from ..course.config import Tolerance
from ..errors import NotPlainData, StudentError, WorkerCrashed, WorkerTimeout
from .assertions import Checker
from .catalogue import load_catalogue
from .compare import Compare
from .refcache import ReferenceCache

MARKERS = (
    "points(n): the points this test is worth within its part",
    "part(name): the assignment part this test belongs to (default: from "
    "test_<part>.py)",
    "visible: a public check that `autograder check` may run for students",
    "tolerance(rtol=..., atol=...): this test's comparisons use these tolerances "
    "instead of the TOML's",
)


@dataclass
class Outcome:
    nodeid: str
    name: str
    part: str
    points: float | None  # from the marker, None when the part shares its rest
    visible: bool
    description: str = ""
    outcome: str = "error"
    feedback: str = "the test did not run"
    # the id of the known mistake the failure was recognised as
    misconception: str | None = None


class GradingPlugin:
    def __init__(
        self,
        assignment,
        reference: Any,
        master: dict[str, str],
        memo: dict,
        cache: ReferenceCache,
        order: list[str] | None = None,
    ):
        """`order`: the parts in the order their tests run (dependencies.part_order;
        default: report order)."""
        self._assignment = assignment
        self.order = {
            part: index for index, part in enumerate(order or assignment.parts)
        }
        self.reference_module = reference
        self.master_sources = master
        self.memo_store = memo
        self.reference_cache = cache
        self.session = None  # the StudentSession under test; None when only collecting
        self.outcomes: dict[str, Outcome] = {}
        self.only_visible = False
        self.interrupted = (
            False  # Ctrl-C while the suite ran (pytest_keyboard_interrupt)
        )
        # what the tests `record`ed for this submission
        self.artifacts: dict[str, dict] = {}
        # nodeid -> feedback of a test that passed (`add_note`)
        self.notes: dict[str, str] = {}
        # its tolerance is the current test's (`tolerance` marker)
        self.checker = Checker(assignment.tolerance)
        self.current: str | None = None  # the nodeid of the test running now

    # -- fixtures
    # --------------------------------------------------------------------------------

    @pytest.fixture(scope="session")  # one pytest session is one submission
    def student(self):
        return self.session

    @pytest.fixture(scope="session")
    def reference(self):
        return self.reference_module

    @pytest.fixture(scope="session")
    def check(self):
        return self.checker

    @pytest.fixture(scope="session")
    def assignment(self):
        return self._assignment

    @pytest.fixture(scope="session")
    def settings(self):
        return self._assignment.settings

    @pytest.fixture(scope="session")
    def master(self):
        return self.master_sources

    @pytest.fixture(scope="session")
    def memo(self):
        return self.memo_store

    @pytest.fixture(scope="session")
    def cached(self):
        return self.reference_cache

    @pytest.fixture(scope="session")
    def record(self):
        return self.record_artifact

    @pytest.fixture(scope="session")
    def misconceptions(self):
        return load_catalogue(self._assignment.suite_dir)

    @pytest.fixture(scope="session")
    def compare(self, student, reference, check, misconceptions):
        return Compare(
            student,
            reference,
            check,
            misconceptions,
            note=self.add_note,
            test=lambda: self.current,
        )

    def add_note(self, text: str) -> None:
        """Feedback for the current test even when it passes (which function to fix,
        say)."""
        if self.current is not None:
            self.notes[self.current] = str(text)

    def record_artifact(self, name: str, **values: Any) -> None:
        """Keep plain data (numbers, lists of numbers, short text) under `name` in the
        result's artifacts."""
        self.artifacts[str(name)] = {
            str(key): plain(value) for key, value in values.items()
        }

    # -- hooks ---------------------------------------------------------------------

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        """pytest ends the run and returns INTERRUPTED, as for a suite that does not
        import: told apart here, so that Ctrl-C stays Ctrl-C (pytest's own Interrupted,
        a KeyboardInterrupt too, is its way of stopping at collection errors)."""
        self.interrupted = not issubclass(excinfo.type, pytest.Session.Interrupted)

    def pytest_configure(self, config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)
        # Outcomes come from the exception itself: pytest's report text (source of every
        # traceback entry, parsed per failed test, ~40 ms each) is never read, so it is
        # not built.
        config.option.tbstyle = "no"

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items) -> None:
        if self.only_visible:
            items[:] = [item for item in items if item.get_closest_marker("visible")]
        # The parts in `order` (the training, then each function's part before those it
        # stands in for), stable within a part
        items.sort(key=lambda item: self.order.get(part_of(item), len(self.order)))
        self.outcomes = {}
        self.artifacts = {}
        self.notes = {}
        for item in items:
            part = part_of(item)
            points = item.get_closest_marker("points")
            doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
            self.outcomes[item.nodeid] = Outcome(
                nodeid=item.nodeid,
                name=item.name,
                part=part,
                points=float(points.args[0]) if points else None,
                visible=item.get_closest_marker("visible") is not None,
                description=doc[0] if doc else "",
            )

    def pytest_runtest_setup(self, item) -> None:
        """The test's part starts its own time budget and sets whether calls isolate
        each function."""
        self.current = item.nodeid
        self.checker.tolerance = tolerance_of(item, self._assignment.tolerance)
        outcome = self.outcomes.get(item.nodeid)
        if outcome is not None and self.session is not None:
            self.session.begin_part(
                outcome.part, self._assignment.isolates(outcome.part)
            )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        outcome = self.outcomes.get(item.nodeid)
        if outcome is None or call.when == "teardown":
            return
        if call.excinfo is not None:
            outcome.outcome, outcome.feedback = classify(call.excinfo.value, item.name)
            outcome.misconception = getattr(call.excinfo.value, "misconception", None)
        elif call.when == "call":
            outcome.outcome, outcome.feedback = (
                "passed",
                self.notes.get(item.nodeid, ""),
            )


def tolerance_of(item, default: Tolerance) -> Tolerance:
    """The test's `tolerance(rtol=..., atol=...)` marker (the closest one: test, class
    or module), else `default`."""
    marker = item.get_closest_marker("tolerance")
    return dataclasses.replace(default, **marker.kwargs) if marker else default


def part_of(item) -> str:
    """The part a test belongs to: its `part` marker, else its file's name
    (test_<part>.py)."""
    marker = item.get_closest_marker("part")
    return (
        marker.args[0]
        if marker
        else os.path.basename(str(item.path))[:-3].removeprefix("test_")
    )


def classify(error: BaseException, test: str) -> tuple[str, str]:
    """(outcome, feedback) for an exception raised by a hidden test."""
    if isinstance(error, WorkerTimeout):
        return "timeout", _first_lines(str(error))
    if isinstance(error, WorkerCrashed):
        return "error", _first_lines(str(error))
    if isinstance(error, (AssertionError, StudentError, NotPlainData)):
        return "failed", _first_lines(str(error)) or "a hidden check failed"
    if isinstance(error, pytest.skip.Exception):
        return "error", f"skipped: {error}"
    return (
        "error",
        f"the hidden test '{test}' itself failed ({type(error).__name__}); please tell "
        "your instructor",
    )


MAX_RECORDED = 100_000  # values per recorded series; a result stays a small JSON object


def plain(value: Any) -> Any:
    """JSON-safe copy of recorded data: text, finite numbers (None for nan/inf), flat
    lists of them."""
    if isinstance(value, str):
        return value[:500]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    array = np.asarray(value, dtype=float).ravel()[:MAX_RECORDED]
    values = [float(v) if np.isfinite(v) else None for v in array]
    return values if np.ndim(value) else values[0]


def _first_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[:count])[:600]
