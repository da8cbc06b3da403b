"""Correct answers to 08_batch_normalization written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- batchnorm_forward ----------------------------------------------------------------------
    dict(name="batchnorm_forward with the variance as the mean of squared deviations, x̂ by division",
         cell="batchnorm_forward", source='''
def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    state.setdefault("running_mean", np.zeros(D))
    state.setdefault("running_var", np.ones(D))
    if training:
        mu = np.mean(x, axis=0)
        var = np.mean((x - mu) ** 2, axis=0)
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mu
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
    else:
        mu, var = state["running_mean"], state["running_var"]
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, gamma, 1 / std, training)'''),
    dict(name="batchnorm_forward with E[x²] − E[x]² and running statistics updated in place",
         cell="batchnorm_forward", source='''
def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(x.shape[1])
    if "running_var" not in state:
        state["running_var"] = np.ones(x.shape[1])
    if training:
        mu = x.sum(axis=0) / len(x)
        var = (x * x).sum(axis=0) / len(x) - mu * mu
        state["running_mean"] = state["running_mean"] * momentum
        state["running_mean"] += (1 - momentum) * mu
        state["running_var"] = state["running_var"] * momentum
        state["running_var"] += (1 - momentum) * var
    else:
        mu, var = state["running_mean"], state["running_var"]
    inv_std = (var + eps) ** -0.5
    x_hat = (x - mu) * inv_std
    out = x_hat * gamma + beta
    return out, (x_hat, gamma, inv_std, training)'''),
    # --- batchnorm_backward ---------------------------------------------------------------------
    dict(name="batchnorm_backward in CS231n's staged form (dvar, dmu)", cell="batchnorm_backward",
         source='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    if not training:
        return dx_hat * inv_std, dgamma, dbeta
    N = dout.shape[0]
    xmu = x_hat / inv_std
    dvar = np.sum(dx_hat * xmu, axis=0) * -0.5 * inv_std ** 3
    dmu = -np.sum(dx_hat, axis=0) * inv_std + dvar * np.mean(-2 * xmu, axis=0)
    dx = dx_hat * inv_std + dvar * 2 * xmu / N + dmu / N
    return dx, dgamma, dbeta'''),
    dict(name="batchnorm_backward as (N·g − Σg − x̂ Σ g x̂) · inv_std / N", cell="batchnorm_backward",
         source='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    N = dout.shape[0]
    g = gamma * dout
    if training:
        dx = inv_std / N * (N * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))
    else:
        dx = g * inv_std
    return dx, (x_hat * dout).sum(axis=0), dout.sum(axis=0)'''),
    # --- count_parameters -----------------------------------------------------------------------
    dict(name="count_parameters with a loop over the layers", cell="count_parameters", source='''
def count_parameters(sizes, batchnorm=False):
    trainable, non_trainable = 0, 0
    for i in range(1, len(sizes)):
        trainable += sizes[i - 1] * sizes[i] + sizes[i]
        if batchnorm and i < len(sizes) - 1:
            trainable += 2 * sizes[i]
            non_trainable += 2 * sizes[i]
    return {"total": trainable + non_trainable, "trainable": trainable,
            "non_trainable": non_trainable}'''),
    dict(name="count_parameters with NumPy integers", cell="count_parameters", source='''
def count_parameters(sizes, batchnorm=False):
    s = np.array(sizes)
    weights = np.sum(s[:-1] * s[1:] + s[1:])
    hidden = np.sum(s[1:-1]) if batchnorm else 0
    return {"total": weights + 4 * hidden, "trainable": weights + 2 * hidden,
            "non_trainable": 2 * hidden}'''),
]
