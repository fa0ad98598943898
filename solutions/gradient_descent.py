"""Reference solutions for gradient-descent: a logistic unit on points in the plane, trained with
gradient descent on the log-loss, one point at a time.

Notation as in the lesson: y_hat = sigmoid(w . x + b), E = -y ln(y_hat) - (1 - y) ln(1 - y_hat),
w_i <- w_i + alpha (y - y_hat) x_i and b <- b + alpha (y - y_hat). Trusted code: the grader
imports it, students never see it. The four answer functions, markers included, are the answer
cells of the master notebook source/gradient-descent/gradient-descent.ipynb, and `train` is its
provided cell.

Run `python solutions/gradient_descent.py [points.csv]` to train on the bundled points (or another
file with the same three columns) and print the log-loss and the accuracy every 10 epochs.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np

from autograder.authoring import DataFileError

BUNDLED_DATA = Path(__file__).resolve().parent.parent / "source" / "gradient-descent" / "data.csv"
COLUMNS = ("x1", "x2", "label")


def sigmoid(x):
    """The sigmoid 1 / (1 + e^(-x)), elementwise: a number gives a number, an array an array."""
    ### BEGIN SOLUTION
    # np.exp(-x) overflows for x below about -709; e^-|x| never does, and for x < 0
    # the same value is e^x / (1 + e^x). [()] turns a 0-d result back into a number.
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))[()]
    ### END SOLUTION


def output_formula(features, weights, bias):
    """The prediction y_hat = sigmoid(features . weights + bias).

    `features` is one point (shape (n,)), which gives a number, or a batch of points (shape (m, n)),
    which gives one prediction per point (shape (m,)).
    """
    ### BEGIN SOLUTION
    return sigmoid(np.dot(features, weights) + bias)
    ### END SOLUTION


def error_formula(y, output):
    """The log-loss E = -y ln(y_hat) - (1 - y) ln(1 - y_hat) of the prediction y_hat = output, elementwise."""
    ### BEGIN SOLUTION
    return -y * np.log(output) - (1 - y) * np.log(1 - output)
    ### END SOLUTION


def update_weights(x, y, weights, bias, learnrate):
    """One gradient descent step on the point x with label y; returns the new (weights, bias).

    With y_hat the prediction for x before the step and alpha = learnrate:
    w_i <- w_i + alpha (y - y_hat) x_i and b <- b + alpha (y - y_hat).
    Returns new values; the array `weights` passed in stays unchanged.
    """
    ### BEGIN SOLUTION
    output = output_formula(x, weights, bias)
    step = learnrate * (y - output)
    return weights + step * x, bias + step
    ### END SOLUTION


def train(features, targets, epochs=100, learnrate=0.01, seed=44, history=None):
    """Train the unit one point at a time; return (weights, bias, losses, accuracies).

    losses[e] and accuracies[e] are the mean log-loss and the share of points classified right
    (y_hat > 0.5 means label 1) on all the points after epoch e. If `history` is a list, the
    (weights, bias) after every epoch are appended to it.
    """
    n_features = features.shape[1]
    rng = np.random.default_rng(seed)
    weights = rng.normal(scale=1 / n_features**0.5, size=n_features)
    bias = 0.0
    losses, accuracies = np.zeros(epochs), np.zeros(epochs)
    for epoch in range(epochs):
        for x, y in zip(features, targets):
            weights, bias = update_weights(x, y, weights, bias, learnrate)
        output = output_formula(features, weights, bias)
        losses[epoch] = np.mean(error_formula(targets, output))
        accuracies[epoch] = np.mean((output > 0.5) == targets)
        if history is not None:
            history.append((weights, bias))
    return weights, bias, losses, accuracies


def load_data(path: Path | str = BUNDLED_DATA) -> tuple[np.ndarray, np.ndarray]:
    """(features, targets) from a headerless CSV of x1,x2,label rows, checked cell by cell."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found; check the path or restore the data file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [cells for cells in csv.reader(handle) if any(cell.strip() for cell in cells)]
    if not rows:
        raise DataFileError(path, "the file is empty; it needs one x1,x2,label row per point")
    values = np.zeros((len(rows), len(COLUMNS)))
    for row, cells in enumerate(rows, start=1):
        if len(cells) != len(COLUMNS):
            raise DataFileError(path, f"{len(cells)} fields, expected 3 (x1,x2,label)", row=row)
        for index, (column, text) in enumerate(zip(COLUMNS, cells)):
            try:
                values[row - 1, index] = float(text)
            except ValueError:
                raise DataFileError(path, f"{text.strip()!r} is not a number", row, column) from None
            if not math.isfinite(values[row - 1, index]):
                raise DataFileError(path, f"{text.strip()!r} is not a finite number", row, column)
        if values[row - 1, 2] not in (0.0, 1.0):
            raise DataFileError(path, f"the label is {cells[2].strip()} but must be 0 or 1", row, "label")
    return values[:, :2], values[:, 2]


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else BUNDLED_DATA
    try:
        features, targets = load_data(path)
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Training on {len(targets)} points from {path}")
    weights, bias, losses, accuracies = train(features, targets)
    for epoch in range(9, len(losses), 10):
        print(f"epoch {epoch + 1:3d}  log-loss {losses[epoch]:.4f}  accuracy {accuracies[epoch]:.2f}")
    print(f"boundary: {weights[0]:.4f} x1 + {weights[1]:.4f} x2 + {bias:.4f} = 0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
