"""A submitted notebook file, read as hostile input: only a regular file of our size
limit, only the parts grading reads, each checked for its type, nested no deeper than
Jupyter writes.

Whatever the bytes are (not UTF-8, not JSON, 20,000 nested brackets, a kernelspec that
is a string, a link to the master, a pipe), the answer is the notebook or an
`InvalidSubmission` whose message says what to do; never another exception.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSubmission
from ..names import path_text

if TYPE_CHECKING:
    import nbformat

SUPPORTED_LANGUAGES = ("python", "")
CELL_TYPES = ("code", "markdown", "raw")
# Jupyter nests some 10 levels; the bound keeps recursive code (nbformat, deepcopy) safe
MAX_DEPTH = 100


def read_notebook(path: Path, max_mb: float) -> tuple[bytes, nbformat.NotebookNode]:
    """The file's bytes and the notebook they hold; InvalidSubmission says what is wrong
    with it.

    Only what grading reads is kept, each part checked for its type: the notebook's
    metadata and every cell's type, source (as text) and metadata. Outputs and the rest
    are dropped unread.
    """
    raw = read_bytes(path, max_mb)
    return raw, notebook_from_bytes(raw, path_text(path.name))


def notebook_from_bytes(raw: bytes, name: str) -> nbformat.NotebookNode:
    """The notebook `raw` holds, as `read_notebook` keeps it; InvalidSubmission names
    `name`."""
    data = parse_notebook_json(raw, name)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidSubmission(f"{name} is not a Jupyter notebook (no list of cells)")
    version = data.get("nbformat")
    # 4.0 and True equal 4 in Python, not in nbformat
    if type(version) is not int or version != 4:
        raise InvalidSubmission(
            f"{name} uses notebook format {_shown(version)}; open and save it "
            "in a current Jupyter to convert it to format 4"
        )
    metadata = _object(data, "metadata", "notebook's metadata", name)
    _check_language(metadata, name)
    cells = [
        _cell(cell, number, name) for number, cell in enumerate(data["cells"], start=1)
    ]
    if not any(cell["cell_type"] == "code" for cell in cells):
        raise InvalidSubmission(f"{name} has no code cells")
    # here: reading bytes alone (the journal, timestamp.txt) needs none of it
    import nbformat

    return nbformat.from_dict(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}
    )


def read_bytes(path: Path, max_mb: float) -> bytes:
    """The file's own bytes, at most `max_mb`: a link (to the master, say), a folder, a
    pipe or a device is refused, and nothing is read through a link."""
    name, limit = path_text(path.name), int(max_mb * 1024 * 1024)
    # O_NOFOLLOW: not through a link; O_NONBLOCK: a pipe does not wait for a writer
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InvalidSubmission(
                f"{name} is a symbolic link, not a notebook; submit the .ipynb file "
                "itself"
            ) from None
        raise InvalidSubmission(f"cannot read {name}: {error.strerror}") from None
    status = os.fstat(fd)
    # a folder, a pipe that would block, /dev/zero that never ends
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise InvalidSubmission(
            f"{name} is not a regular file; submit the .ipynb file Jupyter saved"
        )
    with open(fd, "rb") as file:
        try:
            raw = file.read(limit + 1)
        except OSError as error:
            raise InvalidSubmission(f"cannot read {name}: {error.strerror}") from None
    if len(raw) > limit:
        size = max(status.st_size, len(raw))
        raise InvalidSubmission(
            f"{name} is {size / 1024 / 1024:.0f} MB, over the {max_mb:g} MB limit; "
            "clear the outputs (Kernel > Restart & Clear Output) and submit again"
        )
    return raw


def parse_notebook_json(raw: bytes, name: str) -> Any:
    """The JSON value in `raw`, nested at most MAX_DEPTH deep; InvalidSubmission for
    anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            f"{name} is not UTF-8 text; submit the .ipynb file Jupyter saved"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSubmission(
            f"{name} is not a notebook: invalid JSON at line {error.lineno} "
            f"({error.msg}); was the file truncated or edited by hand?"
        ) from None
    except RecursionError:  # thousands of nested [ or {
        raise InvalidSubmission(_too_deep(name)) from None
    except ValueError:  # a number of over 4300 digits
        raise InvalidSubmission(
            f"{name} holds a value that cannot be read; submit the .ipynb file Jupyter "
            "saved"
        ) from None
    if _deeper_than(data, MAX_DEPTH):
        raise InvalidSubmission(_too_deep(name))
    return data


def _too_deep(name: str) -> str:
    return (
        f"{name} is nested more than {MAX_DEPTH} levels deep, which Jupyter never "
        "writes; submit the .ipynb file Jupyter saved"
    )


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit`, found without recursion."""
    pending = [(data, 1)] if isinstance(data, (dict, list)) else []
    while pending:
        value, depth = pending.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend(
            (child, depth + 1) for child in children if isinstance(child, (dict, list))
        )
    return False


def _check_language(metadata: dict, name: str) -> None:
    kernelspec = _object(metadata, "kernelspec", "metadata 'kernelspec'", name)
    language_info = _object(metadata, "language_info", "metadata 'language_info'", name)
    declared = _text(kernelspec, "language", "kernel language", name)
    # checked even when `declared` decides
    named = _text(language_info, "name", "language name", name)
    language = declared or named
    if language.lower() not in SUPPORTED_LANGUAGES:
        raise InvalidSubmission(
            f"{name} is a {language[:40]} notebook; this assignment needs a Python "
            "notebook"
        )


def _object(parent: dict, key: str, what: str, name: str) -> dict:
    """parent[key], an object or absent ({}); anything else is a notebook Jupyter has to
    write again."""
    value = parent.get(key, {})
    if not isinstance(value, dict):
        raise InvalidSubmission(_rewrite(name, what, value, "an object"))
    return value


def _text(parent: dict, key: str, what: str, name: str) -> str:
    value = parent.get(key, "")
    if not isinstance(value, str):
        raise InvalidSubmission(_rewrite(name, what, value, "text"))
    return value


def _rewrite(name: str, what: str, value: Any, expected: str) -> str:
    return (
        f"{name}: the {what} is {_kind(value)}, not {expected}; open it in Jupyter, "
        "choose the Python kernel (Kernel > Change Kernel) and save it again"
    )


def _cell(cell: Any, number: int, name: str) -> dict:
    """The parts of a submitted cell grading reads: its type, its source as text, its
    metadata."""
    problem = _cell_problem(cell)
    if problem:
        raise InvalidSubmission(
            f"{name}: cell {number} is malformed ({problem}); open the notebook in "
            "Jupyter, check that cell and save it again"
        )
    source = cell["source"]  # nbformat allows a list of lines
    return {
        "cell_type": cell["cell_type"],
        "source": source if isinstance(source, str) else "".join(source),
        "metadata": cell.get("metadata", {}),
    }


def _cell_problem(cell: Any) -> str:
    if not isinstance(cell, dict):
        return f"it is {_kind(cell)}, not an object"
    if cell.get("cell_type") not in CELL_TYPES:
        return "no cell type"
    source = cell.get("source")
    if not isinstance(source, str) and not (
        isinstance(source, list) and all(isinstance(s, str) for s in source)
    ):
        return "no source"
    if not isinstance(cell.get("metadata", {}), dict):
        return f"its metadata is {_kind(cell['metadata'])}, not an object"
    return ""


def _kind(value: Any) -> str:
    kinds = {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true or false",
        type(None): "null",
    }
    return kinds.get(type(value), "a number")


def _shown(value: Any) -> str:
    text = repr(value)
    # the submission chooses its length
    return text if len(text) <= 40 else f"{text[:36]}..."
