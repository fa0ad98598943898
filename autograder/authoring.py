"""What course authors import: the one public module of the autograder for hidden suites
(test_*.py, conftest.py), misconceptions.py catalogues, reference solutions and the
files `autograder new` writes.

Everything else in the package is internal and may move between releases; these names
stay. docs/AUTHORING.md describes each of them.

- `Mismatch`: the AssertionError whose message is the student's feedback; `show` and
  `call_text` render values and calls short in it.
- `numeric`, `named_arrays`: a returned value as numbers, or a Mismatch saying why it is
  not.
- `Misconception`, `load_catalogue`: a catalogue of known wrong answers and its loader.
- `read_table`: a CSV file's numeric columns, checked cell by cell (loads pandas when
  first used).
- The errors a suite or a reference may catch or raise: `AutograderError` (every error
  of ours), `StudentError` (the student's code raised), `NotPlainData`,
  `WorkerCrashed`, `WorkerTimeout`, `ConfigError`, `DataFileError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import (
    AutograderError,
    ConfigError,
    DataFileError,
    NotPlainData,
    StudentError,
    WorkerCrashed,
    WorkerTimeout,
)
from .mismatch import Mismatch, call_text, show
from .suite.assertions import named_arrays, numeric
from .suite.catalogue import load_catalogue
from .suite.misconceptions import Misconception

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AutograderError",
    "ConfigError",
    "DataFileError",
    "Misconception",
    "Mismatch",
    "NotPlainData",
    "StudentError",
    "WorkerCrashed",
    "WorkerTimeout",
    "call_text",
    "load_catalogue",
    "named_arrays",
    "numeric",
    "read_table",
    "show",
]


def read_table(path: Path | str, columns: Mapping[str, type]) -> pd.DataFrame:
    """The CSV file's `columns` (name -> int or float) as a DataFrame, every cell
    checked; a DataFileError says which cell is wrong and how to fix it. pandas is
    imported by the first call, not with this module: a reference that imports
    `read_table` costs no pandas until it reads a table."""
    from .course import datafile

    return datafile.read_table(path, columns)
