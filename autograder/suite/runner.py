"""Run an assignment's hidden pytest suite against one submission, in the grader
process."""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from ..course.config import Assignment
from ..errors import ConfigError
from ..running.submission import grade_id
from .dependencies import part_order, stand_ins
from .plugin import GradingPlugin, Outcome
from .refcache import CACHE_DIR, ReferenceCache, fingerprint

# what would add options or plugins to a run
PYTEST_ENVIRONMENT = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def pytest_args(assignment: Assignment) -> list[str]:
    """Quiet, isolated pytest: no repo config, no cache, plain asserts (messages are
    ours), and no plugin but ours and pytest's own: one installed in the grader's
    environment for something else (that shuffles or reseeds tests, or adds timeouts)
    must not change a grade, nor cost each grader process its import."""
    return [
        str(assignment.suite_dir),
        "-c",
        os.devnull,
        "--rootdir",
        str(assignment.suite_dir),
        "--import-mode=importlib",
        "--assert=plain",
        "--capture=sys",
        "--disable-plugin-autoload",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:terminal",
        "-p",
        "no:warnings",
        "-p",
        "no:logging",
        # pytest's plugins below only cost time here (the unraisable-exception one runs
        # gc twice a run)
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:doctest",
        "-p",
        "no:junitxml",
        "-p",
        "no:pastebin",
        "-p",
        "no:stepwise",
        "-p",
        "no:setuponly",
        "-p",
        "no:setupplan",
        "-p",
        "no:legacypath",
        "-p",
        "no:faulthandler",
    ]


def load_reference(assignment: Assignment) -> ModuleType:
    """The trusted reference solutions, imported by path (never shipped to the worker).

    Imported again when another course's reference of the same name, or an edited file,
    is asked for.
    """
    path = assignment.reference_file
    if not path.is_file():
        raise ConfigError(
            assignment.suite_dir / "assignment.toml",
            "assignment.reference",
            f"reference solutions {path} not found",
        )
    name = f"_autograder_reference_{assignment.reference}"
    source = (str(path.resolve()), _stat(path))
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__autograder_source__", None) == source:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # never for a .py file
        raise ConfigError(
            assignment.suite_dir / "assignment.toml",
            "assignment.reference",
            f"reference solutions {path} cannot be imported",
        )
    module = importlib.util.module_from_spec(spec)
    vars(module)["__autograder_source__"] = source
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def master_sources(master: nbformat.NotebookNode) -> dict[str, str]:
    return {grade_id(cell): cell.source for cell in master.cells if grade_id(cell)}


class Suite:
    """An assignment's hidden suite, ready to run against one submission after
    another."""

    def __init__(self, assignment: Assignment, master: nbformat.NotebookNode):
        self.assignment = assignment
        reference = load_reference(assignment)
        # checked here, with the reference, so that an assignment whose stand-ins could
        # answer for the function under test fails before any submission
        # (dependencies.py)
        self.stand_ins = stand_ins(assignment, reference)
        cache = ReferenceCache(
            assignment.root / CACHE_DIR, fingerprint(assignment.reference_file.parent)
        )
        self.plugin = GradingPlugin(
            assignment,
            reference,
            master_sources(master),
            memo={},
            cache=cache,
            order=part_order(assignment, self.stand_ins),
        )

    def run(self, session, only_visible: bool = False) -> list[Outcome]:
        self.plugin.session = session
        self.plugin.only_visible = only_visible
        self.plugin.interrupted = False
        forget_other_suites(self.assignment)
        try:
            code = self._pytest()
        finally:
            self.plugin.session = None
            remember_suite_files(self.assignment)
            # pytest's, for post-mortems: they would keep this submission's whole
            # session alive
            for name in ("last_type", "last_value", "last_traceback", "last_exc"):
                sys.__dict__.pop(name, None)
        if self.plugin.interrupted:  # the batch's to handle: results so far are kept
            raise KeyboardInterrupt
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            raise ConfigError(
                self.assignment.suite_dir,
                "tests",
                f"the hidden suite could not be run (pytest exit code {int(code)}); "
                f"run `pytest {self.assignment.suite_dir}` to see why",
            )
        return list(self.plugin.outcomes.values())

    def collect(self) -> list[Outcome]:
        """The suite's tests without running them (for invalid submissions and
        validation)."""
        self.plugin.only_visible = False
        forget_other_suites(self.assignment)
        code = self._pytest("--collect-only")
        remember_suite_files(self.assignment)
        if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            raise ConfigError(
                self.assignment.suite_dir,
                "tests",
                f"collecting the hidden suite failed ({int(code)})",
            )
        return list(self.plugin.outcomes.values())

    def _pytest(self, *extra: str) -> int:
        """pytest.main on the suite, the same wherever the grader runs: the caller's
        warning filters (e.g. "error") and the pytest settings of its environment
        (PYTEST_ADDOPTS, PYTEST_PLUGINS) do not apply."""
        saved = {
            name: os.environ.pop(name)
            for name in PYTEST_ENVIRONMENT
            if name in os.environ
        }
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return pytest.main(
                    [*pytest_args(self.assignment), *extra], plugins=[self.plugin]
                )
        finally:
            os.environ.update(saved)


def forget_other_suites(assignment: Assignment) -> None:
    """pytest's importlib mode reuses any module in sys.modules named like a test file:
    drop those of another folder (another assignment's test_sigmoid.py would grade this
    one) and those whose file changed since (a long-lived grader process must grade with
    the tests as they are now)."""
    for path in _test_files(assignment):
        module = sys.modules.get(path.stem)
        if module is None:
            continue
        if Path(
            getattr(module, "__file__", None) or ""
        ).resolve() != path.resolve() or getattr(
            module, "__autograder_stat__", None
        ) not in (None, _stat(path)):
            del sys.modules[path.stem]


def remember_suite_files(assignment: Assignment) -> None:
    """Note the file state each of this suite's test modules was imported from."""
    for path in _test_files(assignment):
        module = sys.modules.get(path.stem)
        if (
            module is not None
            and not hasattr(module, "__autograder_stat__")
            and Path(getattr(module, "__file__", None) or "").resolve()
            == path.resolve()
        ):
            vars(module)["__autograder_stat__"] = _stat(path)


def _test_files(assignment: Assignment) -> list[Path]:
    return [
        *assignment.suite_dir.rglob("test_*.py"),
        *assignment.suite_dir.rglob("*_test.py"),
    ]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def suite_files(assignment: Assignment) -> list[Path]:
    return sorted(assignment.suite_dir.glob("test_*.py"))
