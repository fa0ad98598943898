"""Read a numeric CSV file and check it cell by cell, so a broken data file fails with a
message that names the file, the row and the column instead of a NaN deep inside a
student's training run.

Rows are counted the way a person reads the file: data row 1 is the first line under the
header, which is line 2 of the file. Blank lines are skipped and not counted as rows.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from autograder.errors import DataFileError

_DTYPES = {int: "int64", float: "float64"}


def read_table(path: Path | str, columns: Mapping[str, type]) -> pd.DataFrame:
    """The requested `columns` (name -> int or float) of the CSV at `path`, in that
    order and dtype.

    Raises DataFileError for a missing or empty file, missing columns, and empty or
    non-numeric cells.
    """
    unknown = {name: kind for name, kind in columns.items() if kind not in _DTYPES}
    if unknown:
        raise TypeError(f"read_table supports int and float columns, not {unknown}")
    rows = _read_rows(Path(path))
    header = [name.strip() for name in rows[0][1]]
    missing = [name for name in columns if name not in header]
    if missing:
        raise DataFileError(
            path,
            f"missing column(s) {', '.join(missing)}; the header has "
            f"{', '.join(header)}",
        )
    if len(rows) == 1:
        raise DataFileError(path, "the file has a header but no data rows")
    values: dict[str, list] = {name: [] for name in columns}
    for row_number, (line, cells) in enumerate(rows[1:], start=1):
        if len(cells) > len(header):
            raise DataFileError(
                path,
                f"{len(cells)} fields but the header has {len(header)} "
                f"({_where(row_number, line)})",
                row=row_number,
            )
        for name, kind in columns.items():
            index = header.index(name)
            text = cells[index].strip() if index < len(cells) else ""
            values[name].append(_parse(path, text, kind, row_number, line, name))
    return pd.DataFrame(
        {
            name: pd.Series(values[name], dtype=_DTYPES[kind])
            for name, kind in columns.items()
        }
    )


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank rows of the file as (line number, cells); the first one is the
    header."""
    if not path.is_file():
        raise DataFileError(
            path, "file not found; check the path or restore the data file"
        )
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [
                (reader.line_num, cells)
                for cells in reader
                if any(cell.strip() for cell in cells)
            ]
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataFileError(path, f"not a readable UTF-8 CSV file ({error})") from error
    if not rows:
        raise DataFileError(
            path, "the file is empty; it needs a header line and data rows"
        )
    return rows


def _parse(
    path: Path | str, text: str, kind: type, row: int, line: int, column: str
) -> int | float:
    """One cell as a number of `kind`, or a DataFileError that says where it is."""
    if not text:
        raise DataFileError(
            path, f"empty cell ({_where(row, line)}); fill in a number", row, column
        )
    try:
        value = float(text)
    except ValueError:
        raise DataFileError(
            path, f"{text!r} is not a number ({_where(row, line)})", row, column
        ) from None
    if not math.isfinite(value):
        raise DataFileError(
            path, f"{text!r} is not a finite number ({_where(row, line)})", row, column
        )
    if kind is int:
        if not value.is_integer():
            raise DataFileError(
                path,
                f"{text!r} is not a whole number ({_where(row, line)})",
                row,
                column,
            )
        return int(value)
    return value


def _where(row: int, line: int) -> str:
    return f"data row {row} is line {line} of the file, counting the header as line 1"
