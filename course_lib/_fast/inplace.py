"""The update rules of ``course_lib.optim``, in place: what the optimizer classes run when
course_lib's own rule is in force, on NumPy or CuPy arrays.

Each rule has two parts. Its *core* (``sgd``, ``momentum``, ...) is the arithmetic, written
operation for operation as the pure rule writes it (so the numbers are identical), writing into
``w`` and the state's arrays instead of allocating new ones every step. Its arguments are those of
the CUDA kernel of the same name (``course_lib._fast.cuda``): inputs, then the arrays it updates;
so each core is also the oracle its kernel is tested against. The ``*_update`` function has the
signature of the optimizer's twin, ``(w, dw, state, lr, **hyper)``: it makes the state's arrays
(zeros, in dw's dtype: from zero, ``γ·0 + η g`` is exactly the pure rule's first ``v = η g``) and
calls a core, by default the one above it. Hyper-parameters were validated by the optimizer.
"""

from __future__ import annotations

import sys

import numpy


def array_module(*arrays):
    """``cupy`` when any of the arrays is a CuPy array, else ``numpy`` (cupy is never imported
    just to ask)."""
    cupy = sys.modules.get("cupy")
    return numpy if cupy is None else cupy.get_array_module(*arrays)


def _zeros(state, dw, key):
    """``state[key]``, started at zeros like ``dw`` on the first step."""
    if key not in state:
        state[key] = array_module(dw).zeros_like(dw)
    return state[key]


def sgd(dw, lr, w):
    w -= lr * dw  # w ← w − η g


def sgd_update(w, dw, state, lr, core=sgd):
    core(dw, lr, w)


def momentum(dw, lr, gamma, w, v):
    v *= gamma   # v ← γ v + η g
    v += lr * dw
    w -= v       # w ← w − v


def momentum_update(w, dw, state, lr, gamma, core=momentum):
    core(dw, lr, gamma, w, _zeros(state, dw, "v"))


def adagrad(dw, lr, eps, w, r):
    r += dw * dw  # r ← r + g⊙g, w ← w − η g / (√r + δ)
    w -= lr * dw / (array_module(w).sqrt(r) + eps)


def adagrad_update(w, dw, state, lr, eps, core=adagrad):
    core(dw, lr, eps, w, _zeros(state, dw, "r"))


def rmsprop(dw, lr, rho, one_minus_rho, eps, w, r):
    r *= rho  # r ← ρ r + (1 − ρ) g⊙g, w ← w − η g / (√r + δ)
    r += one_minus_rho * dw * dw
    w -= lr * dw / (array_module(w).sqrt(r) + eps)


def rmsprop_update(w, dw, state, lr, rho, eps, core=rmsprop):
    core(dw, lr, rho, 1 - rho, eps, w, _zeros(state, dw, "r"))


def adam(dw, lr, beta1, beta2, one_minus_beta1, one_minus_beta2, bias1, bias2, eps, w, m, v):
    # m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w − η m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ),
    # v̂ = v / (1 − β₂ᵗ): bias1 and bias2 are 1 − β₁ᵗ and 1 − β₂ᵗ, worked out by the caller
    m *= beta1
    m += one_minus_beta1 * dw
    v *= beta2
    v += one_minus_beta2 * dw * dw
    w -= lr * (m / bias1) / (array_module(w).sqrt(v / bias2) + eps)


def adam_update(w, dw, state, lr, beta1, beta2, eps, core=adam):
    t = state["t"] = state.get("t", 0) + 1  # t counts steps, the first is 1
    core(dw, lr, beta1, beta2, 1 - beta1, 1 - beta2, 1 - beta1**t, 1 - beta2**t, eps,
         w, _zeros(state, dw, "m"), _zeros(state, dw, "v"))


UPDATES = {f.__name__: f for f in (sgd_update, momentum_update, adagrad_update, rmsprop_update,
                                   adam_update)}

