"""Plausible wrong submissions for 07_regularization. Each replaces one solution cell and must
lose exactly the points of the test cells in ``loses``; ``message`` is part of what the first of
them prints, so the check names the mistake."""

_EARLY = ["test_early_stopping", "test_early_stopping_ties_min_delta"]

MUTANTS = [
    # --- l2_penalty -----------------------------------------------------------------------------
    dict(
        name="l2_penalty with the CS231n half (½λΣW², gradient λW)",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return 0.5 * lam * np.sum(W * W), lam * W''',
        loses=["test_l2_penalty", "test_l2_penalty_gradient"],
        message="the course's penalty has no ½",
    ),
    dict(
        name="l2_penalty written as the L1 penalty",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return lam * np.sum(np.abs(W)), lam * np.sign(W)''',
        loses=["test_l2_penalty", "test_l2_penalty_gradient"],
        message="the L1 penalty",
    ),
    dict(
        name="l2_penalty with the gradient λW (the 2 of the derivative forgotten)",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return lam * np.sum(W * W), lam * W''',
        loses=["test_l2_penalty_gradient"],
        message="it matches λW",
    ),
    dict(
        name="l2_penalty with λ missing from the gradient",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return lam * np.sum(W * W), 2 * W''',
        loses=["test_l2_penalty_gradient"],
        message="λ seems to be missing",
    ),
    dict(
        name="l2_penalty averaging the squares instead of adding them",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return lam * np.mean(W * W), 2 * lam * W''',
        loses=["test_l2_penalty"],
        message="the penalty is not averaged",
    ),
    dict(
        name="l2_penalty as the norm (square root of the sum of squares)",
        cell="l2_penalty",
        source='''def l2_penalty(W, lam):
    return lam * np.sqrt(np.sum(W * W)), 2 * lam * W''',
        loses=["test_l2_penalty"],
        message="no square root",
    ),
    # --- dropout_forward ------------------------------------------------------------------------
    dict(
        name="dropout_forward treating rate as the keep probability",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    mask = (rng.random(x.shape) < rate) / rate
    return x * mask, mask''',
        loses=["test_dropout_forward_training"],
        message="rate seems to be treated as the keep probability",
    ),
    dict(
        name="dropout_forward scaling the kept units by p = 1 − rate instead of 1/(1 − rate)",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    mask = (rng.random(x.shape) >= rate) * (1 - rate)
    return x * mask, mask''',
        loses=["test_dropout_forward_training"],
        message="multiplied by the keep probability",
    ),
    dict(
        name="dropout_forward without the inverted-dropout scale",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    mask = (rng.random(x.shape) >= rate) * 1.0
    return x * mask, mask''',
        loses=["test_dropout_forward_training"],
        message="seem not to be scaled",
    ),
    dict(
        name="dropout_forward dividing by rate",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    mask = (rng.random(x.shape) >= rate) / rate
    return x * mask, mask''',
        loses=["test_dropout_forward_training"],
        message="seem scaled by rate",
    ),
    dict(
        name="dropout_forward drawing the mask from np.random instead of rng",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    mask = (np.random.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask''',
        loses=["test_dropout_forward_training"],
        message="draw the mask from the rng argument",
    ),
    dict(
        name="dropout_forward caching the 0/1 mask without its scale",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    keep = rng.random(x.shape) >= rate
    return x * keep / (1 - rate), keep''',
        loses=["test_dropout_forward_training"],
        message="without its scale",
    ),
    dict(
        name="dropout_forward still dropping at inference",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask''',
        loses=["test_dropout_forward_inference"],
        message="dropped entries with training=False",
    ),
    dict(
        name="dropout_forward applying the weight-scaling rule at inference on top of inverted dropout",
        cell="dropout_forward",
        source='''def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x * (1 - rate), None
    mask = (rng.random(x.shape) >= rate) / (1 - rate)
    return x * mask, mask''',
        loses=["test_dropout_forward_inference"],
        message="weight-scaling rule",
    ),
    # --- dropout_backward -----------------------------------------------------------------------
    dict(
        name="dropout_backward drawing a new mask instead of reusing the cached one",
        cell="dropout_backward",
        source='''def dropout_backward(dout, cache):
    if cache is None:
        return dout
    rate = 1 - 1 / cache.max()
    mask = (np.random.default_rng().random(dout.shape) >= rate) / (1 - rate)
    return dout * mask''',
        loses=["test_dropout_backward"],
        message="the mask seems not to be reused",
    ),
    dict(
        name="dropout_backward with the 0/1 pattern but without the scale",
        cell="dropout_backward",
        source='''def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * (cache > 0)''',
        loses=["test_dropout_backward"],
        message="scale seems to be missing",
    ),
    dict(
        name="dropout_backward passing the gradient unchanged",
        cell="dropout_backward",
        source='''def dropout_backward(dout, cache):
    return dout''',
        loses=["test_dropout_backward"],
        message="the gradient passed unchanged",
    ),
    dict(
        name="dropout_backward failing on the inference cache None",
        cell="dropout_backward",
        source='''def dropout_backward(dout, cache):
    return dout * cache''',
        loses=["test_dropout_backward"],
        message="raised TypeError",
    ),
    # --- early_stopping -------------------------------------------------------------------------
    dict(
        name="early_stopping returning epoch numbers counted from 1",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value < best - min_delta:
            best, best_index, waited = value, i + 1, 0
        else:
            waited += 1
            if waited >= patience:
                return i + 1, best_index
    return None, best_index''',
        loses=_EARLY,
        message="counted from 1, not positions in the list",
    ),
    dict(
        name="early_stopping counting a tie as an improvement (<=)",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value <= best - min_delta:
            best, best_index, waited = value, i, 0
        else:
            waited += 1
            if waited >= patience:
                return i, best_index
    return None, best_index''',
        loses=["test_early_stopping_ties_min_delta"],
        message="seems to count as an improvement",
    ),
    dict(
        name="early_stopping ignoring min_delta",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value < best:
            best, best_index, waited = value, i, 0
        else:
            waited += 1
            if waited >= patience:
                return i, best_index
    return None, best_index''',
        loses=["test_early_stopping_ties_min_delta"],
        message="min_delta seems to be ignored",
    ),
    dict(
        name="early_stopping stopping one value too late (waited > patience)",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value < best - min_delta:
            best, best_index, waited = value, i, 0
        else:
            waited += 1
            if waited > patience:
                return i, best_index
    return None, best_index''',
        loses=_EARLY,
        message="one value too late",
    ),
    dict(
        name="early_stopping reporting the minimum of the whole curve as the best",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, waited = float("inf"), 0
    overall_best = int(np.argmin(val_losses))
    for i, value in enumerate(val_losses):
        if value < best - min_delta:
            best, waited = value, 0
        else:
            waited += 1
            if waited >= patience:
                return i, overall_best
    return None, overall_best''',
        loses=_EARLY,
        message="seems to be the minimum of the whole curve",
    ),
    dict(
        name="early_stopping comparing each value with the previous one instead of the best",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    previous, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value < previous - min_delta:
            best_index, waited = i, 0
        else:
            waited += 1
            if waited >= patience:
                return i, best_index
        previous = value
    return None, best_index''',
        loses=_EARLY,
        message="rather than with the best so far",
    ),
    dict(
        name="early_stopping never resetting the count after an improvement",
        cell="early_stopping",
        source='''def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index, waited = float("inf"), None, 0
    for i, value in enumerate(val_losses):
        if value < best - min_delta:
            best, best_index = value, i
        else:
            waited += 1
            if waited >= patience:
                return i, best_index
    return None, best_index''',
        loses=_EARLY,
        message="seems not to start again after an improvement",
    ),
    # --- regularization_settings ----------------------------------------------------------------
    dict(
        name="regularization_settings regularizing nothing",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"l2": 0.0, "dropout": 0.0}''',
        loses=["test_regularization_settings"],
        message="nothing is regularized",
    ),
    dict(
        name="regularization_settings with a λ so large that the network underfits",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"l2": 0.1, "dropout": 0.0}''',
        loses=["test_regularization_settings"],
        message="the network underfits",
    ),
    dict(
        name="regularization_settings with a λ too small to matter (0.0001)",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"l2": 0.0001, "dropout": 0.0}''',
        loses=["test_regularization_settings"],
        message="regularize more",
    ),
    dict(
        name="regularization_settings with dropout 0.5 alone (still overfits the circles)",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"l2": 0.0, "dropout": 0.5}''',
        loses=["test_regularization_settings"],
        message="regularize more",
    ),
    dict(
        name="regularization_settings with l2 = 0.02 (underfits: 1.45 times the best on draw 0)",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"l2": 0.02, "dropout": 0.0}''',
        loses=["test_regularization_settings"],
        message="make it smaller",
    ),
    dict(
        name="regularization_settings with the wrong keys",
        cell="regularization_settings",
        source='''def regularization_settings():
    return {"lambda": 0.003, "rate": 0.2}''',
        loses=["test_regularization_settings"],
        message="exactly the keys 'l2' and 'dropout'",
    ),
]
