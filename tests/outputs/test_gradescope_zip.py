"""The Gradescope autograder zip: its scripts, the package and the course, and a setup
whose warm-up validates the course it ships."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile

import pytest

from autograder.outputs.gradescope_zip import RUNNER, build

from toybatch import toy_class

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradescope")
    course = toy_class(tmp / "course", {})
    return course, build(course.assignment(), tmp / "out" / "autograder.zip")


def test_the_zip_holds_the_scripts_the_package_and_the_course(built):
    _, path = built
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        pyproject = tomllib.loads(archive.read("package/pyproject.toml").decode())
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "package/autograder/grade.py", "package/autograder/running/worker/child.py",
            "course/assignments/toy/assignment.toml", "course/assignments/toy/test_square.py",
            "course/solutions/toy.py", "course/source/toy/toy.ipynb", "course/release/toy/toy.ipynb"} <= names
    assert not any("__pycache__" in name for name in names)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(dep.startswith("nbgrader") for dep in pyproject["project"]["dependencies"])
    assert "pip install --quiet /autograder/source/package" in setup
    assert "-m autograder --course /autograder/source/course validate toy" in setup
    subprocess.run(["bash", "-n"], input=setup, text=True, check=True)


def test_the_setup_warm_up_validates_the_unpacked_course(built, tmp_path):
    """setup.sh's last step, run on the unpacked zip with our Python: the course it ships is gradable."""
    _, path = built
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "source")
        line = next(line for line in archive.read("setup.sh").decode().splitlines() if " validate " in line)
    command = line.rstrip(" \\").split()
    assert command[:4] == ["/autograder/venv/bin/python", "-m", "autograder", "--course"]
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_COURSE", "PYTHONPATH")}
    done = subprocess.run([sys.executable, *command[1:4], str(tmp_path / "source" / "course"), *command[5:]],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "toy: master 3/3, released stubs 0: ok"


def test_run_autograder_runs_the_runner_module_and_nothing_half_written_is_left(built):
    _, path = built
    with zipfile.ZipFile(path) as archive:
        run = archive.read("run_autograder").decode()
    assert RUNNER == "autograder.outputs.gradescope"
    assert run.splitlines()[-1] == f'exec "$PYTHON" -m {RUNNER} "$ROOT" toy'
    assert sorted(p.name for p in path.parent.iterdir()) == ["autograder.zip"]
