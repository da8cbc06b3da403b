"""Correct answers to 02_loss_functions written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- half_squared_error ---------------------------------------------------------------------
    dict(name="half_squared_error as sum((ŷ − y)²) / (2N) with len()", cell="half_squared_error",
         source='''
def half_squared_error(y_hat, y):
    N = len(y_hat)
    return ((y_hat - y) ** 2).sum() / (2 * N), (y_hat - y) / N'''),
    dict(name="half_squared_error as the mean over examples of each row's ½ sum",
         cell="half_squared_error", source='''
def half_squared_error(y_hat, y):
    diff = (y_hat - y).reshape(len(y_hat), -1)
    loss = np.mean(0.5 * np.sum(np.square(diff), axis=1))
    return loss, (y_hat - y) / y_hat.shape[0]'''),
    # --- mse ------------------------------------------------------------------------------------
    dict(name="mse as sum / size with np.square", cell="mse", source='''
def mse(y_hat, y):
    loss = np.sum(np.square(y_hat - y)) / y_hat.size
    return loss, 2 * (y_hat - y) / np.size(y_hat)'''),
    dict(name="mse with ** 2 and np.mean, gradient 2/size written as a factor", cell="mse", source='''
def mse(y_hat, y):
    return np.mean((y_hat - y) ** 2), (2 / y_hat.size) * (y_hat - y)'''),
    # --- binary_cross_entropy -------------------------------------------------------------------
    dict(name="binary_cross_entropy with np.mean, log1p and the gradient −y/p + (1 − y)/(1 − p)",
         cell="binary_cross_entropy", source='''
def binary_cross_entropy(p, y):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    N = p.shape[0]
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    return loss, (-y / p + (1 - y) / (1 - p)) / N'''),
    dict(name="binary_cross_entropy with np.where on the label", cell="binary_cross_entropy",
         source='''
def binary_cross_entropy(p, y):
    eps = 1e-12
    q = np.minimum(np.maximum(p, eps), 1 - eps)
    N = len(q)
    per_example = np.where(y == 1, -np.log(q), -np.log(1 - q))
    return per_example.sum() / N, np.where(y == 1, -1 / q, 1 / (1 - q)) / N'''),
    # --- binary_cross_entropy_with_logits -------------------------------------------------------
    dict(name="binary_cross_entropy_with_logits as np.logaddexp(0, z) − z·y, σ through tanh",
         cell="binary_cross_entropy_with_logits", source='''
def binary_cross_entropy_with_logits(z, y):
    loss = np.mean(np.logaddexp(0, z) - z * y)
    return loss, (0.5 * (1 + np.tanh(z / 2)) - y) / len(z)'''),
    dict(name="binary_cross_entropy_with_logits as (1 − y)z + softplus(−z), σ = exp(−softplus(−z))",
         cell="binary_cross_entropy_with_logits", source='''
def binary_cross_entropy_with_logits(z, y):
    softplus_minus_z = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))   # log(1 + e^−z)
    N = z.shape[0]
    sigma = np.exp(-softplus_minus_z)
    return np.sum((1 - y) * z + softplus_minus_z) / N, (sigma - y) / N'''),
    # --- categorical_cross_entropy --------------------------------------------------------------
    dict(name="categorical_cross_entropy picking p[arange(N), y] for indices",
         cell="categorical_cross_entropy", source='''
def categorical_cross_entropy(p, y):
    N, K = p.shape
    q = np.maximum(p, 1e-12)
    y = np.asarray(y)
    if y.ndim == 1:
        one_hot = np.zeros((N, K))
        one_hot[np.arange(N), y] = 1
        y = one_hot
    labels = y.argmax(axis=1)
    loss = -np.mean(np.log(q[np.arange(N), labels]))
    return loss, -y / q / N'''),
    dict(name="categorical_cross_entropy as the mean of row sums", cell="categorical_cross_entropy",
         source='''
def categorical_cross_entropy(p, y):
    K = p.shape[1]
    if np.ndim(y) == 1:
        y = np.eye(K)[y]
    q = np.clip(p, 1e-12, None)
    return np.mean(-np.sum(y * np.log(q), axis=1)), -(y / q) / len(p)'''),
    # --- softmax_cross_entropy ------------------------------------------------------------------
    dict(name="softmax_cross_entropy via scipy.special.logsumexp (log-softmax)",
         cell="softmax_cross_entropy", source='''
from scipy.special import logsumexp

def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    if np.ndim(y) == 1:
        y = np.eye(K)[y]
    log_p = logits - logsumexp(logits, axis=1, keepdims=True)
    return -np.sum(y * log_p) / N, (np.exp(log_p) - y) / N'''),
    dict(name="softmax_cross_entropy picking the true logit, softmax for the gradient",
         cell="softmax_cross_entropy", source='''
def softmax_cross_entropy(logits, y):
    N, K = logits.shape
    y = np.asarray(y)
    labels = y if y.ndim == 1 else y.argmax(axis=1)
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    s = e.sum(axis=1, keepdims=True)
    p = e / s
    loss = np.mean(np.log(s[:, 0]) + m[:, 0] - logits[np.arange(N), labels])
    one_hot = np.zeros_like(p)
    one_hot[np.arange(N), labels] = 1
    return loss, (p - one_hot) / N'''),
]
