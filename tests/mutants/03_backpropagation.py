"""Plausible wrong submissions for 03_backpropagation. Each replaces one solution cell and must
lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first of
them prints, so the check names the mistake."""

_FIXED_BACKWARD = '''def fixed_backward(dy_hat, cache):
    X, A1, W2 = cache
    dW2 = A1.T @ dy_hat
    db2 = dy_hat.sum(axis=0)
    dA1 = dy_hat @ W2.T
    dZ1 = dA1 * (1 - A1 ** 2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}'''

MUTANTS = [
    dict(
        name="sigmoid_backward without (1 − σ)",
        cell="sigmoid_backward",
        source='''def sigmoid_backward(dout, cache):
    return dout * cache''',
        loses=["test_sigmoid_backward"],
        message="one factor of the sigmoid's derivative seems to be missing",
    ),
    dict(
        name="sigmoid_backward applies the sigmoid to the cache again",
        cell="sigmoid_backward",
        source='''def sigmoid_backward(dout, cache):
    s = 1 / (1 + np.exp(-cache))
    return dout * s * (1 - s)''',
        loses=["test_sigmoid_backward"],
        message="the sigmoid seems to be applied twice",
    ),
    dict(
        name="relu_backward passes the gradient at z = 0",
        cell="relu_backward",
        source='''def relu_backward(dout, cache):
    return dout * (cache >= 0)''',
        loses=["test_relu_backward"],
        message="where the course takes the derivative as 0",
    ),
    dict(
        name="relu_backward forgets dout",
        cell="relu_backward",
        source='''def relu_backward(dout, cache):
    return (cache > 0).astype(float)''',
        loses=["test_relu_backward"],
        message="dout seems to be missing",
    ),
    dict(
        name="tanh_backward with 1 − tanh instead of 1 − tanh²",
        cell="tanh_backward",
        source='''def tanh_backward(dout, cache):
    return dout * (1 - cache)''',
        loses=["test_tanh_backward"],
        message="the square in tanh's derivative seems to be missing",
    ),
    dict(
        name="linear_backward with dW transposed",
        cell="linear_backward",
        source='''def linear_backward(dout, cache):
    X, W = cache
    return dout @ W.T, dout.T @ X, dout.sum(axis=0)''',
        loses=["test_linear_backward"],
        message="is it transposed",
    ),
    dict(
        name="linear_backward without the sum over the batch for db",
        cell="linear_backward",
        source='''def linear_backward(dout, cache):
    X, W = cache
    return dout @ W.T, X.T @ dout, dout''',
        loses=["test_linear_backward"],
        message="seems not to be reduced over the batch",
    ),
    dict(
        name="linear_backward with db averaged",
        cell="linear_backward",
        source='''def linear_backward(dout, cache):
    X, W = cache
    return dout @ W.T, X.T @ dout, dout.mean(axis=0)''',
        loses=["test_linear_backward"],
        message="it matches the mean over the batch",
    ),
    dict(
        name="numerical_gradient one-sided",
        cell="numerical_gradient",
        source='''def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    f_x = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - f_x) / eps
        x[i] = old
    return grad''',
        loses=["test_numerical_gradient"],
        message="difference alone: the text uses a centred difference",
    ),
    dict(
        name="numerical_gradient does not put x back",
        cell="numerical_gradient",
        source='''def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        x[i] += eps
        f_plus = f(x)
        x[i] -= 2 * eps
        f_minus = f(x)
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad''',
        loses=["test_numerical_gradient"],
        message="put each entry back",
    ),
    dict(
        name="numerical_gradient ignores eps",
        cell="numerical_gradient",
        source='''def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + 1e-5
        f_plus = f(x)
        x[i] = old - 1e-5
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / 2e-5
    return grad''',
        loses=["test_numerical_gradient"],
        message="use the eps argument",
    ),
    dict(
        name="gradient_check divides by one norm",
        cell="gradient_check",
        source='''def gradient_check(f, x, analytic, eps=1e-5):
    numeric = gradcheck.numerical_gradient(f, x, eps)
    return float(np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic), 1e-12))''',
        loses=["test_gradient_check"],
        message="divided by one of the two norms",
    ),
    dict(
        name="gradient_check without the guard against 0/0",
        cell="gradient_check",
        source='''def gradient_check(f, x, analytic, eps=1e-5):
    numeric = gradcheck.numerical_gradient(f, x, eps)
    return float(np.linalg.norm(analytic - numeric)
                 / (np.linalg.norm(analytic) + np.linalg.norm(numeric)))''',
        loses=["test_gradient_check"],
        message="it seems to have no guard",
    ),
    dict(
        name="two_layer_backward skips the output sigmoid",
        cell="two_layer_backward",
        source='''def two_layer_backward(dy_hat, cache):
    lin1, act1, lin2, act2 = cache
    dA1, dW2, db2 = F.linear_backward(dy_hat, lin2)
    dZ1 = F.sigmoid_backward(dA1, act1)
    _, dW1, db1 = F.linear_backward(dZ1, lin1)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}''',
        loses=["test_two_layer_backward"],
        message="the output layer is off",
    ),
    dict(
        name="two_layer_backward keeps a bias gradient per example",
        cell="two_layer_backward",
        source='''def two_layer_backward(dy_hat, cache):
    (X, W1), A1, (_, W2), y_hat = cache
    dZ2 = dy_hat * y_hat * (1 - y_hat)
    dA1 = dZ2 @ W2.T
    dZ1 = dA1 * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1, "W2": A1.T @ dZ2, "b2": dZ2}''',
        loses=["test_two_layer_backward"],
        message="seems not to be reduced over the batch",
    ),
    dict(
        name="gradient_report with a one-sided numerical gradient",
        cell="gradient_report",
        source='''def gradient_report(forward, backward, params, X, y, loss=losses.half_squared_error):
    y_hat, cache = forward(X, params)
    cost0, dy_hat = loss(y_hat, y)
    analytic = backward(dy_hat, cache)
    report = {}
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + 1e-5
            numeric[i] = (loss(forward(X, params)[0], y)[0] - cost0) / 1e-5
            value[i] = old
        report[name] = gradcheck.relative_error(analytic[name], numeric)
    return report''',
        loses=["test_find_the_bug"],
        message="gradient_report flags every parameter",
    ),
    dict(
        name="gradient_report ignores its loss argument (hidden check)",
        cell="gradient_report",
        source='''def gradient_report(forward, backward, params, X, y, loss=losses.half_squared_error):
    y_hat, cache = forward(X, params)
    _, dy_hat = losses.half_squared_error(y_hat, y)
    analytic = backward(dy_hat, cache)

    def cost(_):
        return losses.half_squared_error(forward(X, params)[0], y)[0]

    return {name: gradcheck.relative_error(analytic[name],
                                           gradcheck.numerical_gradient(cost, params[name]))
            for name in params}''',
        loses=["test_find_the_bug"],
        message="does not use its loss argument",
    ),
    dict(
        name="fixed_backward still has the bug",
        cell="fixed_backward",
        source=_FIXED_BACKWARD.replace("dW1 = X.T @ dZ1", "dW1 = X.T @ dA1"),
        loses=["test_find_the_bug"],
        message="of its four gradients still disagree",
    ),
    dict(
        name="fixed_backward breaks the hidden layer's derivative",
        cell="fixed_backward",
        source=_FIXED_BACKWARD.replace("dZ1 = dA1 * (1 - A1 ** 2)", "dZ1 = dA1 * (1 - A1)"),
        loses=["test_find_the_bug"],
        message="of its four gradients still disagree",
    ),
]
