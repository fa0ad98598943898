"""Shared test helpers: the repository root, the reference solutions, data kept outside the repo."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@functools.cache
def load_solutions(name: str) -> ModuleType:
    """The module solutions/<name>.py, loaded by path (solutions/ is not a package)."""
    path = REPO / "solutions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_data_file(name: str) -> Path:
    """A data file kept beside the repository (never committed); skips the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not present; the original data set is kept outside the repository")
    return path


def grade_here(assignment, paths, on_result=None):
    """Every notebook under `paths` graded in this process, in discovery order
    (here.Here), as `autograder grade --jobs 1` grades them: the batch's report."""
    from autograder.batch.here import Here
    from autograder.batch.run import run_batch

    with Here() as engine:
        return run_batch(assignment, paths, engine, on_result=on_result).report


def run_on(assignment, paths, jobs=None, scheduler=None, **options):
    """`run_batch` on the engine `autograder grade --jobs/--scheduler` would choose,
    closed after the batch (engines.start, nothing started ahead)."""
    from autograder.batch import engines
    from autograder.batch.run import run_batch

    with engines.start(assignment, jobs, scheduler) as engine:
        return run_batch(assignment, paths, engine, **options)


# The test files that take longest, longest first: `make test` runs each file whole in one of its
# processes (--dist loadfile), handed out in collection order, so these start first and the
# processes end together instead of one waiting on another's last long file.
LONGEST_FIRST = (
    "assignments/test_student_admissions_corpus.py",
    "test_course_cycle.py",
    "service/test_server.py",
    "service/test_lti.py",
    "batch/test_publish.py",
    "batch/test_cluster.py",
    "service/test_exchange.py",
    "running/test_session.py",
    "running/worker/test_display.py",
    "adversarial/test_process_budget.py",
    "batch/test_resume.py",
    "service/test_pages.py",
    "service/test_hub.py",
    "adversarial/test_oracle.py",
    "service/test_shared_queue.py",
)


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent

    def rank(item) -> int:
        try:
            name = item.path.resolve().relative_to(tests).as_posix()
        except ValueError:
            return len(LONGEST_FIRST)
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file's tests keep their order
