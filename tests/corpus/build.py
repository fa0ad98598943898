"""Build the grading corpus and the demo submissions from the released student-admissions notebook.

Each scenario is the released notebook with its answer cells filled in the way a student would
(right in several ways, or with one classic mistake), cells added or removed, or a broken file.
The expected scores of the corpus are written by hand in expected.json, next to this file.

    .venv/bin/autograder release student-admissions   # once, if release/ is missing
    .venv/bin/python tests/corpus/build.py             # writes tests/corpus/*.ipynb and examples/submissions/*.ipynb
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release" / "student-admissions" / "student-admissions.ipynb"
CORPUS_DIR = REPO / "tests" / "corpus"
EXAMPLES_DIR = REPO / "examples" / "submissions"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# The lesson's formulas written the plain way: sigma(x), sigma'(x), delta = (y - y_hat) f'(h), w + eta delta x.
SIGMOID = "return 1 / (1 + np.exp(-x))"
SIGMOID_PRIME = "return sigmoid(x) * (1 - sigmoid(x))"
ERROR_TERM = "return (y - output) * sigmoid_prime(h)"
UPDATE_WEIGHTS = "return weights + learnrate * delta * x"
CORRECT = {"sigmoid": SIGMOID, "sigmoid_prime": SIGMOID_PRIME, "error_term": ERROR_TERM,
           "update_weights": UPDATE_WEIGHTS}

Notebook = nbformat.NotebookNode
Scenario = Callable[[Notebook], "Notebook | str"]


# -- edits ---------------------------------------------------------------------------------------


def grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def position(notebook: Notebook, name: str) -> int:
    """Index of the cell with this grade_id (released cells) or id (added cells)."""
    return next(i for i, cell in enumerate(notebook.cells) if name in (grade_id(cell), cell.get("id")))


def answer(notebook: Notebook, gid: str, body: str) -> Notebook:
    """Replace the stub of answer cell `gid` by `body` (written without the function's indentation)."""
    cell = notebook.cells[position(notebook, gid)]
    assert STUB in cell.source, f"answer cell {gid} has no stub to replace"
    cell.source = cell.source.replace(STUB, "\n".join("    " + line if line else "" for line in body.splitlines()))
    return notebook


def answers(notebook: Notebook, **bodies: str) -> Notebook:
    """Fill all four answer cells: the plain correct bodies unless given."""
    for gid, body in {**CORRECT, **bodies}.items():
        answer(notebook, gid, body)
    return notebook


def insert(notebook: Notebook, after: str, source: str, cell_id: str, markdown: bool = False) -> Notebook:
    """Add a cell after the cell `after`, with a fixed id so that builds are reproducible."""
    cell = nbformat.v4.new_markdown_cell(source) if markdown else nbformat.v4.new_code_cell(source)
    cell.id = cell_id
    notebook.cells.insert(position(notebook, after) + 1, cell)
    return notebook


def delete(notebook: Notebook, gid: str) -> Notebook:
    del notebook.cells[position(notebook, gid)]
    return notebook


# -- the corpus ----------------------------------------------------------------------------------

CORPUS: dict[str, Scenario] = {
    # Right, written in different ways.
    "correct-naive": lambda nb: answers(nb),  # np.exp overflows (with a warning) at x = -500: still right
    "correct-tanh": lambda nb: answers(nb, sigmoid="return 0.5 * (1 + np.tanh(x / 2))"),
    "correct-output-slope": lambda nb: answers(nb, error_term="return (y - output) * output * (1 - output)"),
    "correct-inplace": lambda nb: answers(nb, update_weights="weights += learnrate * delta * x\nreturn weights"),
    "correct-helper-cell": lambda nb: insert(
        answers(nb, sigmoid="return logistic(x)", sigmoid_prime="s = logistic(x)\nreturn s * (1 - s)"),
        "sigmoid_intro",
        "def logistic(z):\n    \"\"\"1 / (1 + e^-z), my own helper.\"\"\"\n    return 1.0 / (1.0 + np.exp(-z))",
        "helper-logistic"),
    "correct-extra-cells": lambda nb: extra_cells(answers(nb)),
    "correct-own-helper": lambda nb: insert(
        answers(nb, error_term="return (y - output) * slope(h)"), "error_term_intro",
        "def slope(h):\n    \"\"\"My helper: the sigmoid's slope at h.\"\"\"\n    s = 1 / (1 + np.exp(-h))\n"
        "    return s * (1 - s)", "helper-slope"),
    "correct-shadowed-name": lambda nb: answers(
        nb, error_term="sigmoid_prime = lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2  # a local of the same name\n"
                       "return (y - output) * sigmoid_prime(h)"),
    "moved-answer-cell": lambda nb: moved_sigmoid(answers(nb)),
    # One classic mistake each; the other functions are right.
    "sigmoid-plus-exp": lambda nb: answers(nb, sigmoid="return 1 / (1 + np.exp(x))"),
    "sigmoid-math-exp": lambda nb: answers(nb, sigmoid="import math\nreturn 1 / (1 + math.exp(-x))"),
    "sigmoid-prime-of-output": lambda nb: answers(nb, sigmoid_prime="return x * (1 - x)"),
    "sigmoid-loops": lambda nb: answers(nb, sigmoid="while True:\n    pass"),
    "error-term-no-slope": lambda nb: answers(nb, error_term="return y - output"),
    "error-term-sign-flipped": lambda nb: answers(nb, error_term="return (output - y) * sigmoid_prime(h)"),
    "update-ignores-learnrate": lambda nb: answers(nb, update_weights="return weights + delta * x"),
    "update-returns-none": lambda nb: answers(nb, update_weights="weights = weights + learnrate * delta * x"),
    # Unfinished or broken.
    "untouched-stubs": lambda nb: nb,
    "syntax-error": lambda nb: answers(nb, error_term="return (y - output) * sigmoid_prime(h"),
    "not-json": lambda nb: nbformat.writes(answers(nb))[:3000],  # a truncated upload
}


def extra_cells(notebook: Notebook) -> Notebook:
    """Exploration a student adds: timings, shell commands, captured output, plots."""
    insert(notebook, "sigmoid", "%timeit sigmoid(np.linspace(-5, 5, 1000))", "extra-timeit")
    insert(notebook, "sigmoid_prime", "!pip list\n%load_ext autoreload", "extra-shell")
    insert(notebook, "sigmoid_prime", "%%capture\nprint(sigmoid_prime(np.linspace(-5, 5, 11)))", "extra-capture")
    insert(notebook, "update_weights",
           "h = np.linspace(-6, 6, 200)\nplt.plot(h, sigmoid(h), label='sigmoid')\n"
           "plt.plot(h, sigmoid_prime(h), label='slope')\nplt.legend()\nplt.show()", "extra-plot")
    return insert(notebook, "extra-plot", "My plot of the sigmoid and its slope.", "extra-notes", markdown=True)


def moved_sigmoid(notebook: Notebook) -> Notebook:
    """The sigmoid's answer cell deleted; the student wrote sigmoid in the sigmoid_prime cell instead."""
    source = notebook.cells[position(notebook, "sigmoid")].source
    delete(notebook, "sigmoid")
    cell = notebook.cells[position(notebook, "sigmoid_prime")]
    cell.source = source + "\n\n\n" + cell.source
    return notebook


# -- the demo submissions ------------------------------------------------------------------------

EXAMPLES: dict[str, Scenario] = {
    "ada": lambda nb: answers(nb),
    "ben": lambda nb: answers(nb, sigmoid_prime="# the slope is s(1 - s)\nreturn x * (1 - x)"),
    "chloe": lambda nb: answers(nb, error_term="error = y - output\nreturn error"),
    "dev": lambda nb: answers(nb, update_weights="# TODO: not sure about the shapes yet\n"
                                                 "raise NotImplementedError()"),
    "emma": lambda nb: answers(nb, error_term="return (y - output) * sigmoid_prime(h"),
    "farid": lambda nb: extra_cells(answers(nb, sigmoid="return 0.5 * (1 + np.tanh(x / 2))",
                                            update_weights="weights += learnrate * delta * x\nreturn weights")),
}


# -- writing -------------------------------------------------------------------------------------


def build(scenarios: dict[str, Scenario], released: Notebook, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in scenarios.items():
        result = make(copy.deepcopy(released))
        path = folder / f"{name}.ipynb"
        path.write_text(result if isinstance(result, str) else nbformat.writes(result) + "\n")
        written.append(path)
    return written


def main() -> int:
    if not RELEASE.is_file():
        print(f"{RELEASE} not found; run `.venv/bin/autograder release student-admissions` first", file=sys.stderr)
        return 1
    released = nbformat.read(RELEASE, as_version=4)
    for path in build(CORPUS, released, CORPUS_DIR) + build(EXAMPLES, released, EXAMPLES_DIR):
        print(path.relative_to(REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
