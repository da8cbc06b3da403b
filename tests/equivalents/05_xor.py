"""Correct answers to 05_xor written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- least_squares --------------------------------------------------------------------------
    dict(name="least_squares solving the normal equations AᵀA θ = Aᵀy", cell="least_squares",
         source='''
def least_squares(X, y):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    A = np.hstack([np.ones((len(X), 1)), X])
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    return theta[1:], float(theta[0])'''),
    dict(name="least_squares with the pseudo-inverse", cell="least_squares", source='''
def least_squares(X, y):
    A = np.c_[np.ones(len(X)), X]
    theta = np.linalg.pinv(A) @ np.reshape(y, -1)
    return theta[1:], theta[0]'''),
    dict(name="least_squares on centred data (w from the centred system, w0 = ȳ − x̄·w)",
         cell="least_squares", source='''
def least_squares(X, y):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    x_mean, y_mean = X.mean(axis=0), y.mean()
    w = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)[0]
    return w, float(y_mean - x_mean @ w)'''),
    # --- add_feature_cross ----------------------------------------------------------------------
    dict(name="add_feature_cross with np.hstack and a column vector", cell="add_feature_cross",
         source='''
def add_feature_cross(X):
    cross = (X[:, 0] * X[:, 1]).reshape(-1, 1)
    return np.hstack([X, cross])'''),
    dict(name="add_feature_cross with np.c_ and the row product", cell="add_feature_cross", source='''
def add_feature_cross(X):
    return np.c_[X, np.prod(X, axis=1)]'''),
    # --- relu_network ---------------------------------------------------------------------------
    dict(name="relu_network with np.where and np.dot", cell="relu_network", source='''
def relu_network(X, W, c, w, b):
    Z = np.dot(X, W) + c
    return np.dot(np.where(Z > 0, Z, 0), w) + b'''),
    dict(name="relu_network with einsum and Z * (Z > 0)", cell="relu_network", source='''
def relu_network(X, W, c, w, b):
    Z = np.einsum("nd,dm->nm", X, W) + c
    return np.einsum("nm,mk->nk", Z * (Z > 0), w) + b'''),
    # --- train_network --------------------------------------------------------------------------
    dict(name="train_network with in-place updates and its own half squared error",
         cell="train_network", source='''
def train_network(model, X, y, lr=1.0, num_epochs=5000):
    N = X.shape[0]
    costs = []
    for epoch in range(num_epochs):
        y_hat = model.forward(X)
        costs.append(0.5 * np.sum((y_hat - y) ** 2) / N)
        model.backward((y_hat - y) / N)
        for p in model.parameters():
            p.data -= lr * p.grad
    return costs'''),
    # --- symmetry_experiment --------------------------------------------------------------------
    dict(name="symmetry_experiment filling the weights in place and training with its own loop",
         cell="symmetry_experiment", source='''
def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    net = xor.sigmoid_network(2, hidden)
    for layer in net.layers:
        if hasattr(layer, "W"):
            layer.W.data[...] = value
            layer.b.data[...] = 0.0
    X, y = datasets.xor()
    train_network(net, X, y, lr=lr, num_epochs=num_epochs)
    return net'''),
    dict(name="symmetry_experiment with np.full_like and ones * value", cell="symmetry_experiment",
         source='''
def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    net = xor.sigmoid_network(2, hidden)
    net[0].W.data = np.full_like(net[0].W.data, value)
    net[2].W.data = value * np.ones(net[2].W.data.shape)
    X, y = datasets.xor()
    xor.train_network(net, X, y, lr, num_epochs)
    return net'''),
]
