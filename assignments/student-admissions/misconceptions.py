"""The classic mistakes of student-admissions: a wrong formula for each graded function, and what to tell the student.

The grader evaluates these formulas on the inputs of a failed check; when exactly one gives the
student's value, its hint is added to the feedback and its id to the result. Notation as in the
lesson: h = sum_i w_i x_i, y_hat = f(h) = sigma(h), delta = (y - y_hat) f'(h), w_i <- w_i + eta delta x_i.
"""

import numpy as np

from autograder.authoring import Misconception


def sigma(x):
    """The right sigmoid, without overflow, float32 kept float32 (the wrong formulas below build on it)."""
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))[()]


def sigma_prime(x):
    return sigma(x) * (1 - sigma(x))


CATALOGUE = [
    # sigmoid(x)
    Misconception(
        "sigmoid.positive_exponent",
        lambda x: 1 / (1 + np.exp(x)),
        "Your sigmoid computes 1 / (1 + e^(+x)), which is sigma(-x): the exponent needs a minus sign, "
        "sigma(x) = 1 / (1 + e^(-x)), so that a large positive x gives an output close to 1."),
    Misconception(
        "sigmoid.minus_in_denominator",
        lambda x: 1 / (1 - np.exp(-x)),
        "Your sigmoid computes 1 / (1 - e^(-x)), with a minus in the denominator: the sigmoid is "
        "sigma(x) = 1 / (1 + e^(-x)), which always lies between 0 and 1."),
    # sigmoid_prime(x)
    Misconception(
        "sigmoid_prime.of_the_input",
        lambda x: x * (1 - x),
        "Your sigmoid_prime computes x (1 - x) from the input itself: the slope is sigma'(x) = "
        "sigma(x)(1 - sigma(x)), so take the sigmoid first, s = sigmoid(x), and return s * (1 - s) "
        "(y_hat (1 - y_hat) is right only when you already have the output y_hat = sigma(h))."),
    Misconception(
        "sigmoid_prime.sigmoid_itself",
        lambda x: sigma(x),
        "Your sigmoid_prime returns the sigmoid sigma(x) itself, not its slope: the derivative the "
        "lesson works out is sigma'(x) = sigma(x)(1 - sigma(x))."),
    Misconception(
        "sigmoid_prime.plus_instead_of_minus",
        lambda x: sigma(x) * (1 + sigma(x)),
        "Your sigmoid_prime computes sigma(x)(1 + sigma(x)): the second factor is 1 - sigma(x), because "
        "in the lesson's derivation e^(-x) / (1 + e^(-x)) = 1 - sigma(x), so sigma'(x) = sigma(x)(1 - sigma(x))."),
    # error_term(y, output, h)
    Misconception(
        "error_term.missing_derivative",
        lambda y, output, h: y - output,
        "Your error term is (y - y_hat) without the factor f'(h): that is the cross-entropy gradient of "
        "the logistic-regression lesson, but this exercise uses the squared error E = 1/2 (y - y_hat)^2, "
        "and the chain rule through y_hat = f(h) adds the slope f'(h), so delta = (y - y_hat) f'(h)."),
    Misconception(
        "error_term.derivative_of_output",
        lambda y, output, h: (y - output) * sigma_prime(output),
        "Your error term uses f'(y_hat), the slope of the sigmoid taken at the output, instead of f'(h): "
        "the chain rule takes the slope where the sigmoid was applied, at the weighted sum h, so "
        "delta = (y - y_hat) f'(h), with f'(h) = sigmoid_prime(h)."),
    Misconception(
        "error_term.sign_flipped",
        lambda y, output, h: (output - y) * sigma_prime(h),
        "Your error term has the opposite sign, (y_hat - y) f'(h): the lesson defines delta = (y - y_hat) f'(h), "
        "so that the update w_i + eta delta x_i goes down the slope of the error instead of up."),
    # update_weights(weights, x, delta, learnrate)
    Misconception(
        "update_weights.subtracts_step",
        lambda weights, x, delta, learnrate: weights - learnrate * delta * x,
        "Your update subtracts the step, w_i - eta delta x_i: the minus sign of gradient descent is already "
        "used up, since dE/dw_i = -delta x_i, so the step is added: w_i + eta delta x_i."),
    Misconception(
        "update_weights.missing_learnrate",
        lambda weights, x, delta, learnrate: weights + delta * x,
        "Your update leaves out the learning rate: each weight moves by eta delta x_i, with eta = learnrate "
        "setting the size of the step, so the new weights are w_i + eta delta x_i."),
    Misconception(
        "update_weights.missing_input",
        lambda weights, x, delta, learnrate: weights + learnrate * delta,
        "Your update moves every weight by the same eta delta, without its own input x_i: the chain rule "
        "gives dh/dw_i = x_i, so each weight moves by eta delta x_i, that is weights + learnrate * delta * x."),
    Misconception(
        "update_weights.in_place_without_return",
        lambda weights, x, delta, learnrate: None,
        "Your update_weights changes `weights` in place to w_i + eta delta x_i but returns None: the "
        "training loop uses the value the function returns, so compute weights + learnrate * delta * x "
        "as a new array and return it.",
        leaves_inputs=lambda weights, x, delta, learnrate: (weights + learnrate * delta * x, x, delta, learnrate)),
]
