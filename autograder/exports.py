"""Write a `GradeReport` where people and other tools read it: JSON (the contract) and CSV (for an LMS)."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .results import GradeReport


def write_json(report: GradeReport, path: Path) -> None:
    _atomic_write(Path(path), report.to_json())


def csv_rows(report: GradeReport) -> list[list[str]]:
    parts = [p.name for p in report.submissions[0].parts] if report.submissions else []
    rows = [["student", *parts, "total", "max_score", "status", "message"]]
    for s in report.submissions:
        scores = {p.name: p.score for p in s.parts}
        rows.append([s.student, *(f"{scores.get(p, 0.0):g}" for p in parts), f"{s.score:g}",
                     f"{s.max_score:g}", s.status, s.message])
    return rows


def write_csv(report: GradeReport, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="") as handle:
        csv.writer(handle).writerows(csv_rows(report))
    os.replace(temporary, path)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
