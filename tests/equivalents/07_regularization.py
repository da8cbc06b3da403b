"""Correct answers to 07_regularization written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- l2_penalty -----------------------------------------------------------------------------
    dict(name="l2_penalty with ** 2 and λ·2·W", cell="l2_penalty", source='''
def l2_penalty(W, lam):
    return lam * np.sum(W ** 2), lam * 2 * W'''),
    dict(name="l2_penalty with np.vdot (W · W)", cell="l2_penalty", source='''
def l2_penalty(W, lam):
    return lam * float(np.vdot(W, W)), 2.0 * lam * W'''),
    dict(name="l2_penalty with np.square(W).sum()", cell="l2_penalty", source='''
def l2_penalty(W, lam):
    return np.square(W).sum() * lam, np.multiply(2 * lam, W)'''),
    # --- dropout_forward ------------------------------------------------------------------------
    dict(name="dropout_forward keeping u < 1 − rate", cell="dropout_forward", source='''
def dropout_forward(x, rate, rng, training=True):
    if not training:
        return x, None
    keep = 1 - rate
    mask = (rng.random(size=x.shape) < keep) / keep
    return x * mask, mask'''),
    dict(name="dropout_forward with rng.binomial and np.where", cell="dropout_forward", source='''
def dropout_forward(x, rate, rng, training=True):
    if training:
        kept = rng.binomial(1, 1 - rate, size=np.shape(x)).astype(bool)
        mask = np.where(kept, 1 / (1 - rate), 0.0)
        return np.where(kept, x / (1 - rate), 0.0), mask
    return x, None'''),
    # --- dropout_backward -----------------------------------------------------------------------
    dict(name="dropout_backward as a conditional expression with np.multiply", cell="dropout_backward",
         source='''
def dropout_backward(dout, cache):
    return dout if cache is None else np.multiply(dout, cache)'''),
    # --- early_stopping -------------------------------------------------------------------------
    dict(name="early_stopping with best − value > min_delta and the wait as i − best_index",
         cell="early_stopping", source='''
def early_stopping(val_losses, patience, min_delta=0.0):
    best, best_index = val_losses[0], 0
    for i in range(1, len(val_losses)):
        if best - val_losses[i] > min_delta:
            best, best_index = val_losses[i], i
        elif i - best_index >= patience:
            return i, best_index
    return None, best_index'''),
    dict(name="early_stopping with a while loop and a counter", cell="early_stopping", source='''
def early_stopping(val_losses, patience, min_delta=0.0):
    losses = list(val_losses)
    best, best_index, bad, i = np.inf, 0, 0, 0
    while i < len(losses):
        if losses[i] < best - min_delta:
            best, best_index, bad = losses[i], i, 0
        else:
            bad += 1
        if bad == patience:
            return i, best_index
        i += 1
    return None, best_index'''),
    # --- regularization_settings ----------------------------------------------------------------
    dict(name="regularization_settings with l2 = 0.003 (1.07 and 0.98 of the best on draws 0 and 1, 1.26 on draw 3)",
         cell="regularization_settings", source='''
def regularization_settings():
    return {"l2": 0.003, "dropout": 0}'''),
    dict(name="regularization_settings with l2 = 0.01 as a NumPy float (1.07, 1.09, 1.05)",
         cell="regularization_settings", source='''
def regularization_settings():
    return {"dropout": 0.0, "l2": np.float64(0.01)}'''),
    dict(name="regularization_settings with l2 = 0.005 and dropout 0.1 (1.06 and 1.05 on draws 0 and 1)",
         cell="regularization_settings", source='''
def regularization_settings():
    return {"l2": 0.005, "dropout": 0.1}'''),
]
