"""`autograder check NOTEBOOK`: an assignment's public checks, for students before they
submit.

The hidden suite's tests marked `@pytest.mark.visible` run on the notebook in the same
sandbox and give the same feedback as grading. Nothing about the other tests leaves this
module: not their names, inputs, feedback or points, and not how many there are.

The assignment comes from the option, else from the notebook's metadata (`"autograder":
{"assignment": NAME}`, which nbgrader keeps in the release), else from the file name of
an assignment's notebook. A name from the option or the metadata is one plain folder
name (`names.assignment_name`): the notebook is the student's, and the suite's
conftest.py runs here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..course.config import Assignment, list_assignments, load_assignment
from ..errors import ConfigError, InvalidSubmission, UsageError
from ..grade import Grader
from ..names import assignment_name
from ..running.launch import Launch
from ..running.notebook_file import parse_notebook_json, read_bytes

METADATA_KEY = "autograder"
# a larger file is not read for its metadata (grading refuses it with a message)
MAX_METADATA_MB = 50


@dataclass
class PublicCheck:
    part: str
    name: str
    description: str
    outcome: str  # passed | failed | error | timeout
    feedback: str = ""


@dataclass
class CheckReport:
    assignment: str
    notebook: str
    status: str  # as in grading: graded | invalid | timeout | crashed
    message: str = ""
    checks: list[PublicCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cell_errors: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "graded" and all(
            c.outcome == "passed" for c in self.checks
        )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CheckReport:
        checks = [PublicCheck(**c) for c in data.get("checks", [])]
        return cls(**{**data, "checks": checks})


def find_assignment(notebook: Path, root: Path, name: str | None = None) -> Assignment:
    """The assignment a notebook belongs to: `name`, else its metadata, else its file
    name."""
    if name:
        return load_assignment(assignment_name(name), root)
    if not notebook.is_file():
        raise UsageError(f"no such notebook: {notebook}")
    named = _metadata_name(notebook)
    if named:
        try:
            named = assignment_name(named)
        except UsageError as error:
            raise UsageError(
                f"{notebook.name}: its metadata ({METADATA_KEY}.assignment) names no "
                f"assignment: {error}; pass --assignment NAME"
            ) from None
        return load_assignment(named, root)
    for candidate in list_assignments(root):
        try:
            assignment = load_assignment(candidate, root)
        # a broken one, or a folder whose name is not an assignment's
        except (ConfigError, UsageError):
            continue
        if assignment.notebook == notebook.name:
            return assignment
    known = ", ".join(list_assignments(root)) or "none"
    raise UsageError(
        f"cannot tell which assignment {notebook.name} belongs to; "
        f"pass --assignment NAME (known: {known})"
    )


def _metadata_name(notebook: Path) -> str:
    """The assignment the notebook's metadata names, or "" when it names none (whatever
    its JSON holds)."""
    try:
        data = parse_notebook_json(read_bytes(notebook, MAX_METADATA_MB), notebook.name)
    except InvalidSubmission:
        return ""  # not readable as a notebook: grading says why
    return named_assignment(data.get("metadata") if isinstance(data, dict) else None)


def named_assignment(metadata: object) -> str:
    """The assignment a notebook's metadata names (`autograder.assignment`), or "" when
    it names none, whatever it holds; the name itself is checked where it is used."""
    value = metadata
    for key in (METADATA_KEY, "assignment"):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def run_checks(
    assignment: Assignment, notebook: Path, launch: Launch | None = None
) -> CheckReport:
    """Run the public checks on `notebook`; hidden tests are neither run nor
    reported."""
    if not notebook.is_file():
        raise UsageError(f"no such notebook: {notebook}")
    with Grader(assignment, launch) as grader:
        public = {(o.part, o.name) for o in grader.collected() if o.visible}
        result = grader.grade(notebook.stem, notebook, only_visible=True)
    checks = [
        PublicCheck(part.name, test.name, test.description, test.outcome, test.feedback)
        for part in result.parts
        for test in part.tests
        if (part.name, test.name) in public
    ]
    if result.status != "graded":  # the notebook did not run: no check did either
        checks = []
    return CheckReport(
        assignment.name,
        str(notebook),
        result.status,
        result.message,
        checks,
        list(result.notes),
        list(result.cell_errors),
    )


SYMBOLS = {"passed": "ok  ", "failed": "FAIL", "error": "ERR ", "timeout": "TIME"}


def format_report(report: CheckReport) -> str:
    """The report as students read it: one line per public check, feedback under the
    failed ones."""
    lines = [f"Public checks of {report.assignment} on {Path(report.notebook).name}"]
    if report.status != "graded":
        lines.append(
            f"  the notebook could not be checked ({report.status}): {report.message}"
        )
    for error in report.cell_errors:
        where = f" (at {error['where']})" if error.get("where") else ""
        lines.append(
            f"  cell {error['cell']} raised {error.get('type') or error['status']}"
            f"{': ' + error['message'] if error.get('message') else ''}{where}"
        )
    lines += [f"  note: {note}" for note in report.notes]
    part = None
    for check in report.checks:
        if check.part != part:
            part = check.part
            lines.append(f"{part}:")
        lines.append(
            f"  {SYMBOLS.get(check.outcome, check.outcome)}  "
            f"{check.description or check.name}"
        )
        if check.feedback:  # on a passed check, a note (which of your functions to fix)
            lines += [f"        {line}" for line in check.feedback.splitlines()]
    if report.status == "graded":
        passed = sum(c.outcome == "passed" for c in report.checks)
        lines.append(
            f"{passed} of {len(report.checks)} public checks passed. Grading runs more "
            "tests than these: passing them is a good sign, not a guarantee."
        )
    return "\n".join(lines)
