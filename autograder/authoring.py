"""What course authors import: the one public module of the autograder for hidden suites (test_*.py,
conftest.py), misconceptions.py catalogues, reference solutions and the files `autograder new` writes.

Everything else in the package is internal and may move between releases; these names stay.
docs/AUTHORING.md describes each of them.

- `Mismatch`: the AssertionError whose message is the student's feedback; `show` and `call_text`
  render values and calls short in it.
- `numeric`, `named_arrays`: a returned value as numbers, or a Mismatch saying why it is not.
- `Misconception`, `load_catalogue`: a catalogue of known wrong answers and its loader.
- `read_table`: a CSV file's numeric columns, checked cell by cell (loads pandas when first used).
- The errors a suite or a reference may catch or raise: `AutograderError` (every error of ours),
  `StudentError` (the student's code raised), `NotPlainData`, `WorkerCrashed`, `WorkerTimeout`,
  `ConfigError`, `DataFileError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .suite.misconceptions import Misconception, load_catalogue

if TYPE_CHECKING:  # at run time, read on first use (`__getattr__`): it imports pandas
    from .course.datafile import read_table

__all__ = [
    "AutograderError", "ConfigError", "DataFileError", "Misconception", "Mismatch", "NotPlainData",
    "StudentError", "WorkerCrashed", "WorkerTimeout", "call_text", "load_catalogue", "named_arrays",
    "numeric", "read_table", "show",
]


def __getattr__(name: str) -> Any:
    if name == "read_table":  # pandas only for the references that read a table
        from .course.datafile import read_table

        return read_table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
