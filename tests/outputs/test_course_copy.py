"""The course files a Gradescope grading reads: copied read-only, and every change to
them found afterwards, but for what the reference cache gains."""

from __future__ import annotations

import os

import pytest

from autograder.outputs.course_copy import CourseCopy
from autograder.suite.refcache import CACHE_DIR

from toycourse import make_course


@pytest.fixture
def copy(tmp_path):
    copy = CourseCopy.make(make_course(tmp_path / "course").assignment())
    yield copy
    copy.remove()


def test_the_copy_is_read_only_and_unchanged(copy):
    assert copy.assignment.root == copy.folder and copy.changed() == []
    assert (copy.assignment.suite_dir / "test_square.py").is_file()
    assert not os.access(copy.assignment.suite_dir / "test_square.py", os.W_OK) or os.geteuid() == 0
    assert oct(copy.folder.stat().st_mode & 0o777) == "0o500"


def test_a_file_that_changed_came_or_went_is_named_and_a_new_cache_file_is_not(copy):
    suite = copy.assignment.suite_dir
    for folder in (copy.folder, suite, suite.parent):
        folder.chmod(0o700)
    (suite / "test_square.py").chmod(0o644)
    (suite / "test_square.py").write_text("def test_nothing():\n    pass\n")
    (suite / "conftest.py").write_text("")
    (copy.folder / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    (copy.folder / CACHE_DIR / "new.npz").write_bytes(b"cached")
    assert copy.changed() == ["assignments/toy/conftest.py", "assignments/toy/test_square.py"]


def test_the_copy_is_removed_whole(copy):
    copy.remove()
    assert not copy.folder.exists()
