"""Points: markers, the shared rest of a part, parts that do not add up, scores from outcomes."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.errors import ConfigError
from autograder.suite.plugin import Outcome
from autograder.suite.scoring import score_parts, test_points as points_of, zero_parts
from toycourse import make_course


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course")).assignment()


def with_parts(assignment, **parts):
    return dataclasses.replace(assignment, parts={k: float(v) for k, v in parts.items()})


def outcome(name, part, points=None, result="passed", feedback=""):
    return Outcome(nodeid=f"test_{part}.py::{name}", name=name, part=part, points=points, visible=False,
                   description=f"{name} described", outcome=result, feedback=feedback)


def config_error(assignment, outcomes) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        points_of(assignment, outcomes)
    assert caught.value.path == str(assignment.suite_dir / "assignment.toml")
    return caught.value


def test_marker_points_and_the_shared_rest(toy):
    assignment = with_parts(toy, square=6, cube=2)
    outcomes = [outcome("a", "square", points=1), outcome("b", "square"), outcome("c", "square"),
                outcome("d", "cube")]
    assert points_of(assignment, outcomes) == {
        "test_square.py::a": 1.0, "test_square.py::b": 2.5, "test_square.py::c": 2.5, "test_cube.py::d": 2.0}


def test_markers_that_add_up_exactly(toy):
    assignment = with_parts(toy, square=3)
    outcomes = [outcome("a", "square", points=1), outcome("b", "square", points=2)]
    assert points_of(assignment, outcomes) == {"test_square.py::a": 1.0, "test_square.py::b": 2.0}


def test_markers_may_leave_nothing_for_the_others(toy):
    assignment = with_parts(toy, square=3)
    outcomes = [outcome("a", "square", points=3), outcome("b", "square")]
    assert points_of(assignment, outcomes)["test_square.py::b"] == 0.0


def test_markers_exceeding_the_part(toy):
    error = config_error(with_parts(toy, square=3),
                         [outcome("a", "square", points=2), outcome("b", "square", points=2)])
    assert error.key == "parts.square"
    assert "worth 3 points but its tests' points markers add up to 4" in error.problem


def test_markers_short_of_the_part_with_no_test_to_share_the_rest(toy):
    error = config_error(with_parts(toy, square=3), [outcome("a", "square", points=2)])
    assert error.key == "parts.square" and "add up to 2" in error.problem


def test_a_part_without_a_test(toy):
    error = config_error(with_parts(toy, square=3, cube=1), [outcome("a", "square")])
    assert error.key == "parts.cube"
    assert "no hidden test belongs to this part" in error.problem and "test_cube.py" in error.problem


def test_a_test_without_a_part(toy):
    error = config_error(with_parts(toy, square=3), [outcome("a", "square"), outcome("z", "cube")])
    assert error.key == "parts" and "belongs to no part" in error.problem and "known parts: square" in error.problem


def test_scores_count_only_passed_tests(toy):
    assignment = with_parts(toy, square=3, cube=2)
    outcomes = [outcome("a", "square", points=1, result="failed", feedback="square(3.0) returned 8.0, expected 9.0"),
                outcome("b", "square", result="passed"),
                outcome("c", "cube", result="timeout", feedback="too slow"),
                outcome("d", "cube", result="passed")]
    square, cube = score_parts(assignment, outcomes)
    assert (square.name, square.score, square.max_score) == ("square", 2.0, 3.0)
    assert (cube.name, cube.score, cube.max_score) == ("cube", 1.0, 2.0)
    first = square.tests[0]
    assert (first.name, first.outcome, first.points, first.max_points) == ("a", "failed", 0.0, 1.0)
    assert first.feedback == "square(3.0) returned 8.0, expected 9.0" and first.description == "a described"
    assert [t.outcome for t in cube.tests] == ["timeout", "passed"]


def test_parts_come_in_the_order_of_the_toml(toy):
    assignment = with_parts(toy, second=1, first=1)
    parts = score_parts(assignment, [outcome("a", "first"), outcome("b", "second")])
    assert [p.name for p in parts] == ["second", "first"]


def test_zero_parts_fail_every_test_with_the_reason(toy):
    assignment = with_parts(toy, square=3)
    outcomes = [outcome("a", "square", points=1), outcome("b", "square")]
    (part,) = zero_parts(assignment, outcomes, "the notebook is not valid JSON")
    assert part.score == 0 and part.max_score == 3 and part.feedback == "the notebook is not valid JSON"
    assert [(t.outcome, t.points, t.max_points, t.feedback) for t in part.tests] == [
        ("error", 0.0, 1.0, "the notebook is not valid JSON"), ("error", 0.0, 2.0, "the notebook is not valid JSON")]


def test_a_part_whose_tests_all_passed_scores_its_points_exactly(toy):
    assignment = with_parts(toy, square=0.3, cube=0.7)
    outcomes = [outcome(name, "square") for name in "abc"] + [outcome("d", "cube", points=0.1),
                                                             outcome("e", "cube", points=0.2), outcome("f", "cube", points=0.4)]
    square, cube = score_parts(assignment, outcomes)
    assert sum(t.points for t in cube.tests) != 0.7  # 0.1 + 0.2 + 0.4 is 0.7000000000000001 in floating point
    assert (square.score, cube.score) == (0.3, 0.7)
