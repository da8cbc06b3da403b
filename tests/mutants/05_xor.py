"""Plausible wrong submissions for notebook 05 (the XOR problem).

Each mutant replaces one solution cell; it must lose that exercise's test cell (and only it), and
the visible check's message must name the mistake (``message`` is a substring of it).
"""

MUTANTS = [
    dict(
        name="least_squares_without_intercept",
        cell="least_squares",
        source='''def least_squares(X, y):
    """Least squares, but the column of ones was forgotten."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(X.shape[0])
    w = np.linalg.solve(X.T @ X, X.T @ y)
    return w, 0.0
''',
        loses=["test_least_squares"],
        message="without the intercept",
    ),
    dict(
        name="least_squares_intercept_inside_w",
        cell="least_squares",
        source='''def least_squares(X, y):
    """Returns the whole θ = (w0, w) as w."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(X.shape[0])
    A = np.column_stack([np.ones(X.shape[0]), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta, float(theta[0])
''',
        loses=["test_least_squares"],
        message="the intercept belongs in w0",
    ),
    dict(
        name="least_squares_w0_as_array",
        cell="least_squares",
        source='''def least_squares(X, y):
    """w0 comes back as a one-element array."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(X.shape[0])
    A = np.column_stack([np.ones(X.shape[0]), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return theta[1:], theta[:1]
''',
        loses=["test_least_squares"],
        message="instead of a number",
    ),
    dict(
        name="feature_cross_sum",
        cell="add_feature_cross",
        source='''def add_feature_cross(X):
    """Adds the features instead of multiplying them."""
    X = np.asarray(X, dtype=float)
    return np.column_stack([X, X[:, 0] + X[:, 1]])
''',
        loses=["test_add_feature_cross"],
        message="a feature cross is not a sum",
    ),
    dict(
        name="feature_cross_only",
        cell="add_feature_cross",
        source='''def add_feature_cross(X):
    """Returns the cross alone."""
    X = np.asarray(X, dtype=float)
    return (X[:, 0] * X[:, 1]).reshape(-1, 1)
''',
        loses=["test_add_feature_cross"],
        message="followed by the cross",
    ),
    dict(
        name="feature_cross_first",
        cell="add_feature_cross",
        source='''def add_feature_cross(X):
    """The cross goes in front."""
    X = np.asarray(X, dtype=float)
    return np.column_stack([X[:, 0] * X[:, 1], X])
''',
        loses=["test_add_feature_cross"],
        message="the original features come first",
    ),
    dict(
        name="relu_network_no_relu",
        cell="relu_network",
        source='''def relu_network(X, W, c, w, b):
    """Forgets the non-linearity."""
    return (X @ W + c) @ w + b
''',
        loses=["test_relu_network"],
        message="no ReLU at work",
    ),
    dict(
        name="relu_network_relu_on_output",
        cell="relu_network",
        source='''def relu_network(X, W, c, w, b):
    """Puts a ReLU on the output layer as well."""
    H = np.maximum(X @ W + c, 0.0)
    return np.maximum(H @ w + b, 0.0)
''',
        loses=["test_relu_network"],
        message="the output layer seems to have a ReLU",
    ),
    dict(
        name="train_network_sign_flipped",
        cell="train_network",
        source='''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    """Steps up the gradient."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.half_squared_error(y_hat, y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data + lr * p.grad
    return costs
''',
        loses=["test_train_network"],
        message="did not go down",
    ),
    dict(
        name="train_network_cost_after_update",
        cell="train_network",
        source='''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    """Records the cost after each update."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.half_squared_error(y_hat, y)
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data - lr * p.grad
        costs.append(float(losses.half_squared_error(model.forward(X), y)[0]))
    return costs
''',
        loses=["test_train_network"],
        message="seems to be recorded after",
    ),
    dict(
        name="train_network_mse",
        cell="train_network",
        source='''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    """Uses the MSE (no ½) as its cost."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.mse(y_hat, y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data - lr * p.grad
    return costs
''',
        loses=["test_train_network"],
        message="twice the half squared error",
    ),
    dict(
        name="train_network_updates_copies",
        cell="train_network",
        source='''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    """Updates copies of the weights, so the model never changes."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.half_squared_error(y_hat, y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            w = p.data.copy()
            w -= lr * p.grad
    return costs
''',
        loses=["test_train_network"],
        message="did not go down",
    ),
    dict(
        name="train_network_ignores_lr",
        cell="train_network",
        source='''def train_network(model, X, y, lr=1.0, num_epochs=5000):
    """Forgets the learning rate (harmless at lr = 1 only)."""
    costs = []
    for _ in range(num_epochs):
        y_hat = model.forward(X)
        cost, d_y_hat = losses.half_squared_error(y_hat, y)
        costs.append(float(cost))
        model.backward(d_y_hat)
        for p in model.parameters():
            p.data = p.data - p.grad
    return costs
''',
        loses=["test_train_network"],
        message="multiply each gradient by lr",
    ),
    dict(
        name="symmetry_random_start",
        cell="symmetry_experiment",
        source='''def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    """Keeps the random initial weights."""
    net = xor.sigmoid_network(2, hidden)
    X_gate, y_gate = datasets.xor()
    xor.train_network(net, X_gate, y_gate, lr=lr, num_epochs=num_epochs)
    return net
''',
        loses=["test_symmetry_experiment"],
        message="the hidden units differ after training",
    ),
    dict(
        name="symmetry_first_layer_only",
        cell="symmetry_experiment",
        source='''def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    """Sets only the first layer's weights equal."""
    net = xor.sigmoid_network(2, hidden)
    net[0].W.data = np.full(net[0].W.data.shape, float(value))
    X_gate, y_gate = datasets.xor()
    xor.train_network(net, X_gate, y_gate, lr=lr, num_epochs=num_epochs)
    return net
''',
        loses=["test_symmetry_experiment"],
        message="the hidden units differ after training",
    ),
    dict(
        name="symmetry_not_trained",
        cell="symmetry_experiment",
        source='''def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    """Forgets to train."""
    net = xor.sigmoid_network(2, hidden)
    for layer in (net[0], net[2]):
        layer.W.data = np.full(layer.W.data.shape, float(value))
    return net
''',
        loses=["test_symmetry_experiment"],
        message="still equal their starting value",
    ),
    dict(
        name="symmetry_ignores_value",
        cell="symmetry_experiment",
        source='''def symmetry_experiment(value, hidden=3, lr=1.0, num_epochs=2000):
    """Always starts from 0.5, whatever value says."""
    net = xor.sigmoid_network(2, hidden)
    for layer in (net[0], net[2]):
        layer.W.data = np.full(layer.W.data.shape, 0.5)
    X_gate, y_gate = datasets.xor()
    xor.train_network(net, X_gate, y_gate, lr=lr, num_epochs=num_epochs)
    return net
''',
        loses=["test_symmetry_experiment"],
        message="symmetry_experiment (value −0.3",
    ),
]
