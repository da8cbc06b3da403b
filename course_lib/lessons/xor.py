"""Notebook 05, the XOR problem: the reference versions of its exercises and the seed networks.

The notebook checks the learner's functions against these and falls back on them while an
exercise is unfinished, so every later cell still runs. Rows are examples (CONVENTIONS.md).

    >>> X, y = datasets.xor()
    >>> w, w0 = least_squares(X, y)          # w = [0, 0], w0 = 0.5: a constant 0.5 for every input
    >>> net = khan_network()              # Khan's 2-3-1 sigmoid network, untrained
    >>> costs = train_network(net, X, y, lr=1.0, num_epochs=5000)
"""

from __future__ import annotations

import numpy as np

from .. import layers, losses, train
from ..backend import get_array_module


def least_squares(X, y):
    """Linear least squares with an intercept: minimise ``mean((X w + w0 − y)²)``.

    X: (N, D), y: (N,) or (N, 1) -> (w: (D,), w0: float). Solved on ``[1, X]`` with
    ``numpy.linalg.lstsq`` (the normal equations ``AᵀA θ = Aᵀy`` without forming ``AᵀA``)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(X.shape[0])
    A = np.column_stack([np.ones(X.shape[0]), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta[1:], float(theta[0])


def add_feature_cross(X):
    """The two features followed by their product.   X: (N, 2) -> (N, 3) = [x₁, x₂, x₁·x₂]."""
    xp = get_array_module(X)
    return xp.column_stack([X, X[:, 0] * X[:, 1]])


def relu_network(X, W, c, w, b):
    """One ReLU hidden layer, linear output: ``ŷ = max(0, X W + c) w + b``.

    X: (N, D)  W: (D, M)  c: (M,)  w: (M, K)  b: (K,) or a number -> ŷ: (N, K)."""
    xp = get_array_module(X)
    return xp.maximum(X @ W + c, 0) @ w + b


def khan_network():
    """Khan's 2-3-1 sigmoid network as that code initialises it, untrained.

    NumPy's legacy generator seeded with 48 draws W¹ = randn(3, 2)·√(1/2), then
    W² = randn(1, 3)·√(1/3); Khan (2019) keeps examples as columns (``W·X``), so our weights are the
    transposes. Biases start at 0."""
    legacy = np.random.RandomState(48)  # the same stream as np.random.seed(48) in that code
    W1 = legacy.randn(3, 2) * np.sqrt(1 / 2)
    W2 = legacy.randn(1, 3) * np.sqrt(1 / 3)
    net = sigmoid_network(2, 3)
    net[0].W.data = W1.T.copy()
    net[2].W.data = W2.T.copy()
    return net


def sigmoid_network(in_features: int = 2, hidden: int = 3, init: str = "lecun", rng=0):
    """``Linear(in, hidden) → Sigmoid → Linear(hidden, 1) → Sigmoid`` (a "2-layer" network)."""
    rng = layers.as_generator(rng)
    return layers.Sequential(
        layers.Linear(in_features, hidden, init=init, rng=rng), layers.Sigmoid(),
        layers.Linear(hidden, 1, init=init, rng=rng), layers.Sigmoid(),
    )


def train_network(model, X, y, lr: float = 1.0, num_epochs: int = 5000):
    """Full-batch gradient descent on the half squared error; trains ``model`` in place.

    Returns the list of ``num_epochs`` costs, ``costs[k]`` measured before update k (Khan's
    "Cost at epoch#k")."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.half_squared_error(y_hat, y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data - lr * p.grad
    return costs


def equal_weights_network(value: float, hidden: int = 3):
    """The 2-hidden-1 sigmoid network with every weight equal to ``value`` and zero biases."""
    net = sigmoid_network(2, hidden)
    for layer in (net[0], net[2]):
        layer.W.data = np.full_like(layer.W.data, value)
    return net


def symmetry_experiment(value: float, hidden: int = 3, lr: float = 1.0, num_epochs: int = 2000):
    """Train the equal-weights network on XOR (``train_network``); return the trained network.

    Every hidden unit receives the same gradient, so they stay identical: the network behaves
    like one hidden unit and cannot separate XOR."""
    X, y = _xor()
    net = equal_weights_network(value, hidden)
    train_network(net, X, y, lr=lr, num_epochs=num_epochs)
    return net


def hidden_units_spread(W) -> float:
    """Largest difference between two hidden units' incoming weights (columns of W): 0 when
    every hidden unit is the same."""
    W = np.asarray(W, dtype=np.float64)
    return float(np.max(np.ptp(W, axis=1))) if W.size else 0.0


def _xor():
    from .. import datasets

    return datasets.xor()


def accuracy(model, X, y) -> float:
    """Fraction of the examples classified correctly (threshold 0.5)."""
    return train.accuracy(model, X, y)
