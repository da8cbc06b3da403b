"""Pure forward/backward pairs: the functions learners implement in the notebooks.

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward(dout, cache)`` returns the
gradient(s) of the loss with respect to its inputs, where ``dout`` is dL/d(out). Rows are examples:
``X`` is ``(N, D)``, ``W`` is ``(D, M)``, ``b`` is ``(M,)``. Each function works on NumPy or CuPy
arrays (``xp = get_array_module(x)``).
"""

from __future__ import annotations

from . import overrides
from ._validate import (
    fraction,
    positive,
    require_linear,
    require_ndim,
    require_same_shape,
    require_shape,
    shape_of,
)
from .backend import Array, get_array_module

# --- linear ---------------------------------------------------------------------------------


def linear_forward(X: Array, W: Array, b: Array):
    """Affine map ``Z = X @ W + b``.   X: (N, D)  W: (D, M)  b: (M,) -> Z: (N, M)."""
    require_linear(X, W, b)
    return X @ W + b, (X, W)


def linear_backward(dout: Array, cache):
    """Gradients of ``Z = X @ W + b``.   dout: (N, M) -> dX: (N, D), dW: (D, M), db: (M,).

    ``dW = Xᵀ · dout`` (the only product with the right shape); ``db`` sums over the batch
    because the same bias reaches every example."""
    X, W = cache
    require_shape("dout", dout, (X.shape[0], W.shape[1]), "the forward output")
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


def linear_param_grads(dout: Array, cache):
    """``dW`` and ``db`` of ``Z = X @ W + b`` alone, for a first layer whose input is the data:
    nobody needs ``dX`` there, and skipping it saves a third of the layer's backward work.
    dout: (N, M) -> dW: (D, M), db: (M,)."""
    X, W = cache
    require_shape("dout", dout, (X.shape[0], W.shape[1]), "the forward output")
    return X.T @ dout, dout.sum(axis=0)


# --- activations ----------------------------------------------------------------------------


def sigmoid_forward(z: Array):
    """Logistic function ``σ(z) = 1 / (1 + e^-z)``, elementwise; no overflow for large |z|."""
    xp = get_array_module(z)
    # e = e^-|z| never overflows: σ(z) = 1 / (1 + e) for z ≥ 0 and e / (1 + e) for z < 0.
    e = xp.exp(-xp.abs(z))
    out = xp.where(z >= 0, 1.0, e) / (1 + e)
    return out, out


def sigmoid_backward(dout: Array, cache):
    """``dz = dout · σ(z)(1 − σ(z))``, written with the forward output."""
    out = cache
    return dout * out * (1 - out)


def tanh_forward(z: Array):
    """Hyperbolic tangent, elementwise (equals ``2σ(2z) − 1``)."""
    xp = get_array_module(z)
    out = xp.tanh(z)
    return out, out


def tanh_backward(dout: Array, cache):
    """``dz = dout · (1 − tanh²(z))``."""
    out = cache
    return dout * (1 - out * out)


def relu_forward(z: Array):
    """``max(z, 0)``, elementwise (NaN stays NaN)."""
    xp = get_array_module(z)
    z = xp.asarray(z)
    return xp.maximum(z, 0), z


def relu_backward(dout: Array, cache):
    """Pass the gradient where z > 0, block it elsewhere (the derivative at 0 is taken as 0)."""
    z = cache
    return dout * (z > 0)


def leaky_relu_forward(z: Array, alpha: float = 0.01):
    """``z`` where positive, ``alpha · z`` elsewhere."""
    xp = get_array_module(z)
    return xp.where(z > 0, z, alpha * z), (z, alpha)


def leaky_relu_backward(dout: Array, cache):
    """Slope 1 where z > 0, ``alpha`` elsewhere."""
    xp = get_array_module(dout)
    z, alpha = cache
    return dout * xp.where(z > 0, 1.0, alpha)


def softmax(z: Array, T: float = 1.0):
    """Row-wise softmax of ``z / T``.   z: (N, K) or (K,) -> same shape, each row sums to 1.

    Subtracting the row maximum first leaves the result unchanged and keeps ``exp`` finite."""
    positive("The temperature T", T)  # NumPy scalars too: plots sweep T over an array
    xp = get_array_module(z)
    s = z / T
    e = xp.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- dropout --------------------------------------------------------------------------------


def _uniform(rng, shape, xp):
    """Uniform [0, 1) draws on the array's device. A NumPy Generator is used as is on the CPU; on
    the GPU a CuPy generator is expected (a NumPy one works but copies the mask to the device)."""
    draws = rng.random(shape)
    return draws if get_array_module(draws) is xp else xp.asarray(draws)


def dropout_forward(x: Array, rate: float, rng, training: bool = True):
    """Inverted dropout: drop each unit with probability ``rate`` and scale the kept ones by
    ``1 / (1 − rate)`` in training; identity at inference.   x: any shape -> same shape."""
    fraction("The dropout rate", rate)
    if not training or rate == 0:
        return x, None
    xp = get_array_module(x)
    mask = (_uniform(rng, x.shape, xp) >= rate) / (1.0 - rate)
    mask = mask.astype(x.dtype, copy=False)
    return x * mask, mask


def dropout_backward(dout: Array, cache):
    """The same mask (with its scale) gates the gradient; identity when no mask was used."""
    mask = cache
    return dout if mask is None else dout * mask


# --- batch normalisation --------------------------------------------------------------------


def batchnorm_forward(x: Array, gamma: Array, beta: Array, state: dict, training: bool = True,
                      eps: float = 1e-5, momentum: float = 0.9):
    """Batch normalisation per feature.   x: (N, D)  gamma, beta: (D,) -> (N, D).

    Training: ``x̂ = (x − μ_B) / √(σ²_B + ε)`` with the biased batch variance, ``y = γ x̂ + β``, and
    ``state["running_mean"/"running_var"] ← momentum · r + (1 − momentum) · batch statistic``.
    Inference: the running statistics are used, frozen."""
    require_ndim("x", x, 2, "(N examples, D features)")
    D = x.shape[1]
    for name, p in (("gamma", gamma), ("beta", beta)):
        if shape_of(p) != (D,):
            raise ValueError(f"{name} has shape {shape_of(p)} but x has shape {shape_of(x)}: "
                             f"{name} must be ({D},).")
    xp = get_array_module(x)
    if "running_mean" not in state:
        state["running_mean"] = xp.zeros(D, dtype=x.dtype)
        state["running_var"] = xp.ones(D, dtype=x.dtype)
    if training:
        if x.shape[0] < 2:
            raise ValueError("Batch normalisation in training needs at least 2 examples per batch "
                             f"to estimate a variance, got x of shape {shape_of(x)}.")
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        state["running_mean"] = momentum * state["running_mean"] + (1 - momentum) * mean
        state["running_var"] = momentum * state["running_var"] + (1 - momentum) * var
    else:
        mean, var = state["running_mean"], state["running_var"]
    inv_std = 1 / xp.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, training)


def batchnorm_backward(dout: Array, cache):
    """Gradients of batch normalisation.   dout: (N, D) -> dx: (N, D), dgamma, dbeta: (D,).

    In training the batch mean and variance depend on every example, which gives the two
    correction terms; at inference they are constants and ``dx = dout · γ / √(var + ε)``."""
    x_hat, gamma, inv_std, training = cache
    require_same_shape("dout", dout, "the forward output", x_hat)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if not training:
        return dx_hat * inv_std, dgamma, dbeta
    N = dout.shape[0]
    dx = (inv_std / N) * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(linear_forward, linear_backward, linear_param_grads, sigmoid_forward, sigmoid_backward, tanh_forward, tanh_backward, relu_forward, relu_backward, leaky_relu_forward, leaky_relu_backward, softmax, dropout_forward, dropout_backward, batchnorm_forward, batchnorm_backward)
