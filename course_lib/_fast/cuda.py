"""Fused CUDA kernels for the cupy backend: course_lib's own maths, one kernel launch per step of
a layer where the array code launches one kernel per operation.

On a GPU every ``+``, ``*``, ``exp`` or ``where`` is a kernel launch with its own trip through
memory and a few microseconds of Python and driver work; a straight port of ``sigmoid_backward``
(``dout * out * (1 - out)``) launches three. Here each chain is one ``cupy.ElementwiseKernel``
(or ``ReductionKernel``) whose C body is the same formula, written in the same order, as the
reference function it stands in for: ReLU and sigmoid forward and backward, the softmax
cross-entropy with index labels, and the SGD, momentum and Adam updates (in place).

Who uses it: ``course_lib._fast.twin(name, *arrays)``, which the library asks for the fast
function of its reference called ``name``; ``TWINS`` says which twin stands in for which name and
when its arrays suit it (CuPy arrays of one float dtype). This module imports nothing from the
library, and CuPy compiles each kernel on its first call.

Every kernel sits beside its *oracle*: the kernel's formula written with array operations (NumPy
or CuPy), taking the same arguments; for the update rules the oracle is the in-place core of
``course_lib._fast.inplace``, which the CPU runs. ``tests/test_gpu.py`` checks that each oracle
computes what the reference computes and that each C body (built on the CPU by a C++ compiler)
computes what its oracle computes; on a GPU, that each compiled kernel matches its oracle to 1e-6
(float32) or 1e-12 (float64).
"""

from __future__ import annotations

import functools

from . import inplace
from .inplace import array_module

# Fused kernels are used when this is True; the GPU benchmark sets it to False to time the
# straight port beside them.
enabled = True

# Compiled kernels by name (CuPy compiles on first use; tests swap this dict for their own).
_compiled: dict = {}

_FLOAT_DTYPES = ("float32", "float64")


class Elementwise:
    """One ``cupy.ElementwiseKernel``: its parameters, its C body (T is the arrays' float type;
    a Python scalar given for a ``T`` parameter is converted to T, as NumPy converts a Python
    float), and its oracle. Called like the kernel: inputs, then (optionally) outputs, which are
    written in place and returned."""

    def __init__(self, name, in_params, out_params, body, oracle, reduce_dims=True):
        self.name, self.in_params, self.out_params, self.body = name, in_params, out_params, body
        self.oracle, self.reduce_dims = oracle, reduce_dims

    def build(self, cupy):
        return cupy.ElementwiseKernel(self.in_params, self.out_params, self.body,
                                      f"course_lib_{self.name}", reduce_dims=self.reduce_dims)

    def __call__(self, *args):
        kernel = _compiled.get(self.name)
        if kernel is None:
            import cupy

            kernel = _compiled[self.name] = self.build(cupy)
        return kernel(*args)


class Reduction:
    """One ``cupy.ReductionKernel``: ``map_expr`` per element, combined with ``reduce_expr``
    (``a`` and ``b``) from ``identity``, then ``post_map_expr`` writes the result."""

    def __init__(self, name, in_params, out_params, map_expr, reduce_expr, post_map_expr,
                 identity, oracle):
        self.name, self.in_params, self.out_params = name, in_params, out_params
        self.map_expr, self.reduce_expr, self.post_map_expr = map_expr, reduce_expr, post_map_expr
        self.identity, self.oracle = identity, oracle

    def build(self, cupy):
        return cupy.ReductionKernel(self.in_params, self.out_params, self.map_expr,
                                    self.reduce_expr, self.post_map_expr, self.identity,
                                    f"course_lib_{self.name}")

    def __call__(self, *args, axis, keepdims=False):
        kernel = _compiled.get(self.name)
        if kernel is None:
            import cupy

            kernel = _compiled[self.name] = self.build(cupy)
        return kernel(*args, axis=axis, keepdims=keepdims)


def _store(out, value):
    """An oracle's result: ``value`` itself, or written into the given output array."""
    if out is None:
        return value
    out[...] = value
    return out


def _as(x, scalar):
    """``scalar`` converted to x's float type, as the kernel converts its ``T`` scalars."""
    return x.dtype.type(scalar)


# --- activations ----------------------------------------------------------------------------


def _relu_forward_oracle(z, out=None):
    xp = array_module(z)
    return _store(out, xp.where((z > 0) | xp.isnan(z), z, _as(z, 0)))


RELU_FORWARD = Elementwise(
    "relu_forward", "T z", "T out",
    # max(z, 0); NaN stays NaN, as with NumPy's maximum (a diverged run must show a nan loss)
    "out = (z > (T)0 || isnan(z)) ? z : (T)0;",
    _relu_forward_oracle)


def _relu_backward_oracle(dout, z, dz=None):
    return _store(dz, dout * (z > 0))


RELU_BACKWARD = Elementwise(
    "relu_backward", "T dout, T z", "T dz",
    # dout times 1 or 0, as functional.relu_backward's dout * (z > 0): NaN in dout stays NaN
    "dz = dout * (T)(z > (T)0);",
    _relu_backward_oracle)


def _sigmoid_forward_oracle(z, out=None):
    xp = array_module(z)
    e = xp.exp(-xp.abs(z))
    return _store(out, xp.where(z >= 0, _as(z, 1), e) / (1 + e))


SIGMOID_FORWARD = Elementwise(
    "sigmoid_forward", "T z", "T out",
    # e = e^-|z| never overflows: σ(z) = 1 / (1 + e) for z ≥ 0 and e / (1 + e) for z < 0
    "T e = exp(z >= (T)0 ? -z : z);\n"
    "out = (z >= (T)0 ? (T)1 : e) / ((T)1 + e);",
    _sigmoid_forward_oracle)


def _sigmoid_backward_oracle(dout, out, dz=None):
    return _store(dz, dout * out * (1 - out))


SIGMOID_BACKWARD = Elementwise(
    "sigmoid_backward", "T dout, T out", "T dz",
    # dz = dout · σ(z)(1 − σ(z)), written with the forward output
    "dz = dout * out * ((T)1 - out);",
    _sigmoid_backward_oracle)


# --- softmax cross-entropy with index labels --------------------------------------------------


def _log_sum_exp_oracle(z, row_max, axis, keepdims=False):
    xp = array_module(z)
    return xp.log(xp.exp(z - row_max).sum(axis=axis, keepdims=keepdims))


LOG_SUM_EXP = Reduction(
    "log_sum_exp", "T z, T row_max", "T log_sum",
    "exp(z - row_max)", "a + b", "log_sum = log(a)", "0",
    _log_sum_exp_oracle)


def _softmax_ce_grad_oracle(z, row_max, log_sum, label, num_classes, num_examples, grad=None,
                            nll=None):
    xp = array_module(z)
    log_p = (z - row_max) - log_sum
    target = xp.arange(z.shape[-1]) == label
    if nll is not None:
        nll[...] = -log_p[target]
    return _store(grad, (xp.exp(log_p) - target) / _as(z, num_examples)), nll


SOFTMAX_CE_GRAD = Elementwise(
    "softmax_cross_entropy_grad",
    # row_max, log_sum and label are (N, 1) columns, broadcast along each row of z (N, K)
    "T z, T row_max, T log_sum, I label, int64 num_classes, T num_examples",
    "T grad, raw T nll",
    # log p = (z − max) − log Σ e^(z − max); grad = (p − y) / N; the target's −log p per row
    "T log_p = (z - row_max) - log_sum;\n"
    "bool target = (i % num_classes) == label;\n"
    "grad = (exp(log_p) - (target ? (T)1 : (T)0)) / num_examples;\n"
    "if (target) nll[i / num_classes] = -log_p;",
    _softmax_ce_grad_oracle,
    reduce_dims=False)  # i must stay the row-major index of (N, K): i % K is the column


# --- update rules, in place: the oracles are the in-place cores ------------------------------


SGD = Elementwise(
    "sgd_update", "T dw, T lr", "T w",
    "w -= lr * dw;",  # w ← w − η g
    inplace.sgd)

MOMENTUM = Elementwise(
    "momentum_update", "T dw, T lr, T gamma", "T w, T v",
    "v = gamma * v + lr * dw;\n"  # v ← γ v + η g
    "w -= v;",                    # w ← w − v
    inplace.momentum)

ADAM = Elementwise(
    "adam_update",
    "T dw, T lr, T beta1, T beta2, T one_minus_beta1, T one_minus_beta2, T bias1, T bias2, T eps",
    "T w, T m, T v",
    # as inplace.adam: bias1 and bias2 are 1 − β₁ᵗ and 1 − β₂ᵗ, worked out on the host
    "m = beta1 * m + one_minus_beta1 * dw;\n"
    "v = beta2 * v + one_minus_beta2 * dw * dw;\n"
    "w -= lr * (m / bias1) / (sqrt(v / bias2) + eps);",
    inplace.adam)

KERNELS = {k.name: k for k in (RELU_FORWARD, RELU_BACKWARD, SIGMOID_FORWARD, SIGMOID_BACKWARD,
                               LOG_SUM_EXP, SOFTMAX_CE_GRAD, SGD, MOMENTUM, ADAM)}


# --- the fused twins of course_lib's reference functions ---------------------------------------
# Same signatures and results as the functions they stand in for, on the arrays TWINS says suit
# them; for anything else (integer or mixed dtypes, one-hot labels, host arrays) twin() gives None
# and the library calls its reference.


def _floats(*arrays):
    """Whether the kernels apply: CuPy arrays of one float dtype (float32 or float64). For an
    update rule, ``w`` and ``dw``: its twin makes the state's arrays in dw's dtype."""
    first = arrays[0]
    return (array_module(*arrays).__name__ == "cupy" and first.dtype.name in _FLOAT_DTYPES
            and all(a.dtype == first.dtype for a in arrays))


def _index_labels(logits, y):
    """Logits (N, K) of a float dtype and index labels (N,) of an integer one, on the GPU."""
    return (getattr(logits, "ndim", 0) == 2 and logits.shape[0] > 0
            and getattr(y, "shape", None) == (logits.shape[0],) and y.dtype.kind in "iu"
            and array_module(y) is array_module(logits) and _floats(logits))


def relu_forward(z):
    """``functional.relu_forward`` in one kernel."""
    return RELU_FORWARD(z), z


def relu_backward(dout, cache):
    """``functional.relu_backward`` in one kernel."""
    return RELU_BACKWARD(dout, cache)


def sigmoid_forward(z):
    """``functional.sigmoid_forward`` in one kernel."""
    out = SIGMOID_FORWARD(z)
    return out, out


def sigmoid_backward(dout, cache):
    """``functional.sigmoid_backward`` in one kernel."""
    return SIGMOID_BACKWARD(dout, cache)


def softmax_cross_entropy(logits, y):
    """``losses.softmax_cross_entropy`` for index labels ``y`` (N,) in four kernels (row maximum,
    log-sum-exp, gradient with each row's −log p of its target, the sum): ``(loss, grad)``.

    The labels' range is not checked here (reading it would stop the GPU every step): ``fit``
    checks all of them once, before it trains."""
    xp = array_module(logits)
    N, K = logits.shape
    row_max = logits.max(axis=1, keepdims=True)
    log_sum = LOG_SUM_EXP(logits, row_max, axis=1, keepdims=True)
    grad = xp.empty_like(logits)
    nll = xp.empty(N, dtype=logits.dtype)  # every row's target writes its entry
    SOFTMAX_CE_GRAD(logits, row_max, log_sum, y.reshape(N, 1), K, N, grad, nll)
    return nll.sum() / N, grad


# name -> (twin, whether the arrays given to twin() suit it)
TWINS = {
    "relu_forward": (relu_forward, _floats),
    "relu_backward": (relu_backward, _floats),
    "sigmoid_forward": (sigmoid_forward, _floats),
    "sigmoid_backward": (sigmoid_backward, _floats),
    "softmax_cross_entropy": (softmax_cross_entropy, _index_labels),
    # the in-place rules with their kernel as the core: the state's zeros are made in dw's dtype
    "sgd_update": (functools.partial(inplace.sgd_update, core=SGD), _floats),
    "momentum_update": (functools.partial(inplace.momentum_update, core=MOMENTUM), _floats),
    "adam_update": (functools.partial(inplace.adam_update, core=ADAM), _floats),
}


def twin(name, *arrays):
    """The fused twin of ``name`` when ``enabled`` and the arrays suit it, else None."""
    entry = TWINS.get(name) if enabled else None
    return entry[0] if entry is not None and entry[1](*arrays) else None

