"""The catalogue of likely mistakes, kept out of the notebooks' visible check cells.

A check cell states what it checks in a few lines; the wrong answers it recognises, and the hint
each one gets, live here. A hint names the mistake ("the bias seems to be missing") and never
prints the corrected line.

``CHECK_CELLS``: each graded check cell's id (its nbgrader grade_id) -> (the exercise functions it
calls through ``checks.call``, its points). ``checks`` reads it to say "not attempted yet: 0 of N
points" and ``my_nn.save`` to tell which functions passed all their checks. tests/test_checks.py
keeps it equal to the notebooks' metadata.
"""

from __future__ import annotations

import numpy as np

CHECK_CELLS: dict[str, tuple[tuple[str, ...], int]] = {
    'test_linear_forward': (('linear_forward',), 1),  # 01_forward_propagation
    'test_sigmoid_forward': (('sigmoid_forward',), 1),  # 01_forward_propagation
    'test_relu_forward': (('relu_forward',), 1),  # 01_forward_propagation
    'test_leaky_relu_forward': (('leaky_relu_forward',), 1),  # 01_forward_propagation
    'test_tanh_forward': (('tanh_forward',), 1),  # 01_forward_propagation
    'test_softmax': (('softmax',), 1),  # 01_forward_propagation
    'test_forward': (('forward',), 1),  # 01_forward_propagation
    'test_forward_caches': (('forward',), 1),  # 01_forward_propagation
    'test_half_squared_error': (('half_squared_error',), 1),  # 02_loss_functions
    'test_mse': (('mse',), 1),  # 02_loss_functions
    'test_binary_cross_entropy': (('binary_cross_entropy',), 1),  # 02_loss_functions
    'test_binary_cross_entropy_with_logits': (('binary_cross_entropy_with_logits',), 1),  # 02_loss_functions
    'test_categorical_cross_entropy': (('categorical_cross_entropy',), 2),  # 02_loss_functions
    'test_softmax_cross_entropy': (('softmax_cross_entropy',), 2),  # 02_loss_functions
    'test_sigmoid_backward': (('sigmoid_backward',), 1),  # 03_backpropagation
    'test_relu_backward': (('relu_backward',), 1),  # 03_backpropagation
    'test_tanh_backward': (('tanh_backward',), 1),  # 03_backpropagation
    'test_linear_backward': (('linear_backward',), 1),  # 03_backpropagation
    'test_numerical_gradient': (('numerical_gradient',), 1),  # 03_backpropagation
    'test_gradient_check': (('gradient_check',), 1),  # 03_backpropagation
    'test_two_layer_backward': (('two_layer_backward',), 2),  # 03_backpropagation
    'test_find_the_bug': (('gradient_report', 'fixed_backward'), 1),  # 03_backpropagation
    'test_gradient_descent_step': (('gradient_descent_step',), 1),  # 04_learning_rate
    'test_minibatches': (('minibatches',), 2),  # 04_learning_rate
    'test_linear_decay': (('linear_decay',), 2),  # 04_learning_rate
    'test_train_neuron': (('train_neuron',), 3),  # 04_learning_rate
    'test_least_squares': (('least_squares',), 2),  # 05_xor
    'test_add_feature_cross': (('add_feature_cross',), 1),  # 05_xor
    'test_relu_network': (('relu_network',), 2),  # 05_xor
    'test_train_network': (('train_network',), 2),  # 05_xor
    'test_symmetry_experiment': (('symmetry_experiment',), 2),  # 05_xor
    'test_momentum_update': (('momentum_update',), 2),  # 06_optimizers
    'test_adagrad_update': (('adagrad_update',), 2),  # 06_optimizers
    'test_rmsprop_update': (('rmsprop_update',), 2),  # 06_optimizers
    'test_adam_update': (('adam_update',), 2),  # 06_optimizers
    'test_cost_and_gradient': ((), 1),  # 06_optimizers
    'test_l2_penalty': (('l2_penalty',), 1),  # 07_regularization
    'test_l2_penalty_gradient': (('l2_penalty',), 1),  # 07_regularization
    'test_dropout_forward_training': (('dropout_forward',), 1),  # 07_regularization
    'test_dropout_forward_inference': (('dropout_forward',), 1),  # 07_regularization
    'test_dropout_backward': (('dropout_backward',), 1),  # 07_regularization
    'test_early_stopping': (('early_stopping',), 1),  # 07_regularization
    'test_early_stopping_ties_min_delta': (('early_stopping',), 1),  # 07_regularization
    'test_regularization_settings': (('regularization_settings',), 1),  # 07_regularization
    'test_batchnorm_forward_training': (('batchnorm_forward',), 1),  # 08_batch_normalization
    'test_batchnorm_forward_running': ((), 1),  # 08_batch_normalization
    'test_batchnorm_forward_inference': ((), 1),  # 08_batch_normalization
    'test_batchnorm_backward_params': (('batchnorm_backward',), 1),  # 08_batch_normalization
    'test_batchnorm_backward_dx': (('batchnorm_backward',), 2),  # 08_batch_normalization
    'test_count_parameters': (('count_parameters',), 1),  # 08_batch_normalization
    'test_count_parameters_batchnorm': (('count_parameters',), 1),  # 08_batch_normalization
    'test_init_params_layout': (('init_params',), 1),  # 09_capstone
    'test_init_params_variances': (('init_params',), 1),  # 09_capstone
    'test_model_forward': (('model_forward',), 1),  # 09_capstone
    'test_model_backward': ((), 1),  # 09_capstone
    'test_model_backward_depths': ((), 1),  # 09_capstone
    'test_train_minibatches': (('train',), 1),  # 09_capstone
    'test_train_learns': (('train',), 1),  # 09_capstone
    'test_evaluate': (('evaluate',), 1),  # 09_capstone
}

# The corrected lines that no visible check cell and no hint may print (tests/test_checks.py
# searches notebooks/ and the hints below for each, spaces ignored).
CORRECTED_LINES = {
    "linear_forward": ["X @ W + b", "Z = X @ W"],
    "sigmoid_forward": ["1 / (1 + e^(−z))", "1/(1 + e)", "e/(1 + e)", "exp(−|z|)"],
    "relu_forward": ["max(0, z)", "np.maximum(z, 0)", "np.maximum(0, z)"],
    "leaky_relu_forward": ["np.where(z > 0, z, alpha * z)", "alpha * z elsewhere"],
    "tanh_forward": ["2σ(2z) − 1", "2 * s - 1"],
    "softmax": ["axis=-1 with keepdims=True", "softmax(z / T)", "s.max(axis=-1",
                "subtract each row's maximum"],
    "forward": ["apply activations[-1]", "layer l uses activations[l]"],
    "train_network": ["p.data = p.data - lr * p.grad", "record each cost before updating"],
    "add_feature_cross": ["append x₁·x₂ last", "multiplies the features, x₁·x₂"],
    "relu_network": ["apply max(0, ·) to X @ W + c", "ŷ = H w + b"],
    "momentum_update": ["v ← γv + ηg", "w ← w − v"],
    "adagrad_update": ["divide by √r + δ", "√r + δ", "update r first"],
    "rmsprop_update": ["r ← ρr + (1 − ρ)g⊙g", "√r + δ", "the first r is (1 − ρ) g⊙g"],
    "adam_update": ["v̂ = v / (1 − β₂ᵗ)", "m̂ = m / (1 − β₁ᵗ)", "√v̂ + ε", "divide m by 1 − β₁ᵗ",
                    "increment t before the update", "t ← t + 1"],
    "cost_and_gradient": ["write θ into the parameters first"],
    "l2_penalty": ["the derivative of λw² is 2λw", "square each weight before adding",
                   "multiply the sum of squares "
                   "by lam"],
    "dropout_forward": ["rng.random(x.shape) >= rate", "divides them by 1 − rate",
                        "out = x * mask", "divide by the keep probability"],
    "dropout_backward": ["multiply dout by the mask"],
    "early_stopping": ["compare with <, not <=", "value < best − min_delta",
                       "compare each value with the best"],
    "batchnorm_forward": ["out = γ · x̂ + β", "divide by √(σ² + ε)", "(x.var(axis=0))",
                          "over the batch, with axis=0", "r ← 0.9 r + 0.1 · batch mean",
                          "state['running_mean'] = ...", "inv_std = 1 / √(running var + ε)",
                          "store its inverse, 1 / √(σ² + ε)", "add ε inside the square root",
                          "divide by √(running var + ε)"],
    "batchnorm_backward": ["so dgamma = Σ dout · x̂", "dbeta = Σ dout.", "dx = dout · γ · inv_std",
                           "subtract x̂ · mean(g · x̂)", "−x̂ · mean(g · x̂)",
                           "(sum over axis 0)"],
    "count_parameters": ["n_in · n_out weights and n_out biases"],
    "least_squares": ["column of ones in front of X"],
    "half_squared_error": ["(ŷ − y) / N", "square the difference, then halve"],
    "mse": ["2 (ŷ − y) / size", "is 2 (ŷ − y)"],
    "binary_cross_entropy": ["−[y log p + (1 − y) log(1 − p)]", "(p − y) / (p (1 − p)) / N",
                             "clip p into [1e-12"],
    "binary_cross_entropy_with_logits": ["max(z, 0) − z·y + log(1 + e^−|z|)", "(σ(z) − y) / N",
                                         "use e^(−|z|)"],
    "categorical_cross_entropy": ["p[np.arange(N), y]", "d(−log p)/dp = −1/p",
                                  "clip p to at least 1e-12"],
    "softmax_cross_entropy": ["(p − y) / N", "z − m − log Σ exp(z − m)"],
    "sigmoid_backward": ["σ' = σ(z)(1 − σ(z))", "dout * out * (1 - out)"],
    "relu_backward": ["use z > 0, not z >= 0"],
    "tanh_backward": ["1 − out * out", "1 - out * out", "tanh' = 1 − tanh²"],
    "linear_backward": ["dX = dout · Wᵀ", "dW = Xᵀ · dout", "db = dout.sum(axis=0)"],
    "numerical_gradient": ["(f(x + ε) − f(x − ε)) / 2ε", "divide by 2ε"],
    "gradient_check": ["max(‖a‖ + ‖n‖, 1e-12)", "divide by ‖a‖ + ‖n‖"],
    "two_layer_backward": ["dW2 = A1ᵀ · dZ2", "dZ1 = dA1 · A1(1 − A1)", "db = dZ.sum(axis=0)",
                           "dW = Aᵀ · dZ"],
    "gradient_descent_step": ["w − η · dw", "scale the step by η"],
    "minibatches": ["order = rng.permutation(X.shape[0])", "X[order[start:start + batch_size]]",
                    "y[order[start:start + batch_size]]", "X[order], y[order]"],
    "linear_decay": ["return lr_tau once k ≥ τ", "α = k / τ"],
    "train_neuron": ["W − η · dW", "b = b − η · db", "append the cost before updating"],
}


# --- notebook 01 -----------------------------------------------------------------------------

def linear_forward(X, W, b):
    """(wrong Z, hint) pairs for linear_forward(X, W, b) on a square batch."""
    return [
        (X @ W, "the bias seems to be missing."),
        (X @ W + b[:, None], "the bias went down the columns, one value per example: b holds "
         "one value per neuron (per column of Z)."),
        (W @ X + b, "the factors of the matrix product seem to be in the wrong order: the "
         "examples are the rows of X."),
        (X @ W.T + b, "W seems to have been used transposed: W is (D, M), inputs by outputs "
         "(Khan 2019 and PyTorch store the transpose)."),
        (X.T @ W + b, "X seems to have been used transposed: its rows are the examples."),
        ((X @ W).T + b, "the product seems to have come out transposed: the examples are the "
         "rows of Z."),
    ]


def sigmoid_forward(z, s):
    """(wrong out, hint) pairs for sigmoid_forward(z); ``s`` is the right σ(z)."""
    return [(1 - s, "it matches σ(−z): check the sign in the exponent.")]


def output_cache(z, what: str, derivative: str):
    """The cache of an activation whose backward pass reads its output (sigmoid, tanh)."""
    return [(z, f"the cache holds z: this cache should be the output {what}; the backward "
             f"pass computes {derivative} from it.")]


SIGMOID_OVERFLOW = ("exp of a large number overflows (e^1000 is far beyond the largest float64, "
                    "about 1.8e308): an exponential that stays in (0, 1] for every z avoids it, "
                    "and np.where computes both of its branches everywhere, so neither branch "
                    "may hold an exponential that can overflow.")


def relu_forward(z):
    return [
        (np.maximum(z, 1.0), "values below 1 were raised to 1: ReLU compares with 0."),
        ((z > 0).astype(float), "that is the mask z > 0 (zeros and ones), not the values."),
        (np.minimum(z, 0.0), "the branches seem swapped: ReLU keeps the positive values."),
        (np.abs(z), "negative inputs came out positive: ReLU sets them to 0."),
    ]


def leaky_relu_forward(z, alpha):
    pairs = [
        (np.maximum(z, 0.0), "negative inputs became 0: that is plain ReLU; leaky ReLU keeps a "
         "small slope for them."),
        (alpha * z, "the positive inputs were multiplied by alpha too."),
        (np.where(z > 0, alpha * z, z), "the two branches seem swapped."),
    ]
    if alpha != 0.01:
        pairs.append((np.where(z > 0, z, 0.01 * z),
                      "the alpha you were given seems to be ignored (a fixed 0.01 instead)."))
    return pairs


def tanh_forward(z):
    sigma_z = 1 / (1 + np.exp(-z))
    sigma_2z = 1 / (1 + np.exp(-2 * z))
    return [
        (2 * sigma_z - 1, "it matches tanh(z/2): the identity needs the sigmoid of another "
         "argument."),
        (sigma_2z, "it matches σ(2z) alone: the identity also stretches and shifts it."),
        (2 * sigma_2z, "it matches 2σ(2z): the shift is missing."),
        (sigma_2z - 1, "it matches σ(2z) − 1: the factor is missing."),
    ]


TANH_OVERFLOW = ("e^z or e^(−z) overflows for |z| near 1000, and inf/inf gives nan: the identity "
                 "of the text, built on the stable F.sigmoid_forward, avoids it.")


def softmax_batch(Z):
    E = np.exp(Z)
    return [
        (E / E.sum(axis=0, keepdims=True), "each column sums to 1 instead of each row: the rows "
         "are the examples."),
        (E / E.sum(), "the whole batch sums to 1 instead of each row."),
    ]


def softmax_temperature(z, T, p_at_1):
    e = np.exp(z * T - (z * T).max())
    return [(e / e.sum(), "it matches the scores multiplied by T: see how the text uses T."),
            (p_at_1, "T made no difference.")]


def softmax_overflow(softmax) -> str:
    """The hint for a softmax that warns on scores near ±1000: a shift by the batch's single
    maximum is told apart from no shift at all by trying each row on its own."""
    rows = [np.array([[1000.0, 999.0, 998.0]]), np.array([[-1000.0, -1000.0, -1000.0]])]
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            singles = [np.asarray(softmax(row.copy()), dtype=float) for row in rows]
        rows_ok = all(np.all(np.isfinite(p)) for p in singles)
    except Exception:  # the learner's code: any failure means "not this mistake"
        rows_ok = False
    if rows_ok:
        return ("each row on its own is fine, so the shift seems to use one maximum for the "
                "whole batch: the row near −1000 then still reaches e^(−2000) = 0, and 0/0 is "
                "nan. Every row needs its own shift.")
    return ("e^1000 overflows to inf and inf/inf is nan (and e^(−1000) underflows to 0, so 0/0 "
            "is nan): the text shows a shift of the scores that leaves the probabilities "
            "unchanged and keeps every exponential finite.")


def forward_output(Z_last):
    return [(Z_last, "that is the last layer's Z: its activation seems to be missing.")]


def forward_three_layers(X, params):
    (Wa, ba), (Wb, bb), (Wc, bc) = params
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    Z_b = relu(X @ Wa + ba) @ Wb + bb
    return [
        (relu(relu(Z_b) @ Wc + bc), "every layer seems to use the first activation."),
        (relu(np.tanh((X @ Wa + ba) @ Wb + bb) @ Wc + bc),
         "the activations seem to be applied in reverse order."),
        (Z_b @ Wc + bc, "the middle layer's activation seems to be missing."),
    ]


FORWARD_ACTIVATION_CACHE_NONE = ("a layer's activation cache is None: was that layer's "
                                 "activation applied (the last one too)?")


# --- notebook 05 -----------------------------------------------------------------------------

def least_squares_w_shape(n_features: int):
    """Shapes that w takes after known mistakes, with their hints."""
    return [
        ((n_features, 1), "w came out as a column: y arrives here as (N, 1), and the fitted "
         "weights take that shape; w should hold one number per feature."),
        ((n_features + 1,), "w has one entry too many: the intercept belongs in w0, not in w."),
        ((n_features + 1, 1), "w has one entry too many and comes as a column: the intercept "
         "belongs in w0, and y arrives here as (N, 1)."),
    ]


LEAST_SQUARES_NO_INTERCEPT = ("it matches a fit without the intercept: w0 has to be fitted "
                              "together with w.")
TRAIN_NETWORK_NOT_DOWN = ("the cost did not go down during training: check the direction of "
                          "the step and that the new value is stored in the parameter itself.")


def add_feature_cross_gate():
    """(wrong output, hint) pairs for add_feature_cross on the four XOR inputs."""
    return [([[0.0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 2]], "the third column seems to be "
             "x₁ + x₂: a feature cross is not a sum."),
            ([[0.0, 0, 0], [0, 1, 0], [1, 0, 1], [1, 1, 1]], "the third column seems to be x₁²: "
             "the cross combines the two features."),
            ([[0.0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 1]], "the cross seems to be in the first "
             "column: the original features come first.")]


def relu_network_lecture():
    """(pairs with the lecture notes' weights, pairs with w negated)."""
    return ([([[2.0], [1.0], [1.0], [0.0]], "it matches the network with no ReLU at work on the "
              "hidden layer (whose bias counts too).")],
            [([[0.0], [0.0], [0.0], [0.0]], "negative outputs were cut to 0: the output layer "
              "seems to have a ReLU as well.")])


def train_network_first_cost(cost, after_one_update):
    return [(2 * cost, "it is twice the half squared error, the cost Khan (2019) prints "
             "(losses.half_squared_error)."),
            (after_one_update, "it matches the cost after the first update: the cost seems to "
             "be recorded after updating the weights.")]


def train_network_later_cost(one_update_later):
    return [(one_update_later, "it matches the cost one update later: each cost seems to be "
             "recorded after its update.")]


# --- notebook 02 -----------------------------------------------------------------------------

SIGN_FLIPPED = "the sign seems to be flipped."
GRADIENT_SIGN_FLIPPED = "the sign of the gradient seems to be flipped."
MEAN_MISSING = "the 1/N seems to be missing: the cost is the mean over the N examples."
GRADIENT_MEAN_MISSING = "the 1/N seems to be missing from the gradient: the cost is a mean."


def half_squared_error_one():
    """(wrong loss, hint) pairs for half_squared_error on ŷ = 0.5, y = 0 (right: 0.125)."""
    return [(0.25, "it matches (ŷ − y)²: the ½ in front seems to be missing."),
            (0.5, "it matches |ŷ − y|: the difference seems not to be squared and halved.")]


def half_squared_error_or(cost):
    return [(4 * cost, "it matches the sum of the four losses: the cost is their mean.")]


def half_squared_error_batch(loss, n_outputs):
    """The loss on a (4, n_outputs) batch."""
    return [(4 * loss, MEAN_MISSING),
            (loss / n_outputs, "it seems divided by all N·K entries, not by the N rows: the K "
             "outputs of one example add up to its loss."),
            (2 * loss, "the ½ seems to be missing.")]


def half_squared_error_gradient(grad, n_outputs):
    return [(4 * grad, GRADIENT_MEAN_MISSING),
            (-grad, GRADIENT_SIGN_FLIPPED),
            (2 * grad, "a factor 2 too many: the 2 from the square and the ½ should cancel."),
            (grad / n_outputs, "it seems divided by every entry, not by the N rows.")]


MSE_HALF = "it matches the half squared error, with its ½: MSE has none."
MSE_FACTOR_2 = "the factor 2 that the square brings down seems to be missing."


def mse_one():
    """(wrong loss pairs, wrong gradient pairs) for mse on ŷ = 0.5, y = 0."""
    return [(0.125, MSE_HALF)], [([[0.5]], MSE_FACTOR_2)]


def mse_batch(loss, n_rows, n_outputs):
    return [(loss / 2, MSE_HALF),
            (n_outputs * loss, "it seems averaged over the N rows only: MSE averages over "
             "every entry (N·K)."),
            (n_rows * n_outputs * loss, "it matches the sum: the division of the mean seems "
             "to be missing."),
            (n_outputs * loss / 2, "it matches ½ · sum / N, the half squared error: MSE is the "
             "plain mean of every squared entry.")]


def mse_gradient(grad, n_rows, n_outputs):
    return [(grad / 2, MSE_FACTOR_2),
            (n_outputs * grad, "it seems divided by the N rows only, not by every entry."),
            (n_rows * n_outputs * grad, "the division of the mean seems to be missing from the "
             "gradient."),
            (-grad, GRADIENT_SIGN_FLIPPED)]


def binary_cross_entropy_or(p, y, loss):
    """The cost on the OR table (4 examples): p the neuron's predictions, y the labels."""
    return [(4 * loss, MEAN_MISSING),
            (-loss, SIGN_FLIPPED),
            (lambda: -np.sum(y * np.log(p)) / 4, "the term for the examples with y = 0 seems "
             "to be missing: such an example costs something too.")]


def binary_cross_entropy_or_gradient(p, y, grad):
    return [((p - y) / 4, "it matches dJ/dz, the gradient with respect to the sigmoid's input: "
             "this function returns dJ/dp."),
            (4 * grad, GRADIENT_MEAN_MISSING),
            (-grad, GRADIENT_SIGN_FLIPPED)]


BCE_LOG_OF_ZERO = ("the log of 0 is −inf (and 0 · log 0 is nan): p = 0 or p = 1 seems to reach a "
                   "log unguarded; the text shows how to keep it away, in the gradient too.")


def bce_with_logits_one():
    """(wrong loss pairs, wrong gradient pairs) for z = 0, y = 1."""
    return ([(-np.log(2), SIGN_FLIPPED)],
            [([[0.5]], GRADIENT_SIGN_FLIPPED),
             ([[-2.0]], "it matches dL/dp: this function returns the gradient with respect to "
              "z, where the p(1 − p) cancels.")])


def bce_with_logits_or(z, y, loss):
    return [(4 * loss, MEAN_MISSING),
            (lambda: np.mean(-z * y + np.log1p(np.exp(-np.abs(z)))),
             "the max(z, 0) term seems to be missing: it matters for z > 0.")]


def bce_with_logits_or_gradient(p, y):
    return [(p - y, GRADIENT_MEAN_MISSING),
            (p / 4, "the − y seems to be missing."),
            ((p - y) / (p * (1 - p)) / 4, "it matches dJ/dp: this function returns the gradient "
             "with respect to z.")]


BCE_WITH_LOGITS_OVERFLOW = ("e^(−z) overflows for z = −1000 (and e^z for z = 1000): an "
                            "exponential that stays in (0, 1] for every z avoids it, in the loss "
                            "and in σ(z).")


def bce_with_logits_far():
    """(wrong loss pairs, wrong gradient pairs) for two units wrong by |z| = 1000."""
    clipped = ("it matches the clipped probability form (−log 1e-12 ≈ 27.6): the loss seems to "
               "go through p; computed from z directly it stays exact.")
    low, high = -np.log(1e-12), -np.log(1 - (1 - 1e-12))  # p clipped at 1e-12, or at 1 − 1e-12
    return ([(low, clipped), (high, clipped), ((low + high) / 2, clipped)],
            [([[0.0], [0.0]], "the gradient vanished: it seems to go through a clipped p.")])


def categorical_cross_entropy_dog(P_row):
    return [(np.log(0.88), SIGN_FLIPPED),
            (-np.log(P_row).sum(), "it matches the sum of −log p over every class: only the "
             "true class (the one with y = 1) counts.")]


def categorical_cross_entropy_table(P, labels, cost):
    """The five-image table: P (N, K) probabilities, labels the true class indices."""
    n = len(P)
    return [(n * cost, MEAN_MISSING),
            (cost / n, "it seems averaged over all N·K entries, not over the N rows."),
            (lambda: -np.log(P[:, labels]).mean(), "it matches p[:, y], which picks whole "
             "columns: the loss needs one entry per row.")]


def categorical_cross_entropy_gradient(P, one_hot, grad):
    n = len(P)
    return [(n * grad, GRADIENT_MEAN_MISSING),
            (-grad, GRADIENT_SIGN_FLIPPED),
            (lambda: -np.log(P) * one_hot / n, "it matches the loss of each entry, not its "
             "derivative.")]


CCE_LOG_OF_ZERO = ("the log of 0 is −inf: a p of 0 seems to reach the log (or the division in "
                   "the gradient) unguarded.")


def softmax_cross_entropy_table(cost, n):
    return [(n * cost, MEAN_MISSING), (-cost, SIGN_FLIPPED)]


def softmax_cross_entropy_gradient(P, one_hot, grad):
    n = len(P)
    return [(n * grad, GRADIENT_MEAN_MISSING),
            (-grad, GRADIENT_SIGN_FLIPPED),
            (P / n, "the − y seems to be missing."),
            (lambda: -one_hot / P / n, "it matches the gradient with respect to p: this "
             "function returns the gradient with respect to the logits.")]


SOFTMAX_CE_NO_SHIFT = ("exp overflowed: that looks like a softmax without the shift of section 6 "
                       "of notebook 01, one per row.")


def softmax_cross_entropy_far():
    return [(-np.log(1e-12) / 2, "p of the true class underflows to 0 here, and log(p + ε) or a "
             "clipped p gives −log ε: log p seems to be taken of the softmax's output rather "
             "than from the logits.")]


# --- notebook 03 -----------------------------------------------------------------------------

UPSTREAM_MISSING = ("dout seems to be missing: the local derivative alone is not the gradient "
                    "that flows back.")


def sigmoid_backward(dout, out):
    """(wrong dz, hint) pairs; ``out`` is σ(z), the cache."""
    def twice():
        s = 1 / (1 + np.exp(-out))
        return dout * s * (1 - s)
    return [(out * (1 - out), UPSTREAM_MISSING),
            (dout * out, "one factor of the sigmoid's derivative seems to be missing."),
            (twice, "the sigmoid seems to be applied twice: the cache already holds σ(z).")]


def sigmoid_backward_khan():
    """Khan 2019: dout = 0.5 at z = 0, right answer 0.125."""
    return [([[0.25]], "it matches the local derivative 0.25 alone: the upstream gradient "
             "0.5 seems to be missing."),
            ([[0.5]], "it matches the upstream gradient alone: the local derivative seems to be "
             "missing.")]


def relu_backward(dout, z):
    return [(np.where(z >= 0, dout, 0.0), "the gradient passes at z = 0 exactly, where the "
             "course takes the derivative as 0."),
            ((z > 0).astype(float), "it matches the mask alone: dout seems to be missing."),
            (dout * np.maximum(z, 0), "it matches dout times ReLU(z), the output: the derivative "
             "is not the output.")]


def tanh_backward(dout, out):
    """(wrong dz, hint) pairs; ``out`` is tanh(z), the cache."""
    return [(1 - out ** 2, UPSTREAM_MISSING),
            (dout * (1 - out), "the square in tanh's derivative seems to be missing."),
            (dout * out * (1 - out), "it matches the sigmoid's derivative, not tanh's."),
            (lambda: dout * (1 - np.tanh(out) ** 2), "tanh seems to be applied twice: the "
             "cache already holds tanh(z).")]


LINEAR_BACKWARD_DX_SHAPE = "dX should have X's shape (N, D): is a factor transposed or swapped?"
LINEAR_BACKWARD_DW_SHAPE = "dW should have W's shape (D, M): is it transposed?"
LINEAR_BACKWARD_DB_SHAPE = ("db should hold one number per output: the bias gradient seems not "
                            "to be reduced over the batch.")
LINEAR_BACKWARD_DB_KHAN = "db is off: every one of the four examples contributes to it."


def linear_backward_db(dZ):
    return [(dZ.mean(axis=0), "it matches the mean over the batch: the 1/N of a mean cost is "
             "already inside dout.")]


def linear_backward_square(dZ, X, W):
    """(wrong dX pairs, wrong dW pairs) for a square W, where shapes cannot tell."""
    return ([(dZ @ W, "W seems not to be transposed.")],
            [(dZ.T @ X, "dW seems to come out transposed: it has W's layout (D, M).")])


def numerical_gradient_cube(x):
    """(wrong gradient, hint) pairs for f = Σ x³ with ε = 1e-5: the one-sided differences of x³
    are exactly 3x² ± 3εx + ε²."""
    text = "the text uses a centred difference."
    return [(3 * x ** 2 + 3e-5 * x + 1e-10, f"it matches the forward difference alone: {text}"),
            (3 * x ** 2 - 3e-5 * x + 1e-10, f"it matches the backward difference alone: {text}"),
            (lambda: 2 * 3 * x ** 2, "twice the gradient: check what the difference is divided "
             "by (the distance between the two points)."),
            (lambda: 0.5 * 3 * x ** 2, "half the gradient: check what the difference is divided "
             "by (the distance between the two points).")]


def gradient_check_doubled(norm_n):
    """The analytic gradient is twice the numerical one; right answer 1/3."""
    one_norm = "it seems divided by one of the two norms rather than by the text's denominator."
    return [(norm_n, "it matches ‖a − n‖ alone: the error seems not to be made relative."),
            (0.5, one_norm), (1.0, one_norm),
            (0.2, "it seems to use the squares of the norms.")]


GRADIENT_CHECK_SUM = ("the denominator seems to be ‖a + n‖, the norm of the sum, which is 0 here: "
                      "the text's denominator is built from the two norms.")
GRADIENT_CHECK_ZERO = ("both gradients are zero here, so the denominator is 0: it seems to have "
                       "no guard.")
TWO_LAYER_BACKWARD_SHAPES = {
    "W": "a weight gradient should have its weight's shape: is it transposed?",
    "b": "a bias gradient should hold one number per unit: it seems not to be reduced over the "
         "batch.",
}
TWO_LAYER_BACKWARD_HINTS = {
    "W2": "the output layer is off: check the sigmoid's derivative on the way from dŷ to dZ2, "
          "then the product that gives dW2.",
    "b2": "db2 is off: check dZ2 and how it is reduced over the batch.",
    "W1": "the hidden layer is off: follow the chain back from dZ2 through W2 and the hidden "
          "sigmoid's derivative.",
    "b1": "db1 is off: check dZ1 and how it is reduced over the batch.",
}


# --- notebook 04 -----------------------------------------------------------------------------

STEP_SIGN = "the step seems to go along the gradient rather than against it."


def gradient_descent_step_khan():
    """Khan's bias: b = 0, db = 0.125, η = 1 (right: −0.125)."""
    return [(0.125, STEP_SIGN)]


def gradient_descent_step(w, dw, lr):
    return [(w + lr * dw, STEP_SIGN),
            (w - dw, "the learning rate seems not to be used."),
            (-lr * dw, "it matches the step alone, not the new weights.")]


# minibatches: each shuffling mistake named, with the one call that shuffles, rng.permutation
MINIBATCHES_COVERAGE = ("minibatches does not hold every example exactly once: the indices seem "
                        "to be drawn with replacement (rng.integers, or rng.choice with its "
                        "default replace=True); rng.permutation(N) gives every index once.")
MINIBATCHES_LABELS = ("minibatches separated examples from their labels: X and y seem to be "
                      "shuffled in two different orders; one order from rng.permutation(N) is "
                      "enough for both.")
MINIBATCHES_UNSHUFFLED = ("minibatches kept the original order: the examples seem not to be "
                          "shuffled; rng.permutation(N) gives them a random order.")
MINIBATCHES_NOT_RNG = ("minibatches gave another order for the same seed: the order seems to "
                       "come from np.random (its global generator, or a new unseeded one), not "
                       "from the rng argument; shuffle with rng.permutation, the generator you "
                       "are given.")
MINIBATCHES_RESEEDED = ("two epochs with the same generator came out in the same order: the "
                        "generator seems to be re-seeded or made anew on every call; "
                        "rng.permutation on the rng you are given draws a new order each time.")


def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    return [((1 - k / tau) * lr0 + (k / tau) * lr_tau, "after τ iterations the learning rate "
             "seems to keep changing: the schedule stops at η_τ."),
            ((1 - k / tau) * lr_tau + (k / tau) * lr0, "η₀ and η_τ seem to be swapped."),
            ((1 - k) * lr0 + k * lr_tau, "the fraction α seems to be k itself, not k measured "
             "against τ.")]


def train_neuron_khan():
    """Khan's OR neuron after one epoch at η = 1: (first cost pairs, W pairs, b pairs)."""
    return ([(0.0840095954, "it matches the cost after the first update: the cost seems to be "
              "recorded after updating.")],
            [([[0.05199354], [0.56134118]], STEP_SIGN),
             ([[0.29202585], [0.75463528]], "the gradient seems 4 times too big: the cost is a "
              "mean (losses.half_squared_error includes its 1/N).")],
            [([0.0], "the bias seems not to be updated.")])


# --- notebook 06 -----------------------------------------------------------------------------
# w0 = [1, −2, 0.5], g1 = [0.5, −1, 1e-4], g2 = [−0.5, 2, 1e-4]: the wrong values by hand

DELTA_INSIDE_ROOT = ("{d} seems to be inside the square root (look at the coordinate with the "
                     "tiny gradient).")
ROOT_MISSING = "the square root seems to be missing."


def momentum_first_step():
    """(wrong w pairs, wrong state["v"] pairs) after the first step, η = 0.1, γ = 0.9."""
    return ([([1.05, -2.1, 0.50001], "the step seems to go uphill, along the velocity."),
             ([0.995, -1.99, 0.499999], "it matches an exponential average with its (1 − γ): "
              "momentum adds the whole ηg.")],
            [([0.5, -1.0, 1e-4], "your v matches PyTorch's, without η: this course folds η into "
              "the velocity."),
             ([-0.05, 0.1, -1e-5], "your v matches CS231n's and Keras's, with the opposite sign: "
              "this course stores the velocity that is subtracted.")])


def momentum_second_step():
    return [([1.0, -2.1, 0.49998], "the second step seems to ignore the velocity of the first, "
             "kept in the state."),
            ([0.945, -1.98, 0.499971], "γ seems to multiply the new gradient rather than the "
             "old velocity.")]


def adagrad_first_step():
    return [([0.800000008, -1.900000001, -499.50000000000006], ROOT_MISSING),
            ([0.900000002, -1.9000000005, 0.429289321881345], DELTA_INSIDE_ROOT.format(d="δ")),
            ([-4999999.0, 9999998.0, -999.5000000000001], "the step seems to use r before this "
             "step's g⊙g was added.")]


def adagrad_second_step():
    return [([1.0, -2.0000000005, 0.3000199980002], "the second step forgot the first "
             "gradient: r accumulates, in the state.")]


def rmsprop_first_step():
    return [([0.989459074688328, -1.989459074577216, 0.489460185460107], "ρ seems to be on "
             "the wrong term of the average."),
            ([0.9900000002, -1.9900000001, 0.49000099990001], "the first r seems to be g⊙g "
             "itself: r starts at 0, an empty state, and is averaged from there."),
            ([0.96837722972287, -1.968377224979455, 0.490465374107544],
             DELTA_INSIDE_ROOT.format(d="δ")),
            ([0.800000079999968, -1.900000009999999, -90.40909090909093], ROOT_MISSING)]


def rmsprop_second_step():
    return [([1.0, -2.0000000005, 0.436774440474076], "the second step forgot the first "
             "gradient: the average r is kept in the state.")]


ADAM_T_ZERO = "1 − β₁ᵗ is 0 when t = 0: the first step seems to use t = 0."


def adam_first_step():
    return [([0.683772433983036, -1.683772333983131, 0.184769081673979], "the bias correction "
             "seems to be missing."),
            ([-2.162275660169643, 1.162276660168694, -2.65230918326021], "only m seems to be "
             "bias-corrected: v needs its own correction."),
            ([0.9900000002, -1.9900000001, 0.49000099990001], "only v seems to be "
             "bias-corrected: m needs its own correction."),
            ([0.900000002, -1.9000000005, 0.429289321881345], DELTA_INSIDE_ROOT.format(d="ε")),
            ([0.800000008, -1.900000001, -499.49999999999994], ROOT_MISSING)]


ADAM_T_AFTER_ONE = ('adam_update: state["t"] counts the steps taken, so it should be 1 after the '
                    'first step, starting from 0.')


def adam_second_step():
    return [([1.0, -2.0000000005, 0.3000199980002], "the second step forgot the first: m, v "
             "and t are kept in the state."),
            ([0.907072838141957, -1.949198416372527, 0.265635614482128], "the second step "
             "still used t = 1: t counts every call.")]


def cost_and_gradient_zero_weights(own_weights_cost):
    """Every weight 0 on the test-score network (right cost 0.0583, gradient [0]*6 + [−1/24]*3);
    ``own_weights_cost`` computes the cost of the network's own weights."""
    return ([(0.1166, "it matches the mean squared error without the ½: the course's cost is "
              "losses.half_squared_error."),
             (0.1749, "it matches a sum over the examples: the cost is a mean."),
             (own_weights_cost, "it matches the cost of the network's own weights: θ seems not "
              "to reach the parameters.")],
            [([0.0] * 6 + [-1 / 8] * 3, "the gradient is three times too large: the cost is a "
              "mean over the 3 examples.")])


# --- notebook 07 -----------------------------------------------------------------------------

def l2_penalty_article():
    """w = [0.3, 0.1, 6], λ = 1 (right: 36.1)."""
    return [(18.05, "it matches ½ Σ W²: the course's penalty has no ½ (CS231n's and d2l's do)."),
            (6.4, "it matches Σ |W| (the L1 penalty) or Σ W: the weights seem not to be squared."),
            (np.sqrt(36.1), "it matches the length √(Σ W²): the penalty has no square root."),
            (40.96, "it matches (Σ W)², the square of the sum, not the sum of the squares."),
            (36.1 / 3, "it matches the mean of the squares: the penalty is not averaged.")]


def l2_penalty_matrix():
    """W (3, 2) with Σ W² = 16.5, λ = 0.01 (right: 0.165)."""
    return [(16.5, "λ seems to be missing."),
            (0.0825, "it matches ½ λ Σ W²: the course's penalty has no ½."),
            (0.08, "it matches λ Σ |W| (the L1 penalty): the weights seem not to be squared."),
            (0.01, "it matches λ Σ W: the weights seem not to be squared."),
            (0.0275, "it matches the mean of the squares times λ: the penalty is not averaged."),
            (np.array([0.05, 0.115]), "it seems summed over one axis only: the penalty is a "
             "single number for the whole of W.")]


def l2_penalty_gradient(W, lam):
    return [(lam * W, "it matches λW, the gradient of ½ λ Σ W²: the course's penalty has no ½."),
            (2 * W, "λ seems to be missing."),
            (lam * np.sign(W), "it matches the gradient of the L1 penalty λ Σ |W|."),
            (np.full(W.shape, 0.33), "every entry holds the same number: each weight's gradient "
             "depends on that weight.")]


def dropout_rate_as_keep(dropped):
    return (f"dropout_forward with rate=0.2 dropped {dropped:.1%} of the entries: rate seems to "
            "be treated as the keep probability. In this course rate is the probability of "
            "dropping.")


def dropout_share(dropped):
    return (f"dropout_forward with rate=0.2 dropped {dropped:.1%} of the entries: each entry "
            "should be dropped with probability rate, independently, drawn from rng.")


def dropout_training_kept(x_kept, rate):
    keep = 1 - rate
    return [(x_kept, "the kept entries seem not to be scaled: inverted dropout keeps the "
             "expected output equal to x during training."),
            (x_kept * keep, "the kept entries were multiplied by the keep probability: that is "
             "the weight-scaling rule of classic dropout at inference, not inverted dropout."),
            (x_kept / rate, "the kept entries seem scaled by rate rather than by the keep "
             "probability."),
            (x_kept * rate, "the kept entries seem multiplied by rate rather than scaled by the "
             "keep probability.")]


def dropout_training_mask(out):
    return [((out != 0) * 1.0, "the cache holds the 0/1 mask without its scale: backward should "
             "be able to multiply by the cache as it is.")]


DROPOUT_TRAINING_MASK = "the cache should be the mask that was applied to x."


def dropout_inference(x, rate):
    keep = 1 - rate
    return [(x * keep, "at inference x was multiplied by the keep probability: that is the "
             "weight-scaling rule of classic dropout; inverted dropout already scaled during "
             "training."),
            (x / keep, "at inference x seems scaled: the scale belongs to training."),
            (x * rate, "at inference x was multiplied by rate: nothing should change it.")]


def dropout_backward(dout, mask, rate):
    keep = 1 - rate
    again = "the mask in the cache is already scaled."
    return [(dout, "the gradient passed unchanged: the cache seems not to be used."),
            (dout * (mask > 0), "the 1/(1 − rate) scale seems to be missing: the cache holds "
             "the scaled mask."),
            (dout * mask * keep, f"the gradient was multiplied by the keep probability once more: "
             f"{again}"),
            (dout * mask / keep, f"the gradient was scaled by 1/(1 − rate) once more: {again}")]


DROPOUT_BACKWARD_NEW_MASK = ("dropout_backward set other entries to zero than the forward pass "
                             "dropped: the mask seems not to be reused (a new random mask gives "
                             "the gradient of a different thinned network).")


def early_stopping_curves():
    """(pairs for curve a, patience 3; curve b, patience 2; [0.5, 0.6, 0.4], patience 1)."""
    patience_1 = "with patience 1 the first value without improvement should stop training."
    return ([((6, 3), "both are one too high: they seem to be epoch numbers counted from 1, not "
              "positions in the list."),
             ((6, 2), "training stopped one value too late."),
             ((4, 2), "training stopped one value too early: the best value itself seems to "
              "count as a value without improvement."),
             ((5, 7), "best_index seems to be the minimum of the whole curve, not the best value "
              "seen before stopping (the weights you can restore)."),
             ((None, 7), "training never stopped: each value seems to be compared with the value "
              "before it rather than with the best so far.")],
            [((5, 5), "the patience never runs out on this curve: training runs to the end, "
              "and stop_index says so."),
             ((None, 6), "best_index is one too high: positions start at 0."),
             ((4, 3), "the count of values without improvement seems not to start again after "
              "an improvement.")],
            [((2, 0), patience_1), ((None, 2), patience_1)])


def early_stopping_ties_min_delta():
    """(pairs for the tie curve, for curve_delta, for the last curve)."""
    tie = "a value equal to the best so far seems to count as an improvement: a tie is none."
    ignored = "min_delta seems to be ignored."
    return ([((None, 4), tie), ((None, 3), tie)],
            [((None, 6), ignored)],
            [((None, 4), ignored),
             ((4, 4), "best_index moved to a value that was not an improvement by more than "
              "min_delta.")])


# --- notebook 08 -----------------------------------------------------------------------------

BN_EPS_OUTSIDE = "ε seems to be added outside the square root."
BN_INV_STD_NOT_INVERSE = "the cache seems to hold √(σ² + ε) rather than its inverse."
BN_CONSTANT_FEATURE = ("the second feature is constant, so its variance is 0: ε is there so that "
                       "nothing is ever divided by zero.")
BN_INV_STD_INFERENCE = "at inference inv_std comes from the running variance."
BN_PARAM_GRAD_SHAPE = ("one entry per feature: γ and β are shared by every example, so their "
                       "gradients collect the whole batch.")


def batchnorm_training(x, gamma, beta, mean, var, x_hat, running_mean, running_var):
    """(wrong out, hint) pairs for batchnorm_forward in training; mean and var are the batch's
    own (biased) statistics, running_* those in the state given."""
    n = len(x)
    row_mean, row_var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    return [
        (gamma * (x - mean) / np.sqrt(var * n / (n - 1) + 1e-5) + beta, "the variance seems to "
         "be divided by N − 1 (the unbiased variance): batch norm uses the biased batch "
         "variance."),
        (gamma * (x - row_mean) / np.sqrt(row_var + 1e-5) + beta, "each example (row) seems to "
         "be normalised over its features, rather than each feature (column) over the batch."),
        (gamma * (x - mean) / (np.sqrt(var) + 1e-5) + beta, BN_EPS_OUTSIDE),
        (beta * x_hat + gamma, "γ and β seem to be swapped."),
        (x_hat, "γ and β seem to be missing."),
        (gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta, "the running "
         "statistics seem to be used in training: they are for inference."),
    ]


def batchnorm_tiny(dev, var, beta):
    return [(dev / (np.sqrt(var) + 1e-5) + beta, BN_EPS_OUTSIDE)]


def batchnorm_inv_std(var):
    return [(np.sqrt(var + 1e-5), BN_INV_STD_NOT_INVERSE),
            (var, "the cache seems to hold the variance.")]


NOT_IN_THE_DICT = "the new value seems not to reach the dict you were given (a new dict, or a " \
                  "local variable, is lost)."
TOO_FAST = "the momentum seems to weigh the batch rather than the old value."


def batchnorm_running_mean(old, mean, momentum=0.9):
    return [(old, f"the running mean did not change: {NOT_IN_THE_DICT}"),
            ((1 - momentum) * old + momentum * mean, f"the running mean moved too fast: "
             f"{TOO_FAST}"),
            (mean, "the running mean seems to be replaced by the batch mean rather than "
             "averaged with it.")]


def batchnorm_running_var(old, var, n, momentum=0.9):
    return [(momentum * old + (1 - momentum) * var * n / (n - 1), "the running variance seems "
             "to be built from the unbiased variance (N − 1): this course uses the biased batch "
             "variance here too."),
            ((1 - momentum) * old + momentum * var, f"the running variance moved too fast: "
             f"{TOO_FAST}"),
            (momentum * old + (1 - momentum) * np.sqrt(var), "the running variance seems to be "
             "fed the standard deviation σ rather than the variance."),
            (old, f"the running variance did not change: {NOT_IN_THE_DICT}")]


def batchnorm_running_var_new(var, momentum=0.9):
    return [((1 - momentum) * var, "the running variance seems to start at zeros: an already "
             "normalised input has variance 1.")]


def batchnorm_inference(x, gamma, beta, run_mean, run_var):
    batch = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    return [(batch + beta, "the batch's own statistics seem to be used at inference, not the "
             "running ones."),
            (gamma * (x - run_mean) / (np.sqrt(run_var) + 1e-5) + beta, BN_EPS_OUTSIDE)]


def batchnorm_dgamma(dout, x, x_hat):
    return [((dout * x_hat).mean(axis=0), "dgamma seems to be averaged over the batch, unlike "
             "a bias's gradient."),
            ((dout * x).sum(axis=0), "dgamma seems to use x rather than x̂: γ multiplies the "
             "normalised input."),
            (dout.sum(axis=0), "it matches dbeta.")]


def batchnorm_dbeta(dout, x_hat):
    return [(dout.mean(axis=0), "dbeta seems to be averaged over the batch, unlike a bias's "
             "gradient."),
            ((dout * x_hat).sum(axis=0), "it matches dgamma.")]


def batchnorm_dx(dout, gamma, x_hat, inv_std):
    g = dout * gamma
    return [
        (inv_std * g, "it treats the batch mean and variance as constants, which is right only "
         "at inference: in training they depend on every example, so dx has two more paths, "
         "through the mean and through the variance."),
        (inv_std * (g - g.mean(axis=0)), "the path through the variance seems to be missing."),
        (inv_std * (g - x_hat * (g * x_hat).mean(axis=0)), "the path through the mean seems to "
         "be missing."),
        (inv_std * (dout - dout.mean(axis=0) - x_hat * (dout * x_hat).mean(axis=0)),
         "γ seems to be missing from the gradient that reaches x̂."),
        (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0), "the factor inv_std in front "
         "seems to be missing."),
    ]


def batchnorm_dx_inference(dout, gamma, x_hat, inv_std):
    g = dout * gamma
    return [(inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0)), "the training "
             "formula seems to be used at inference, where the statistics are constants.")]


def _counts(total, trainable):
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}


BIASES_MISSING = "the biases seem to be missing."


def count_parameters_small():
    """[2, 3, 1] (right: 13)."""
    return [(_counts(9, 9), BIASES_MISSING),
            (_counts(12, 12), "the biases seem to be counted by the inputs: a layer has one "
             "bias per output unit.")]


def count_parameters_lecture():
    """[20, 64, 32, 1] (right: 3,457)."""
    return [(_counts(3_360, 3_360), BIASES_MISSING)]


def count_parameters_batchnorm():
    """[20, 64, 32, 1] with batch norm (right: 3,841, of which 3,649 trainable)."""
    return [(_counts(3_649, 3_649), "the running mean and variance seem to be missing: they "
             "count too, as non-trainable."),
            (_counts(3_841, 3_841), "the running mean and variance seem to be counted as "
             "trainable: the optimizer never changes them."),
            (_counts(3_845, 3_651), "a batch-norm layer seems to be counted after the output "
             "layer too."),
            (_counts(3_649, 3_457), "γ and β seem to be missing."),
            (_counts(3_713, 3_585), "only the first hidden layer seems to have its batch-norm "
             "layer.")]
