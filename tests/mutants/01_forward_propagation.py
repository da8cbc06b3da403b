"""Plausible wrong submissions for 01_forward_propagation. Each replaces one solution cell and must
lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first of
them prints, so the check names the mistake."""

MUTANTS = [
    # --- linear_forward -------------------------------------------------------------------------
    dict(
        name="linear_forward without the bias",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    Z = X @ W
    return Z, (X, W)''',
        loses=["test_linear_forward"],
        message="the bias seems to be missing",
    ),
    dict(
        name="linear_forward with W used untransposed in the seed-003 layout (X @ W.T)",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    Z = X @ W.T + b
    return Z, (X, W)''',
        loses=["test_linear_forward"],
        message="W seems to have been used transposed",
    ),
    dict(
        name="linear_forward with the product order reversed (W @ X)",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    Z = W @ X + b
    return Z, (X, W)''',
        loses=["test_linear_forward"],
        message="the factors of the matrix product seem to be in the wrong order",
    ),
    dict(
        name="linear_forward with X transposed (X.T @ W)",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    Z = X.T @ W + b
    return Z, (X, W)''',
        loses=["test_linear_forward"],
        message="X seems to have been used transposed",
    ),
    dict(
        name="linear_forward with the bias added per example (a column)",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    Z = X @ W + b.reshape(-1, 1)
    return Z, (X, W)''',
        loses=["test_linear_forward"],
        message="the bias went down the columns",
    ),
    dict(
        name="linear_forward returning Z without its cache",
        cell="linear_forward",
        source='''def linear_forward(X, W, b):
    return X @ W + b''',
        loses=["test_linear_forward"],
        message="but a tuple of 2, (Z, cache), was expected",
    ),
    # --- sigmoid_forward ------------------------------------------------------------------------
    dict(
        name="sigmoid_forward written as 1 / (1 + exp(-z)) (overflow warning at -1000)",
        cell="sigmoid_forward",
        source='''def sigmoid_forward(z):
    out = 1 / (1 + np.exp(-z))
    return out, out''',
        loses=["test_sigmoid_forward"],
        message="exp of a large number overflows",
    ),
    dict(
        name="sigmoid_forward with np.where over two unsafe branches",
        cell="sigmoid_forward",
        source='''def sigmoid_forward(z):
    out = np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))
    return out, out''',
        loses=["test_sigmoid_forward"],
        message="np.where computes both of its branches everywhere",
    ),
    dict(
        name="sigmoid_forward with the sign of the exponent flipped",
        cell="sigmoid_forward",
        source='''def sigmoid_forward(z):
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, e / (1 + e), 1 / (1 + e))
    return out, out''',
        loses=["test_sigmoid_forward"],
        message="it matches σ(−z)",
    ),
    dict(
        name="sigmoid_forward caching z instead of the output",
        cell="sigmoid_forward",
        source='''def sigmoid_forward(z):
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return out, z''',
        loses=["test_sigmoid_forward"],
        message="the cache holds z",
    ),
    # --- relu_forward ---------------------------------------------------------------------------
    dict(
        name="relu_forward as np.maximum(z, 1)",
        cell="relu_forward",
        source='''def relu_forward(z):
    return np.maximum(z, 1), z''',
        loses=["test_relu_forward"],
        message="values below 1 were raised to 1",
    ),
    dict(
        name="relu_forward returning the mask z > 0",
        cell="relu_forward",
        source='''def relu_forward(z):
    return (z > 0).astype(float), z''',
        loses=["test_relu_forward"],
        message="that is the mask z > 0",
    ),
    dict(
        name="relu_forward keeping the wrong branch (np.minimum)",
        cell="relu_forward",
        source='''def relu_forward(z):
    return np.minimum(z, 0), z''',
        loses=["test_relu_forward"],
        message="the branches seem swapped",
    ),
    # --- leaky_relu_forward ---------------------------------------------------------------------
    dict(
        name="leaky_relu_forward with alpha fixed to 0 (plain ReLU)",
        cell="leaky_relu_forward",
        source='''def leaky_relu_forward(z, alpha=0.01):
    return np.maximum(z, 0), (z, alpha)''',
        loses=["test_leaky_relu_forward"],
        message="that is plain ReLU",
    ),
    dict(
        name="leaky_relu_forward ignoring the alpha argument",
        cell="leaky_relu_forward",
        source='''def leaky_relu_forward(z, alpha=0.01):
    return np.where(z > 0, z, 0.01 * z), (z, alpha)''',
        loses=["test_leaky_relu_forward"],
        message="the alpha you were given seems to be ignored",
    ),
    dict(
        name="leaky_relu_forward caching z without alpha",
        cell="leaky_relu_forward",
        source='''def leaky_relu_forward(z, alpha=0.01):
    return np.where(z > 0, z, alpha * z), z''',
        loses=["test_leaky_relu_forward"],
        message="(z, alpha)",
    ),
    # --- tanh_forward ---------------------------------------------------------------------------
    dict(
        name="tanh_forward through the wrong identity 2σ(z) − 1",
        cell="tanh_forward",
        source='''def tanh_forward(z):
    s, _ = F.sigmoid_forward(z)
    out = 2 * s - 1
    return out, out''',
        loses=["test_tanh_forward"],
        message="it matches tanh(z/2)",
    ),
    dict(
        name="tanh_forward from the exponential fraction (nan at |z| = 1000)",
        cell="tanh_forward",
        source='''def tanh_forward(z):
    out = (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    return out, out''',
        loses=["test_tanh_forward"],
        message="e^z or e^(−z) overflows",
    ),
    dict(
        name="tanh_forward without the − 1",
        cell="tanh_forward",
        source='''def tanh_forward(z):
    s, _ = F.sigmoid_forward(2 * z)
    out = 2 * s
    return out, out''',
        loses=["test_tanh_forward"],
        message="it matches 2σ(2z)",
    ),
    # --- softmax --------------------------------------------------------------------------------
    dict(
        name="softmax over axis 0",
        cell="softmax",
        source='''def softmax(z, T=1.0):
    s = z / T
    e = np.exp(s - s.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)''',
        loses=["test_softmax"],
        message="each column sums to 1 instead of each row",
    ),
    dict(
        name="softmax without the max shift (nan at large scores)",
        cell="softmax",
        source='''def softmax(z, T=1.0):
    e = np.exp(z / T)
    return e / e.sum(axis=-1, keepdims=True)''',
        loses=["test_softmax"],
        message="the text shows a shift of the scores",
    ),
    dict(
        name="softmax with the temperature multiplied instead of divided",
        cell="softmax",
        source='''def softmax(z, T=1.0):
    s = z * T
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)''',
        loses=["test_softmax"],
        message="it matches the scores multiplied by T",
    ),
    dict(
        name="softmax ignoring the temperature",
        cell="softmax",
        source='''def softmax(z, T=1.0):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)''',
        loses=["test_softmax"],
        message="T made no difference",
    ),
    # --- forward --------------------------------------------------------------------------------
    dict(
        name="forward that forgets the last layer's activation",
        cell="forward",
        source='''def forward(X, params, activations):
    A = X
    caches = []
    for l, ((W, b), name) in enumerate(zip(params, activations)):
        Z, linear_cache = F.linear_forward(A, W, b)
        if l < len(params) - 1:
            A, activation_cache = ACTIVATIONS[name](Z)
        else:
            A, activation_cache = Z, None
        caches.append((linear_cache, activation_cache))
    return A, caches''',
        loses=["test_forward", "test_forward_caches"],
        message="its activation seems to be missing",
    ),
    dict(
        name="forward that returns no caches",
        cell="forward",
        source='''def forward(X, params, activations):
    A = X
    for (W, b), name in zip(params, activations):
        Z, _ = F.linear_forward(A, W, b)
        A, _ = ACTIVATIONS[name](Z)
    return A, []''',
        loses=["test_forward_caches"],
        message="append one (linear_cache, activation_cache) pair per layer",
    ),
    dict(
        name="forward that applies the first activation in every layer",
        cell="forward",
        source='''def forward(X, params, activations):
    A = X
    caches = []
    for W, b in params:
        Z, linear_cache = F.linear_forward(A, W, b)
        A, activation_cache = ACTIVATIONS[activations[0]](Z)
        caches.append((linear_cache, activation_cache))
    return A, caches''',
        loses=["test_forward", "test_forward_caches"],
        message="every layer seems to use the first activation",
    ),
    dict(
        name="forward that caches Z instead of the activation's cache",
        cell="forward",
        source='''def forward(X, params, activations):
    A = X
    caches = []
    for (W, b), name in zip(params, activations):
        Z, linear_cache = F.linear_forward(A, W, b)
        A, _ = ACTIVATIONS[name](Z)
        caches.append((linear_cache, Z))
    return A, caches''',
        loses=["test_forward_caches"],
        message="store the cache the activation function returned",
    ),
]
