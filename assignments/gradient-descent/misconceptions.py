"""The classic mistakes of gradient-descent: a wrong formula for each graded function, and what to tell the student.

The grader evaluates these formulas on the inputs of a failed check; when exactly one gives the
student's value, its hint is added to the feedback and its id to the result. Notation as in the
lesson: y_hat = sigma(w . x + b), E = -y ln(y_hat) - (1 - y) ln(1 - y_hat),
w_i <- w_i + alpha (y - y_hat) x_i and b <- b + alpha (y - y_hat).
"""

import numpy as np

from autograder.authoring import Misconception


def sigma(x):
    """The right sigmoid, without overflow (the wrong formulas below build on it)."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))[()]


def log_loss(y, output):
    return -y * np.log(output) - (1 - y) * np.log(1 - output)


def steps(x, y, weights, bias, learnrate, scale=1.0):
    """The new (weights, bias) of a step `scale` * alpha (y - y_hat) from the prediction before the step."""
    step = scale * learnrate * (y - sigma(np.dot(x, weights) + bias))
    return weights + step * x, bias + step


def prediction_after_step(x, y, weights, bias, learnrate):
    weights = weights + learnrate * (y - sigma(np.dot(x, weights) + bias)) * x
    return weights, bias + learnrate * (y - sigma(np.dot(x, weights) + bias))


def missing_learnrate(x, y, weights, bias, learnrate):
    error = y - sigma(np.dot(x, weights) + bias)
    return weights + error * x, bias + error


CATALOGUE = [
    # sigmoid(x)
    Misconception(
        "sigmoid.positive_exponent",
        lambda x: 1 / (1 + np.exp(x)),
        "Your sigmoid computes 1 / (1 + e^(+x)), which is sigma(-x): the exponent needs a minus sign, "
        "sigma(x) = 1 / (1 + e^(-x)), so that a large positive x gives a prediction close to 1."),
    Misconception(
        "sigmoid.minus_in_denominator",
        lambda x: 1 / (1 - np.exp(-x)),
        "Your sigmoid computes 1 / (1 - e^(-x)), with a minus in the denominator: the sigmoid is "
        "sigma(x) = 1 / (1 + e^(-x)), which always lies between 0 and 1."),
    # output_formula(features, weights, bias)
    Misconception(
        "output_formula.missing_sigmoid",
        lambda features, weights, bias: np.dot(features, weights) + bias,
        "Your output_formula returns the weighted sum w . x + b itself: the prediction is that sum passed "
        "through the sigmoid, y_hat = sigma(w_1 x_1 + ... + w_n x_n + b), a number between 0 and 1."),
    Misconception(
        "output_formula.missing_bias",
        lambda features, weights, bias: sigma(np.dot(features, weights)),
        "Your output_formula leaves out the bias: the prediction is y_hat = sigma(w_1 x_1 + ... + w_n x_n + b), "
        "so add b to the weighted sum before taking the sigmoid."),
    Misconception(
        "output_formula.sum_collapses_batch",
        lambda features, weights, bias: sigma(np.sum(features * weights) + bias),
        "Your output_formula adds up w_i x_i over all the points at once (np.sum), so a batch of m points "
        "gives one number instead of m predictions y_hat: np.dot(features, weights) sums within each point."),
    # error_formula(y, output)
    Misconception(
        "error_formula.missing_minus",
        lambda y, output: y * np.log(output) + (1 - y) * np.log(1 - output),
        "Your log-loss has the wrong sign: ln(y_hat) is negative for 0 < y_hat < 1, so the lesson puts a minus "
        "in front of both terms, E = -y ln(y_hat) - (1 - y) ln(1 - y_hat), which makes every error positive."),
    Misconception(
        "error_formula.flipped_second_term",
        lambda y, output: -y * np.log(output) + (1 - y) * np.log(1 - output),
        "The second term of your log-loss has the wrong sign: both terms are subtracted, "
        "E = -y ln(y_hat) - (1 - y) ln(1 - y_hat), so a point with label y = 0 has the positive error -ln(1 - y_hat)."),
    Misconception(
        "error_formula.swapped_logs",
        lambda y, output: -y * np.log(1 - output) - (1 - y) * np.log(output),
        "Your log-loss pairs each label with the other logarithm: for y = 1 the error is -ln(y_hat), small when "
        "y_hat is close to 1, so E = -y ln(y_hat) - (1 - y) ln(1 - y_hat)."),
    Misconception(
        "error_formula.sum_collapses_batch",
        lambda y, output: np.sum(log_loss(y, output)),
        "Your error_formula adds up the errors of all the points (np.sum), so a batch gives one number: it "
        "should give one error E = -y ln(y_hat) - (1 - y) ln(1 - y_hat) per point, elementwise."),
    Misconception(
        "error_formula.mean_collapses_batch",
        lambda y, output: np.mean(log_loss(y, output)),
        "Your error_formula averages the errors of all the points (np.mean), so a batch gives one number: it "
        "should give one error E = -y ln(y_hat) - (1 - y) ln(1 - y_hat) per point; the training takes the mean."),
    # update_weights(x, y, weights, bias, learnrate)
    Misconception(
        "update_weights.prediction_after_step",
        prediction_after_step,
        "Your bias step uses a second prediction, made with the weights you had just changed: both steps use "
        "the same y_hat, the prediction for x before the step, so compute y_hat once and then "
        "w_i + alpha (y - y_hat) x_i and b + alpha (y - y_hat)."),
    Misconception(
        "update_weights.missing_bias_step",
        lambda x, y, weights, bias, learnrate: (steps(x, y, weights, bias, learnrate)[0], bias),
        "Your update leaves the bias as it was: the bias takes a step too, b + alpha (y - y_hat), because the "
        "gradient of E has the component dE/db = -(y - y_hat)."),
    Misconception(
        "update_weights.step_sign",
        lambda x, y, weights, bias, learnrate: steps(x, y, weights, bias, learnrate, scale=-1.0),
        "Your step goes the wrong way: the gradient is -(y - y_hat)(x_1, ..., x_n, 1), and subtracting it gives "
        "w_i + alpha (y - y_hat) x_i and b + alpha (y - y_hat), with a plus sign."),
    Misconception(
        "update_weights.missing_learnrate",
        missing_learnrate,
        "Your step leaves out the learning rate: the weights and the bias move by alpha (y - y_hat) x_i and "
        "alpha (y - y_hat), with alpha = learnrate setting the size of the step."),
]
