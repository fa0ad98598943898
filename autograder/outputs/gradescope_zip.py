"""The Gradescope autograder zip of one assignment: setup.sh (installs Python and this
package with its dependencies), run_autograder (grades each submission with
gradescope.py), the package source, and the course files grading needs: the hidden
suite, the solutions, the master and the release. Gradescope unpacks it into
/autograder/source/."""

from __future__ import annotations

import importlib.metadata
import json
import os
import zipfile
from pathlib import Path

from ..course.config import Assignment
from ..errors import UsageError
from ..running.launch import package_dir

RUNNER = f"{__package__}.gradescope"  # run_autograder's `python -m`
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
            RUN.format(name=assignment.name, module=RUNNER),
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
        '[build-system]\nrequires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "autograder"\n'
        f'version = "{importlib.metadata.version("autograder")}"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = [\n{listed}]\n\n"
        '[tool.setuptools.packages.find]\ninclude = ["autograder*"]\n'
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
