"""The notebook as it ran in the worker, for nbgrader's autograded/ folder, where the
formgrader and `nbgrader generate_feedback` read it: the submission's cells, numbered
and restored as they were graded (`submission.numbered_cells`), each code cell with the
outputs the worker produced for it.

It is built from the graded bytes, the master and the outputs the grader validated
(`worker_process`), nothing else. The submission's own outputs, its cell metadata other
than nbgrader's (which is the master's) and its attachments are not kept, and what the
student wrote in Markdown or raw cells is shown as text (a fenced block), never
rendered: no tag, link or image of theirs reaches the browser of the instructor who
opens it (the formgrader renders it in the Jupyter server's origin).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import nbformat
from nbformat.v4 import new_notebook

from ..running.notebook_file import notebook_from_bytes
from ..running.submission import grade_id, nbgrader_metadata, numbered_cells

BACKTICKS = re.compile(r"`+")
KEPT_METADATA = ("kernelspec", "language_info")  # of the master's notebook metadata


def executed_notebook(
    raw: bytes, master: nbformat.NotebookNode, outputs: dict[str, list[dict]] | None
) -> nbformat.NotebookNode:
    """`outputs`: cell number (as text) -> nbformat outputs, for each cell that ran;
    None when not collected."""
    numbered, _ = numbered_cells(notebook_from_bytes(raw, "the submission"), master)
    from_master = {id(cell) for cell in master.cells}
    masters = {grade_id(cell): cell for cell in master.cells if grade_id(cell)}
    outputs = outputs or {}
    cells, placed, count = [], set(), 0
    for index, (number, cell) in enumerate(numbered, start=1):
        gid = grade_id(cell)
        metadata = {}
        # nbgrader's metadata is the master's, once per grade_id
        if gid in masters and gid not in placed:
            placed.add(gid)
            metadata = {"nbgrader": copy.deepcopy(nbgrader_metadata(masters[gid]))}
        if cell.cell_type == "code":
            made = _cell("code", cell.source, metadata)
            ran = outputs.get(str(number))
            if ran is not None:
                count += 1
                made.execution_count = count
                made.outputs = [_counted(output, count) for output in ran]
        # the master's own Markdown and raw cells, as they are
        elif id(cell) in from_master:
            made = _cell(cell.cell_type, cell.source, metadata)
        else:
            made = _cell("markdown", as_text(cell.source), metadata)
        made.id = f"cell-{index}"
        cells.append(made)
    kept = {
        key: copy.deepcopy(master.metadata[key])
        for key in KEPT_METADATA
        if key in master.metadata
    }
    return new_notebook(cells=cells, metadata=kept)


def as_text(source: str) -> str:
    """Markdown that shows `source` as it was written: a fenced block longer than any
    run of backticks in it."""
    fence = "`" * max(
        3, 1 + max((len(run) for run in BACKTICKS.findall(source)), default=0)
    )
    return f"{fence}text\n{source}\n{fence}"


def _cell(kind: str, source: str, metadata: dict) -> nbformat.NotebookNode:
    """A cell as nbformat's new_*_cell makes it, without checking each against the
    schema: nbformat.writes checks the whole notebook once."""
    cell: dict[str, Any] = {"cell_type": kind, "metadata": metadata, "source": source}
    if kind == "code":
        cell |= {"outputs": [], "execution_count": None}
    return nbformat.from_dict(cell)


def _counted(output: dict, count: int) -> nbformat.NotebookNode:
    node = nbformat.from_dict(copy.deepcopy(output))
    if node.get("output_type") == "execute_result":
        node.execution_count = count
    return node
