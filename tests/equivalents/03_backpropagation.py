"""Correct answers to 03_backpropagation written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- sigmoid_backward -----------------------------------------------------------------------
    dict(name="sigmoid_backward as dout·(σ − σ²)", cell="sigmoid_backward", source='''
def sigmoid_backward(dout, cache):
    return dout * (cache - cache ** 2)'''),
    dict(name="sigmoid_backward as dout·σ − dout·σ·σ", cell="sigmoid_backward", source='''
def sigmoid_backward(dout, cache):
    s = cache
    return dout * s - dout * s * s'''),
    # --- relu_backward --------------------------------------------------------------------------
    dict(name="relu_backward with np.where", cell="relu_backward", source='''
def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0.0)'''),
    dict(name="relu_backward zeroing a copy in place", cell="relu_backward", source='''
def relu_backward(dout, cache):
    dz = np.array(dout, dtype=float, copy=True)
    dz[cache <= 0] = 0
    return dz'''),
    dict(name="relu_backward with np.heaviside(z, 0)", cell="relu_backward", source='''
def relu_backward(dout, cache):
    return dout * np.heaviside(cache, 0.0)'''),
    # --- tanh_backward --------------------------------------------------------------------------
    dict(name="tanh_backward as dout·(1 − tanh**2)", cell="tanh_backward", source='''
def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)'''),
    dict(name="tanh_backward as dout − dout·tanh²", cell="tanh_backward", source='''
def tanh_backward(dout, cache):
    return dout - dout * np.square(cache)'''),
    # --- linear_backward ------------------------------------------------------------------------
    dict(name="linear_backward with einsum", cell="linear_backward", source='''
def linear_backward(dout, cache):
    X, W = cache
    dX = np.einsum("nm,dm->nd", dout, W)
    dW = np.einsum("nd,nm->dm", X, dout)
    return dX, dW, np.sum(dout, axis=0)'''),
    dict(name="linear_backward with np.dot and dW = (doutᵀ X)ᵀ", cell="linear_backward", source='''
def linear_backward(dout, cache):
    X, W = cache
    return np.dot(dout, W.T), (dout.T @ X).T, dout.sum(0)'''),
    # --- numerical_gradient ---------------------------------------------------------------------
    dict(name="numerical_gradient on perturbed copies of x", cell="numerical_gradient", source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(*x.shape):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[i] += eps
        x_minus[i] -= eps
        grad[i] = (f(x_plus) - f(x_minus)) / (2 * eps)
    return grad'''),
    dict(name="numerical_gradient restoring x by arithmetic (+ε, −2ε, +ε)", cell="numerical_gradient",
         source='''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        x[i] += eps
        grad[i] = (f_plus - f_minus) / (2 * eps)
        it.iternext()
    return grad'''),
    dict(name="numerical_gradient over a flat view", cell="numerical_gradient", source='''
def numerical_gradient(f, x, eps=1e-5):
    flat = x.reshape(-1)
    grad = np.zeros(flat.size)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        f_plus = f(x)
        flat[k] = old - eps
        f_minus = f(x)
        flat[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad.reshape(x.shape)'''),
    # --- gradient_check -------------------------------------------------------------------------
    dict(name="gradient_check with sqrt-of-sum norms", cell="gradient_check", source='''
def gradient_check(f, x, analytic, eps=1e-5):
    n = gradcheck.numerical_gradient(f, x, eps)
    num = np.sqrt(np.sum((analytic - n) ** 2))
    den = np.sqrt(np.sum(analytic ** 2)) + np.sqrt(np.sum(n ** 2))
    return float(num / max(den, 1e-12))'''),
    dict(name="gradient_check with norms of the flattened arrays", cell="gradient_check", source='''
def gradient_check(f, x, analytic, eps=1e-5):
    a = np.ravel(analytic)
    n = np.ravel(gradcheck.numerical_gradient(f, x, eps=eps))
    return float(np.linalg.norm(a - n) / np.maximum(np.linalg.norm(a) + np.linalg.norm(n), 1e-12))'''),
    # --- two_layer_backward ---------------------------------------------------------------------
    dict(name="two_layer_backward written out by hand", cell="two_layer_backward", source='''
def two_layer_backward(dy_hat, cache):
    (X, W1), A1, (A1_again, W2), y_hat = cache
    dZ2 = dy_hat * y_hat * (1 - y_hat)
    dW2 = A1.T @ dZ2
    db2 = np.sum(dZ2, axis=0)
    dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": dW2, "b2": db2}'''),
    # --- gradient_report ------------------------------------------------------------------------
    dict(name="gradient_report with a loop and the relative error by hand", cell="gradient_report",
         source='''
def gradient_report(forward, backward, params, X, y, loss=losses.half_squared_error):
    y_hat, cache = forward(X, params)
    _, dy_hat = loss(y_hat, y)
    grads = backward(dy_hat, cache)
    report = {}
    for name in params:
        numeric = gradcheck.numerical_gradient(lambda _: loss(forward(X, params)[0], y)[0],
                                               params[name])
        a = grads[name]
        report[name] = float(np.linalg.norm(a - numeric)
                             / max(np.linalg.norm(a) + np.linalg.norm(numeric), 1e-12))
    return report'''),
    # --- fixed_backward -------------------------------------------------------------------------
    dict(name="fixed_backward with A1*A1 and np.sum", cell="fixed_backward", source='''
def fixed_backward(dy_hat, cache):
    X, A1, W2 = cache
    dZ1 = (dy_hat @ W2.T) * (1 - A1 * A1)
    return {"W1": X.T @ dZ1, "b1": np.sum(dZ1, axis=0),
            "W2": A1.T @ dy_hat, "b2": np.sum(dy_hat, axis=0)}'''),
]
