"""Right answers to the lessons' notebooks, cell by cell: shared by the suites' own tests and `autograder check`'s."""

GRADIENT_DESCENT = {
    "sigmoid": "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))",
    "output_formula": "def output_formula(features, weights, bias):\n"
                      "    return sigmoid(np.dot(features, weights) + bias)",
    "error_formula": "def error_formula(y, output):\n"
                     "    return -y * np.log(output) - (1 - y) * np.log(1 - output)",
    "update_weights": "def update_weights(x, y, weights, bias, learnrate):\n"
                      "    d_error = y - output_formula(x, weights, bias)\n"
                      "    return weights + learnrate * d_error * x, bias + learnrate * d_error",
}
