"""A submitted notebook, validated, with the master's read-only cells put back, as cells
to run.

Students add, delete, reorder and retype cells. Functions are found by name at run time,
so only the cells the master locks (provided code, visible checks) are matched, by
nbgrader `grade_id`, and restored from the master as nbgrader's autograde does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .notebook_file import read_notebook


@dataclass(frozen=True)
class Cell:
    # 1-based position in the submitted notebook, as the student sees it (PUT_BACK + i
    # if put back)
    number: int
    source: str
    grade_id: str = ""
    skip: bool = False

    def to_wire(self) -> dict:
        return {"number": self.number, "source": self.source, "skip": self.skip}


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    cells: list[Cell]
    # what was restored or ignored, for feedback
    notes: list[str] = field(default_factory=list)
    sha256: str = ""  # of the bytes that were graded


def nbgrader_metadata(cell) -> dict:
    """A cell's nbgrader block; one that is not an object counts as none."""
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def grade_id(cell) -> str:
    """A cell's nbgrader grade_id; one that is not text counts as none (it could match
    no master cell)."""
    value = nbgrader_metadata(cell).get("grade_id", "")
    return value if isinstance(value, str) else ""


def locked_cells(master: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The master's cells students may not change, by grade_id."""
    return {
        grade_id(c): c
        for c in master.cells
        if grade_id(c) and nbgrader_metadata(c).get("locked")
    }


def load_submission(
    student: str,
    path: Path,
    master: nbformat.NotebookNode,
    max_mb: float,
    skip: tuple[str, ...] = (),
) -> Submission:
    raw, notebook = read_notebook(path, max_mb)
    numbered, notes = numbered_cells(notebook, master)
    cells = [
        Cell(number=n, source=c.source, grade_id=grade_id(c), skip=grade_id(c) in skip)
        for n, c in numbered
        if c.cell_type == "code"
    ]
    return Submission(
        student=student,
        path=path,
        cells=cells,
        notes=notes,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def numbered_cells(
    notebook: nbformat.NotebookNode, master: nbformat.NotebookNode
) -> tuple[list, list[str]]:
    """The cells that run, as (number, cell) pairs: the submission's, with the master's
    read-only cells restored and put back; and notes of what was restored. The executed
    copy numbers cells the same way."""
    locked = locked_cells(master)
    notes: list[str] = []
    # numbers as the student sees them
    numbered = list(enumerate(notebook.cells, start=1))
    if any(grade_id(cell) in locked for cell in notebook.cells):
        numbered = _restore(numbered, master.cells, locked, notes)
    # metadata stripped (e.g. cells copied into a new notebook): nothing to match, run
    # as submitted
    else:
        notes.append(
            "the notebook has no nbgrader cell metadata; its cells ran as submitted"
        )
    return numbered, notes


# cells put back from the master are numbered from here: they have no place in the file
PUT_BACK = 10_000


def _restore(
    numbered: list, master_cells: list, locked: dict, notes: list[str]
) -> list:
    """The submission's (number, cell) pairs with locked cells replaced by the master's;
    deleted ones put back."""
    result, seen = [], set()
    for number, cell in numbered:
        gid = grade_id(cell)
        if gid in locked:
            if gid in seen:
                continue  # a duplicated locked cell runs once
            seen.add(gid)
            if (
                cell.source != locked[gid].source
                or cell.cell_type != locked[gid].cell_type
            ):
                notes.append(
                    f"read-only cell '{gid}' was changed; the original was used"
                )
            cell = locked[gid]
        result.append((number, cell))
    for index, master_cell in enumerate(master_cells):
        gid = grade_id(master_cell)
        if gid in locked and gid not in seen and master_cell.cell_type == "code":
            notes.append(
                f"read-only cell '{gid}' was missing; the original was put back"
            )
            result.insert(
                _position_after(result, master_cells[:index]),
                (PUT_BACK + index, master_cell),
            )
            seen.add(gid)
    return result


def _position_after(result: list, earlier_master_cells: list) -> int:
    """Just after the last cell in `result` that matches one of the earlier master
    cells."""
    earlier = {grade_id(c) for c in earlier_master_cells if grade_id(c)}
    for position in range(len(result) - 1, -1, -1):
        if grade_id(result[position][1]) in earlier:
            return position + 1
    return 0
