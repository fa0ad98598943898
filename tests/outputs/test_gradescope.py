"""The Gradescope autograder: the zip as built, unpacked like /autograder/ and run with our Python."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import nbformat
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


# A student cell that rewrites every copy of the hidden tests it can find into five tests that pass.
REWRITE = '''\
import glob, os
PASSING = "".join(f"def test_{{i}}():\\n    pass\\n" for i in range(5))
for pattern in [f"{{folder}}/**/test_square.py" for folder in {folders!r}]:
    for path in glob.glob(pattern, recursive=True):
        try:
            os.chmod(path, 0o644)
            with open(path, "w") as file:
                file.write(PASSING)
        except OSError:
            pass
'''


def run_autograder(built, tmp_path, rewrite: tuple[str, ...], sandbox: str | None, bubblewrap: bool):
    """run_autograder on the released stub plus a cell rewriting the hidden tests under `rewrite` ("root": the
    unpacked course; "copy": the grader's temporary folder); (process, results.json, the unpacked root)."""
    _, path = built
    root, temporary = tmp_path / "autograder", tmp_path / "grader-tmp"
    temporary.mkdir()
    with zipfile.ZipFile(path) as archive:
        archive.extractall(root / "source")
    folders = [str(root) if where == "root" else str(temporary) for where in rewrite]
    course = toy_class(tmp_path / "student", {})
    stub = nbformat.read(course.release, as_version=4)
    stub.cells.append(nbformat.v4.new_code_cell(REWRITE.format(folders=folders)))
    course.write("stub", stub, root / "submission")
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_COURSE", "AUTOGRADER_SANDBOX", "PYTHONPATH")}
    env.update(GRADESCOPE_ROOT=str(root), PYTHON=sys.executable, TMPDIR=str(temporary))
    if sandbox:
        env["AUTOGRADER_SANDBOX"] = sandbox
    if not bubblewrap:  # as in an image where bubblewrap is not there: no bwrap on the PATH
        env["PATH"] = str(tmp_path / "no-programs")
    done = subprocess.run([shutil.which("bash"), str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=180)
    assert not list(temporary.glob("autograder-course-*"))  # the course copy is gone with the run
    return done, json.loads((root / "results" / "results.json").read_text()), root


def test_where_the_sandbox_cannot_start_the_runner_does_not_grade_and_says_why(built, tmp_path):
    done, results, root = run_autograder(built, tmp_path, ("root",), sandbox=None, bubblewrap=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert results["score"] == 0 and results["tests"] == []
    assert "could not grade this submission" in results["output"] and "sandbox" in results["output"]
    assert "AUTOGRADER_SANDBOX=auto" in done.stdout and "bubblewrap" in done.stdout
    assert "def test_0" not in (root / "source" / "course" / "assignments" / "toy" / "test_square.py").read_text()


def test_graded_without_the_sandbox_only_when_asked_and_says_so_with_the_tests_taken_first(built, tmp_path):
    done, results, _ = run_autograder(built, tmp_path, ("root",), sandbox="auto", bubblewrap=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["output"].startswith("Graded WITHOUT the sandbox")
    assert "WITHOUT the sandbox" in done.stdout
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["Sandbox: none"]["status"] == "failed" and "WITHOUT the sandbox" in tests["Sandbox: none"]["output"]
    assert results["score"] == 0  # the stub: rewriting the unpacked course's tests changed nothing
    assert len(tests) == 1 + 3 and "square: square of a single number" in tests


def test_hidden_tests_changed_while_the_notebook_ran_void_the_grading(built, tmp_path):
    done, results, _ = run_autograder(built, tmp_path, ("root", "copy"), sandbox="auto", bubblewrap=False)
    assert results["score"] == 0 and not [t for t in results["tests"] if t["status"] == "passed"]
    assert "course's files changed while your notebook ran" in results["output"], results["output"]
    assert "not graded: the course's files changed while the notebook ran: assignments/toy/test_square.py" \
        in done.stdout, done.stdout


def test_in_the_sandbox_the_hidden_tests_are_out_of_reach(built, tmp_path):
    done, results, root = run_autograder(built, tmp_path, ("root", "copy"), sandbox=None, bubblewrap=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results["score"] == 0 and len(results["tests"]) == 3 and "WITHOUT" not in results["output"]
    assert "def test_0" not in (root / "source" / "course" / "assignments" / "toy" / "test_square.py").read_text()
