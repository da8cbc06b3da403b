"""Numerical gradients by centred differences, and the relative error that compares them with
backpropagation's (CONVENTIONS.md: ε = 1e-5, error ‖a − n‖ / max(‖a‖ + ‖n‖, 1e-12), pass below
1e-7 in float64). Works on NumPy and CuPy arrays alike: it indexes element by element, no
``np.nditer``.
"""

from __future__ import annotations

import itertools

from . import overrides, train
from ._validate import require_finite
from .backend import get_array_module

THRESHOLD = 1e-7


def numerical_gradient(f, x, eps: float = 1e-5):
    """dJ/dx for a scalar function ``f(x)`` by centred differences ``(J(x+ε) − J(x−ε)) / 2ε``.

    ``x`` is perturbed in place, one element at a time, and restored. Cost: 2 evaluations of f
    per element of x, which is why backpropagation (about two forward passes) wins."""
    require_finite("x", x)
    if x.dtype.kind not in "fc":  # x ± ε would be rounded back to whole numbers
        raise ValueError(f"numerical_gradient needs a float array, got dtype {x.dtype}: pass "
                         "x.astype(float).")
    xp = get_array_module(x)
    grad = xp.zeros(x.shape, dtype=x.dtype)
    # Index x itself, element by element: a reshaped view of a transposed or sliced x would be
    # a copy, and perturbing a copy leaves f(x) unchanged (a silent gradient of zeros).
    for idx in itertools.product(*(range(n) for n in x.shape)):
        old = x[idx].copy()
        x[idx] = old + eps
        plus = float(f(x))
        x[idx] = old - eps
        minus = float(f(x))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def numerical_gradient_array(f, x, dout, eps: float = 1e-5):
    """Numerical gradient of ``sum(f(x) * dout)``: the input gradient of a non-scalar function for
    the upstream gradient ``dout`` (what a ``*_backward(dout, cache)`` should return)."""
    xp = get_array_module(x)
    return numerical_gradient(lambda v: xp.sum(f(v) * dout), x, eps)


def relative_error(a, n) -> float:
    """``‖a − n‖₂ / max(‖a‖₂ + ‖n‖₂, 1e-12)``: 0 for equal arrays, 1 for opposite ones."""
    xp = get_array_module(a)
    a, n = xp.asarray(a, dtype=float), xp.asarray(n, dtype=float)
    if a.shape != n.shape:
        raise ValueError(f"Cannot compare gradients of shapes {a.shape} and {n.shape}.")
    return float(xp.linalg.norm(a - n) / max(float(xp.linalg.norm(a) + xp.linalg.norm(n)), 1e-12))


def check_model(model, loss, X, y, eps: float = 1e-5, verbose: bool = True) -> dict:
    """Compare backprop's gradient of every parameter with the numerical one.

    Returns ``{name: relative error}``; names are ``"<layer index>.<param>"`` (nested
    Sequentials are opened up and their layers counted in order). The model is put
    in eval mode for the check when it has dropout (a random mask changes J between evaluations)
    — batch norm stays in training mode because its batch statistics are what backward
    differentiates. Use float64 for figures below 1e-7."""
    loss_fn = train.resolve_loss(loss)
    layers = train.leaves(model)
    dropouts = [layer for layer in layers if type(layer).__name__ == "Dropout"]
    modes = [layer.training for layer in dropouts]
    for layer in dropouts:
        layer.train(False)
    states = [dict(layer.buffers()) for layer in layers]  # running stats must not drift
    try:
        for p in model.parameters():
            p.zero_grad()
        value, grad = loss_fn(model.forward(X), y)
        model.backward(grad)
        errors = {}
        for li, layer in enumerate(layers):
            for p in layer.parameters():
                def J(_, layer=layer):
                    return loss_fn(model.forward(X), y)[0]

                numeric = numerical_gradient(J, p.data, eps)
                errors[f"{li}.{p.name}"] = relative_error(p.grad, numeric)
    finally:
        for layer, mode in zip(dropouts, modes, strict=True):
            layer.train(mode)
        for layer, saved in zip(layers, states, strict=True):
            layer.buffers().update(saved)
    if verbose:
        for name, err in errors.items():
            verdict = "ok" if err < THRESHOLD else "CHECK THIS"
            print(f"{name:>10}: relative error {err:.2e}  {verdict}")
            # A parameter that batch norm cancels (a bias right before it) has a true gradient of
            # 0; both estimates are then rounding noise and their relative error means nothing.
    return errors


def check_pair(forward: str, x, *args, dout=None, seed: int = 0, **kwargs) -> float:
    """Gradient-check the input gradient of a functional pair by name, e.g.
    ``check_pair("sigmoid_forward", z)``: compares ``*_backward(dout, cache)`` (its first result)
    with the numerical gradient. Uses the learner's functions inside ``course_lib.using``."""
    import numpy

    fwd = overrides.get(forward)
    bwd = overrides.get(forward.replace("_forward", "_backward"))
    xp = get_array_module(x)
    out, cache = fwd(x, *args, **kwargs)
    if dout is None:
        dout = xp.asarray(numpy.random.default_rng(seed).standard_normal(out.shape))
    analytic = bwd(dout, cache)
    analytic = analytic[0] if isinstance(analytic, tuple) else analytic
    numeric = numerical_gradient_array(lambda v: fwd(v, *args, **kwargs)[0], x.copy(), dout)
    return relative_error(analytic, numeric)
