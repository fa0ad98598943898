"""What a call's reply means for the student: its value read strictly, or the error the
hidden test raises, with a message written for the student (which cell stopped, which
name was meant, what is not written yet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotPlainData, StudentError
from . import framing, protocol
from .cell_outputs import CellOutcome


class MissingFunction(StudentError):
    """The notebook does not define a function a test needs."""


@dataclass
class Execution:
    """How the notebook's cells ran in the worker."""

    status: str = "ok"  # ok | timeout | crashed
    message: str = ""
    cells: list[CellOutcome] = field(default_factory=list)

    def errors(self) -> list[CellOutcome]:
        return [c for c in self.cells if c.status in ("error", "timeout")]


def student_error(what: str, error: dict[str, str]) -> StudentError:
    kind, text, where = error["type"], error["message"], error["where"]
    at = f" (at {where})" if where else ""
    if kind == "NotImplementedError":
        return StudentError(
            f"{what} raised NotImplementedError: this function is not written yet{at}",
            where,
        )
    return StudentError(
        f"{what} raised {kind or 'an error'}" + (f": {text}" if text else "") + at,
        where,
    )


def decode_value(value: Any, what: str) -> Any:
    try:
        result = protocol.decode(value)
    except framing.ProtocolError as error:
        raise NotPlainData(
            f"{what} returned something the grader cannot read ({error})"
        ) from None
    return result


def missing_message(name: str, defined: list[str], execution: Execution) -> str:
    text = f"your notebook does not define `{name}`"
    errors = execution.errors()
    if errors:
        first = errors[0]
        detail = (
            first.error.get("type", "")
            if isinstance(first.error, dict)
            else str(first.error)
        )
        text += (
            f" (cell {first.number} stopped with {detail}; fix it and run all cells "
            "again)"
        )
    close = [
        d
        for d in defined
        if d.lower().replace("_", "") == name.lower().replace("_", "")
    ]
    if close:
        text += f"; did you mean `{close[0]}`? The name must be exactly `{name}`"
    return text
