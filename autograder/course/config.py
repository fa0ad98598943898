"""The course layout and each assignment's `assignment.toml`, read into frozen
dataclasses.

A course is a folder with `assignments/<name>/assignment.toml` (+ hidden `test_*.py`),
`solutions/<module>.py`, `source/<name>/` (the master) and `release/<name>/` (what
students get).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .. import settings
from ..errors import ConfigError, UsageError
from ..names import assignment_name
from .toml_values import finite, number_in, settings_table, string, strings, table

CONFIG_NAME = "assignment.toml"
MAX_POINTS = 1_000_000.0  # points of a part: any score and any sum of them stays finite


@dataclass(frozen=True)
class Limits:
    """Per-submission resource limits for the worker."""

    # wall seconds for the notebook's cells (each part's tests have part_timeout)
    timeout: float = 120.0
    # wall seconds for all the calls of one part's tests (a hang costs that part only)
    part_timeout: float = 60.0
    cell_timeout: float = 30.0  # wall seconds for one notebook cell
    # wall seconds for one call of a student function, unless a test says otherwise
    call_timeout: float = 10.0
    memory_mb: int = 2048  # address space the student's code may add to the worker
    max_notebook_mb: float = 20.0  # larger files are rejected unread
    max_output_kb: int = 64  # captured text output per cell; the rest is dropped
    # processes the submission may run at once (unprivileged worker user only)
    max_processes: int = 64
    max_file_mb: int = 64  # largest file the submission may write in its scratch folder
    # bytes the submission's own /tmp (and working folder) may hold
    scratch_mb: float = 1024.0
    # files and folders it may hold (a million empty files cost the host ~1 GB)
    scratch_files: int = 10_000
    # largest answer the grader reads from the worker (a value, the cells' outcomes)
    max_reply_mb: float = 16.0


@dataclass(frozen=True)
class Service:
    """Grading on submit (`autograder serve`): how often a student may submit, and
    which of their graded submissions gives the score that counts."""

    CHOICES: ClassVar = {"counts": ("latest", "best")}
    submissions: int = 10  # submissions per student and assignment in each window
    window_minutes: float = 60.0
    counts: str = "latest"


@dataclass(frozen=True)
class Tolerance:
    rtol: float = 1e-6
    atol: float = 1e-8


@dataclass(frozen=True)
class Assignment:
    """One assignment: where its files are and how it is graded."""

    name: str
    root: Path  # the course root
    notebook: str  # file name of the notebook in source/<name>/ and release/<name>/
    reference: str  # module name in solutions/
    parts: dict[str, float]  # part name -> points, in report order
    limits: Limits = Limits()
    tolerance: Tolerance = Tolerance()
    service: Service = Service()
    # grade_ids the worker does not run (the suite runs them itself)
    skip_cells: tuple[str, ...] = ()
    # free [suite] table, handed to the tests
    settings: dict[str, Any] = field(default_factory=dict)
    graded: tuple[str, ...] = ()  # [functions] graded: the functions the students write
    # parts whose tests call each function with references standing in
    isolated: frozenset[str] = frozenset()
    # [functions] uses: graded function -> those it calls; None: read from the
    # reference's code (suite/dependencies.py, which also checks it)
    uses: dict[str, tuple[str, ...]] | None = None

    def isolates(self, part: str) -> bool:
        return part in self.isolated

    @property
    def suite_dir(self) -> Path:
        return self.root / "assignments" / self.name

    @property
    def source_dir(self) -> Path:
        return self.root / "source" / self.name

    @property
    def release_dir(self) -> Path:
        return self.root / "release" / self.name

    @property
    def master_notebook(self) -> Path:
        return self.source_dir / self.notebook

    @property
    def release_notebook(self) -> Path:
        return self.release_dir / self.notebook

    @property
    def reference_file(self) -> Path:
        return self.root / "solutions" / f"{self.reference}.py"

    @property
    def max_score(self) -> float:
        return float(sum(self.parts.values()))


def find_course_root(start: Path | None = None) -> Path:
    """The nearest folder that holds `assignments/`, from `start` (--course) up, else
    from AUTOGRADER_COURSE up, else from the working directory up."""
    here = (settings.course(start) or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir():
            return folder
    raise UsageError(
        f"no course found: neither {here} nor a parent has an 'assignments/' folder; "
        "run from the course folder or pass --course PATH"
    )


def list_assignments(root: Path) -> list[str]:
    return sorted(
        p.parent.name for p in (root / "assignments").glob(f"*/{CONFIG_NAME}")
    )


def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """The assignment `name` (one plain folder name, `names.assignment_name`) of the
    course at `root`."""
    name = assignment_name(name)
    root = (root or find_course_root()).resolve()
    path = root / "assignments" / name / CONFIG_NAME
    if path.parent.resolve().parent != (root / "assignments").resolve():
        raise UsageError(
            f"{root}/assignments/{name} leads out of the course's assignments/ folder "
            f"(to {path.parent.resolve()}); make it a folder of the course, not a link"
        )
    if not path.is_file():
        known = ", ".join(list_assignments(root)) or "none"
        raise UsageError(f"unknown assignment '{name}': no {path} (known: {known})")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, "toml", f"not valid TOML: {error}") from None
    return _parse(name, root, path, data)


def _parse(name: str, root: Path, path: Path, data: dict) -> Assignment:
    section = table(path, data, "assignment")
    parts = table(path, data, "parts")
    if not parts:
        raise ConfigError(path, "parts", "needs at least one part, e.g. `sigmoid = 2`")
    for part, points in parts.items():
        if not number_in(points, 0.0, MAX_POINTS):
            raise ConfigError(
                path,
                f"parts.{part}",
                f"points must be a positive number of at most "
                f"{MAX_POINTS:,.0f}, got {points!r}",
            )
    return Assignment(
        name=name,
        root=root,
        notebook=string(path, section, "assignment.notebook", default=f"{name}.ipynb"),
        reference=string(
            path, section, "assignment.reference", default=name.replace("-", "_")
        ),
        parts={part: float(points) for part, points in parts.items()},
        limits=settings_table(path, data, "limits", Limits),
        tolerance=settings_table(path, data, "tolerance", Tolerance, tolerance=True),
        service=settings_table(path, data, "service", Service),
        skip_cells=tuple(
            strings(path, data.get("execution", {}), "execution.skip_cells")
        ),
        settings=dict(finite(path, "suite", table(path, data, "suite"))),
        **_functions(path, table(path, data, "functions"), parts),
    )


def _functions(path: Path, table: dict, parts: dict) -> dict[str, Any]:
    """[functions] graded (the functions students write), isolated (the parts whose
    tests isolate them; default: the parts named like a graded function, so an
    integration part runs them together) and uses (which graded functions each one
    calls; default: read from the reference when the suite is loaded)."""
    unknown = set(table) - {"graded", "isolated", "uses"}
    if unknown:
        raise ConfigError(
            path,
            f"functions.{sorted(unknown)[0]}",
            "unknown setting (known: graded, isolated, uses)",
        )
    graded = tuple(strings(path, table, "functions.graded"))
    default = [part for part in parts if part in graded]
    isolated = (
        strings(path, table, "functions.isolated") if "isolated" in table else default
    )
    strays = [part for part in isolated if part not in parts]
    if strays:
        raise ConfigError(
            path,
            "functions.isolated",
            f"'{strays[0]}' is not a part (parts: {', '.join(parts)})",
        )
    uses = _uses(path, table["uses"], graded) if "uses" in table else None
    return {"graded": graded, "isolated": frozenset(isolated), "uses": uses}


def _uses(
    path: Path, table: Any, graded: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """[functions] uses = { error_term = ["sigmoid_prime"], ... }: graded names only; a
    function not listed uses none. Whether it has a circle, or lets a stand-in compute
    the function under test, is checked against the reference when the suite is loaded
    (suite/dependencies.py)."""
    if not isinstance(table, dict):
        raise ConfigError(
            path,
            "functions.uses",
            'must be a table, e.g. `uses = { error_term = ["sigmoid_prime"] }`',
        )
    known = ", ".join(graded) or "none"
    uses = {}
    for name in table:
        key = f"functions.uses.{name}"
        if name not in graded:
            raise ConfigError(
                path,
                key,
                f"'{name}' is not a graded function (graded: {known}); "
                "add it to `graded` or remove it from `uses`",
            )
        used = strings(path, table, key)
        strays = [use for use in used if use not in graded]
        if strays:
            raise ConfigError(
                path,
                key,
                f"'{strays[0]}' is not a graded function (graded: {known}); "
                "list only graded functions: any other name is the student's own code",
            )
        uses[name] = tuple(used)
    return uses
