"""The score table printed after a batch."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ..results import GradeReport
from .terminal import text


def score_table(report: GradeReport) -> Table:
    parts = [p.name for p in report.submissions[0].parts] if report.submissions else []
    table = Table(
        title=text(f"{report.assignment}: {len(report.submissions)} submission(s)")
    )
    table.add_column("student")
    for part in parts:
        table.add_column(text(part), justify="right")
    table.add_column("total", justify="right")
    table.add_column("status")
    for s in report.submissions:
        scores = {p.name: p for p in s.parts}
        cells = [
            f"{scores[p].score:g}/{scores[p].max_score:g}" if p in scores else "-"
            for p in parts
        ]
        status = s.status if not s.message else f"{s.status}: {s.message}"
        table.add_row(
            text(s.student), *cells, f"{s.score:g}/{s.max_score:g}", text(status[:70])
        )
    return table


def print_table(report: GradeReport, console: Console | None = None) -> None:
    console = console or Console()
    # a log or a pipe: wide enough that the table is not squeezed
    if not console.is_terminal:
        console.width = max(console.width, 140)
    console.print(score_table(report))
