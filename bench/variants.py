"""Answers a class hands in for student-admissions, by nbgrader grade_id: right ones, wrong ones, unfinished.

Used by the benchmarks to build realistic classes: half of the submissions are right (in the three
styles students write: the lesson's formula, as most do, a tanh form and a guarded "stable" form),
the rest have a typical mistake or a function left as the stub. The mistakes are made on top of the
lesson's formula, the answer most students give.
"""

from __future__ import annotations

STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

SIGMOID_LESSON = '''def sigmoid(x):
    return 1 / (1 + np.exp(-x))'''

SIGMOID_STABLE = '''def sigmoid(x):
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))[()]'''

SIGMOID_TANH = '''def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x)))[()]'''

SIGMOID_PRIME = '''def sigmoid_prime(x):
    s = sigmoid(x)
    return s * (1 - s)'''

ERROR_TERM = '''def error_term(y, output, h):
    return (y - output) * sigmoid_prime(h)'''

ERROR_TERM_NO_SLOPE = '''def error_term(y, output, h):
    return y - output'''

UPDATE = '''def update_weights(weights, x, delta, learnrate):
    return weights + learnrate * delta * x'''

UPDATE_WRONG_SIGN = '''def update_weights(weights, x, delta, learnrate):
    return weights - learnrate * delta * x'''

UPDATE_STUB = "def update_weights(weights, x, delta, learnrate):\n" + STUB

RIGHT = {"sigmoid": SIGMOID_LESSON, "sigmoid_prime": SIGMOID_PRIME, "error_term": ERROR_TERM,
         "update_weights": UPDATE}

VARIANTS: dict[str, dict[str, str]] = {
    "right": RIGHT,
    "right-tanh": {**RIGHT, "sigmoid": SIGMOID_TANH},
    "wrong-error-term": {**RIGHT, "error_term": ERROR_TERM_NO_SLOPE},
    "right-stable": {**RIGHT, "sigmoid": SIGMOID_STABLE},
    "wrong-update-sign": {**RIGHT, "update_weights": UPDATE_WRONG_SIGN},
    "unfinished": {**RIGHT, "update_weights": UPDATE_STUB},
}


def answers_of(variant: str) -> list[str]:
    """The answer cells' sources of a variant, in notebook order."""
    return [VARIANTS[variant][name] for name in ("sigmoid", "sigmoid_prime", "error_term", "update_weights")]
