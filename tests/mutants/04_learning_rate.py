"""Plausible wrong submissions for 04_learning_rate. Each replaces one solution cell and must
lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first of
them prints, so the check names the mistake."""

_TRAIN_NEURON = '''def train_neuron(X, y, W, b, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        z, lin_cache = F.linear_forward(X, W, b)
        y_hat, sig_cache = F.sigmoid_forward(z)
        cost, dy_hat = losses.half_squared_error(y_hat, y)
        costs.append(float(cost))
        _, dW, db = F.linear_backward(F.sigmoid_backward(dy_hat, sig_cache), lin_cache)
        W, b = W - lr * dW, b - lr * db
    return W, b, costs'''

MUTANTS = [
    dict(
        name="gradient_descent_step climbs the gradient",
        cell="gradient_descent_step",
        source='''def gradient_descent_step(w, dw, lr):
    return w + lr * dw''',
        loses=["test_gradient_descent_step"],
        message="the step seems to go along the gradient",
    ),
    dict(
        name="gradient_descent_step changes w in place (hidden check)",
        cell="gradient_descent_step",
        source='''def gradient_descent_step(w, dw, lr):
    w -= lr * dw
    return w''',
        loses=["test_gradient_descent_step"],
        message="changed its argument `w` in place",
    ),
    dict(
        name="gradient_descent_step ignores the learning rate",
        cell="gradient_descent_step",
        source='''def gradient_descent_step(w, dw, lr):
    return w - dw''',
        loses=["test_gradient_descent_step"],
        message="the learning rate seems not to be used",
    ),
    dict(
        name="minibatches drops the last short batch",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    order = rng.permutation(X.shape[0])
    return [(X[order[start:start + batch_size]], y[order[start:start + batch_size]])
            for start in range(0, X.shape[0] - batch_size + 1, batch_size)]''',
        loses=["test_minibatches"],
        message="the last, short batch is missing",
    ),
    dict(
        name="minibatches without shuffling",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    return [(X[start:start + batch_size], y[start:start + batch_size])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="kept the original order: the examples seem not to be shuffled; "
                "rng.permutation(N) gives them a random order",
    ),
    dict(
        name="minibatches shuffles X and y separately",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    X_order, y_order = rng.permutation(X.shape[0]), rng.permutation(X.shape[0])
    return [(X[X_order[start:start + batch_size]], y[y_order[start:start + batch_size]])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="X and y seem to be shuffled in two different orders; one order from "
                "rng.permutation(N) is enough for both",
    ),
    dict(
        name="minibatches shuffles X and y in place, one rng.shuffle each",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    rng.shuffle(X)
    rng.shuffle(y)
    return [(X[start:start + batch_size], y[start:start + batch_size])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="one order from rng.permutation(N) is enough for both",
    ),
    dict(
        name="minibatches draws with replacement",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    order = rng.integers(0, X.shape[0], size=X.shape[0])
    return [(X[order[start:start + batch_size]], y[order[start:start + batch_size]])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="drawn with replacement (rng.integers, or rng.choice with its default "
                "replace=True); rng.permutation(N) gives every index once",
    ),
    dict(
        name="minibatches uses NumPy's global generator",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    order = np.random.permutation(X.shape[0])
    return [(X[order[start:start + batch_size]], y[order[start:start + batch_size]])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="not from the rng argument; shuffle with rng.permutation, the generator you "
                "are given",
    ),
    dict(
        name="minibatches re-seeds its generator",
        cell="minibatches",
        source='''def minibatches(X, y, batch_size, rng):
    order = np.random.default_rng(0).permutation(X.shape[0])
    return [(X[order[start:start + batch_size]], y[order[start:start + batch_size]])
            for start in range(0, X.shape[0], batch_size)]''',
        loses=["test_minibatches"],
        message="re-seeded or made anew on every call; rng.permutation on the rng you are "
                "given draws a new order each time",
    ),
    dict(
        name="linear_decay keeps decaying after tau",
        cell="linear_decay",
        source='''def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    alpha = k / tau
    return (1 - alpha) * lr0 + alpha * lr_tau''',
        loses=["test_linear_decay"],
        message="the schedule stops at η_τ",
    ),
    dict(
        name="linear_decay with lr0 and lr_tau swapped",
        cell="linear_decay",
        source='''def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    if k >= tau:
        return lr_tau
    alpha = k / tau
    return (1 - alpha) * lr_tau + alpha * lr0''',
        loses=["test_linear_decay"],
        message="η₀ and η_τ seem to be swapped",
    ),
    dict(
        name="linear_decay with seed 004's numbers written in",
        cell="linear_decay",
        source='''def linear_decay(k, lr0=0.1, lr_tau=0.01, tau=100):
    if k >= 100:
        return 0.01
    return (1 - k / 100) * 0.1 + (k / 100) * 0.01''',
        loses=["test_linear_decay"],
        message="use the arguments lr0, lr_tau and tau",
    ),
    dict(
        name="train_neuron records the cost after the update",
        cell="train_neuron",
        source='''def train_neuron(X, y, W, b, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        z, lin_cache = F.linear_forward(X, W, b)
        y_hat, sig_cache = F.sigmoid_forward(z)
        _, dy_hat = losses.half_squared_error(y_hat, y)
        _, dW, db = F.linear_backward(F.sigmoid_backward(dy_hat, sig_cache), lin_cache)
        W, b = W - lr * dW, b - lr * db
        y_after, _ = F.sigmoid_forward(F.linear_forward(X, W, b)[0])
        costs.append(float(losses.half_squared_error(y_after, y)[0]))
    return W, b, costs''',
        loses=["test_train_neuron"],
        message="the cost seems to be recorded after updating",
    ),
    dict(
        name="train_neuron climbs the gradient",
        cell="train_neuron",
        source=_TRAIN_NEURON.replace("W, b = W - lr * dW, b - lr * db",
                                     "W, b = W + lr * dW, b + lr * db"),
        loses=["test_train_neuron"],
        message="the step seems to go along the gradient",
    ),
    dict(
        name="train_neuron without the 1/N of the mean",
        cell="train_neuron",
        source='''def train_neuron(X, y, W, b, lr, num_epochs):
    costs = []
    for _ in range(num_epochs):
        y_hat = 1 / (1 + np.exp(-(X @ W + b)))
        costs.append(float(0.5 * np.mean((y_hat - y) ** 2)))
        dZ = (y_hat - y) * y_hat * (1 - y_hat)
        W, b = W - lr * X.T @ dZ, b - lr * dZ.sum(axis=0)
    return W, b, costs''',
        loses=["test_train_neuron"],
        message="the gradient seems 4 times too big",
    ),
    dict(
        name="train_neuron never updates the bias",
        cell="train_neuron",
        source=_TRAIN_NEURON.replace("W, b = W - lr * dW, b - lr * db", "W = W - lr * dW"),
        loses=["test_train_neuron"],
        message="the bias seems not to be updated",
    ),
]
