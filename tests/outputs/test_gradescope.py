"""The Gradescope autograder: the zip as built, unpacked like /autograder/ and run with our Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile

import pytest

from autograder.cli import main

from toybatch import ANSWERS, toy_class

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradescope")
    course = toy_class(tmp / "course", {})
    assert main(["--course", str(course.root), "gradescope", "toy", "-o", str(tmp / "autograder.zip")]) == 0
    return course, tmp / "autograder.zip"


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


def test_run_autograder_writes_gradescope_results(built, tmp_path):
    _, path = built
    root = tmp_path / "autograder"
    with zipfile.ZipFile(path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    toy_class(tmp_path / "student", {"dan": ANSWERS["dan"]}).released_with("dan", ANSWERS["dan"], root / "submission")
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_COURSE", "PYTHONPATH")}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                          env={**env, "GRADESCOPE_ROOT": str(root), "PYTHON": sys.executable}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"grading with the autograder package in {root / 'source' / 'package' / 'autograder'}" in done.stdout
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 1.0 and isinstance(results["execution_time"], int)
    assert results["output"].startswith("Total: 1 / 3")
    tests = {t["name"]: t for t in results["tests"]}
    assert sorted(tests) == ["square: square of a single number", "square: square of an array",
                             "square: squares of 1 to 20 follow the expected curve"]
    for test in tests.values():
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["visibility"] == "visible" and test["max_score"] == 1.0
    assert tests["square: square of a single number"]["status"] == "passed"
    array = tests["square: square of an array"]
    assert array["status"] == "failed" and array["score"] == 0
    assert "raised TypeError" in array["output"] and "cell 3, line 2, in square: return float(x) ** 2" in array["output"]
