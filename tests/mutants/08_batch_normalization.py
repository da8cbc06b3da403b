"""Plausible wrong submissions for 08_batch_normalization. Each replaces one solution cell and
must lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first
of them prints, so the check names the mistake."""

_FORWARD = '''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    if training:
        mean = x.mean(axis=0)
        var = {var}
        state["running_mean"] = {update_mean}
        state["running_var"] = {update_var}
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = {inv_std}
    x_hat = (x - mean) * inv_std
    return {out}, (x_hat, gamma, {cached_inv_std}, training)'''

_RIGHT = dict(
    var="x.var(axis=0)",
    update_mean='momentum * state["running_mean"] + (1 - momentum) * mean',
    update_var='momentum * state["running_var"] + (1 - momentum) * var',
    inv_std="1 / np.sqrt(var + eps)",
    out="gamma * x_hat + beta",
    cached_inv_std="inv_std",
)


def _forward(**changes):
    return _FORWARD.format(**{**_RIGHT, **changes})


_BACKWARD = '''def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std, training = cache
    dbeta = {dbeta}
    dgamma = {dgamma}
    g = {g}
    if not training:
        return {dx_inference}, dgamma, dbeta
    dx = {dx}
    return dx, dgamma, dbeta'''

_RIGHT_BACKWARD = dict(
    dbeta="dout.sum(axis=0)",
    dgamma="(dout * x_hat).sum(axis=0)",
    g="dout * gamma",
    dx_inference="g * inv_std",
    dx="inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))",
)


def _backward(**changes):
    return _BACKWARD.format(**{**_RIGHT_BACKWARD, **changes})


_TRAINING_AND_RUNNING = ["test_batchnorm_forward_training", "test_batchnorm_forward_running"]
_TRAINING_AND_INFERENCE = ["test_batchnorm_forward_training", "test_batchnorm_forward_inference"]
_COUNTS = ["test_count_parameters", "test_count_parameters_batchnorm"]

MUTANTS = [
    # --- batchnorm_forward: training ------------------------------------------------------------
    dict(
        name="batchnorm_forward with the unbiased variance (N − 1)",
        cell="batchnorm_forward",
        source=_forward(var="x.var(axis=0, ddof=1)"),
        loses=_TRAINING_AND_RUNNING,
        message="the unbiased variance",
    ),
    dict(
        name="batchnorm_forward normalising each example over its features (axis=1)",
        cell="batchnorm_forward",
        source='''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    if training:
        mean = x.mean(axis=1, keepdims=True)
        var = x.var(axis=1, keepdims=True)
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mean.mean()
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var.mean()
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)''',
        loses=_TRAINING_AND_RUNNING,
        message="rather than each feature (column) over the batch",
    ),
    dict(
        name="batchnorm_forward with ε outside the square root",
        cell="batchnorm_forward",
        source=_forward(inv_std="1 / (np.sqrt(var) + eps)"),
        loses=_TRAINING_AND_INFERENCE,
        message="outside the square root",
    ),
    dict(
        name="batchnorm_forward with γ and β swapped",
        cell="batchnorm_forward",
        source=_forward(out="beta * x_hat + gamma"),
        loses=_TRAINING_AND_INFERENCE,
        message="γ and β seem to be swapped",
    ),
    dict(
        name="batchnorm_forward normalising with the running statistics in training",
        cell="batchnorm_forward",
        source='''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    mean, var = state["running_mean"], state["running_var"]
    if training:
        state["running_mean"] = momentum * mean + (1 - momentum) * x.mean(axis=0)
        state["running_var"] = momentum * var + (1 - momentum) * x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)''',
        loses=["test_batchnorm_forward_training"],
        message="the running statistics seem to be used in training",
    ),
    dict(
        name="batchnorm_forward caching √(σ² + ε) instead of its inverse",
        cell="batchnorm_forward",
        source=_forward(cached_inv_std="1 / inv_std"),
        loses=_TRAINING_AND_INFERENCE,
        message="rather than its inverse",
    ),
    # --- batchnorm_forward: running statistics --------------------------------------------------
    dict(
        name="batchnorm_forward with the momentum weights swapped (0.1 r + 0.9 stat)",
        cell="batchnorm_forward",
        source=_forward(
            update_mean='(1 - momentum) * state["running_mean"] + momentum * mean',
            update_var='(1 - momentum) * state["running_var"] + momentum * var'),
        loses=["test_batchnorm_forward_running"],
        message="moved too fast",
    ),
    dict(
        name="batchnorm_forward updating a new dict instead of the state it was given",
        cell="batchnorm_forward",
        source='''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    state = dict(state)
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mean
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)''',
        loses=["test_batchnorm_forward_running"],
        message="seems not to reach the dict you were given",
    ),
    dict(
        name="batchnorm_forward ignoring the momentum argument (fixed 0.9)",
        cell="batchnorm_forward",
        source=_forward(update_mean='0.9 * state["running_mean"] + 0.1 * mean',
                        update_var='0.9 * state["running_var"] + 0.1 * var'),
        loses=["test_batchnorm_forward_running"],
        message="use the momentum argument",
    ),
    dict(
        name="batchnorm_forward starting a missing running variance at zeros",
        cell="batchnorm_forward",
        source=_forward().replace('state["running_var"] = np.ones(D)',
                                  'state["running_var"] = np.zeros(D)'),
        loses=["test_batchnorm_forward_running"],
        message="the running variance seems to start at zeros",
    ),
    dict(
        name="batchnorm_forward feeding the unbiased variance to the running variance",
        cell="batchnorm_forward",
        source=_forward(
            update_var='momentum * state["running_var"] + (1 - momentum) * x.var(axis=0, ddof=1)'),
        loses=["test_batchnorm_forward_running"],
        message="unbiased variance (N − 1)",
    ),
    # --- batchnorm_forward: inference -----------------------------------------------------------
    dict(
        name="batchnorm_forward using the batch statistics at inference",
        cell="batchnorm_forward",
        source='''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    mean, var = x.mean(axis=0), x.var(axis=0)
    if training:
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mean
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)''',
        loses=["test_batchnorm_forward_inference"],
        message="the batch's own statistics seem to be used at inference",
    ),
    dict(
        name="batchnorm_forward updating the running statistics at inference",
        cell="batchnorm_forward",
        source='''def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
    D = x.shape[1]
    if "running_mean" not in state:
        state["running_mean"] = np.zeros(D)
        state["running_var"] = np.ones(D)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = state["running_mean"], state["running_var"]
    state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * x.mean(axis=0)
    state["running_var"] = momentum * state["running_var"] + (1 - momentum) * x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)''',
        loses=["test_batchnorm_forward_inference"],
        message="the running statistics changed at inference",
    ),
    # --- batchnorm_backward ---------------------------------------------------------------------
    dict(
        name="batchnorm_backward without the sum of dgamma over the batch",
        cell="batchnorm_backward",
        source=_backward(dgamma="dout * x_hat"),
        loses=["test_batchnorm_backward_params"],
        message="collect the whole batch",
    ),
    dict(
        name="batchnorm_backward averaging dbeta over the batch",
        cell="batchnorm_backward",
        source=_backward(dbeta="dout.mean(axis=0)"),
        loses=["test_batchnorm_backward_params"],
        message="dbeta seems to be averaged",
    ),
    dict(
        name="batchnorm_backward with dgamma from x̂ replaced by dout alone",
        cell="batchnorm_backward",
        source=_backward(dgamma="dout.sum(axis=0)"),
        loses=["test_batchnorm_backward_params"],
        message="it matches dbeta",
    ),
    dict(
        name="batchnorm_backward without the mean and variance terms",
        cell="batchnorm_backward",
        source=_backward(dx="g * inv_std"),
        loses=["test_batchnorm_backward_dx"],
        message="dx has two more paths",
    ),
    dict(
        name="batchnorm_backward without the variance term",
        cell="batchnorm_backward",
        source=_backward(dx="inv_std * (g - g.mean(axis=0))"),
        loses=["test_batchnorm_backward_dx"],
        message="the path through the variance seems to be missing",
    ),
    dict(
        name="batchnorm_backward without the mean term",
        cell="batchnorm_backward",
        source=_backward(dx="inv_std * (g - x_hat * (g * x_hat).mean(axis=0))"),
        loses=["test_batchnorm_backward_dx"],
        message="the path through the mean seems to be missing",
    ),
    dict(
        name="batchnorm_backward forgetting γ in dx",
        cell="batchnorm_backward",
        source=_backward(g="dout"),
        loses=["test_batchnorm_backward_dx"],
        message="γ seems to be missing from the gradient",
    ),
    dict(
        name="batchnorm_backward using the training formula at inference",
        cell="batchnorm_backward",
        source=_backward(dx_inference="inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))"),
        loses=["test_batchnorm_backward_dx"],
        message="the training formula seems to be used at inference",
    ),
    # --- count_parameters -----------------------------------------------------------------------
    dict(
        name="count_parameters forgetting the biases",
        cell="count_parameters",
        source='''def count_parameters(sizes, batchnorm=False):
    trainable = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    non_trainable = 0
    if batchnorm:
        trainable += 2 * sum(sizes[1:-1])
        non_trainable += 2 * sum(sizes[1:-1])
    return {"total": trainable + non_trainable, "trainable": trainable,
            "non_trainable": non_trainable}''',
        loses=_COUNTS,
        message="the biases seem to be missing",
    ),
    dict(
        name="count_parameters forgetting the running statistics",
        cell="count_parameters",
        source='''def count_parameters(sizes, batchnorm=False):
    trainable = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if batchnorm:
        trainable += 2 * sum(sizes[1:-1])
    return {"total": trainable, "trainable": trainable, "non_trainable": 0}''',
        loses=["test_count_parameters_batchnorm"],
        message="the running mean and variance seem to be missing",
    ),
    dict(
        name="count_parameters counting the running statistics as trainable",
        cell="count_parameters",
        source='''def count_parameters(sizes, batchnorm=False):
    trainable = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if batchnorm:
        trainable += 4 * sum(sizes[1:-1])
    return {"total": trainable, "trainable": trainable, "non_trainable": 0}''',
        loses=["test_count_parameters_batchnorm"],
        message="seem to be counted as trainable",
    ),
    dict(
        name="count_parameters adding a batch-norm layer after the output layer",
        cell="count_parameters",
        source='''def count_parameters(sizes, batchnorm=False):
    trainable = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    non_trainable = 0
    if batchnorm:
        trainable += 2 * sum(sizes[1:])
        non_trainable += 2 * sum(sizes[1:])
    return {"total": trainable + non_trainable, "trainable": trainable,
            "non_trainable": non_trainable}''',
        loses=["test_count_parameters_batchnorm"],
        message="after the output layer too",
    ),
]
