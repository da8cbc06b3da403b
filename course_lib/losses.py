"""Losses. Each takes ``(y_hat or logits, y)`` and returns ``(loss, grad)``: the cost (mean over
the examples of the batch) and its gradient with respect to the first argument.

Labels ``y`` are class indices ``(N,)`` or one-hot / regression targets of the same shape as the
prediction. The conventions (½ in the squared error, MSE averaging over every element, clipping
in the cross-entropies) are CONVENTIONS.md's.
"""

from __future__ import annotations

from . import overrides
from ._validate import require_finite, shape_of
from .backend import Array, get_array_module, is_device_array

# Probabilities are clipped to [_EPS, 1 − _EPS] so that p = 0 or 1 gives a finite loss.
_EPS = 1e-12


def _targets_like(y_hat, y, name):
    """``y`` as an array of ``y_hat``'s shape: class indices become one-hot rows, (N,) targets
    for a (N, 1) prediction become a column."""
    if getattr(y, "shape", None) == y_hat.shape and getattr(y, "dtype", None) == y_hat.dtype:
        require_finite("y", y)
        return y  # already in shape (the common case inside fit)
    xp = get_array_module(y_hat)
    y = xp.asarray(y)
    require_finite("y", y)
    if y.shape == y_hat.shape:
        return y.astype(y_hat.dtype, copy=False)
    if y_hat.ndim == 2 and y.shape == (y_hat.shape[0],):
        if y_hat.shape[1] == 1:
            return y.reshape(-1, 1).astype(y_hat.dtype, copy=False)
        if y.dtype.kind in "iub":
            return _one_hot(y, y_hat.shape[1], y_hat.dtype, xp)
    raise ValueError(f"{name}: predictions have shape {shape_of(y_hat)} but y has shape "
                     f"{shape_of(y)}; y must be class indices (N,) or match the predictions.")


def check_class_indices(y, K):
    """Index labels must lie in [0, K − 1]. Reading their range back from a GPU would stop it on
    every step, so the losses check host arrays only and ``fit`` checks device labels once."""
    if y.size and (int(y.min()) < 0 or int(y.max()) >= K):
        raise ValueError(f"Class indices must lie in [0, {K - 1}] for {K} classes.")


def _one_hot(y, K, dtype, xp):
    if not is_device_array(y):
        check_class_indices(y, K)
    out = xp.zeros((y.shape[0], K), dtype=dtype)
    out[xp.arange(y.shape[0]), y] = 1
    return out


def _num_examples(y_hat):
    return y_hat.shape[0] if y_hat.ndim > 0 else 1


def half_squared_error(y_hat: Array, y: Array):
    """Cost ``mean over examples of ½ Σ (ŷ − y)²``; gradient ``(ŷ − y) / N``.

    ŷ = 0.5, y = 0 gives 0.125 (Khan 2019)."""
    require_finite("y_hat", y_hat)
    y = _targets_like(y_hat, y, "half_squared_error")
    diff = y_hat - y
    N = _num_examples(y_hat)
    return 0.5 * (diff * diff).sum() / N, diff / N


def mse(y_hat: Array, y: Array):
    """Mean over every element of ``(ŷ − y)²`` (torch ``MSELoss``, Keras ``mse``); gradient
    ``2 (ŷ − y) / size``."""
    require_finite("y_hat", y_hat)
    y = _targets_like(y_hat, y, "mse")
    diff = y_hat - y
    return (diff * diff).mean(), 2 * diff / diff.size


def binary_cross_entropy(p: Array, y: Array):
    """``mean over examples of −[y log p + (1 − y) log(1 − p)]`` for probabilities ``p``.

    ``p`` is clipped to [1e-12, 1 − 1e-12] so p = 0 or 1 stays finite. With ``p = σ(z)`` the
    chain rule gives ``dL/dz = p − y`` per example."""
    require_finite("p", p)
    xp = get_array_module(p)
    y = _targets_like(p, y, "binary_cross_entropy")
    q = xp.clip(p, _EPS, 1 - _EPS)
    N = _num_examples(p)
    loss = -(y * xp.log(q) + (1 - y) * xp.log(1 - q)).sum() / N
    return loss, (q - y) / (q * (1 - q)) / N


def binary_cross_entropy_with_logits(z: Array, y: Array):
    """Binary cross-entropy from the logits ``z`` (before the sigmoid), as torch's
    ``BCEWithLogitsLoss``: ``mean over examples of max(z, 0) − z·y + log(1 + e^−|z|)``, which
    equals ``−[y log σ(z) + (1 − y) log(1 − σ(z))]`` and is exact for any finite z (no clipping,
    no overflow). Gradient ``(σ(z) − y) / N``: a confidently wrong unit (|z| large) keeps a
    gradient of ±1 per example, where sigmoid then clipped BCE gives 0 beyond |z| ≈ 28."""
    require_finite("z", z)
    xp = get_array_module(z)
    y = _targets_like(z, y, "binary_cross_entropy_with_logits")
    N = _num_examples(z)
    e = xp.exp(-xp.abs(z))  # in (0, 1]: never overflows
    loss = (xp.maximum(z, 0) - z * y + xp.log1p(e)).sum() / N
    p = xp.where(z >= 0, 1 / (1 + e), e / (1 + e))  # σ(z) without overflow on either side
    return loss, (p - y) / N


def categorical_cross_entropy(p: Array, y: Array):
    """``mean over examples of −Σ_k y_k log p_k`` for probability rows ``p`` (N, K)."""
    require_finite("p", p)
    xp = get_array_module(p)
    y = _targets_like(p, y, "categorical_cross_entropy")
    q = xp.clip(p, _EPS, 1.0)
    N = _num_examples(p)
    return -(y * xp.log(q)).sum() / N, -y / q / N


def softmax_cross_entropy(logits: Array, y: Array):
    """Softmax then categorical cross-entropy, computed from the logits (N, K) without ever taking
    the log of 0; gradient ``(p − y) / N`` where ``p = softmax(logits)``."""
    require_finite("logits", logits)
    xp = get_array_module(logits)
    N = _num_examples(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_sum = xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
    log_p = shifted - log_sum
    p = xp.exp(log_p)
    y_arr = xp.asarray(y)
    if logits.ndim == 2 and y_arr.shape == (N,) and y_arr.dtype.kind in "iu":
        # index labels: pick each row's log-probability directly, no one-hot matrix needed
        if not is_device_array(y_arr):
            check_class_indices(y_arr, logits.shape[1])
        rows = xp.arange(N)
        loss = -log_p[rows, y_arr].sum() / N
        grad = p
        grad[rows, y_arr] -= 1
        return loss, grad / N
    y_t = _targets_like(logits, y_arr, "softmax_cross_entropy")
    return -(y_t * log_p).sum() / N, (p - y_t) / N


def is_classification(loss_fn) -> bool:
    """Whether accuracy makes sense for this loss (used by ``fit`` to report it)."""
    name = getattr(loss_fn, "__name__", "")
    return name in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "categorical_cross_entropy",
                    "softmax_cross_entropy")


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(half_squared_error, mse, binary_cross_entropy, binary_cross_entropy_with_logits,
                   categorical_cross_entropy, softmax_cross_entropy)
