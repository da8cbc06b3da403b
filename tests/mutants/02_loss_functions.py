"""Plausible wrong submissions for 02_loss_functions. Each replaces one solution cell and must
lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first of
them prints, so the check names the mistake."""

MUTANTS = [
    dict(
        name="half_squared_error without the ½",
        cell="half_squared_error",
        source='''def half_squared_error(y_hat, y):
    N = y_hat.shape[0]
    diff = y_hat - y
    return np.sum(diff * diff) / N, diff / N''',
        loses=["test_half_squared_error"],
        message="the ½ in front seems to be missing",
    ),
    dict(
        name="half_squared_error gradient without 1/N",
        cell="half_squared_error",
        source='''def half_squared_error(y_hat, y):
    N = y_hat.shape[0]
    diff = y_hat - y
    return 0.5 * np.sum(diff * diff) / N, diff''',
        loses=["test_half_squared_error"],
        message="the 1/N seems to be missing from the gradient",
    ),
    dict(
        name="half_squared_error gradient with the sign flipped",
        cell="half_squared_error",
        source='''def half_squared_error(y_hat, y):
    N = y_hat.shape[0]
    diff = y_hat - y
    return 0.5 * np.sum(diff * diff) / N, (y - y_hat) / N''',
        loses=["test_half_squared_error"],
        message="seems to be flipped",
    ),
    dict(
        name="mse gradient without the factor 2",
        cell="mse",
        source='''def mse(y_hat, y):
    diff = y_hat - y
    return np.mean(diff * diff), diff / diff.size''',
        loses=["test_mse"],
        message="the factor 2 that the square brings down seems to be missing",
    ),
    dict(
        name="mse averaged over the rows only",
        cell="mse",
        source='''def mse(y_hat, y):
    N = y_hat.shape[0]
    diff = y_hat - y
    return np.sum(diff * diff) / N, 2 * diff / N''',
        loses=["test_mse"],
        message="it seems averaged over the N rows only",
    ),
    dict(
        name="binary_cross_entropy without clipping",
        cell="binary_cross_entropy",
        source='''def binary_cross_entropy(p, y):
    N = p.shape[0]
    loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / N
    return loss, (p - y) / (p * (1 - p)) / N''',
        loses=["test_binary_cross_entropy"],
        message="the log of 0 is −inf",
    ),
    dict(
        name="binary_cross_entropy returns dJ/dz instead of dJ/dp",
        cell="binary_cross_entropy",
        source='''def binary_cross_entropy(p, y):
    N = p.shape[0]
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.sum(y * np.log(q) + (1 - y) * np.log(1 - q)) / N
    return loss, (q - y) / N''',
        loses=["test_binary_cross_entropy"],
        message="it matches dJ/dz",
    ),
    dict(
        name="binary_cross_entropy summed instead of averaged",
        cell="binary_cross_entropy",
        source='''def binary_cross_entropy(p, y):
    q = np.clip(p, 1e-12, 1 - 1e-12)
    loss = -np.sum(y * np.log(q) + (1 - y) * np.log(1 - q))
    return loss, (q - y) / (q * (1 - q))''',
        loses=["test_binary_cross_entropy"],
        message="the 1/N seems to be missing",
    ),
    dict(
        name="binary_cross_entropy_with_logits through the sigmoid and the clip",
        cell="binary_cross_entropy_with_logits",
        source='''def binary_cross_entropy_with_logits(z, y):
    N = z.shape[0]
    p = np.clip(0.5 * (1 + np.tanh(z / 2)), 1e-12, 1 - 1e-12)
    loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / N
    return loss, (p - y) / N''',
        loses=["test_binary_cross_entropy_with_logits"],
        message="it matches the clipped probability form",
    ),
    dict(
        name="binary_cross_entropy_with_logits without max(z, 0)",
        cell="binary_cross_entropy_with_logits",
        source='''def binary_cross_entropy_with_logits(z, y):
    N = z.shape[0]
    e = np.exp(-np.abs(z))
    loss = np.sum(-z * y + np.log1p(e)) / N
    p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return loss, (p - y) / N''',
        loses=["test_binary_cross_entropy_with_logits"],
        message="the max(z, 0) term seems to be missing",
    ),
    dict(
        name="binary_cross_entropy_with_logits with log(1 + e^−z) (overflows for z ≪ 0)",
        cell="binary_cross_entropy_with_logits",
        source='''def binary_cross_entropy_with_logits(z, y):
    N = z.shape[0]
    loss = np.sum((1 - y) * z + np.log(1 + np.exp(-z))) / N
    return loss, (1 / (1 + np.exp(-z)) - y) / N''',
        loses=["test_binary_cross_entropy_with_logits"],
        message="overflow encountered in exp",
    ),
    dict(
        name="binary_cross_entropy_with_logits writes σ(z) into z (hidden check)",
        cell="binary_cross_entropy_with_logits",
        source='''def binary_cross_entropy_with_logits(z, y):
    N = z.shape[0]
    e = np.exp(-np.abs(z))
    loss = np.sum(np.maximum(z, 0) - z * y + np.log1p(e)) / N
    pos = z >= 0
    z[pos] = 1 / (1 + e[pos])          # reuse z's memory for σ(z)
    z[~pos] = e[~pos] / (1 + e[~pos])
    return loss, (z - y) / N''',
        loses=["test_binary_cross_entropy_with_logits"],
        message="changed its argument `z` in place",
    ),
    dict(
        name="categorical_cross_entropy picks columns for index labels",
        cell="categorical_cross_entropy",
        source='''def categorical_cross_entropy(p, y):
    N, K = p.shape
    y = np.asarray(y)
    q = np.clip(p, 1e-12, 1.0)
    if y.ndim == 1:
        rows = np.arange(N)
        grad = np.zeros_like(p)
        grad[rows, y] = -1 / q[rows, y] / N
        return np.mean(-np.log(q[:, y])), grad
    return -np.sum(y * np.log(q)) / N, -y / q / N''',
        loses=["test_categorical_cross_entropy"],
        message="it matches p[:, y], which picks whole columns",
    ),
    dict(
        name="categorical_cross_entropy summed instead of averaged",
        cell="categorical_cross_entropy",
        source='''def categorical_cross_entropy(p, y):
    N, K = p.shape
    y = np.asarray(y)
    if y.ndim == 1:
        y = np.eye(K)[y]
    q = np.clip(p, 1e-12, 1.0)
    return -np.sum(y * np.log(q)), -y / q''',
        loses=["test_categorical_cross_entropy"],
        message="the 1/N seems to be missing",
    ),
    dict(
        name="categorical_cross_entropy without clipping",
        cell="categorical_cross_entropy",
        source='''def categorical_cross_entropy(p, y):
    N, K = p.shape
    y = np.asarray(y)
    if y.ndim == 1:
        y = np.eye(K)[y]
    return -np.sum(y * np.log(p)) / N, -y / p / N''',
        loses=["test_categorical_cross_entropy"],
        message="the log of 0 is −inf",
    ),
    dict(
        name="softmax_cross_entropy without the max shift",
        cell="softmax_cross_entropy",
        source='''def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    y = np.asarray(y)
    if y.ndim == 1:
        y = np.eye(K)[y]
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    return -np.sum(y * np.log(p)) / N, (p - y) / N''',
        loses=["test_softmax_cross_entropy"],
        message="softmax without the shift",
    ),
    dict(
        name="softmax_cross_entropy gradient without 1/N",
        cell="softmax_cross_entropy",
        source='''def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    y = np.asarray(y)
    if y.ndim == 1:
        y = np.eye(K)[y]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(shifted - log_sum_exp)
    return np.sum(y * (log_sum_exp - shifted)) / N, p - y''',
        loses=["test_softmax_cross_entropy"],
        message="the 1/N seems to be missing from the gradient",
    ),
    dict(
        name="softmax_cross_entropy shifts by one maximum for the whole batch (hidden check)",
        cell="softmax_cross_entropy",
        source='''def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    y = np.asarray(y)
    if y.ndim == 1:
        y = np.eye(K)[y]
    shifted = logits - logits.max()
    log_sum_exp = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(shifted - log_sum_exp)
    return np.sum(y * (log_sum_exp - shifted)) / N, (p - y) / N''',
        loses=["test_softmax_cross_entropy"],
        message="not the maximum of the whole batch",
    ),
]
