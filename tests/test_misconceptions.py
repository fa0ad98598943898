"""Known mistakes named in the feedback: the matching engine on plain data, the assignments'
catalogues, and every catalogued mistake injected into a released notebook and graded by the real
grader (one Grader per assignment, several mistakes per submission: one in each function)."""

from __future__ import annotations

import re
from collections import Counter

import nbformat
import numpy as np
import pytest

from autograder.checks import Mismatch
from autograder.config import load_assignment
from autograder.errors import ConfigError
from autograder.grade import Grader
from autograder.misconceptions import (FEEDBACK_CHARS, Catalogue, Diagnosed, Misconception, count_by_part,
                                       diagnose, load_catalogue)
from autograder import results
from conftest import REPO

TOL = (1e-6, 1e-8)
DOUBLE = Misconception("f.doubles", lambda x: 2 * x, "You doubled x instead of adding one to it.")
SQUARE = Misconception("f.squares", lambda x: x * x, "You squared x instead of adding one to it.")
NOTHING = Misconception("f.in_place", lambda x: None, "You changed x in place and returned None.",
                        leaves_inputs=lambda x: (x + 1,))


# -- the engine ------------------------------------------------------------------------------------

def test_one_matching_formula_is_named():
    x = np.array([1.0, 3.0])
    assert diagnose([DOUBLE, SQUARE], (x,), 2 * x, *TOL) is DOUBLE
    assert diagnose([DOUBLE, SQUARE], (x,), x * x + 1e-9, *TOL) is SQUARE


def test_no_match_or_several_matches_name_nothing():
    assert diagnose([DOUBLE, SQUARE], (np.array([1.0, 3.0]),), np.array([5.0, 5.0]), *TOL) is None
    assert diagnose([DOUBLE, SQUARE], (np.array([2.0, 0.0]),), np.array([4.0, 0.0]), *TOL) is None  # 2x == x*x here


def test_shapes_must_agree_and_numbers_only():
    x = np.array([1.0, 3.0])
    assert diagnose([DOUBLE], (x,), [[2.0, 6.0]], *TOL) is None
    assert diagnose([DOUBLE], (x,), "2, 6", *TOL) is None
    assert diagnose([DOUBLE], (x,), None, *TOL) is None


def test_a_formula_that_raises_or_changes_its_inputs_harms_nothing():
    def raises(x):
        raise ZeroDivisionError

    def changes(x):
        x *= 2
        return x

    x = np.array([1.0, 3.0])
    assert diagnose([Misconception("f.raises", raises, "A."), Misconception("f.changes", changes, "B.")],
                    (x,), 2 * x, *TOL).id == "f.changes"
    assert x.tolist() == [1.0, 3.0]


def test_pairs_match_element_by_element():
    pair = Misconception("g.swapped", lambda a, b: (b, a), "You swapped them.")
    assert diagnose([pair], (np.array([1.0]), 2.0), (2.0, np.array([1.0])), *TOL) is pair
    assert diagnose([pair], (np.array([1.0]), 2.0), [2.0, np.array([1.0])], *TOL) is pair
    assert diagnose([pair], (np.array([1.0]), 2.0), (2.0, 1.0), *TOL) is None  # shape (1,) is not a number


def test_an_in_place_mistake_is_named_only_when_it_is_seen():
    x = np.array([1.0, 3.0])
    asked = []

    def after(seen):
        return lambda: asked.append(1) or seen

    assert diagnose([NOTHING], (x,), None, *TOL, after=after((x + 1,))) is NOTHING
    assert diagnose([NOTHING], (x,), None, *TOL, after=after((x,))) is None  # returned None, changed nothing
    assert diagnose([NOTHING], (x,), None, *TOL, after=after(None)) is None  # could not be observed
    assert diagnose([NOTHING], (x,), None, *TOL) is None
    asked.clear()
    assert diagnose([NOTHING, DOUBLE], (x,), 2 * x, *TOL, after=after((x + 1,))) is DOUBLE
    assert asked == []  # the student's arguments are asked for only when a None result needs them


def test_diagnosing_adds_the_hint_and_the_id():
    catalogue = Catalogue([DOUBLE, SQUARE, Misconception("g.doubles", lambda x: 2 * x, "Other function.")])
    x = np.array([1.0, 3.0])
    with pytest.raises(Diagnosed) as raised:
        with catalogue.diagnosing("f", (x,), 2 * x, *TOL):
            raise Mismatch("f(np.array([1., 3.])) returned np.array([2., 6.]), expected np.array([2., 4.])")
    assert raised.value.misconception == "f.doubles"
    assert str(raised.value).splitlines() == ["f(np.array([1., 3.])) returned np.array([2., 6.]), expected "
                                              "np.array([2., 4.])", DOUBLE.hint]
    with pytest.raises(Mismatch) as plain:
        with catalogue.diagnosing("f", (x,), x + 7, *TOL):
            raise Mismatch("f returned something else")
    assert not isinstance(plain.value, Diagnosed) and not hasattr(plain.value, "misconception")


def test_a_long_check_message_is_cut_not_the_hint():
    hint = "A hint that must be read in full. " * 10
    long = Misconception("f.long", lambda x: 2 * x, hint.strip())
    with pytest.raises(Diagnosed) as raised:
        with Catalogue([long]).diagnosing("f", (1.0,), 2.0, *TOL):
            raise Mismatch("f(1.0) returned " + "9" * 700)
    text = str(raised.value)
    assert len(text) <= FEEDBACK_CHARS and text.endswith(hint.strip()) and "..." in text


def test_catalogue_files_are_checked(tmp_path):
    assert len(load_catalogue(tmp_path)) == 0  # no misconceptions.py: no known mistakes
    bad = {
        "CATALOGUE = None": "CATALOGUE",
        "CATALOGUE = [1]": "CATALOGUE[0]",
        "CATALOGUE = [M('no_function', F, 'A hint.')]": "CATALOGUE[0]",
        "CATALOGUE = [M('f.a', F, 'A hint.'), M('f.a', F, 'A hint.')]": "CATALOGUE[1]",
        "CATALOGUE = [M('f.a', F, 'no capital, no full stop')]": "CATALOGUE[0]",
        "raise ValueError('oops')": "CATALOGUE",
    }
    for number, (body, key) in enumerate(bad.items()):
        folder = tmp_path / f"suite{number}"
        folder.mkdir()
        (folder / "misconceptions.py").write_text(
            f"from autograder.misconceptions import Misconception as M\nF = abs\n{body}\n")
        with pytest.raises(ConfigError) as raised:
            load_catalogue(folder)
        assert raised.value.key == key and "misconceptions.py" in raised.value.path


def test_count_by_part_counts_each_submission_once():
    def submission(student, *labels):
        tests = [results.TestResult(f"test_{i}", "failed", 0.0, 1.0, misconception=label) for i, label in enumerate(labels)]
        part = results.PartResult("error_term", 0.0, 2.0, tests)
        return results.SubmissionResult(student, "x.ipynb", "graded", 0.0, 2.0, parts=[part])

    report = results.GradeReport("a", [submission("ann", "error_term.missing_derivative", "error_term.missing_derivative", None),
                               submission("bob", "error_term.missing_derivative", "error_term.sign_flipped"),
                               submission("cem", None)])
    assert count_by_part(report) == {"error_term": Counter({"error_term.missing_derivative": 2,
                                                            "error_term.sign_flipped": 1})}
