"""Write a `GradeReport` where people and other tools read it: JSON (the contract) and
CSV (for an LMS)."""

from __future__ import annotations

import csv
import json
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ..results import GradeReport


def write_json(report: GradeReport, path: Path) -> None:
    """`report.to_json()`, written one submission at a time: a class of thousands never
    has its whole JSON in memory, as dicts or as text (at N = 1,000 that was 55 MB above
    the results themselves)."""
    _atomic_write(Path(path), lambda handle: _stream_json(report, handle))


def _stream_json(report: GradeReport, handle: TextIO) -> None:
    if not report.submissions:
        handle.write(report.to_json())
        return
    # '{\n  "assignment": ...\n}'
    head = json.dumps({"assignment": report.assignment}, indent=2)
    handle.write(head[:-2] + ',\n  "submissions": [\n')
    last = len(report.submissions) - 1
    for number, submission in enumerate(report.submissions):
        # JSON text has no raw newline inside a string: every line of it can be indented
        # as a whole
        handle.write(
            textwrap.indent(json.dumps(submission.to_dict(), indent=2), "    ")
        )
        handle.write(",\n" if number < last else "\n")
    handle.write("  ]\n}\n")


# a spreadsheet would run such a cell (OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(report: GradeReport) -> list[list[str]]:
    parts = [p.name for p in report.submissions[0].parts] if report.submissions else []
    rows = [["student", *parts, "total", "max_score", "status", "message"]]
    for s in report.submissions:
        scores = {p.name: p.score for p in s.parts}
        rows.append(
            [
                cell(s.student),
                *(f"{scores.get(p, 0.0):g}" for p in parts),
                f"{s.score:g}",
                f"{s.max_score:g}",
                s.status,
                cell(s.message),
            ]
        )
    return rows


def cell(text: str) -> str:
    """Text for a spreadsheet cell: one that starts like a formula is kept as text (a
    leading ')."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(report: GradeReport, path: Path) -> None:
    def write(handle) -> None:
        csv.writer(handle).writerows(csv_rows(report))

    _atomic_write(Path(path), write, newline="")


def _atomic_write(
    path: Path, write: Callable[[TextIO], object], newline: str | None = None
) -> None:
    """Write through a temporary file beside `path`, then replace it; a failure leaves
    no temporary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline=newline) as handle:
            write(handle)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
