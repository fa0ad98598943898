"""Finding the submissions: files, folders, nbgrader's submitted/ tree, and one id per submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.course.discovery import discover, student_of, survey
from autograder.errors import UsageError
from toycourse import make_course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


def pairs(found) -> list[tuple[str, Path]]:
    return [(f.student, f.notebook) for f in found]


def test_discover_a_file(course, tmp_path):
    path = course.student_notebook("ada", ["x = 1"], folder=tmp_path)
    assert pairs(discover(course.assignment(), [path])) == [("ada", path)]


def test_discover_a_folder_recursively_without_checkpoints(course, tmp_path):
    a = course.student_notebook("ada", ["x = 1"], folder=tmp_path)
    b = course.student_notebook("bob", ["x = 1"], folder=tmp_path / "late")
    course.student_notebook("ada-checkpoint", ["x = 1"], folder=tmp_path / ".ipynb_checkpoints")
    (tmp_path / "notes.txt").write_text("not a notebook")
    assert pairs(discover(course.assignment(), [tmp_path])) == [("ada", a), ("bob", b)]


def test_discover_nbgrader_submitted_layout(course, tmp_path):
    submitted = tmp_path / "submitted"
    ada = course.student_notebook("toy", ["x = 1"], folder=submitted / "ada" / "toy")
    bob = course.student_notebook("toy", ["x = 1"], folder=submitted / "bob" / "toy")
    other = course.student_notebook("toy", ["x = 1"], folder=submitted / "cyd" / "another-assignment")
    found = discover(course.assignment(), [submitted])
    assert pairs(found) == [("ada", ada), ("bob", bob)]  # another assignment's notebook is not this one's
    assert student_of(course.assignment(), ada) == "ada" and student_of(course.assignment(), other) is None


def test_a_notebook_a_student_put_in_a_subfolder_is_nobodys_submission(course, tmp_path):
    submitted = tmp_path / "submitted"
    zoe = course.student_notebook("toy", ["x = 1"], folder=submitted / "zoe" / "toy")
    decoys = [course.student_notebook("zoe", ["x = 1"], folder=submitted / "mallory" / "toy" / "extra"),
              course.student_notebook("toy", ["x = 1"], folder=submitted / "mallory" / "toy" / "submitted" / "zoe" / "toy"),
              course.student_notebook("copy", ["x = 1"], folder=submitted / "mallory" / "toy")]
    mallory = course.student_notebook("toy", ["x = 1"], folder=submitted / "mallory" / "toy")
    surveyed = survey(course.assignment(), [submitted])
    assert pairs(surveyed.found) == [("mallory", mallory), ("zoe", zoe)]  # zoe keeps her id, nobody is renamed
    assert len(surveyed.skipped) == 3 and all("is not graded" in note for note in surveyed.skipped)
    assert [student_of(course.assignment(), decoy) for decoy in decoys] == [None, None, None]
    assert pairs(discover(course.assignment(), [submitted / "zoe" / "toy"])) == [("zoe", zoe)]


def test_discover_keeps_students_with_the_same_name_apart(course, tmp_path):
    first = course.student_notebook("toy", ["x = 1"], folder=tmp_path / "a")
    second = course.student_notebook("toy", ["x = 1"], folder=tmp_path / "b")
    found = discover(course.assignment(), [first, second])
    assert pairs(found) == [("toy", first), ("toy-2", second)]
    assert found[1].note == f"the student id 'toy' is also that of {first}; this submission ({second}) is graded as 'toy-2'"


def test_discover_never_gives_one_id_to_two_submissions(course, tmp_path):
    a = course.student_notebook("alice", ["x = 1"], folder=tmp_path / "a")
    real = course.student_notebook("alice-2", ["x = 1"], folder=tmp_path)
    b = course.student_notebook("alice", ["x = 1"], folder=tmp_path / "b")
    found = discover(course.assignment(), [a, real, b])
    assert pairs(found) == [("alice", a), ("alice-2", real), ("alice-3", b)]


def test_discover_does_not_follow_a_linked_folder_but_finds_a_linked_file(course, tmp_path):
    outside = course.student_notebook("outside", ["x = 1"], folder=tmp_path / "elsewhere")
    tree = tmp_path / "class"
    inside = course.student_notebook("ada", ["x = 1"], folder=tree)
    (tree / "linked-folder").symlink_to(outside.parent, target_is_directory=True)
    (tree / "bob.ipynb").symlink_to(outside)  # found, so that it is reported (and refused when read)
    assert pairs(discover(course.assignment(), [tree])) == [("ada", inside), ("bob", tree / "bob.ipynb")]


def test_discover_no_such_path(course, tmp_path):
    with pytest.raises(UsageError, match="no such file or folder: .*missing.ipynb"):
        discover(course.assignment(), [tmp_path / "missing.ipynb"])
