"""Known mistakes recognised in a wrong answer: feedback that says which step of the
math went wrong.

An assignment may keep a catalogue next to its hidden suite,
`assignments/<name>/misconceptions.py` (read by catalogue.py), defining `CATALOGUE =
[Misconception(...), ...]`: for a graded function, a wrong formula students write (a
small numpy function of the same inputs) and a hint for the student. When a student's
value is not the expected one, every wrong formula of that function is evaluated here,
in the grader, on the grader's own copy of the inputs; if exactly one of them gives the
student's value, the test's Mismatch becomes a `Diagnosed` one: the hint is added to the
feedback and the mistake's id to the result (`"misconception":
"error_term.missing_derivative"`). The student's source text is never read, and a label
never changes points.

The `compare` fixture (autograder/suite/compare.py) does this on every mismatch; a
hidden test comparing by itself uses the `misconceptions` fixture (this module's
`Catalogue`):

    with misconceptions.diagnosing(
        "error_term", (y, output, h), got, expected, rtol, atol
    ):
        check.close(got, expected, call)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..mismatch import Mismatch

FEEDBACK_CHARS = 600  # what the plugin keeps of a failure message (three lines at most)
# a known mistake is named only on an answer, or expected answer, of two numbers or more
MIN_NUMBERS = 2


@dataclass(frozen=True)
class Misconception:
    """One wrong formula of one graded function."""

    id: str  # "<function>.<mistake>", e.g. "error_term.missing_derivative"
    # the wrong formula on the function's inputs; a formula returning None stands for
    # "returns nothing"
    formula: Callable[..., Any]
    hint: str  # full sentences for the student, in the lesson's notation
    # the arguments as the mistake leaves them (changed in place)
    leaves_inputs: Callable[..., tuple] | None = None

    @property
    def function(self) -> str:
        return self.id.split(".", 1)[0]


class Diagnosed(Mismatch):
    """A Mismatch recognised as a known mistake: the hint follows the check's
    message."""

    def __init__(self, mismatch: Mismatch, misconception: Misconception):
        check = "\n".join(str(mismatch).strip().splitlines()[:2])
        # the hint is never the part cut off
        room = FEEDBACK_CHARS - len(misconception.hint) - 1
        if len(check) > room:
            check = check[: room - 3] + "..."
        super().__init__(f"{check}\n{misconception.hint}")
        self.misconception = misconception.id
        self.hint = misconception.hint


class Catalogue:
    """An assignment's known mistakes (the `misconceptions` fixture); empty when it has
    none."""

    def __init__(self, entries: Iterable[Misconception] = ()):
        self.entries = tuple(entries)

    def __iter__(self) -> Iterator[Misconception]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def for_function(self, name: str) -> tuple[Misconception, ...]:
        return tuple(entry for entry in self.entries if entry.function == name)

    def diagnose(
        self,
        name: str,
        inputs: tuple,
        got: Any,
        expected: Any,
        rtol: float,
        atol: float,
        after: Callable[[], tuple | None] | None = None,
    ) -> Misconception | None:
        return diagnose(
            self.for_function(name), inputs, got, expected, rtol, atol, after
        )

    @contextmanager
    def diagnosing(
        self,
        name: str,
        inputs: tuple,
        got: Any,
        expected: Any,
        rtol: float,
        atol: float,
        after: Callable[[], tuple | None] | None = None,
    ):
        """A Mismatch raised inside becomes `Diagnosed` when `got` is what one known
        mistake of `name` gives."""
        try:
            yield
        except Diagnosed:
            raise
        except Mismatch as mismatch:
            found = self.diagnose(name, inputs, got, expected, rtol, atol, after)
            if found is None:
                raise
            raise Diagnosed(mismatch, found) from None


def diagnose(
    candidates: Iterable[Misconception],
    inputs: tuple,
    got: Any,
    expected: Any,
    rtol: float,
    atol: float,
    after: Callable[[], tuple | None] | None = None,
) -> Misconception | None:
    """The one candidate whose formula gives `got` on `inputs`; None when none does, or
    several do.

    A single number is too little to tell (at x = 0, x * 2 and x (1 - x) are both 0):
    the answer or the `expected` one must hold at least MIN_NUMBERS numbers. A candidate
    with `leaves_inputs` also needs the student's arguments after the call, `after()`
    (asked for only then): a mistake made in place is named only when it is seen.
    """
    if max(count_numbers(got), count_numbers(expected)) < MIN_NUMBERS:
        return None
    observed: list[tuple | None] = []

    def arguments_after() -> tuple | None:
        if not observed:
            observed.append(after() if after is not None else None)
        return observed[0]

    found = [
        entry
        for entry in candidates
        if _gives(entry, inputs, got, rtol, atol, arguments_after)
    ]
    return found[0] if len(found) == 1 else None


def _gives(
    entry: Misconception,
    inputs: tuple,
    got: Any,
    rtol: float,
    atol: float,
    arguments_after: Callable[[], tuple | None],
) -> bool:
    if not agrees(_evaluate(entry.formula, inputs), got, rtol, atol):
        return False
    if entry.leaves_inputs is None:
        return True
    seen = arguments_after()
    return seen is not None and agrees(
        _evaluate(entry.leaves_inputs, inputs), tuple(seen), rtol, atol
    )


def count_numbers(value: Any) -> int:
    """How many numbers a value holds (pairs added up; None and text hold none)."""
    if isinstance(value, (tuple, list)) and not _is_numeric(value):
        return sum(count_numbers(v) for v in value)
    return int(np.size(value)) if _is_numeric(value) else 0


def _is_numeric(value: Any) -> bool:
    try:
        return value is not None and np.asarray(value).dtype.kind in "biuf"
    except (ValueError, TypeError):
        return False


class _Failed:
    """What a candidate formula that raised evaluates to: agrees with nothing."""


def _evaluate(formula: Callable[..., Any], inputs: tuple) -> Any:
    try:
        with np.errstate(all="ignore"):
            # a copy: a formula changing its inputs in place changes nothing here
            return formula(*copy.deepcopy(inputs))
    except Exception:
        return _Failed()


def agrees(value: Any, got: Any, rtol: float, atol: float) -> bool:
    """True when `got` is `value`: None with None, pairs element by element, numbers
    within tolerance and of the same shape."""
    if isinstance(value, _Failed):
        return False
    if value is None or got is None:
        return value is None and got is None
    if isinstance(value, tuple):
        return (
            isinstance(got, (tuple, list))
            and len(got) == len(value)
            and all(agrees(v, g, rtol, atol) for v, g in zip(value, got))
        )
    try:
        want, have = np.asarray(value), np.asarray(got)
    except (ValueError, TypeError):
        return False
    if (
        want.dtype.kind not in "biuf"
        or have.dtype.kind not in "biuf"
        or want.shape != have.shape
    ):
        return False
    with np.errstate(all="ignore"):
        return bool(
            np.all(
                np.isclose(
                    have.astype(float),
                    want.astype(float),
                    rtol=rtol,
                    atol=atol,
                    equal_nan=True,
                )
            )
        )
