"""`autograder new`: a fresh assignment releases with the real nbgrader and validates at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.verbs.new import create_assignment, planned_files
from autograder.cli import main
from autograder.course.config import load_assignment
from autograder.errors import ExitCode, UsageError
from conftest import REPO
from full_disk import fill, small_filesystem

AUTOGRADER = [sys.executable, "-m", "autograder"]


@pytest.fixture
def course(tmp_path):
    """An empty course: nbgrader's config and the four folders, no engine code."""
    shutil.copy(REPO / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    for folder in ("assignments", "solutions", "source", "release"):
        (tmp_path / folder).mkdir()
    return tmp_path


def run(course, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_COURSE"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([*AUTOGRADER, *args], cwd=course, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_new_then_release_then_validate(course):
    created = run(course, "new", "demo-hw")
    assert created.returncode == 0, created.stderr
    assert "created assignments/demo-hw/test_double.py" in created.stdout
    released = run(course, "release", "demo-hw")
    assert released.returncode == 0, released.stderr
    stub = nbformat.read(course / "release" / "demo-hw" / "demo-hw.ipynb", as_version=4)
    assert "raise NotImplementedError()" in stub.cells[2].source and "2 * x" not in stub.cells[2].source
    assert stub.metadata.autograder == {"assignment": "demo-hw"}
    validated = run(course, "validate", "demo-hw")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "demo-hw: master 1/1, released stubs 0: ok" in validated.stdout


def test_new_refuses_to_overwrite(course):
    create_assignment("demo-hw", course)
    test_file = course / "assignments" / "demo-hw" / "test_double.py"
    test_file.write_text("# the instructor's own tests\n")
    with pytest.raises(UsageError, match=r"assignment 'demo-hw' already exists \(assignments/demo-hw, "
                                         r"source/demo-hw, solutions/demo_hw.py\); nothing was written"):
        create_assignment("demo-hw", course)
    assert test_file.read_text() == "# the instructor's own tests\n"


def test_new_refuses_when_only_the_reference_exists(course, capsys):
    (course / "solutions" / "demo_hw.py").write_text("")
    assert main(["--course", str(course), "new", "demo-hw"]) == ExitCode.USAGE
    assert "already exists (solutions/demo_hw.py)" in capsys.readouterr().err
    assert not (course / "assignments" / "demo-hw").exists()


@pytest.mark.parametrize("name", ["Demo", "demo_hw", "2nd-hw", "demo--hw", "demo-", "../demo", ""])
def test_new_refuses_unusable_names(course, name):
    with pytest.raises(UsageError, match="not a usable assignment name"):
        create_assignment(name, course)
    assert not any((course / "assignments").iterdir())


def test_the_files_make_a_consistent_assignment(course):
    paths = create_assignment("linear-fit", course)
    assert sorted(str(p.relative_to(course)) for p in paths) == sorted(
        str(p.relative_to(course)) for p in planned_files("linear-fit", course))
    assignment = load_assignment("linear-fit", course)
    assert assignment.reference_file == course / "solutions" / "linear_fit.py"
    assert assignment.parts == {"double": 1.0}
    master = nbformat.read(assignment.master_notebook, as_version=4)
    nbformat.validate(master)
    answers = [c for c in master.cells if c.metadata.nbgrader["solution"]]
    assert [c.metadata.nbgrader["grade_id"] for c in answers] == ["double"]
    assert answers[0].source in assignment.reference_file.read_text()
    checks = [c for c in master.cells if c.metadata.nbgrader["grade"]]
    assert [(c.metadata.nbgrader["grade_id"], c.metadata.nbgrader["points"]) for c in checks] == [("test_double", 1)]
    assert "@pytest.mark.visible" in (assignment.suite_dir / "test_double.py").read_text()


def test_a_name_too_long_for_a_folder_is_a_usage_error_not_an_internal_one(course, capsys):
    assert main(["--course", str(course), "new", "a" * 300]) == ExitCode.USAGE
    error = capsys.readouterr().err
    assert "assignment name" in error and "characters" in error and "internal" not in error
    assert not any(any((course / folder).iterdir()) for folder in ("assignments", "solutions", "source"))


def test_a_disk_that_refuses_a_file_leaves_nothing_of_the_new_assignment(tmp_path, capsys):
    with small_filesystem(tmp_path / "course") as course:
        for folder in ("assignments", "solutions", "source", "release"):
            (course / folder).mkdir()
        fill(course, leave=4096)  # room for the master, not for the files after it
        assert main(["--course", str(course), "new", "demo-hw"]) == ExitCode.FAILED
        left = sorted(str(path.relative_to(course)) for path in course.rglob("*"))
    assert left == ["assignments", "ballast", "release", "solutions", "source"]
    assert capsys.readouterr().err.strip() == (
        f"error: could not write {course}/solutions/demo_hw.py: the disk is full (No space left on device); nothing "
        "of the new assignment was kept: free some space, then run `autograder new` again")
