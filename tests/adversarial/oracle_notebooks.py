"""Student-admissions notebooks that try to score without working code, written as a student would.

Each one is the released notebook (release/student-admissions/) with its four answer cells
replaced by whole definitions and, for some, cells added. The attacks (tests/adversarial/test_oracle.py):

- the circle: functions that only call each other, so that the grader's reference, standing in for
  the others while one is graded, does the work (each raises RecursionError in the notebook itself);
- state carried between parts: what a function learns from the stand-ins, or writes to a global, the
  working folder or /tmp while one part is graded, used in a later part (the training);
- the grader's memory: a stand-in's question that makes the reference build gigabytes in the grader;
- and plain notebooks whose scores isolation must keep (one wrong function costs only itself).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release" / "student-admissions" / "student-admissions.ipynb"
PARTS = ("sigmoid", "sigmoid_prime", "error_term", "update_weights", "training")
FULL = {"sigmoid": 2, "sigmoid_prime": 2, "error_term": 2, "update_weights": 2, "training": 4}

CORRECT = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "sigmoid_prime": "def sigmoid_prime(x):\n    return sigmoid(x) * (1 - sigmoid(x))",
    "error_term": "def error_term(y, output, h):\n    return (y - output) * sigmoid_prime(h)",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n    return weights + learnrate * delta * x",
}


def notebook(answers: dict[str, str], after: dict[str, str] | None = None, last: str = "") -> nbformat.NotebookNode:
    """The released notebook with the answer cells `answers` (grade_id -> source; the others right),
    a code cell after each cell named in `after` (grade_id -> source), and `last` as the final cell."""
    nb = nbformat.read(RELEASE, as_version=4)
    sources = {**CORRECT, **answers}
    cells = []
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if gid in sources:
            assert "raise NotImplementedError()" in cell.source, f"{gid} is not an answer cell of the release"
            cell.source = sources[gid]
        cells.append(cell)
        if after and gid in after:
            cells.append(nbformat.v4.new_code_cell(after[gid]))
    if last:
        cells.append(nbformat.v4.new_code_cell(last))
    nb.cells = cells
    return nb


# -- A. the circle -------------------------------------------------------------------------------------
# Each function is one line that calls another graded function: run in the notebook, every one of them
# raises RecursionError. While one is graded, the others are the grader's reference, which computes it:
# sigma'(x) = 1 * sigma'(x) (error_term(1, 0, x)), delta = 0 + 1 * sigma'(h) * (y - y_hat) (update_weights),
# the step from 4 * error_term(delta, 0, 0) = delta, and sigma from sigma': s (1 - s) = p gives
# s = (1 + sign(x) sqrt(1 - 4p)) / 2.

CIRCLE = {
    "sigmoid": "def sigmoid(x):\n    return (1 + np.sign(x) * np.sqrt(1 - 4 * sigmoid_prime(x))) / 2",
    "sigmoid_prime": "def sigmoid_prime(x):\n    return error_term(1, 0, x)",
    "error_term": "def error_term(y, output, h):\n    return update_weights(0, y - output, sigmoid_prime(h), 1)",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n"
                      "    return weights + learnrate * (4 * error_term(delta, 0, 0)) * x",
}

# Only sigmoid_prime is stolen (from error_term, which calls it back); the other three are right.
STOLEN_ONE = {"sigmoid_prime": CIRCLE["sigmoid_prime"]}


# -- B. state carried between parts ---------------------------------------------------------------------
# sigmoid is not written. While sigmoid_prime is graded, the grader's sigmoid stands in for it: sigmoid_prime
# asks it about a grid of 200,001 points on [-10, 10], a piece at a time within what a call may ask (pieces
# no larger than its own argument, at most two per number in it: the table is whole after the test of 400
# random inputs), and keeps the table in a global, in the working folder and in /tmp. The training part runs
# later, with the student's own sigmoid, which interpolates in the table: within 1e-9 of the reference for
# the weights and the loss curve of the whole training run (|h| stays under 3.2 there).

CARRY_TABLE = {
    "sigmoid": '''\
import os

GRID = np.linspace(-10.0, 10.0, 200_001)
KEPT = ("sigmoid-table.npy", "/tmp/sigmoid-table.npy")  # the working folder and /tmp
table = None


def sigmoid(x):
    global table
    for path in KEPT:
        if table is None and os.path.exists(path):
            table = np.load(path)
    if table is None:
        raise NotImplementedError("I do not know how to compute this yet")
    return np.interp(x, GRID, table)


MY_SIGMOID = sigmoid''',
    "sigmoid_prime": '''\
pieces, done = [], 0  # the grader's sigmoid on GRID[:done], asked a piece at a time


def sigmoid_prime(x):
    global table, done
    if table is None and sigmoid is not MY_SIGMOID:  # the grader's sigmoid is standing in: ask it about GRID
        size = max(np.size(x), 1)  # no larger than what this call was asked about, twice per number
        try:
            for _ in range(2 * size):
                if done == GRID.size:
                    break
                pieces.append(np.asarray(sigmoid(GRID[done:done + size]), dtype=float))
                done += len(pieces[-1])
        except Exception:
            pass
        if done == GRID.size:
            table = np.concatenate(pieces)
            for path in KEPT:
                np.save(path, table)
    s = sigmoid(x)
    return s * (1 - s)''',
}

# The plain probe: what a function leaves while one part is graded, seen by the functions of later parts.
# sigmoid, graded in the first part (after the notebook ran, outside a training run), sets a global and
# writes a file in the working folder and one in /tmp. Each later function adds a code to its right value
# when it sees one of them: 1001 the file in /tmp (sigmoid_prime), 1002 the file in the working folder
# (error_term), 1003 the global (update_weights); so each part's score, and its feedback, tell what was seen.
# Every function also adds 2001/2002/2003 when a file the notebook wrote itself (working folder, /tmp) or a
# global it set is missing.
NOTEBOOK_STATE = '''\
import os, sys

for path in ("written-by-the-notebook.txt", "/tmp/written-by-the-notebook.txt"):
    with open(path, "w") as handle:
        handle.write("written while the notebook ran")
SET_BY_THE_NOTEBOOK = True
notebook_done = False
checked_in = None  # the process that found the notebook's state whole (checked once per process)


def notebook_state():
    """0 when what the notebook itself wrote is there; else a code naming what is missing."""
    global checked_in
    if checked_in == os.getpid():
        return 0
    if not os.path.exists("written-by-the-notebook.txt"):
        return 2001
    if not os.path.exists("/tmp/written-by-the-notebook.txt"):
        return 2002
    if not globals().get("SET_BY_THE_NOTEBOOK"):
        return 2003
    checked_in = os.getpid()
    return 0


def in_training():
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "train_network":
            return True
        frame = frame.f_back
    return False'''

PROBE = {
    "sigmoid": '''\
def sigmoid(x):
    global MARKED_IN_A_PART
    if notebook_done and not in_training():  # graded in its own part: leave marks everywhere
        MARKED_IN_A_PART = True
        for path in ("written-in-a-part.txt", "/tmp/written-in-a-part.txt"):
            with open(path, "w") as handle:
                handle.write("written while sigmoid was graded")
    return 1 / (1 + np.exp(-x)) + notebook_state()''',
    "sigmoid_prime": '''\
def sigmoid_prime(x):
    seen = notebook_state() or (1001 if os.path.exists("/tmp/written-in-a-part.txt") else 0)
    return sigmoid(x) * (1 - sigmoid(x)) + seen''',
    "error_term": '''\
def error_term(y, output, h):
    seen = notebook_state() or (1002 if os.path.exists("written-in-a-part.txt") else 0)
    return (y - output) * sigmoid_prime(h) + seen''',
    "update_weights": '''\
def update_weights(weights, x, delta, learnrate):
    seen = notebook_state() or (1003 if globals().get("MARKED_IN_A_PART") else 0)
    return weights + learnrate * delta * x + seen''',
}

# Right functions that check, at every call, that what the notebook wrote before grading is still there.
NOTEBOOK_FILES = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x)) + notebook_state()",
    "sigmoid_prime": "def sigmoid_prime(x):\n    return sigmoid(x) * (1 - sigmoid(x)) + notebook_state()",
    "error_term": "def error_term(y, output, h):\n    return (y - output) * sigmoid_prime(h) + notebook_state()",
    "update_weights": "def update_weights(weights, x, delta, learnrate):\n"
                      "    return weights + learnrate * delta * x + notebook_state()",
}


# -- C. the grader's memory ---------------------------------------------------------------------------------
# Right functions, plus a question to a stand-in (only when the grader's function is standing in, told
# apart from the notebook's own) whose arguments are small but make the reference build gigabytes:
# a list of N numbers minus an (N, 1) array is (N, N) (2 GB for N = 16,000), and a list times a number
# repeats it (200,000,000 items, 1.6 GB). Each then fails on purpose (a shape or type error on the next
# operation), so that the grader sends back an error and not the value; the student's code ignores it.
# N stays below 40,000 (12.8 GB): a grader without the defence touches every byte of it, on a machine
# shared with other work; 2 GB is four times the bound the test asserts.
N = 16_000
REPEAT = 200_000_000
MINE = 'MINE = {"error_term": error_term, "update_weights": update_weights}  # the notebook\'s own'

MEMORY_BROADCAST = {
    "sigmoid": f'''\
asked = False  # one question is enough: it takes seconds, and the grader's memory with it


def sigmoid(x):
    global asked
    mine = globals().get("MINE")
    if mine and not asked and error_term is not mine["error_term"]:  # the grader's error_term stands in
        asked = True
        try:
            error_term([0.0] * {N}, np.zeros(({N}, 1)), np.zeros(3))
        except Exception:
            pass
    return 1 / (1 + np.exp(-x))''',
}

MEMORY_REPEAT = {
    "sigmoid_prime": f'''\
asked = False  # one question is enough: it takes seconds, and the grader's memory with it


def sigmoid_prime(x):
    global asked
    mine = globals().get("MINE")
    if mine and not asked and update_weights is not mine["update_weights"]:  # the grader's update_weights
        asked = True
        try:
            update_weights(np.zeros(3), "x", {REPEAT}, [0.5])
        except Exception:
            pass
    return sigmoid(x) * (1 - sigmoid(x))''',
}


# -- D. what isolation fixed ------------------------------------------------------------------------------------
SLOPE_OF_INPUT = {"sigmoid_prime": "def sigmoid_prime(x):\n    return x * (1 - x)"}
SCALAR_SIGMOID = {"sigmoid": "import math\n\n\ndef sigmoid(x):\n    return 1 / (1 + math.exp(-x))"}
# A right error_term that asks sigmoid_prime about one element at a time (a question per element: 400 for
# the hidden tests' largest input), on top of the wrong sigmoid_prime above: the bound on questions must
# leave it its points.
ELEMENT_BY_ELEMENT = {**SLOPE_OF_INPUT, "error_term": '''\
def error_term(y, output, h):
    y, output, h = np.broadcast_arrays(np.asarray(y), np.asarray(output), np.asarray(h))
    delta = np.empty(h.shape)
    for index in np.ndindex(h.shape):
        delta[index] = (y[index] - output[index]) * sigmoid_prime(h[index])
    return delta[()]'''}


def class_of() -> dict[str, nbformat.NotebookNode]:
    """Student id (file stem) -> notebook: every scenario of test_oracle.py, graded in one batch."""
    done = "notebook_done = True  # grading starts after this cell"
    return {
        "control": notebook({}),
        "circle": notebook(CIRCLE),
        "circle-stolen-one": notebook(STOLEN_ONE),
        "carry-table": notebook(CARRY_TABLE),
        "carry-probe": notebook(PROBE, after={"load_data": NOTEBOOK_STATE}, last=done),
        "notebook-files": notebook(NOTEBOOK_FILES, after={"load_data": NOTEBOOK_STATE}, last=done),
        "memory-broadcast": notebook(MEMORY_BROADCAST, last=MINE),
        "memory-repeat": notebook(MEMORY_REPEAT, last=MINE),
        "isolated-slope-of-input": notebook(SLOPE_OF_INPUT),
        "isolated-scalar-sigmoid": notebook(SCALAR_SIGMOID),
        "isolated-element-by-element": notebook(ELEMENT_BY_ELEMENT),
    }
