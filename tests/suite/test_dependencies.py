"""Which functions stand in while one is tested, read from the reference's code or declared; the circles
and oracles refused when the suite is loaded; the order the parts run in."""

from __future__ import annotations

import textwrap
import types
from pathlib import Path

import pytest

from autograder.course.config import Assignment
from autograder.errors import ConfigError
from autograder.suite.dependencies import part_order, reference_calls, stand_ins
from autograder.suite.runner import Suite
from autograder.verbs.validate import validate
from toycourse import REFERENCE, make_course

GRADED = ("sigmoid", "sigmoid_prime", "error_term", "update_weights")
LESSON = '''
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_prime(x):
    return (lambda s: s * (1 - s))(sigmoid(x))  # through nested code


def error_term(y, output, h):
    return (y - output) * _slope(h)


def _slope(h):  # the reference's own helper: its calls are error_term's
    return sigmoid_prime(h)


def update_weights(weights, x, delta, learnrate):
    return weights + learnrate * delta * x


def train(features):  # not graded: calls nothing that stands in
    return [update_weights(w, x, error_term(1, sigmoid(x), x), 0.5) for w, x in features]
'''


def module(source: str) -> types.ModuleType:
    reference = types.ModuleType("reference")
    exec(textwrap.dedent(source), reference.__dict__)
    return reference


def assignment(parts=("sigmoid", "sigmoid_prime", "error_term", "update_weights", "training"), uses=None,
               isolated=None) -> Assignment:
    return Assignment(name="lesson", root=Path("/course"), notebook="lesson.ipynb", reference="lesson",
                      parts={part: 1.0 for part in parts}, graded=GRADED, uses=uses,
                      isolated=frozenset(isolated if isolated is not None else [p for p in parts if p in GRADED]))


def test_what_each_function_calls_is_read_from_the_reference():
    assert reference_calls(module(LESSON), GRADED) == {
        "sigmoid": frozenset(), "sigmoid_prime": {"sigmoid"}, "error_term": {"sigmoid_prime"}, "update_weights": set()}


def test_only_what_a_function_depends_on_stands_in():
    assert stand_ins(assignment(), module(LESSON)) == {
        "sigmoid": (), "sigmoid_prime": ("sigmoid",), "error_term": ("sigmoid", "sigmoid_prime"), "update_weights": ()}


def test_declared_uses_replace_the_reference_calls():
    declared = assignment(uses={"error_term": ("sigmoid_prime",), "update_weights": ("sigmoid",)})
    assert stand_ins(declared, module(LESSON)) == {
        "sigmoid": (), "sigmoid_prime": (), "error_term": ("sigmoid_prime",), "update_weights": ("sigmoid",)}


def test_a_circle_in_the_reference_is_refused():
    circle = LESSON.replace("return 1 / (1 + np.exp(-x))", "return 0.5 + (0.25 - sigmoid_prime(x)) ** 0.5")
    with pytest.raises(ConfigError) as raised:
        stand_ins(assignment(), module(circle))
    error = raised.value
    assert (error.path, error.key) == ("/course/assignments/lesson/assignment.toml", "functions.uses")
    assert "sigmoid -> sigmoid_prime -> sigmoid" in error.problem and "/course/solutions/lesson.py" in error.problem
    assert "declare `uses` under [functions]" in error.problem


def test_a_declared_circle_is_refused():
    with pytest.raises(ConfigError) as raised:
        stand_ins(assignment(uses={"sigmoid": ("update_weights",), "update_weights": ("sigmoid",)}), module(LESSON))
    assert raised.value.key == "functions.uses.sigmoid"
    assert "sigmoid -> update_weights -> sigmoid" in raised.value.problem and "Remove one" in raised.value.problem


def test_a_stand_in_whose_reference_computes_the_function_under_test_is_refused():
    """sigmoid_prime(x) = error_term(1, 0, x) would be the reference's slope were error_term a stand-in."""
    with pytest.raises(ConfigError) as raised:
        stand_ins(assignment(uses={"sigmoid_prime": ("error_term",)}), module(LESSON))
    assert raised.value.key == "functions.uses.sigmoid_prime"
    assert "`error_term` cannot stand in while `sigmoid_prime` is tested" in raised.value.problem
    assert "error_term -> sigmoid_prime" in raised.value.problem  # through the reference's own _slope
    with pytest.raises(ConfigError, match="`sigmoid_prime` cannot stand in while `sigmoid` is tested"):
        stand_ins(assignment(uses={"sigmoid": ("update_weights",), "update_weights": ("sigmoid_prime",)}),
                  module(LESSON))  # one it depends on through another


def test_parts_that_do_not_isolate_run_first_then_each_function_before_those_it_stands_in_for():
    toml_order = ("error_term", "sigmoid_prime", "training", "update_weights", "sigmoid")
    standing_in = stand_ins(assignment(toml_order), module(LESSON))
    assert part_order(assignment(toml_order), standing_in) == \
        ["training", "update_weights", "sigmoid", "sigmoid_prime", "error_term"]  # ties in assignment.toml's order


def test_an_isolating_part_of_no_function_runs_after_every_functions_part():
    parts = ("checks", "error_term", "training", "sigmoid", "sigmoid_prime")
    lesson = assignment(parts, isolated=["checks", "error_term", "sigmoid", "sigmoid_prime"])
    assert part_order(lesson, stand_ins(lesson, module(LESSON))) == \
        ["training", "sigmoid", "sigmoid_prime", "error_term", "checks"]


# -- a real course: refused when loaded, the order of a real pytest run ---------------------------

TWO = '''[functions]
graded = ["square", "cube"]
'''
CUBE = "\n\ndef cube(x):\n    return square(x) * x\n"
SUITES = {f"test_{part}.py": f"def test_{part}():\n    pass\n" for part in ("cube", "training", "square")}
PARTS = '[assignment]\nnotebook = "toy.ipynb"\nreference = "toy"\n\n[parts]\ncube = 1\ntraining = 1\nsquare = 1\n\n'


def test_the_suite_runs_the_training_then_each_function_before_those_that_use_it(tmp_path):
    course = make_course(tmp_path, toml=PARTS + TWO, suite=SUITES, reference=REFERENCE + CUBE)
    suite = Suite(course.assignment(), course.master_node())
    assert suite.stand_ins == {"square": (), "cube": ("square",)}
    assert [outcome.part for outcome in suite.collect()] == ["training", "square", "cube"]
    assert list(course.assignment().parts) == ["cube", "training", "square"]  # the report's order stays


def test_an_assignment_whose_stand_in_could_answer_for_the_function_under_test_fails_when_loaded(tmp_path):
    course = make_course(tmp_path, toml=PARTS + TWO + 'uses = { square = ["cube"] }\n', suite=SUITES,
                         reference=REFERENCE + CUBE)
    with pytest.raises(ConfigError, match=r"\[functions.uses.square\] `cube` cannot stand in while `square`"):
        Suite(course.assignment(), course.master_node())
    with pytest.raises(ConfigError, match="cube -> square"):
        validate(course.assignment())  # before any notebook is graded
