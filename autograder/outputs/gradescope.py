"""A Gradescope autograder for one assignment: `build` writes the zip, `run` grades inside Gradescope.

The zip holds setup.sh (installs Python and this package with its dependencies), run_autograder,
the package source, and the course files grading needs: the hidden suite, the solutions, the
master and the release. Gradescope unpacks it into /autograder/source/; for each submission
run_autograder grades /autograder/submission/*.ipynb with the same pipeline as `autograder grade`
and writes /autograder/results/results.json in Gradescope's format, one test per hidden test.
`GRADESCOPE_ROOT` (default /autograder) and `PYTHON` let run_autograder run outside Gradescope.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import time
import zipfile
from pathlib import Path

from ..course.config import Assignment, load_assignment
from ..errors import AutograderError, UsageError
from ..grade import Grader
from ..results import SubmissionResult
from ..running.launch import package_dir

SKIPPED = ("__pycache__", ".ipynb_checkpoints")
SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get install -y --no-install-recommends python3.11 python3.11-venv bubblewrap \\
    || apt-get install -y --no-install-recommends python3 python3-venv bubblewrap
PYTHON_FOR_VENV="$(command -v python3.11 || command -v python3)"
"$PYTHON_FOR_VENV" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --upgrade pip
/autograder/venv/bin/python -m pip install --quiet /autograder/source/package
# Grading the master once fills the reference cache (course/.autograder/cache) in the image, so that
# no submission waits for the reference's results. A failure here only costs that time.
/autograder/venv/bin/python -m autograder --course /autograder/source/course validate {name} \\
    || echo "validating {name} failed: each submission computes the reference results itself"
"""
RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. GRADESCOPE_ROOT and PYTHON let it run outside Gradescope.
set -euo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{PYTHON:-/autograder/venv/bin/python}}"
export PYTHONPATH="$ROOT/source/package${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$PYTHON" -m {module} "$ROOT" {name}
"""


def build(assignment: Assignment, output: Path) -> Path:
    """Write the autograder zip for `assignment` to `output`."""
    for path, what in ((assignment.release_dir, f"run `autograder release {assignment.name}` first"),
                       (assignment.master_notebook, "the master notebook is missing"),
                       (assignment.reference_file, "the reference solutions are missing")):
        if not path.exists():
            raise UsageError(f"cannot build the Gradescope autograder: {path} does not exist; {what}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_text(archive, "setup.sh", SETUP.format(name=assignment.name), executable=True)
        _add_text(archive, "run_autograder", RUN.format(name=assignment.name, module=__spec__.name), executable=True)
        _add_text(archive, "package/pyproject.toml", package_metadata())
        _add_tree(archive, package_dir(), "package/autograder", suffixes=(".py",))
        course = assignment.root
        for folder in (assignment.suite_dir, assignment.source_dir, assignment.release_dir):
            _add_tree(archive, folder, f"course/{folder.relative_to(course).as_posix()}")
        _add_tree(archive, assignment.reference_file.parent, "course/solutions", suffixes=(".py",))
        if (course / "nbgrader_config.py").is_file():
            archive.write(course / "nbgrader_config.py", "course/nbgrader_config.py")
    os.replace(temporary, output)
    return output


def package_metadata() -> str:
    """A pyproject.toml that installs this package with the dependencies it was installed with."""
    dependencies = [r for r in importlib.metadata.requires("autograder") or [] if "extra ==" not in r]
    listed = "".join(f"    {json.dumps(r)},\n" for r in dependencies)
    return (f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "autograder"\nversion = "{importlib.metadata.version("autograder")}"\n'
            f'requires-python = ">=3.11"\ndependencies = [\n{listed}]\n\n'
            f'[tool.setuptools.packages.find]\ninclude = ["autograder*"]\n')


def _add_text(archive: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str, suffixes: tuple[str, ...] = ()) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part in SKIPPED for part in path.parts) \
                and (not suffixes or path.suffix in suffixes):
            archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


# -- inside Gradescope -------------------------------------------------------------------------------


def submitted_notebook(folder: Path, assignment: Assignment) -> Path:
    """The notebook to grade: the one named like the assignment's, else the only one (or the first) found."""
    found = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in found if p.name == assignment.notebook]
    return (named or found or [folder / assignment.notebook])[0]


def results_json(result: SubmissionResult, seconds: float) -> dict:
    """Gradescope's results.json: the score, a summary, and one test per hidden test with its feedback."""
    tests = []
    for i, part in enumerate(result.parts, start=1):
        for j, test in enumerate(part.tests, start=1):
            output = test.feedback  # a known mistake's hint included; on a passed test, a note
            tests.append({"name": f"{part.name}: {test.description or test.name}", "number": f"{i}.{j}",
                          "score": test.points, "max_score": test.max_points,
                          "status": "passed" if test.outcome == "passed" else "failed",
                          "output": output.strip(), "visibility": "visible"})
    return {"score": result.score, "execution_time": max(1, round(seconds)), "output": summary(result),
            "stdout_visibility": "hidden", "tests": tests}


def summary(result: SubmissionResult) -> str:
    lines = [f"Total: {result.score:g} / {result.max_score:g}"]
    if result.status != "graded":
        lines.append(f"{result.status}: {result.message}")
    lines += [f"Note: {note}" for note in result.notes]
    for error in result.cell_errors:
        where = f" at {error['where']}" if error.get("where") else ""
        lines.append(f"Cell {error.get('cell')} raised {error.get('type') or error.get('status')}: "
                     f"{error.get('message', '')}{where}")
    return "\n".join(lines)


def run(root: Path, name: str) -> int:
    """Grade the submission under `root` (Gradescope's /autograder) and write results/results.json."""
    started = time.monotonic()
    results = Path(root) / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    print(f"grading with the autograder package in {package_dir()}")
    try:
        assignment = load_assignment(name, Path(root) / "source" / "course")
        notebook = submitted_notebook(Path(root) / "submission", assignment)
        with Grader(assignment) as grader:
            result = grader.grade("submission", notebook)
        if result.status == "invalid" and not notebook.exists():
            result.message = f"no notebook found in your submission; upload {assignment.notebook}"
        data = results_json(result, time.monotonic() - started)
        code = 0
    except AutograderError as error:
        data = {"score": 0.0, "execution_time": max(1, round(time.monotonic() - started)), "tests": [],
                "output": f"The autograder could not grade this submission ({error}); please tell your instructor."}
        code = 1
    results.write_text(json.dumps(data, indent=2) + "\n")
    print(f"score {data['score']:g}; results in {results}")
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(f"usage: python -m {__spec__.name} ROOT ASSIGNMENT", file=sys.stderr)
        return 2
    return run(Path(args[0]), args[1])


if __name__ == "__main__":
    sys.exit(main())
