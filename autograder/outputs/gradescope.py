"""A Gradescope autograder for one assignment: `build` writes the zip, `run` grades
inside Gradescope.

The zip holds setup.sh (installs Python and this package with its dependencies),
run_autograder, the package source, and the course files grading needs: the hidden
suite, the solutions, the master and the release. Gradescope unpacks it into
/autograder/source/; for each submission run_autograder grades
/autograder/submission/*.ipynb with the same pipeline as `autograder grade` and writes
/autograder/results/results.json in Gradescope's format, one test per hidden test.
`GRADESCOPE_ROOT` (default /autograder) and `PYTHON` let run_autograder run outside
Gradescope.

Gradescope runs it as root. It grades only in the sandbox unless AUTOGRADER_SANDBOX says
otherwise (set in run_autograder), and then says so in results.json and on its output.
In any case the course files it grades with are copied, before any student code runs, to
a folder of its own that the sandbox does not show, read-only, and the hidden tests are
collected from there first; a file of that copy that changed while the notebook ran
voids the grading (`CourseCopy`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..course.config import Assignment, load_assignment
from ..errors import AutograderError, UsageError
from ..grade import Grader
from ..results import SubmissionResult
from ..running.launch import Launch, package_dir
from ..running.sandbox import build_launch
from ..suite.refcache import CACHE_DIR

SKIPPED = ("__pycache__", ".ipynb_checkpoints")
# the Python of the image setup.sh builds
IMAGE_PYTHON = "/autograder/venv/bin/python"
SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get install -y --no-install-recommends python3.11 python3.11-venv bubblewrap \\
    || apt-get install -y --no-install-recommends python3 python3-venv bubblewrap
PYTHON_FOR_VENV="$(command -v python3.11 || command -v python3)"
"$PYTHON_FOR_VENV" -m venv /autograder/venv
{python} -m pip install --quiet --upgrade pip
{python} -m pip install --quiet /autograder/source/package
# Grading the master once fills the reference cache (course/.autograder/cache) in the
# image, so that no submission waits for the reference's results. A failure here only
# costs that time.
{python} -m autograder --course /autograder/source/course validate {name} \\
    || echo "validating {name} failed: each submission computes the reference" \\
        "results itself"
"""
RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. GRADESCOPE_ROOT and PYTHON let it run
# outside Gradescope. It grades only in the sandbox (bubblewrap); where that cannot
# start, `export AUTOGRADER_SANDBOX=auto` here grades without it, and every result says
# so.
set -euo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-/autograder/venv/bin/python}}"
export PYTHONPATH="$ROOT/source/package${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$PYTHON" -m {module} "$ROOT" {name}
"""


def build(assignment: Assignment, output: Path) -> Path:
    """Write the autograder zip for `assignment` to `output`."""
    for path, what in (
        (assignment.release_dir, f"run `autograder release {assignment.name}` first"),
        (assignment.master_notebook, "the master notebook is missing"),
        (assignment.reference_file, "the reference solutions are missing"),
    ):
        if not path.exists():
            raise UsageError(
                f"cannot build the Gradescope autograder: {path} does not exist; {what}"
            )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(
            archive,
            "setup.sh",
            SETUP.format(name=assignment.name, python=IMAGE_PYTHON),
            executable=True,
        )
        _add_text(
            archive,
            "run_autograder",
            RUN.format(name=assignment.name, module=__spec__.name),
            executable=True,
        )
        _add_text(archive, "package/pyproject.toml", package_metadata())
        _add_tree(archive, package_dir(), "package/autograder", suffixes=(".py",))
        course = assignment.root
        for folder in (
            assignment.suite_dir,
            assignment.source_dir,
            assignment.release_dir,
        ):
            _add_tree(
                archive, folder, f"course/{folder.relative_to(course).as_posix()}"
            )
        _add_tree(
            archive,
            assignment.reference_file.parent,
            "course/solutions",
            suffixes=(".py",),
        )
        if (course / "nbgrader_config.py").is_file():
            archive.write(course / "nbgrader_config.py", "course/nbgrader_config.py")
    os.replace(temporary, output)
    return output


def package_metadata() -> str:
    """A pyproject.toml that installs this package with the dependencies it was
    installed with."""
    dependencies = [
        r
        for r in importlib.metadata.requires("autograder") or []
        if "extra ==" not in r
    ]
    listed = "".join(f"    {json.dumps(r)},\n" for r in dependencies)
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = '
        '"setuptools.build_meta"\n\n[project]\nname = "autograder"\nversion = '
        f'"{importlib.metadata.version("autograder")}"\nrequires-python = '
        '">=3.11"\ndependencies = '
        f'[\n{listed}]\n\n[tool.setuptools.packages.find]\ninclude = ["autograder*"]\n'
    )


def _add_text(
    archive: zipfile.ZipFile, name: str, text: str, executable: bool = False
) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _add_tree(
    archive: zipfile.ZipFile, folder: Path, prefix: str, suffixes: tuple[str, ...] = ()
) -> None:
    for path in sorted(folder.rglob("*")):
        if (
            path.is_file()
            and not any(part in SKIPPED for part in path.parts)
            and (not suffixes or path.suffix in suffixes)
        ):
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


# -- inside Gradescope
# -------------------------------------------------------------------------------


def submitted_notebook(folder: Path, assignment: Assignment) -> Path:
    """The notebook to grade: the one named like the assignment's, else the only one (or
    the first) found."""
    found = sorted(
        p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    named = [p for p in found if p.name == assignment.notebook]
    return (named or found or [folder / assignment.notebook])[0]


def results_json(
    result: SubmissionResult, seconds: float, unsandboxed: str = ""
) -> dict:
    """Gradescope's results.json: the score, a summary, and one test per hidden test
    with its feedback; `unsandboxed`: why student code ran without the sandbox, said
    first in the output and as a test."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        for j, test in enumerate(part.tests, start=1):
            # a known mistake's hint included; on a passed test, a note
            output = test.feedback
            tests.append(
                {
                    "name": f"{part.name}: {test.description or test.name}",
                    "number": f"{i}.{j}",
                    "score": test.points,
                    "max_score": test.max_points,
                    "status": "passed" if test.outcome == "passed" else "failed",
                    "output": output.strip(),
                    "visibility": "visible",
                }
            )
    output = summary(result)
    if unsandboxed:
        warning = without_sandbox(unsandboxed)
        output = f"{warning}\n{output}"
        tests.insert(
            0,
            {
                "name": "Sandbox: none",
                "number": "0",
                "score": 0.0,
                "max_score": 0.0,
                "status": "failed",
                "output": warning,
                "visibility": "visible",
            },
        )
    return {
        "score": result.score,
        "execution_time": max(1, round(seconds)),
        "output": output,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def without_sandbox(why: str) -> str:
    return (
        f"Graded WITHOUT the sandbox ({why}), as the instructor set "
        f"{settings.SANDBOX}: the notebook ran with the grader's rights. The hidden "
        "tests were taken before it ran and checked after it."
    )


def summary(result: SubmissionResult) -> str:
    lines = [f"Total: {result.score:g} / {result.max_score:g}"]
    if result.status != "graded":
        lines.append(f"{result.status}: {result.message}")
    lines += [f"Note: {note}" for note in result.notes]
    for error in result.cell_errors:
        where = f" at {error['where']}" if error.get("where") else ""
        lines.append(
            f"Cell {error.get('cell')} raised "
            f"{error.get('type') or error.get('status')}: "
            f"{error.get('message', '')}{where}"
        )
    return "\n".join(lines)


def run(root: Path, name: str) -> int:
    """Grade the submission under `root` (Gradescope's /autograder) and write
    results/results.json."""
    started = time.monotonic()
    results = Path(root) / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    # no .pyc in the course copy: every file in it is checked after grading
    sys.dont_write_bytecode = True
    print(f"grading with the autograder package in {package_dir()}")
    copy = None
    try:
        copy = CourseCopy.make(load_assignment(name, Path(root) / "source" / "course"))
        data, code = grade_copy(Path(root), copy, started)
    except AutograderError as error:
        print(f"not graded: {error}")
        data = {
            "score": 0.0,
            "execution_time": max(1, round(time.monotonic() - started)),
            "tests": [],
            "output": (
                f"The autograder could not grade this submission ({error}); please "
                "tell your instructor."
            ),
        }
        code = 1
    finally:
        if copy is not None:
            copy.remove()
    results.write_text(json.dumps(data, indent=2) + "\n")
    print(f"score {data['score']:g}; results in {results}")
    return code


def grade_copy(root: Path, copy: CourseCopy, started: float) -> tuple[dict, int]:
    """Grade /autograder/submission with the course copy: in the sandbox unless
    AUTOGRADER_SANDBOX allows otherwise, the hidden tests collected before the notebook
    runs, the copy checked after it."""
    assignment = copy.assignment
    launch = sandbox_launch(assignment)
    unsandboxed = "; ".join(launch.missing)
    if unsandboxed:
        print(f"warning: {without_sandbox(unsandboxed)}")
    notebook = submitted_notebook(root / "submission", assignment)
    with Grader(assignment, launch) as grader:
        # the hidden tests are imported now, before any student code runs
        grader.collected()
        result = grader.grade("submission", notebook)
    changed = copy.changed()
    if changed:
        print(
            "not graded: the course's files changed while the notebook ran: "
            f"{', '.join(changed[:10])}"
        )
        return {
            "score": 0.0,
            "execution_time": max(1, round(time.monotonic() - started)),
            "tests": [],
            "output": (
                "Not graded: the course's files changed while your notebook ran. A "
                "notebook may only write in its own folder; please tell your "
                "instructor."
            ),
        }, 1
    if result.status == "invalid" and not notebook.exists():
        result.message = (
            f"no notebook found in your submission; upload {assignment.notebook}"
        )
    return results_json(result, time.monotonic() - started, unsandboxed), 0


def sandbox_launch(assignment: Assignment) -> Launch:
    """The sandbox's launch; a plain process only when AUTOGRADER_SANDBOX is auto or off
    (else a UsageError)."""
    mode = settings.sandbox_mode(default="bwrap")
    launch = build_launch(assignment.release_dir, "auto" if mode == "bwrap" else mode)
    if launch.missing and mode == "bwrap":
        raise UsageError(
            "student code is graded only in the sandbox, which cannot start here "
            f"({'; '.join(launch.missing)}). Instructor: `autograder doctor` in the "
            f"image says why; or set {settings.SANDBOX}=auto in run_autograder to "
            "grade without it (results then say so)"
        )
    return launch


@dataclass
class CourseCopy:
    """The course files grading reads, copied before any student code runs into a folder
    of the grader's own (under the system's temporary folder: the sandbox gives the
    worker a /tmp of its own), every file read-only; `changed` lists those that differ
    afterwards. Without the sandbox, as root, nothing on this machine is out of the
    notebook's reach: the copy and its check then catch a notebook that rewrites the
    hidden tests, they do not stop one that also hides it."""

    assignment: Assignment  # loaded from the copy
    folder: Path
    before: dict[str, str]

    @classmethod
    def make(cls, assignment: Assignment) -> CourseCopy:
        folder = Path(tempfile.mkdtemp(prefix="autograder-course-"))
        root = assignment.root
        for source in (
            assignment.suite_dir,
            assignment.source_dir,
            assignment.release_dir,
            assignment.reference_file.parent,
            root / CACHE_DIR,
        ):
            if source.is_dir():
                shutil.copytree(
                    source,
                    folder / source.relative_to(root),
                    ignore=shutil.ignore_patterns(*SKIPPED),
                )
        copy = load_assignment(assignment.name, folder)
        # files before their folders
        for path in sorted(folder.rglob("*"), reverse=True):
            path.chmod(0o555 if path.is_dir() else 0o444)
        folder.chmod(0o500)
        return cls(copy, folder, _fingerprint(folder))

    def changed(self) -> list[str]:
        """Files that changed, went or came since the copy; only the reference cache may
        gain files."""
        after = _fingerprint(self.folder)
        cache = f"{CACHE_DIR.as_posix()}/"
        return [
            path
            for path in sorted(set(self.before) | set(after))
            if self.before.get(path) != after.get(path)
            and not (path not in self.before and path.startswith(cache))
        ]

    def remove(self) -> None:
        """Gone, as far as it can be: nothing here may keep results.json from being
        written."""
        with contextlib.suppress(OSError):
            for folder in [
                self.folder,
                *(
                    p
                    for p in self.folder.rglob("*")
                    if p.is_dir() and not p.is_symlink()
                ),
            ]:
                folder.chmod(0o700)
        shutil.rmtree(self.folder, ignore_errors=True)


def _fingerprint(folder: Path) -> dict[str, str]:
    """Each entry's path in `folder` -> what it holds: a file's SHA-256, a link's
    target, another kind's mode (never opened: a FIFO would block), without following
    links."""
    found = {}
    for parent, folders, names in os.walk(folder):
        for name in names + [
            f for f in folders if os.path.islink(os.path.join(parent, f))
        ]:
            path = Path(parent, name)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                held = f"link to {os.readlink(path)}"
            elif stat.S_ISREG(mode):
                with open(path, "rb") as file:
                    held = hashlib.file_digest(file, "sha256").hexdigest()
            else:
                held = f"mode {mode:o}"
            found[path.relative_to(folder).as_posix()] = held
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(f"usage: python -m {__spec__.name} ROOT ASSIGNMENT", file=sys.stderr)
        return 2
    return run(Path(args[0]), args[1])


if __name__ == "__main__":
    sys.exit(main())
