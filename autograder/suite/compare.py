"""The `compare` fixture: a student's function and the reference on the same arguments,
compared in the grader.

    compare("sigmoid", x)  # element by element (broadcast arguments)
    compare("update_weights", w, x, delta, eta, per_element=False)  # the whole value
    compare("output_formula", batch, w, b, rows=True)  # a batch of points, a row each

The student's function is called once on the whole batch and compared with
`check.close`. On a mismatch, a known mistake of the suite's catalogue is named
(autograder/suite/misconceptions.py), and the call is repeated on the first wrong
element (or row) alone: when that small call is wrong too, its message is the feedback,
so the student reads one small input with its expected and actual value. Calls with a
float32 argument are compared with float32's tolerances.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AutograderError, NotPlainData, StudentError
from ..mismatch import Mismatch, call_text, show
from ..running.outcomes import MissingFunction
from .assertions import Checker, elementwise_close, numeric
from .misconceptions import Catalogue

# float32 keeps about 7 significant digits, and formulas that subtract from 1 (tanh
# form, 1 - s) lose some of them near 0: calls with a float32 argument get at least
# these tolerances.
FLOAT32_TOLERANCE = (1e-5, 1e-6)


@dataclass
class Compare:
    """Calls a student's function and the reference's with the same arguments and
    compares them."""

    student: Any  # the StudentSession
    reference: Any
    check: Checker
    # known mistakes, named in the feedback
    misconceptions: Catalogue = field(default_factory=Catalogue)
    # a student's error is told on one element too (False: on the call as made)
    element_errors: bool = True
    # feedback for a test that passes (see `_tell_stand_ins`)
    note: Callable[[str], None] | None = None
    # the test running now: each runs a function with its own helpers once
    test: Callable[[], object] = lambda: None
    # (function, test) already run so
    checked_own: set[tuple[str, object]] = field(default_factory=set)
    # functions whose helpers were found wrong: told once
    noted: set[str] = field(default_factory=set)
    # functions whose stand-ins a note named: told once
    named: set[str] = field(default_factory=set)
    # functions that failed a comparison of their own
    wrong: set[str] = field(default_factory=set)
    # functions the notebook does not define (and so wrong)
    missing: set[str] = field(default_factory=set)
    # function -> graded functions it was seen to call
    calls: dict[str, set[str]] = field(default_factory=dict)
    # off once one hung or crashed: it must not cost the submission more time or
    # restarts
    own_checks: bool = True

    def __call__(
        self, name: str, *args: Any, per_element: bool = True, rows: bool = False
    ) -> np.ndarray:
        """The student's name(*args) as an array when it is the reference's value; else
        a Mismatch (or the student's error) told on the first wrong element, or with
        `rows` on the first wrong row of the first argument (a batch of points);
        `per_element=False`: on the whole call only."""
        retry = per_element or rows
        expected = getattr(self.reference, name)(*args)
        try:
            got = self.student.call(name, *args)
        except (StudentError, NotPlainData) as error:
            self.wrong.add(name)
            if isinstance(error, MissingFunction):
                self.missing.add(name)
            if retry and self.element_errors and not isinstance(error, MissingFunction):
                # raises its own, smaller, error if it has one
                self._call_one(name, args, None, rows)
            raise
        self.calls.setdefault(name, set()).update(getattr(self.student, "used", []))
        try:
            value = self._close(name, args, got, expected)
        except Mismatch:
            self.wrong.add(name)
            with self.misconceptions.diagnosing(
                name,
                args,
                got,
                expected,
                *self._tolerance(args),
                after=lambda: arguments_after(self.student, name, args),
            ):
                index = self._first_wrong(args, got, expected) if retry else None
                one = None if index is None else self._call_one(name, args, index, rows)
                if one is not None:
                    value, single = one
                    self._close(
                        name, single, value, getattr(self.reference, name)(*single)
                    )
                # that element is right on its own (or was not tried): the batched
                # message stays
                raise
        self._tell_stand_ins(name, args, expected)
        return value

    def _tell_stand_ins(self, name: str, args: tuple, expected: Any) -> None:
        """`name` was right with the reference standing in for the graded functions it
        used: say so once per function, or, when one of those failed its own tests or is
        missing, which one to fix (`_own_helpers`)."""
        used = list(getattr(self.student, "used", []))
        if not used or self.note is None:
            return
        if not self._own_helpers(name, args, expected, used) and name not in self.named:
            self.note(f"graded with the reference's {_listed(used)} in place of yours")
        self.named.add(name)

    def _own_helpers(
        self, name: str, args: tuple, expected: Any, used: list[str]
    ) -> bool:
        """When one of the functions `used` (or one they call) failed its own tests or
        is missing, run `name` once per test with the student's own, and when that goes
        wrong, say which one to fix (True: said). Each function's part runs before those
        it stands in for (dependencies.part_order), so the helpers' tests have run by
        then; a submission whose helpers pass pays nothing for this."""
        if (
            not self.own_checks
            or name in self.noted
            or (name, self.test()) in self.checked_own
        ):
            return name in self.noted
        # its helpers passed their own tests (run before)
        if not self._reachable(used) & self.wrong:
            return False
        self.checked_own.add((name, self.test()))
        try:
            self._close(
                name, args, self.student.call(name, *args, isolation=False), expected
            )
            return False
        except (Mismatch, StudentError, NotPlainData) as error:
            detail = str(error).splitlines()[0]
        except AutograderError as error:
            # it hung or crashed: said once, and no such check again, so that it costs
            # the submission no more time or restarts
            detail = str(error).splitlines()[0]
            self.own_checks = False
        self.noted.add(name)
        culprits = self._culprits(used)
        fix = [culprit for culprit in culprits if culprit not in self.missing]
        write = [culprit for culprit in culprits if culprit in self.missing]
        todo = (
            [f"Fix {_listed(fix)}: its own tests say what is wrong"] if fix else []
        ) + (
            [
                f"Write {_listed(write)}: your notebook does not define "
                f"{'it' if len(write) == 1 else 'them'}"
            ]
            if write
            else []
        )
        if self.note is not None:  # asked only when there is one (_tell_stand_ins)
            self.note(
                f"your `{name}` is right; with your own {_listed(used)} instead of the "
                f"reference's: {detail}. " + "; ".join(todo)
            )
        return True

    def _culprits(self, used: list[str]) -> list[str]:
        """Of the functions `used` and those they were seen to call, the ones that
        failed their own tests (a right sigmoid_prime that calls a wrong sigmoid points
        at sigmoid); else `used`."""
        return sorted(self._reachable(used) & self.wrong) or used

    def _reachable(self, used: list[str]) -> set[str]:
        """`used` and every graded function they were seen to call, and so on."""
        seen, frontier = set(used), list(used)
        while frontier:
            for callee in self.calls.get(frontier.pop(), ()):
                if callee not in seen:
                    seen.add(callee)
                    frontier.append(callee)
        return seen

    def _close(self, name: str, args: tuple, got: Any, expected: Any) -> np.ndarray:
        rtol, atol = self._tolerance(args)
        text = call_text(
            name,
            *(
                Spelled(f"np.float32({show(float(a))})")
                if isinstance(a, np.float32)
                else a
                for a in args
            ),
        )
        return self.check.close(got, expected, text, rtol=rtol, atol=atol)

    def _tolerance(self, args: tuple) -> tuple[float, float]:
        rtol, atol = self.check.tolerance.rtol, self.check.tolerance.atol
        if any(np.asarray(arg).dtype == np.float32 for arg in args):
            return max(rtol, FLOAT32_TOLERANCE[0]), max(atol, FLOAT32_TOLERANCE[1])
        return rtol, atol

    def _first_wrong(
        self, args: tuple, got: Any, expected: Any
    ) -> tuple[int, ...] | None:
        """Index of the first element not close to the reference, when `got` is an array
        of the right shape."""
        want = np.asarray(expected)
        try:
            array = numeric(got, "")
        except Mismatch:
            return None
        if want.size < 2 or array.shape != want.shape:
            return None
        rtol, atol = self._tolerance(args)
        wrong = np.argwhere(~elementwise_close(array, want, rtol, atol))
        return tuple(int(i) for i in wrong[0]) if len(wrong) else None

    def _call_one(
        self, name: str, args: tuple, index: tuple[int, ...] | None, rows: bool
    ) -> tuple[Any, tuple] | None:
        """(value, arguments) of the call on element `index` (None: the first) or its
        row; the student's error if that call raises one (and `element_errors`); None if
        there is no such smaller call, or it timed out or crashed."""
        single = one_of(args, index, rows)
        if single is None:
            return None
        try:
            return self.student.call(name, *single), single
        except (StudentError, NotPlainData) as error:
            if self.element_errors:
                raise error from None
            return None
        except AutograderError:
            return None


def _listed(names: list[str]) -> str:
    return " and ".join(f"`{name}`" for name in names)


def one_of(args: tuple, index: tuple[int, ...] | None, rows: bool) -> tuple | None:
    """The arguments of the call on one element of the broadcast array arguments
    (`index` into their shape; None: the first), or with `rows` on row index[0] of the
    first argument; None when there is none."""
    if rows:
        if np.ndim(args[0]) == 0:
            return None
        return (np.asarray(args[0])[index[0] if index else 0], *args[1:])
    if all(np.ndim(arg) == 0 for arg in args):
        return None
    try:
        shape = np.broadcast_shapes(*(np.shape(arg) for arg in args))
    except ValueError:
        return None
    index = (0,) * len(shape) if index is None else index
    if len(index) != len(shape) or any(i >= n for i, n in zip(index, shape)):
        return None  # the value is not elementwise in these arguments
    return tuple(
        arg if np.ndim(arg) == 0 else np.broadcast_to(arg, shape)[index] for arg in args
    )


def arguments_after(student: Any, name: str, args: tuple) -> tuple | None:
    """The arguments as the student's `name` leaves them (one more call); None when that
    cannot be told."""
    try:
        return student.call_keeping_inputs(name, *args)[1]
    except (AutograderError, Mismatch):
        return None


class Spelled:
    """A value shown in feedback by its Python spelling, e.g. np.float32(-8.0), so a
    student can repeat the call."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text
