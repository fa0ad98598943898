"""Feedback a student can act on: one self-contained HTML page per student and notebook.

The layout is nbgrader's, `<folder>/<student>/<assignment>/<notebook stem>.html`. A page
holds the total, every part with pass/fail, for each failed test what was checked, the
call with the value that came back and the expected one, the student's own line where
their code raised, and plots of what the tests recorded (the training loss against the
reference's). It is built from the `SubmissionResult` only: hidden test code and
reference solutions never reach it.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
from pathlib import Path

from ..course.config import Assignment
from ..errors import StorageError
from ..names import folder_name
from ..results import GradeReport, PartResult, SubmissionResult, TestResult
from . import plots

# checks.Checker.close
MISMATCH = re.compile(r"^(?P<call>.+?) returned (?P<got>.+), expected (?P<want>.+)$")
# StudentError's "(at ...)"
AT_LINE = re.compile(r"\(at (?P<where>(?:cell \d+, line \d+|provided code).*)\)")
OUTCOME_HINTS = {
    "timeout": (
        "Your code did not finish in time: look for a loop that never ends or far "
        "more work than needed."
    ),
    "error": "The test could not run as planned; the message above says why.",
}
STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #212529; max-width: 56rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } .who { color: #495057; margin-top: .25rem; }
.total { font-size: 1.6rem; font-weight: 600; margin: 1rem 0; padding: .75rem 1rem;
         background: #f1f3f5; border-radius: .5rem; }
.part { border: 1px solid #dee2e6; border-radius: .5rem; padding: .5rem 1rem;
        margin: 1rem 0; }
.part h3 { margin: .25rem 0; } .pass { color: #2b8a3e; } .fail { color: #c92a2a; }
.test { margin: .5rem 0 .75rem 0; } .test .what { font-weight: 600; }
pre, code { font: 14px/1.4 ui-monospace, monospace; background: #f8f9fa;
            border-radius: .25rem; }
pre { padding: .5rem; white-space: pre-wrap; margin: .25rem 0; }
table.values td { padding: .1rem .75rem .1rem 0; vertical-align: top; }
.hint { background: #fff9db; padding: .25rem .5rem; border-left: 4px solid #fab005;
        margin: .25rem 0; }
.notes li, .errors li { margin: .25rem 0; } img { max-width: 100%; }
"""


def feedback_path(folder: Path, assignment: Assignment, student: str) -> Path:
    """nbgrader's layout: <folder>/<student>/<assignment>/<notebook stem>.html, the
    student's folder named by `names.folder_name` (one safe component, never the same
    for two ids)."""
    return (
        Path(folder)
        / folder_name(student)
        / assignment.name
        / (Path(assignment.notebook).stem + ".html")
    )


def write_feedback(
    assignment: Assignment, result: SubmissionResult, folder: Path
) -> Path:
    """Write one student's page (replacing an older one) and return its path."""
    return write_page(
        assignment, result, feedback_path(folder, assignment, result.student)
    )


def write_page(assignment: Assignment, result: SubmissionResult, path: Path) -> Path:
    """Write the student's page at `path`, whole or not at all: StorageError when the
    disk refuses it (full, over quota, read-only), with no temporary file left and the
    page written before, if any, as it was."""
    page = render(assignment, result)
    temporary = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        before = (
            "the page written before is left as it was"
            if path.is_file()
            else "no page was written"
        )
        raise StorageError(
            path, error, f"{before}; free some space and grade again"
        ) from None
    return path


def write_all(assignment: Assignment, report: GradeReport, folder: Path) -> list[Path]:
    return [write_feedback(assignment, result, folder) for result in report.submissions]


def render(assignment: Assignment, result: SubmissionResult) -> str:
    e = html.escape
    title = f"{assignment.name}: feedback for {result.student}"
    body = [
        f"<h1>{e(assignment.name)}</h1>",
        f'<p class="who">Feedback for <b>{e(result.student)}</b> on '
        f"{e(assignment.notebook)}</p>",
        f'<div class="total">Total: {result.score:g} / {result.max_score:g}</div>',
    ]
    # a graded notebook's message only counts the cell errors listed below
    if result.status != "graded":
        body.append(f"<p><b>{e(result.status)}</b>: {e(result.message)}</p>")
    body += _notes(result) + _cell_errors(result)
    body.append("<h2>Parts</h2>")
    body += [_part(part) for part in result.parts]
    body += _plots(result)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta '
        f'charset="utf-8"><title>{e(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _notes(result: SubmissionResult) -> list[str]:
    if not result.notes:
        return []
    items = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
    return ["<h2>What the grader changed</h2>", f'<ul class="notes">{items}</ul>']


def _cell_errors(result: SubmissionResult) -> list[str]:
    if not result.cell_errors:
        return []
    items = []
    for error in result.cell_errors:
        kind = error.get("type") or error.get("status", "error")
        message = f": {error['message']}" if error.get("message") else ""
        where = (
            f"<pre>{html.escape(error['where'])}</pre>" if error.get("where") else ""
        )
        items.append(
            f"<li>Cell {html.escape(str(error.get('cell', '?')))} raised "
            f"<b>{html.escape(str(kind))}</b>{html.escape(message)}{where}</li>"
        )
    return [
        "<h2>Where your notebook raised errors</h2>",
        "<p>Running your notebook from the top (Restart &amp; Run All) stopped "
        "here:</p>",
        f'<ul class="errors">{"".join(items)}</ul>',
    ]


def _part(part: PartResult) -> str:
    passed = part.score >= part.max_score - 1e-9
    mark = (
        '<span class="pass">&#10004; passed</span>'
        if passed
        else '<span class="fail">&#10008; not yet</span>'
    )
    tests = "".join(_test(test) for test in part.tests)
    note = (
        f"<p>{html.escape(part.feedback)}</p>"
        if part.feedback and not part.tests
        else ""
    )
    return (
        f'<section class="part"><h3>{html.escape(part.name)}: {part.score:g} / '
        f"{part.max_score:g} {mark}</h3>{note}{tests}</section>"
    )


def _test(test: TestResult) -> str:
    e = html.escape
    what = test.description or test.name.removeprefix("test_").replace("_", " ")
    # its feedback, if any, is a note (which of your functions to fix)
    if test.outcome == "passed":
        note = (
            f'<div class="hint">Note: {e(test.feedback.strip())}</div>'
            if test.feedback.strip()
            else ""
        )
        return (
            f'<div class="test"><span class="pass">&#10004;</span> {e(what)} '
            f"({test.points:g} / {test.max_points:g}){note}</div>"
        )
    lines = [
        '<div class="test"><span class="fail">&#10008;</span> <span '
        f'class="what">{e(what)}</span> '
        f"(0 / {test.max_points:g})"
    ]
    feedback = (test.feedback or "").strip()
    where = AT_LINE.search(feedback)
    message, _, rest = AT_LINE.sub("", feedback).partition("\n")
    lines.append(_detail(message.rstrip()))
    if where:
        lines.append(
            f"<div>Your code raised the error here:</div><pre>{e(where['where'])}</pre>"
        )
    # a recognised mistake: its hint follows the check's message
    if test.misconception and rest.strip():
        lines.append(f'<div class="hint">Hint: {e(rest.strip())}</div>')
    else:
        lines.append(f"<pre>{e(rest.strip())}</pre>" if rest.strip() else "")
        if test.outcome in OUTCOME_HINTS:
            lines.append(
                f'<div class="hint">Hint: {e(OUTCOME_HINTS[test.outcome])}</div>'
            )
    return "".join(lines) + "</div>"


def _detail(message: str) -> str:
    """The check's first line; `call returned got, expected want` as a small table."""
    e = html.escape
    match = MISMATCH.match(message)
    if not match:
        return f"<pre>{e(message)}</pre>" if message else ""
    return (
        '<table class="values">'
        f"<tr><td>Call</td><td><code>{e(match['call'])}</code></td></tr>"
        f"<tr><td>Your result</td><td><code>{e(match['got'])}</code></td></tr>"
        f"<tr><td>Expected</td><td><code>{e(match['want'])}</code></td></tr></table>"
    )


def _plots(result: SubmissionResult) -> list[str]:
    sections = []
    for name, artifact in result.artifacts.items():
        uri = plots.curves(name, artifact)
        if uri:
            label = str(artifact.get("title", name.replace("_", " ")))
            sections.append(
                f"<h2>{html.escape(label.capitalize())}</h2>"
                f'<img alt="{html.escape(label)}: your values against the expected '
                f'ones" src="{uri}">'
            )
    return sections
