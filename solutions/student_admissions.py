"""Reference solutions for student-admissions: a single sigmoid unit trained with the delta rule.

Notation as in the lesson: h = x . w, y_hat = sigmoid(h), delta = (y - y_hat) * sigmoid'(h),
w <- w + eta * delta * x. Trusted code: the grader imports it, students never see it.
The four answer functions, markers included, are the answer cells of the master notebook
source/student-admissions/student-admissions.ipynb, and train_network is its provided cell.

Run `python solutions/student_admissions.py [data.csv]` to train on the bundled data (or another
file with the same columns) and print the training loss and the test accuracy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from autograder.authoring import DataFileError, read_table

if TYPE_CHECKING:  # pandas is imported when data is read (read_table), not with the reference
    import pandas as pd

FEATURES = ["gre", "gpa", "rank_1", "rank_2", "rank_3", "rank_4"]
COLUMNS = {"admit": int, "gre": float, "gpa": float, "rank": int}
BUNDLED_DATA = Path(__file__).resolve().parent.parent / "source" / "student-admissions" / "student_data.csv"


def sigmoid(x):
    """The sigmoid 1 / (1 + e^(-x)); applied to h it gives the output y_hat = sigmoid(h).

    Works elementwise: a number gives a number, an array an array of the same shape.
    Large |x| must not give nan.
    """
    ### BEGIN SOLUTION
    # e^-|x| <= 1 never overflows; for x < 0 we use sigmoid(x) = e^x / (1 + e^x).
    # float32 in gives float32 out, anything else float64; [()] makes a 0-d result a scalar.
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))[()]
    ### END SOLUTION


def sigmoid_prime(x):
    """The slope of the sigmoid: sigmoid'(h) = sigmoid(h) * (1 - sigmoid(h)), elementwise."""
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1 - s)
    ### END SOLUTION


def error_term(y, output, h):
    """The error term delta = (y - y_hat) * f'(h), for target y and output y_hat = f(h) = sigmoid(h)."""
    ### BEGIN SOLUTION
    return (y - output) * sigmoid_prime(h)
    ### END SOLUTION


def update_weights(weights, x, delta, learnrate):
    """One gradient descent step: the new weights w + eta * delta * x, with eta = learnrate.

    Returns a new array; the array `weights` passed in stays unchanged.
    """
    ### BEGIN SOLUTION
    return weights + learnrate * delta * x
    ### END SOLUTION


def load_data(path: Path | str) -> pd.DataFrame:
    """The admissions CSV at `path`, checked: numeric columns, admit in {0, 1}, rank in 1..4."""
    data = read_table(path, COLUMNS)
    for column, allowed in (("admit", {0, 1}), ("rank", {1, 2, 3, 4})):
        bad = ~data[column].isin(allowed)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DataFileError(
                path,
                f"{column} is {data[column].iloc[row - 1]} but must be one of {sorted(allowed)} "
                f"(data row {row}, counting from the first line under the header)",
                row=row,
                column=column,
            )
    return data


def prepare_data(data: pd.DataFrame, seed: int = 42, test_fraction: float = 0.1):
    """(features, targets, features_test, targets_test): one-hot rank, scaled scores, a seeded split."""
    data = data.copy()
    for rank in range(1, 5):  # all four columns even when a rank is absent from the sample
        data[f"rank_{rank}"] = (data["rank"] == rank).astype(float)
    data["gre"] = data["gre"] / 800
    data["gpa"] = data["gpa"] / 4.0
    features_all = data[FEATURES].to_numpy(dtype=np.float64)
    targets_all = data["admit"].to_numpy(dtype=np.float64)
    n = len(data)
    rng = np.random.default_rng(seed)
    train_idx = rng.choice(n, size=int(n * (1 - test_fraction)), replace=False)
    test_mask = np.ones(n, dtype=bool)
    test_mask[train_idx] = False
    return features_all[train_idx], targets_all[train_idx], features_all[test_mask], targets_all[test_mask]


def training_data(path: Path | str):
    """`prepare_data(load_data(path))`: the hidden suite keeps it with `cached`, so that a grader whose
    cache is warm neither reads the table nor imports pandas."""
    return prepare_data(load_data(path))


def train_network(features, targets, epochs=1000, learnrate=0.5, seed=42):
    """Train one sigmoid unit with the delta rule, one record at a time; return (weights, losses)."""
    n_features = features.shape[1]
    rng = np.random.default_rng(seed)
    weights = rng.normal(scale=1 / n_features**0.5, size=n_features)
    losses = np.zeros(epochs)
    for epoch in range(epochs):
        for x, y in zip(features, targets):
            h = np.dot(x, weights)
            output = sigmoid(h)
            delta = error_term(y, output, h)
            weights = update_weights(weights, x, delta, learnrate)
        # Mean squared error on the whole training set after this epoch
        losses[epoch] = np.mean((sigmoid(features @ weights) - targets) ** 2)
    return weights, losses


def accuracy(features, targets, weights) -> float:
    """Share of records whose prediction (y_hat > 0.5) matches the target."""
    return float(np.mean((sigmoid(features @ weights) > 0.5) == targets))


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else BUNDLED_DATA
    try:
        data = load_data(path)
    except DataFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    features, targets, features_test, targets_test = prepare_data(data)
    print(f"Training on {len(targets)} records from {path}, testing on {len(targets_test)}")
    weights, losses = train_network(features, targets)
    for epoch in range(99, len(losses), 100):
        print(f"epoch {epoch + 1:4d}  training loss {losses[epoch]:.4f}")
    print(f"test accuracy {accuracy(features_test, targets_test, weights):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
