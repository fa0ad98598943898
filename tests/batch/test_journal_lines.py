"""A journal's lines read back: a result only when it is exactly what the journal wrote,
with every field of its declared type; any other line is None."""

from __future__ import annotations

import json

import pytest

from autograder.batch.journal_lines import json_object, result_entry
from autograder.results import PartResult, SubmissionResult
from autograder.results import TestResult as Outcome


def graded() -> SubmissionResult:
    tests = [Outcome("test_number", "passed", 1.0, 1.0, misconception="s.t"),
             Outcome("test_array", "failed", 0.0, 2.0, "wrong", "an array")]
    return SubmissionResult(student="a", notebook="a.ipynb", status="graded", score=1.0, max_score=3.0,
                            parts=[PartResult("square", 1.0, 3.0, tests)], notes=["restored cell provided"])


def line(result: dict, **fields) -> bytes:
    return json.dumps({"key": "a\0/a.ipynb", "sha256": "ab", "result": result, **fields}).encode()


def test_a_result_line_is_read_back_as_written():
    key, (sha256, result) = result_entry(line(graded().to_dict()))
    assert (key, sha256) == ("a\0/a.ipynb", "ab") and result.to_dict() == graded().to_dict()


@pytest.mark.parametrize("change", [{"score": "full marks"}, {"status": "excellent"}, {"notes": [3]},
                                    {"parts": [{"name": "p", "score": 1.0, "max_score": 1.0, "feedback": "",
                                                "tests": [{"name": "t", "outcome": "maybe", "points": 1.0,
                                                           "max_points": 1.0, "feedback": "",
                                                           "description": ""}]}]}])
def test_a_result_with_a_field_of_another_type_or_value_is_none(change):
    assert result_entry(line(graded().to_dict() | change)) is None


@pytest.mark.parametrize("text", [b"5", b'["a", "b"]', b'{"key": "a", "result": 5}', b'{"key": 7, "result": {}}',
                                  b'{"key": "a", "result": {"student": "a"}}', b'{"note": "added by hand"}',
                                  b'{"key": "a", "res'])
def test_lines_that_are_not_results_are_none(text):
    assert result_entry(text) is None


def test_a_line_is_a_json_object_or_none():
    assert json_object(b'{"journal": 2}') == {"journal": 2}
    assert json_object(b"[1]") is None and json_object(b'{"journ') is None
