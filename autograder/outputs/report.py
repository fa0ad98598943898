"""The class report: one self-contained HTML page about a graded batch, read from the
results JSON.

Score histogram, pass rate per part, the tests that fail most and their most common
messages, the known mistakes recognised (misconceptions) and the slowest submissions;
plots are embedded PNGs.
"""

from __future__ import annotations

import contextlib
import html
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..course.config import Assignment
from ..errors import StorageError, UsageError
from ..results import GradeReport
from . import plots

TOP = 10  # rows in the failing-tests and slowest tables
STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; color: #212529; max-width: 64rem;
       margin: 2rem auto; padding: 0 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem 0; }
th, td { text-align: left; padding: .25rem .75rem; border-bottom: 1px solid #dee2e6;
         vertical-align: top; }
td.n { text-align: right; }
code { font: 14px ui-monospace, monospace; white-space: pre-wrap; }
img { max-width: 100%; }
"""


@dataclass
class Failing:
    """One hidden test across the batch: how often it failed and with which messages."""

    part: str
    test: str
    description: str
    failures: int = 0
    messages: Counter = field(default_factory=Counter)


@dataclass
class ClassSummary:
    assignment: str
    max_score: float
    scores: list[float]
    statuses: Counter
    pass_rates: dict[str, float]  # part -> share of submissions with full marks on it
    mean_part_scores: dict[str, float]
    failing: list[Failing]
    slowest: list[tuple[str, float, str]]  # (student, seconds, status)
    # (part, known mistake id) -> submissions that made it
    mistakes: Counter = field(default_factory=Counter)


def summarize(assignment: Assignment, report: GradeReport) -> ClassSummary:
    if report.assignment != assignment.name:
        raise UsageError(
            f"the results are for '{report.assignment}', not '{assignment.name}'; "
            f"run `autograder report {report.assignment} ...`"
        )
    submissions = report.submissions
    count = max(len(submissions), 1)
    pass_rates, means = {}, {}
    for name, points in assignment.parts.items():
        scores = [
            s.part(name).score
            for s in submissions
            if any(p.name == name for p in s.parts)
        ]
        pass_rates[name] = sum(score >= points - 1e-9 for score in scores) / count
        means[name] = sum(scores) / count
    failing: dict[tuple[str, str], Failing] = {}
    mistakes: Counter = Counter()
    for s in submissions:
        mistakes.update(
            {
                (p.name, t.misconception)
                for p in s.parts
                for t in p.tests
                if t.misconception
            }
        )
        for part in s.parts:
            for test in part.tests:
                if test.outcome != "passed":
                    entry = failing.setdefault(
                        (part.name, test.name),
                        Failing(part.name, test.name, test.description),
                    )
                    entry.failures += 1
                    entry.messages[
                        test.feedback.splitlines()[0] if test.feedback else test.outcome
                    ] += 1
    slowest = sorted(
        ((s.student, s.seconds, s.status) for s in submissions), key=lambda row: -row[1]
    )[:TOP]
    return ClassSummary(
        assignment=assignment.name,
        max_score=assignment.max_score,
        scores=[s.score for s in submissions],
        statuses=Counter(s.status for s in submissions),
        pass_rates=pass_rates,
        mean_part_scores=means,
        failing=sorted(failing.values(), key=lambda f: (-f.failures, f.part, f.test))[
            :TOP
        ],
        slowest=slowest,
        mistakes=mistakes,
    )


def render(summary: ClassSummary) -> str:
    e = html.escape
    n = len(summary.scores)
    body = [
        f"<h1>{e(summary.assignment)}: class report</h1>",
        f"<p>{n} submission(s); "
        + ", ".join(
            f"{count} {e(status)}" for status, count in sorted(summary.statuses.items())
        )
        + "</p>",
    ]
    if summary.scores:
        body.append(
            f"<p>Mean score {statistics.mean(summary.scores):.2f}, median "
            f"{statistics.median(summary.scores):g} of {summary.max_score:g}.</p>"
        )
    body += [
        "<h2>Scores</h2>",
        _img(
            plots.histogram(
                summary.scores,
                summary.max_score,
                "Total scores",
                f"score (of {summary.max_score:g})",
            ),
            "score histogram",
        ),
        "<h2>Pass rate per part</h2>",
        _img(
            plots.bars(
                list(summary.pass_rates),
                list(summary.pass_rates.values()),
                "Submissions with full marks per part",
                "share of submissions",
            ),
            "pass rate per part",
        ),
        _table(
            ["part", "full marks", "mean score"],
            [
                [e(part), f"{rate:.0%}", f"{summary.mean_part_scores[part]:.2f}"]
                for part, rate in summary.pass_rates.items()
            ],
        ),
        "<h2>Most common failing tests</h2>",
    ]
    body.append(
        _table(
            ["part", "test", "failed", "most common messages"],
            [
                [e(f.part), e(f.description or f.test), str(f.failures), _messages(f)]
                for f in summary.failing
            ],
        )
        if summary.failing
        else "<p>Every test passed in every submission.</p>"
    )
    # per part, in the parts' order, so instructors see what to re-teach where
    if summary.mistakes:
        order = list(summary.pass_rates)
        rows = sorted(
            summary.mistakes.items(),
            key=lambda item: (_index(order, item[0][0]), -item[1], item[0][1]),
        )
        body += [
            "<h2>Known mistakes recognised, per part</h2>",
            _table(
                ["part", "mistake", "submissions"],
                [[e(part), e(m), str(n)] for (part, m), n in rows],
            ),
        ]
    body += [
        "<h2>Slowest submissions</h2>",
        _table(
            ["student", "seconds", "status"],
            [[e(s), f"{sec:.1f}", e(st)] for s, sec, st in summary.slowest],
        ),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta '
        f'charset="utf-8"><title>{e(summary.assignment)}: '
        f"class report</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _index(order: list[str], part: str) -> int:
    return order.index(part) if part in order else len(order)


def _messages(failing: Failing) -> str:
    return "<br>".join(
        f"{count}&times; <code>{html.escape(text)}</code>"
        for text, count in failing.messages.most_common(3)
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if _numeric(c) else f"<td>{c}</td>" for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).rstrip("%").isdigit()


def _img(uri: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{uri}">'


def write_report(assignment: Assignment, results_json: Path, output: Path) -> Path:
    """Read the batch's results JSON and write the class report HTML."""
    if not Path(results_json).is_file():
        raise UsageError(
            f"no results file {results_json}; write one with `autograder grade "
            f"{assignment.name} PATH... --json {results_json}`"
        )
    try:
        report = GradeReport.load(results_json)
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(
            f"{results_json} is not a results file of `autograder grade --json` "
            f"({error})"
        ) from None
    output = Path(output)
    page = render(summarize(assignment, report))
    temporary = output.with_name(output.name + ".tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, output)
    # a full disk: no temporary file left, and the report before (if any) as it was
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise StorageError(
            output, error, "no report was written: free some space, or pass another -o"
        ) from None
    return output
