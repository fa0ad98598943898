"""Student ids from hostile file names, and the folder names made of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.errors import ExitCode, UsageError
from autograder import names
from autograder.names import MAX_ASSIGNMENT, MAX_ID, assignment_name, folder_name, path_text, student_id, unique


def name_of(raw: bytes) -> str:
    """A file name as Python on Linux sees it (undecodable bytes as surrogates)."""
    return os.fsdecode(raw)


@pytest.mark.parametrize(("raw", "expected"), [
    (b"alice", "alice"),
    ("jos\u00e9".encode(), "jos\u00e9"),  # UTF-8
    (b"Jos\xe9", "Jos\u00e9"),  # Windows-1252, as a zip made on Windows names it
    (b"na\xefve-\x80", "na\u00efve-\u20ac"),
    (b"odd\x81byte", "odd\x81byte".encode("unicode_escape").decode()),  # no 1252 character: Latin-1, written out
    (b"bell\x07\x1b[2Jx", "bell\\x07\\x1b[2Jx"),  # what a terminal would act on is written out
    ("rtl\u202eevil".encode(), "rtl\\u202eevil"),
    (b"", "unnamed"),
])
def test_student_ids_are_valid_printable_text(raw, expected):
    assert student_id(name_of(raw)) == expected
    student_id(name_of(raw)).encode("utf-8")  # never surrogates


def test_a_long_name_keeps_its_start_and_stays_distinct():
    first, second = student_id("a" * 300), student_id("a" * 299 + "b")
    assert len(first) == len(second) == MAX_ID and first.startswith("a" * 80) and first != second
    assert student_id("a" * 300) == first  # stable


def test_folder_names_are_one_safe_component_and_never_shared():
    ids = ["jos\u00e9", "jos\u00e8", "a/b", "a_b", "a%2Fb", ".", "..", ".hidden", "%00", "", "a b", "=2+3",
           "x" * 100, "\u00e9" * 100, "\u00e9" * 99 + "e"]
    names = [folder_name(i) for i in ids]
    assert len(set(names)) == len(ids), names
    for name in names:
        assert "/" not in name and "\0" not in name and not name.startswith(".")
        assert 0 < len(name.encode()) <= 255
    assert folder_name("jos\u00e9") == "jos\u00e9" and folder_name("a/b") == "a%2Fb" and folder_name("..") == "%2E."


def test_every_submission_gets_its_own_id_and_renamed_ones_say_so():
    found = unique([("alice", Path("a/alice.ipynb")), ("alice-2", Path("alice-2.ipynb")),
                    ("alice", Path("b/alice.ipynb")), ("alice", Path("c/alice.ipynb"))])
    assert [f.student for f in found] == ["alice", "alice-2", "alice-3", "alice-4"]
    assert [bool(f.note) for f in found] == [False, False, True, True]
    assert "'alice' is also that of a/alice.ipynb" in found[2].note and "graded as 'alice-3'" in found[2].note


def test_paths_are_shown_as_text():
    assert path_text(Path(name_of(b"/class/Jos\xe9.ipynb"))) == "/class/Jos\u00e9.ipynb"


def test_an_id_never_carries_markup_or_starts_a_formula_where_nbgrader_shows_it_as_is():
    # nbgrader's formgrader prints the student id unescaped, and `nbgrader export` writes it to a CSV
    assert student_id("<img src=x onerror=alert(1)>") == "\\x3cimg src=x onerror=alert(1)\\x3e"
    assert student_id('a&b"c') == "a\\x26b\\x22c"
    assert [student_id(name) for name in ("=2+3", "+1", "-x", "@sum")] == ["\\x3d2+3", "\\x2b1", "\\x2dx", "\\x40sum"]
    assert [student_id(name) for name in ("O'Brien", "jean-luc", "a+b@c")] == ["O'Brien", "jean-luc", "a+b@c"]


@pytest.mark.parametrize("name", ["toy", "student-admissions", "Week_3.v2", "a" * MAX_ASSIGNMENT, "2024-hw1"])
def test_an_assignment_name_is_a_plain_folder_name(name):
    assert assignment_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../..", "../toy", "toy/..", "/etc", "/tmp/toy", "a/b", ".hidden",
                                  "-rf", "_private", "toy ", "to y", "toy\n", "toy\x00", "t\u00f4y", "a\\b",
                                  "a" * (MAX_ASSIGNMENT + 1), "a" * 300, 3, None])
def test_anything_else_is_a_usage_error_saying_what_is_allowed(name):
    with pytest.raises(UsageError) as caught:
        assignment_name(name)
    message = str(caught.value)
    assert "is not an assignment name" in message and caught.value.exit_code == ExitCode.USAGE
    assert f"at most {MAX_ASSIGNMENT} characters" in message and "letters, digits" in message
    assert len(message) < 400 and "\n" not in message  # a hostile name is shown written out, and short


@pytest.mark.parametrize("name, plain", [
    ("ada", True), ("ada.l@uni.edu", True), ("o'brien", False), ("..", False), (".hidden", False),
    ("a/b", False), ("a b", False), ("=1+1", False), ("-x", False), ("x%41", False), ("é", True),
    ("a" * 101, False), ("<b>", False),
])
def test_a_plain_id_is_its_own_id_and_its_own_folder_name(name, plain):
    """What the service signs in (a token's person, a Hub user, an exchange's folder) is written as
    it is: submitted/<name>/ must be one folder of that name, and no other id's."""
    assert names.plain_id(name) is plain
    if plain:
        assert names.student_id(name) == name == names.folder_name(name)
