"""What a call's reply means for the student: the error raised, with the message written for them."""

from __future__ import annotations

import pytest

from autograder.errors import NotPlainData, StudentError
from autograder.running.outcomes import Execution, decode_value, missing_message, student_error
from autograder.running.cell_outputs import CellOutcome


def test_a_stub_says_it_is_not_written_yet_and_an_error_names_the_students_line():
    stub = student_error("square(2)", {"type": "NotImplementedError", "message": "", "where": "cell 3, line 2"})
    assert str(stub) == "square(2) raised NotImplementedError: this function is not written yet (at cell 3, line 2)"
    error = student_error("square(2)", {"type": "ZeroDivisionError", "message": "division by zero", "where": ""})
    assert isinstance(error, StudentError) and str(error) == "square(2) raised ZeroDivisionError: division by zero"


def test_a_missing_function_points_at_the_cell_that_stopped_and_a_near_name():
    execution = Execution(cells=[CellOutcome(number=4, status="error", error={"type": "NameError"})])
    text = missing_message("sigmoid_prime", ["Sigmoid_Prime", "other"], execution)
    assert text == ("your notebook does not define `sigmoid_prime` (cell 4 stopped with NameError; fix it and run "
                    "all cells again); did you mean `Sigmoid_Prime`? The name must be exactly `sigmoid_prime`")


def test_a_value_the_grader_cannot_read_is_not_plain_data():
    assert decode_value([1, 2.5], "f()") == [1, 2.5]
    with pytest.raises(NotPlainData, match=r"f\(\) returned something the grader cannot read"):
        decode_value({"__object__": "evil"}, "f()")
