"""The batch progress display: plain lines when stderr is not a terminal, a bar with count, rate and ETA on one."""

from __future__ import annotations

import io

from rich.console import Console

from autograder.batch.progress import BatchProgress
from autograder.results import SubmissionResult


def result(student: str, score: float, status: str = "graded", message: str = "") -> SubmissionResult:
    return SubmissionResult(student=student, notebook=f"{student}.ipynb", status=status, score=score,
                            max_score=12.0, message=message, seconds=1.25)


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    with BatchProgress(2, Console(file=out, force_terminal=False, width=200)) as progress:
        progress(result("alice", 12))
        progress(result("bob", 0, "timeout", "the notebook used up its time limit"))
    assert out.getvalue().splitlines() == ["[1/2] alice: 12/12 graded (1.2 s)", "[2/2] bob: 0/12 timeout (1.2 s)"]


def test_a_bar_with_count_rate_and_eta_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    with BatchProgress(3, console) as progress:
        for student in ("alice", "bob"):
            progress(result(student, 12))
        progress(result("carol", 0, "invalid", "carol.ipynb is not a notebook"))
    text = out.getvalue()
    assert "3/3" in text and "/min" in text and "ETA" in text and "elapsed" in text
    assert "[3/3] carol: 0/12 invalid (1.2 s): carol.ipynb is not a notebook" in text
    assert "alice: 12/12" not in text  # a graded submission only moves the bar


def test_a_resumed_batch_counts_only_what_it_still_grades():
    out = io.StringIO()
    with BatchProgress(5, Console(file=out, force_terminal=False, width=200)) as progress:
        progress.plan(to_grade=2, kept=3)
        progress(result("dave", 12))
        progress(result("erin", 12))
    assert out.getvalue().splitlines() == ["resuming: 3 finished result(s) kept from the journal, 2 to grade",
                                           "[1/2] dave: 12/12 graded (1.2 s)", "[2/2] erin: 12/12 graded (1.2 s)"]


def test_the_bar_of_a_resumed_batch_ends_full():
    out = io.StringIO()
    with BatchProgress(4, Console(file=out, force_terminal=True, width=160, color_system=None)) as progress:
        progress.plan(to_grade=1, kept=3)
        progress(result("dave", 12))
    final = out.getvalue().split("\r")[-1]  # the bar as it was left
    assert "resuming: 3 finished result(s) kept" in out.getvalue() and "1/1" in final and "/4" not in final


def test_student_text_is_shown_as_written_never_as_markup_or_control_codes():
    for terminal in (False, True):
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=200, color_system=None)
        with BatchProgress(1, console) as progress:
            progress(result("[/x]\x1b]0;owned\x07", 0, "invalid", "a [/x] notebook [bold]"))
        text = out.getvalue()
        assert "[/x]\\x1b]0;owned\\x07: 0/12 invalid" in text and "\x07" not in text
        assert not terminal or "a [/x] notebook [bold]" in text  # a terminal shows the problems' messages


def test_student_text_cannot_print_a_line_of_its_own():
    out = io.StringIO()
    with BatchProgress(1, Console(file=out, force_terminal=True, width=200, color_system=None)) as progress:
        progress(result("mallory", 0, "crashed", "gone\n[7/30] bob: 0/12 crashed (1.2 s)"))
    assert "gone\\n[7/30] bob" in out.getvalue() and "\n[7/30] bob" not in out.getvalue()
