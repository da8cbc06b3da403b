"""Correct answers to 04_learning_rate written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- gradient_descent_step ------------------------------------------------------------------
    dict(name="gradient_descent_step as w + (−lr)·dw", cell="gradient_descent_step", source='''
def gradient_descent_step(w, dw, lr):
    return w + (-lr) * dw'''),
    dict(name="gradient_descent_step as w − dw·lr with np.subtract", cell="gradient_descent_step",
         source='''
def gradient_descent_step(w, dw, lr):
    return np.subtract(w, dw * lr)'''),
    # --- minibatches ----------------------------------------------------------------------------
    dict(name="minibatches shuffling X and y first, then slicing in a while loop",
         cell="minibatches", source='''
def minibatches(X, y, batch_size, rng):
    order = rng.permutation(len(X))
    X_shuffled, y_shuffled = X[order], y[order]
    batches, start = [], 0
    while start < len(X):
        batches.append((X_shuffled[start:start + batch_size], y_shuffled[start:start + batch_size]))
        start += batch_size
    return batches'''),
    dict(name="minibatches with ⌈N / batch_size⌉ computed and np.take", cell="minibatches", source='''
import math

def minibatches(X, y, batch_size, rng):
    N = X.shape[0]
    order = rng.permutation(N)
    out = []
    for j in range(math.ceil(N / batch_size)):
        idx = order[j * batch_size:(j + 1) * batch_size]
        out.append((np.take(X, idx, axis=0), np.take(y, idx, axis=0)))
    return out'''),
    # --- linear_decay ---------------------------------------------------------------------------
    dict(name="linear_decay as lr0 + (lr_tau − lr0)·min(k, τ)/τ", cell="linear_decay", source='''
def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    return lr0 + (lr_tau - lr0) * min(k, tau) / tau'''),
    dict(name="linear_decay with k ≤ τ tested first", cell="linear_decay", source='''
def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    if k <= tau:
        return (1 - k / tau) * lr0 + (k / tau) * lr_tau
    return lr_tau'''),
    # --- train_neuron ---------------------------------------------------------------------------
    dict(name="train_neuron with the formulas written out (cost = ½ mean, dZ = (ŷ − y)/N · ŷ(1 − ŷ))",
         cell="train_neuron", source='''
def train_neuron(X, y, W, b, lr, num_epochs):
    N = X.shape[0]
    costs = []
    for epoch in range(num_epochs):
        y_hat = 1 / (1 + np.exp(-(X @ W + b)))
        costs.append(0.5 * np.mean((y_hat - y) ** 2))
        dZ = (y_hat - y) / N * y_hat * (1 - y_hat)
        W = W - lr * (X.T @ dZ)
        b = b - lr * dZ.sum(axis=0)
    return W, b, costs'''),
    dict(name="train_neuron updating copies of W and b in place", cell="train_neuron", source='''
def train_neuron(X, y, W, b, lr, num_epochs):
    W, b = W.copy(), b.copy()
    costs = []
    for _ in range(num_epochs):
        Z, lin_cache = F.linear_forward(X, W, b)
        y_hat, sig_cache = F.sigmoid_forward(Z)
        cost, dy_hat = losses.half_squared_error(y_hat, y)
        costs.append(cost)
        _, dW, db = F.linear_backward(F.sigmoid_backward(dy_hat, sig_cache), lin_cache)
        W -= lr * dW
        b -= lr * db
    return W, b, costs'''),
]
