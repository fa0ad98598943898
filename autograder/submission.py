"""A submitted notebook, validated, with the master's read-only cells put back, as cells to run.

Students add, delete, reorder and retype cells. Functions are found by name at run time, so only
the cells the master locks (provided code, visible checks) are matched, by nbgrader `grade_id`, and
restored from the master as nbgrader's autograde does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .errors import InvalidSubmission

SUPPORTED_LANGUAGES = ("python", "")


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position in the submitted notebook, as the student sees it (PUT_BACK + i if put back)
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
    notes: list[str] = field(default_factory=list)  # what was restored or ignored, for feedback


def read_notebook(path: Path, max_mb: float) -> nbformat.NotebookNode:
    """Parse and check a notebook file; InvalidSubmission says what is wrong with it."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InvalidSubmission(f"cannot read {path.name}: {error.strerror}") from None
    if size > max_mb * 1024 * 1024:
        raise InvalidSubmission(f"{path.name} is {size / 1024 / 1024:.0f} MB, over the {max_mb:g} MB limit; "
                                "clear the outputs (Kernel > Restart & Clear Output) and submit again")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(f"{path.name} is not UTF-8 text; submit the .ipynb file Jupyter saved") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSubmission(f"{path.name} is not a notebook: invalid JSON at line {error.lineno} "
                                f"({error.msg}); was the file truncated or edited by hand?") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidSubmission(f"{path.name} is not a Jupyter notebook (no list of cells)")
    if data.get("nbformat") != 4:
        raise InvalidSubmission(f"{path.name} uses notebook format {data.get('nbformat')!r}; open and save it "
                                "in a current Jupyter to convert it to format 4")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several types for malformed content
        raise InvalidSubmission(f"{path.name} is not a valid notebook: {str(error).splitlines()[0][:200]}") from None
    language = notebook.metadata.get("kernelspec", {}).get("language", "") or \
        notebook.metadata.get("language_info", {}).get("name", "")
    if str(language).lower() not in SUPPORTED_LANGUAGES:
        raise InvalidSubmission(f"{path.name} is a {language} notebook; this assignment needs a Python notebook")
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.get("cell_type") not in ("code", "markdown", "raw") or not isinstance(cell.get("source"), str):
            raise InvalidSubmission(f"{path.name}: cell {number} is malformed (no cell type or no source); "
                                    "open the notebook in Jupyter, check that cell and save it again")
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise InvalidSubmission(f"{path.name} has no code cells")
    return notebook


def nbgrader_metadata(cell) -> dict:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def grade_id(cell) -> str:
    return str(nbgrader_metadata(cell).get("grade_id", ""))


def locked_cells(master: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The master's cells students may not change, by grade_id."""
    return {grade_id(c): c for c in master.cells if grade_id(c) and nbgrader_metadata(c).get("locked")}


def load_submission(student: str, path: Path, master: nbformat.NotebookNode, max_mb: float,
                    skip: tuple[str, ...] = ()) -> Submission:
    notebook = read_notebook(path, max_mb)
    locked = locked_cells(master)
    notes: list[str] = []
    numbered = list(enumerate(notebook.cells, start=1))  # numbers as the student sees them
    if any(grade_id(cell) in locked for cell in notebook.cells):
        numbered = _restore(numbered, master.cells, locked, notes)
    else:  # metadata stripped (e.g. cells copied into a new notebook): nothing to match, run as submitted
        notes.append("the notebook has no nbgrader cell metadata; its cells ran as submitted")
    cells = [Cell(number=n, source=c.source, grade_id=grade_id(c), skip=grade_id(c) in skip)
             for n, c in numbered if c.cell_type == "code"]
    return Submission(student=student, path=path, cells=cells, notes=notes)


PUT_BACK = 10_000  # cells put back from the master are numbered from here: they have no place in the file


def _restore(numbered: list, master_cells: list, locked: dict, notes: list[str]) -> list:
    """The submission's (number, cell) pairs with locked cells replaced by the master's; deleted ones put back."""
    result, seen = [], set()
    for number, cell in numbered:
        gid = grade_id(cell)
        if gid in locked:
            if gid in seen:
                continue  # a duplicated locked cell runs once
            seen.add(gid)
            if cell.source != locked[gid].source or cell.cell_type != locked[gid].cell_type:
                notes.append(f"read-only cell '{gid}' was changed; the original was used")
            cell = locked[gid]
        result.append((number, cell))
    for index, master_cell in enumerate(master_cells):
        gid = grade_id(master_cell)
        if gid in locked and gid not in seen and master_cell.cell_type == "code":
            notes.append(f"read-only cell '{gid}' was missing; the original was put back")
            result.insert(_position_after(result, master_cells[:index]), (PUT_BACK + index, master_cell))
            seen.add(gid)
    return result


def _position_after(result: list, earlier_master_cells: list) -> int:
    """Just after the last cell in `result` that matches one of the earlier master cells."""
    earlier = {grade_id(c) for c in earlier_master_cells if grade_id(c)}
    for position in range(len(result) - 1, -1, -1):
        if grade_id(result[position][1]) in earlier:
            return position + 1
    return 0
