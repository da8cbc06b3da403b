"""The CUDA path (issue 9): course_lib on CuPy with no host round trip per training step, and the
fused kernels of ``course_lib._fast.cuda``.

On any machine (the CPU stands in for what it can):
- every kernel's oracle computes what course_lib's reference function computes, bit for bit;
- every kernel's C body, built by the host's C++ compiler, computes what its oracle computes
  (skipped without one);
- ``fit`` on a stand-in GPU: a fake ``cupy`` module whose arrays wrap NumPy arrays (and are no
  ``numpy.ndarray``, like CuPy's) and count every read of their values by the host (``float``,
  ``int``, ``bool``, ``.item()``, ``.tolist()``, ``.get()``, ``numpy.asarray``); each fused kernel
  is played by its oracle. Trained with 8 steps per epoch, the same fit reads the device exactly as
  often as with 2, so nothing is read per step; it runs the fused kernels and gives the NumPy
  numbers.

With CuPy and a CUDA GPU (skipped with the reason otherwise): each compiled kernel against its
oracle, ``fit`` on cupy against ``fit`` on numpy, one seed one network, the per-step read count
on real CuPy arrays (``cupy.ndarray``'s host reads patched to count), fused against unfused.
"""

from __future__ import annotations

import collections
import ctypes
import importlib.util
import io
import operator
import os
import pathlib
import shutil
import subprocess
import sys
import types
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from numpy.lib.mixins import NDArrayOperatorsMixin

from course_lib import _fast, backend, datasets, functional, layers, losses, optim, train
from course_lib._fast import cuda as _cuda
from course_lib._fast import inplace


def _gpu_missing():
    """Why the GPU tests cannot run here (the same sentences as conftest's cupy cases), or None."""
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install -e '.[gpu]'), so the GPU tests do not run"
    if not backend.gpu_available():
        return "CuPy is installed but no CUDA device is usable, so the GPU tests do not run"
    return None


GPU_MISSING = _gpu_missing()
needs_gpu = pytest.mark.skipif(GPU_MISSING is not None, reason=GPU_MISSING or "")
DTYPES = [np.float32, np.float64]
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}


def assert_close(got, expected, dtype, what):
    """Relative ``TOLERANCE[dtype]``, with an absolute floor of the same fraction of the largest
    expected value (a difference of two nearly equal numbers has no relative precision)."""
    got, expected = np.asarray(backend.to_numpy(got)), np.asarray(backend.to_numpy(expected))
    rtol = TOLERANCE[dtype]
    finite = expected[np.isfinite(expected)]
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, equal_nan=True,
                               err_msg=what)


# --- inputs for every kernel ------------------------------------------------------------------


def kernel_cases(xp, dtype, seed=0):
    """``name -> (inputs, outputs, keyword arguments)`` for each kernel of ``_cuda.KERNELS``, as
    arrays of ``xp``: what the kernel and its oracle are called with. Outputs are updated in
    place, so each run gets its own copies (``fresh``)."""
    rng = np.random.default_rng(seed)

    def arr(*shape, scale=1.0):
        return xp.asarray((rng.standard_normal(shape) * scale).astype(dtype))

    N, K, D = 6, 5, 7
    z = arr(N, D, scale=3.0)
    z[0, :4] = xp.asarray(np.array([0.0, np.nan, 80.0, -80.0], dtype=dtype))  # 0, NaN, far out
    logits = arr(N, K, scale=3.0)
    row_max = logits.max(axis=1, keepdims=True)
    log_sum = xp.log(xp.exp(logits - row_max).sum(axis=1, keepdims=True))
    labels = xp.asarray(rng.integers(0, K, N)).reshape(N, 1)
    g, w = arr(D, 3), arr(D, 3)
    v_nonneg = xp.asarray(rng.uniform(0.0, 2.0, (D, 3)).astype(dtype))  # Adam's v is a mean of g²
    t = 3
    return {
        "relu_forward": ((z,), (), {}),
        "relu_backward": ((arr(N, D), z), (), {}),
        "sigmoid_forward": ((z,), (), {}),
        "sigmoid_backward": ((arr(N, D), functional.sigmoid_forward(z)[0]), (), {}),
        "log_sum_exp": ((logits, row_max), (), {"axis": 1, "keepdims": True}),
        "softmax_cross_entropy_grad": ((logits, row_max, log_sum, labels, K, N),
                                       (xp.zeros_like(logits), xp.zeros(N, dtype=dtype)), {}),
        "sgd_update": ((g, 0.1), (w,), {}),
        "momentum_update": ((g, 0.1, 0.9), (w, arr(D, 3)), {}),
        "adam_update": ((g, 1e-3, 0.9, 0.999, 1 - 0.9, 1 - 0.999, 1 - 0.9**t, 1 - 0.999**t, 1e-8),
                        (w, arr(D, 3), v_nonneg), {}),
    }


def fresh(outputs):
    return tuple(o.copy() for o in outputs)


def results(returned, outputs):
    """What a kernel or oracle call produced, as a tuple: its return value(s), or, for an update
    rule's in-place core (which returns nothing), the outputs it wrote."""
    if returned is None:
        return tuple(outputs)
    return returned if isinstance(returned, tuple) else (returned,)


# --- on the CPU: each oracle is the reference's maths ------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_oracles_compute_the_reference(dtype):
    cases = kernel_cases(np, dtype)
    pairs = {"relu_forward": lambda z: functional.relu_forward(z)[0],
             "relu_backward": functional.relu_backward,
             "sigmoid_forward": lambda z: functional.sigmoid_forward(z)[0],
             "sigmoid_backward": functional.sigmoid_backward}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the planted NaN and ±80
        for name, reference in pairs.items():
            inputs, _, _ = cases[name]
            got = _cuda.KERNELS[name].oracle(*inputs)
            np.testing.assert_array_equal(got, reference(*inputs), err_msg=name)
            assert got.dtype == dtype, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_oracles_compute_the_reference(dtype):
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((9, 4)) * 4).astype(dtype)
    y = rng.integers(0, 4, 9)
    N, K = logits.shape
    row_max = logits.max(axis=1, keepdims=True)
    log_sum = _cuda.LOG_SUM_EXP.oracle(logits, row_max, axis=1, keepdims=True)
    grad, nll = _cuda.SOFTMAX_CE_GRAD.oracle(logits, row_max, log_sum, y.reshape(N, 1), K, N,
                                             np.empty_like(logits), np.empty(N, dtype))
    loss, expected_grad = losses.softmax_cross_entropy(logits, y)
    np.testing.assert_array_equal(grad, expected_grad)
    np.testing.assert_array_equal(nll.sum() / N, loss)
    assert grad.dtype == nll.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule, hyper", [
    (optim.sgd_update, {"lr": 0.1}),
    (optim.momentum_update, {"lr": 0.1, "gamma": 0.9}),
    (optim.adagrad_update, {"lr": 0.1, "eps": 1e-8}),
    (optim.rmsprop_update, {"lr": 0.01, "rho": 0.9, "eps": 1e-8}),
    (optim.adam_update, {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
])
def test_in_place_rules_compute_the_pure_rules(rule, hyper, dtype):
    """Four steps of each in-place twin (whose core is its kernel's oracle), from an empty state,
    against the pure rule (CONVENTIONS.md), bit for bit."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((5, 3)).astype(dtype)
    w_rule, state_rule, state = w.copy(), {}, {}
    update = _fast.twin(rule.__name__, w, w)
    assert update is inplace.UPDATES[rule.__name__]
    for t in range(1, 5):
        g = rng.standard_normal(w.shape).astype(dtype)
        w_rule, state_rule = rule(w_rule, g, state_rule, **hyper)
        update(w, g, state, **hyper)
        np.testing.assert_array_equal(w, w_rule, err_msg=f"{rule.__name__}, step {t}")
        assert w.dtype == dtype
        assert state.keys() == state_rule.keys()


# --- on the CPU: each C body, compiled by the host's C++ compiler, computes its oracle -----------


C_TYPES = {np.float32: "float", np.float64: "double"}
FIXED_TYPES = {"I": (np.int64, "long long"), "int64": (np.int64, "long long")}


def _params(text):
    """``"T z, raw T nll, int64 K"`` -> ``[(raw, type, name), ...]``."""
    out = []
    for part in text.split(","):
        words = part.split()
        raw = words[0] == "raw"
        kind, name = words[1:] if raw else words
        out.append((raw, kind, name))
    return out


def _c_type(kind, dtype):
    return C_TYPES[dtype] if kind == "T" else FIXED_TYPES[kind][1]


def _elementwise_c(kernel, dtype, suffix):
    """A C loop that does what CuPy's generated kernel does: element i of every non-raw parameter
    bound to its name (inputs by value, outputs by reference), raw ones as pointers, then the body.
    Non-raw arguments arrive broadcast to n elements."""
    params = _params(kernel.in_params) + _params(kernel.out_params)
    n_in = len(_params(kernel.in_params))
    args, binds = ["long long n"], []
    for k, (raw, kind, name) in enumerate(params):
        ctype = _c_type(kind, dtype)
        const = "const " if k < n_in else ""
        args.append(f"{const}{ctype}* {name}_p")
        if raw:
            binds.append(f"{const}{ctype}* {name} = {name}_p;")
        elif k < n_in:
            binds.append(f"const {ctype} {name} = {name}_p[i];")
        else:
            binds.append(f"{ctype}& {name} = {name}_p[i];")
    return (f'extern "C" void {kernel.name}_{suffix}({", ".join(args)}) {{\n'
            f"  typedef {C_TYPES[dtype]} T;\n  typedef long long I;\n"
            f"  for (long long i = 0; i < n; ++i) {{\n    {' '.join(binds)}\n"
            f"    {kernel.body}\n  }}\n}}\n")


def _reduction_c(kernel, dtype, suffix):
    """A reduction over the last axis, as CuPy's ReductionKernel with axis=-1: ``a`` starts at the
    identity and takes in each mapped element ``b``; the post-map expression writes the result."""
    ins = _params(kernel.in_params)
    (_, out_kind, out_name), = _params(kernel.out_params)
    ctype = C_TYPES[dtype]
    args = ["long long rows", "long long cols"] + [f"const {_c_type(k, dtype)}* {n}_p"
                                                   for _, k, n in ins]
    args.append(f"{_c_type(out_kind, dtype)}* {out_name}_p")
    binds = " ".join(f"const {_c_type(k, dtype)} {n} = {n}_p[r * cols + c];" for _, k, n in ins)
    return (f'extern "C" void {kernel.name}_{suffix}({", ".join(args)}) {{\n'
            f"  typedef {ctype} T;\n"
            f"  for (long long r = 0; r < rows; ++r) {{\n"
            f"    T a = (T)({kernel.identity});\n"
            f"    for (long long c = 0; c < cols; ++c) {{\n"
            f"      {binds}\n      T b = ({kernel.map_expr});\n      a = ({kernel.reduce_expr});\n"
            f"    }}\n    T& {out_name} = {out_name}_p[r];\n    {kernel.post_map_expr};\n  }}\n}}\n")


@pytest.fixture(scope="module")
def compiled_bodies(tmp_path_factory):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler on this machine, so the kernel bodies are not built on the CPU")
    parts = ["#include <cmath>\nusing std::exp; using std::log; using std::sqrt; "
             "using std::isnan;\n"]
    for kernel in _cuda.KERNELS.values():
        for dtype, suffix in ((np.float32, "f"), (np.float64, "d")):
            make = _reduction_c if isinstance(kernel, _cuda.Reduction) else _elementwise_c
            parts.append(make(kernel, dtype, suffix))
    folder = tmp_path_factory.mktemp("kernels")
    source, library = folder / "kernels.cpp", folder / "kernels.so"
    source.write_text("\n".join(parts))
    done = subprocess.run([compiler, "-std=c++17", "-O1", "-ffp-contract=off", "-Wall",
                           "-shared", "-fPIC", str(source), "-o", str(library)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"the kernel bodies do not compile as C++:\n{done.stderr}"
    return ctypes.CDLL(str(library))


def _pointer(a):
    return ctypes.c_void_p(a.ctypes.data)


def run_compiled(lib, kernel, dtype, inputs, outputs, kwargs):
    """Call the compiled body of ``kernel`` like CuPy would; returns the results as a tuple."""
    suffix = "f" if dtype == np.float32 else "d"
    fn = getattr(lib, f"{kernel.name}_{suffix}")
    if isinstance(kernel, _cuda.Reduction):
        arrays = np.broadcast_arrays(*[np.asarray(a) for a in inputs])
        rows, cols = arrays[0].shape
        out = np.empty(rows, dtype)
        fn(ctypes.c_longlong(rows), ctypes.c_longlong(cols),
           *[_pointer(np.ascontiguousarray(a)) for a in arrays], _pointer(out))
        return (out.reshape(rows, 1) if kwargs.get("keepdims") else out,)
    params = _params(kernel.in_params) + _params(kernel.out_params)
    args = list(inputs) + list(outputs)
    given = zip(params, args, strict=False)  # outputs may be left out
    shape = np.broadcast_shapes(*[np.shape(a) for (raw, _, _), a in given
                                  if not raw and isinstance(a, np.ndarray)])
    args += [np.empty(shape, dtype) for _ in params[len(args):]]  # outputs not given: made
    buffers = []
    for (raw, kind, _), a in zip(params, args, strict=True):
        dt = dtype if kind == "T" else FIXED_TYPES[kind][0]
        if raw:
            buffers.append(a)  # written in place (contiguous, of the right dtype)
        else:
            buffers.append(np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=dt), shape)))
    n_out = len(_params(kernel.out_params))
    fn(ctypes.c_longlong(int(np.prod(shape))), *[_pointer(b) for b in buffers])
    produced = buffers[len(buffers) - n_out:]
    return tuple(b.reshape(shape) if not params[len(params) - n_out + k][0] else b
                 for k, b in enumerate(produced))


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_bodies_compute_their_oracles(compiled_bodies, dtype):
    for name, (inputs, outputs, kwargs) in kernel_cases(np, dtype).items():
        kernel = _cuda.KERNELS[name]
        written = fresh(outputs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = results(kernel.oracle(*inputs, *written, **kwargs), written)
        got = run_compiled(compiled_bodies, kernel, dtype, inputs, fresh(outputs), kwargs)
        assert len(got) == len(expected), name
        for k, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_close(g, e, dtype, f"{name}, result {k}, compiled C body against the oracle")


# --- a stand-in GPU on the CPU ------------------------------------------------------------------


def _unwrap(x):
    if isinstance(x, FakeDeviceArray):
        return x.a
    if isinstance(x, list | tuple):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    if isinstance(x, np.ndarray):
        return FakeDeviceArray(x)
    if isinstance(x, np.generic):  # a GPU reduction gives a 0-d array, never a host scalar
        return FakeDeviceArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


class FakeDeviceArray(NDArrayOperatorsMixin):
    """A NumPy array posing as a GPU array: not a ``numpy.ndarray`` (as CuPy's are not), every
    operation and method gives a FakeDeviceArray (0-d results too), and each read of its values
    by the host is counted in ``reads``."""

    reads: collections.Counter = collections.Counter()

    def __init__(self, a):
        self.a = a

    def _read(self, what):
        FakeDeviceArray.reads[what] += 1
        return self.a

    def __float__(self):
        return float(self._read("float"))

    def __int__(self):
        return int(self._read("int"))

    def __index__(self):
        return operator.index(self._read("index"))

    def __bool__(self):
        return bool(self._read("bool"))

    def __format__(self, spec):
        return format(self._read("format"), spec)

    def item(self, *args):
        return self._read("item").item(*args)

    def tolist(self):
        return self._read("tolist").tolist()

    def get(self):
        return self._read("get").copy()

    def __array__(self, dtype=None, copy=None):
        a = self._read("numpy.asarray")
        return a if dtype is None else a.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        outs = kwargs.get("out")
        if outs is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in outs)
        result = getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
        if outs is not None:
            return outs[0] if len(outs) == 1 else outs
        return _wrap(result)

    def __getitem__(self, key):
        return _wrap(self.a[_unwrap(key)])

    def __setitem__(self, key, value):
        self.a[_unwrap(key)] = _unwrap(value)

    def __len__(self):
        return len(self.a)

    def __getattr__(self, name):
        if name == "a":
            raise AttributeError(name)
        attr = getattr(self.a, name)
        if callable(attr):
            return lambda *args, **kwargs: _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))
        return _wrap(attr)

    def __repr__(self):
        return f"FakeDeviceArray({self.a!r})"


class _FakeKernel:
    """A compiled kernel played by its oracle; calls are counted by kernel name."""

    def __init__(self, name, calls):
        self.name, self.calls = name.removeprefix("course_lib_"), calls

    def __call__(self, *args, **kwargs):
        self.calls[self.name] += 1
        return _cuda.KERNELS[self.name].oracle(*args, **kwargs)


def _fake_cupy(kernel_calls, transfers):
    """A module named ``cupy`` over FakeDeviceArray: ``asarray`` of host data counts a transfer
    to the device, every other NumPy function works on the wrapped arrays."""
    fake = types.ModuleType("cupy")

    def asarray(x, dtype=None):
        if isinstance(x, FakeDeviceArray):
            return x if dtype is None or x.dtype == dtype else x.astype(dtype)
        transfers["to device"] += 1
        return FakeDeviceArray(np.array(x, dtype=dtype))

    class Generator:
        def __init__(self, seed):
            self.rng = np.random.default_rng(seed)

        def random(self, shape):
            return FakeDeviceArray(self.rng.random(shape))

    def namespace_getattr(name):
        attr = getattr(np, name)
        if isinstance(attr, type) or not callable(attr):
            return attr
        return lambda *args, **kwargs: _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))

    fake.asarray = asarray
    fake.ndarray = FakeDeviceArray
    fake.get_array_module = lambda *arrays: (
        fake if any(isinstance(a, FakeDeviceArray) for a in arrays) else np)
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    fake.random = types.SimpleNamespace(default_rng=Generator)
    fake.ElementwiseKernel = lambda *args, **kwargs: _FakeKernel(args[3], kernel_calls)
    fake.ReductionKernel = lambda *args, **kwargs: _FakeKernel(args[6], kernel_calls)
    fake.__getattr__ = namespace_getattr
    return fake


@pytest.fixture
def fake_gpu(monkeypatch):
    """course_lib on the fake ``cupy``: backend "cupy", the fused kernels played by their oracles;
    yields the counters (``reads``, ``kernel_calls``, ``transfers``)."""
    counters = types.SimpleNamespace(kernel_calls=collections.Counter(),
                                     transfers=collections.Counter(),
                                     reads=collections.Counter())
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(counters.kernel_calls, counters.transfers))
    monkeypatch.setattr(_cuda, "_compiled", {})
    monkeypatch.setattr(FakeDeviceArray, "reads", counters.reads)
    backend.use("cupy")
    try:
        yield counters
    finally:
        backend.use("numpy")


# --- what fit trains in these tests -------------------------------------------------------------

CASES = {
    "relu, softmax cross-entropy, Adam": ("relu", "softmax_cross_entropy", "Adam", 3),
    "sigmoid, softmax cross-entropy, Momentum": ("sigmoid", "softmax_cross_entropy", "Momentum", 3),
    "relu, sigmoid output, binary cross-entropy, SGD": ("relu", "binary_cross_entropy", "SGD", 1),
}

KERNELS_USED = {
    "relu, softmax cross-entropy, Adam": {"relu_forward", "relu_backward", "log_sum_exp",
                                          "softmax_cross_entropy_grad", "adam_update"},
    "sigmoid, softmax cross-entropy, Momentum": {"sigmoid_forward", "sigmoid_backward",
                                                 "log_sum_exp", "softmax_cross_entropy_grad",
                                                 "momentum_update"},
    # fit trains a sigmoid output feeding BCE on its logits (train.logits_form): the sigmoid is
    # folded into the loss, so no sigmoid kernel runs
    "relu, sigmoid output, binary cross-entropy, SGD": {"relu_forward", "relu_backward",
                                                        "sgd_update"},
}


def fit_case(case, batch_size=16, num_epochs=3, dropout=0.0, dtype=np.float64, loss=None):
    """A seeded fit under the current backend, on NumPy data (fit moves them to the device):
    64 spiral points, a 2-16-16-K network, validation on 16 of them. Returns (model, history)."""
    activation, loss_name, optimizer, K = CASES[case]
    X, y = datasets.spirals(n=64, classes=max(K, 2), seed=0)
    X = X.astype(dtype)
    if K == 1:
        y = y.reshape(-1, 1).astype(dtype)
    net = layers.mlp([2, 16, 16, K], activation, rng=0, dropout=dropout, dtype=dtype,
                     output_activation="sigmoid" if K == 1 else None)
    opt = getattr(optim, optimizer)(net.parameters(), lr=0.05)
    with redirect_stdout(io.StringIO()):
        history = train.fit(net, loss or loss_name, opt, X, y, num_epochs=num_epochs,
                            batch_size=batch_size, validation=(X[:16], y[:16]), progress=False,
                            seed=3)
    return net, history


def host_numbers(net, history):
    return ([np.array(backend.to_numpy(p.data)) for p in net.parameters()],
            {k: np.array(v) for k, v in history.history.items()})


@pytest.mark.parametrize("case", CASES)
def test_fit_on_the_fake_gpu_runs_the_fused_kernels_and_gives_the_numpy_numbers(case, fake_gpu):
    backend.use("numpy")
    expected = host_numbers(*fit_case(case))
    backend.use("cupy")
    net, history = fit_case(case)
    assert isinstance(net.parameters()[0].data, FakeDeviceArray), "the weights live on the device"
    assert set(fake_gpu.kernel_calls) == KERNELS_USED[case]
    params, logs = host_numbers(net, history)
    for k, (got, want) in enumerate(zip(params, expected[0], strict=True)):
        np.testing.assert_array_equal(got, want, err_msg=f"{case}: parameter {k}")
    assert logs.keys() == expected[1].keys()
    for key in logs:
        np.testing.assert_array_equal(logs[key], expected[1][key], err_msg=f"{case}: {key}")


def _reads_and_transfers(case, counters, batch_size, **kwargs):
    counters.reads.clear()
    counters.transfers.clear()
    fit_case(case, batch_size=batch_size, **kwargs)
    return dict(counters.reads), dict(counters.transfers)


@pytest.mark.parametrize("case", CASES)
def test_fit_reads_the_fake_gpu_per_epoch_not_per_step(case, fake_gpu):
    """64 examples in batches of 32 (2 steps an epoch) and of 8 (8 steps): the same host reads
    (the epoch's loss, accuracy and validation figures; the labels' range once) and the same
    transfers to the device (the data once, a shuffled order per epoch)."""
    few = _reads_and_transfers(case, fake_gpu, batch_size=32, dropout=0.2)
    many = _reads_and_transfers(case, fake_gpu, batch_size=8, dropout=0.2)
    assert few == many, f"host reads grow with the steps per epoch: {few} vs {many}"
    reads, _ = few
    assert reads.get("float", 0) >= 3, f"the per-epoch loss reads were not seen: {reads}"
    assert "numpy.asarray" not in reads and "get" not in reads, reads


def test_the_read_count_sees_a_float_of_the_loss_per_step(fake_gpu):
    """The check above would fail if a step read the loss: a loss that does so (as a learner's
    might) gives 6 more reads with 8 steps per epoch than with 2, over 3 epochs."""
    case = "relu, softmax cross-entropy, Adam"

    def reading_loss(y_hat, y):
        value, grad = losses.softmax_cross_entropy(y_hat, y)
        float(value)
        return value, grad

    few, _ = _reads_and_transfers(case, fake_gpu, batch_size=32, loss=reading_loss)
    many, _ = _reads_and_transfers(case, fake_gpu, batch_size=8, loss=reading_loss)
    assert many["float"] - few["float"] == 3 * (8 - 2)


def test_fit_checks_device_labels_once_before_training(fake_gpu):
    case = "relu, softmax cross-entropy, Adam"
    fit_case(case, batch_size=8)
    assert fake_gpu.reads["int"] == 4, "min and max of y and of y_val, once per fit"
    X = np.zeros((4, 2))
    for loss, y in (("softmax_cross_entropy", [0, 1, 2, 3]),
                    ("categorical_cross_entropy", [0, -1, 1, 2])):
        net = layers.mlp([2, 3], rng=0)
        with pytest.raises(ValueError, match=r"Class indices must lie in \[0, 2\] for 3"):
            train.fit(net, loss, optim.SGD(net.parameters()), X, np.asarray(y), num_epochs=1,
                      progress=False)


def test_a_learners_function_is_never_fused(fake_gpu):
    def my_relu_forward(z):
        return np.maximum(z, 0) if isinstance(z, np.ndarray) else z * (z > 0), z

    from course_lib import using

    with using(relu_forward=my_relu_forward, adam_update=optim.adam_update):
        fit_case("relu, softmax cross-entropy, Adam")
    assert "relu_forward" not in fake_gpu.kernel_calls
    assert "relu_backward" in fake_gpu.kernel_calls  # not overridden: still fused
    assert "adam_update" not in fake_gpu.kernel_calls  # the pure rule, called as written


@pytest.mark.parametrize("module", ["cuda", "inplace"])
def test_the_kernels_and_their_oracles_call_no_numpy(module):
    """``cuda`` and ``inplace`` run on GPU arrays: issue 9's guard (test_backend) would allow them
    no direct NumPy call at all."""
    from test_backend import ROOT, numpy_calls

    source = (ROOT / "course_lib" / "_fast" / f"{module}.py").read_text(encoding="utf-8")
    assert numpy_calls(source) == []


def test_fast_imports_nothing_from_the_library():
    """``_fast`` is looked up by name: no import of course_lib, relative or absolute."""
    import ast

    from test_backend import ROOT

    for path in sorted((ROOT / "course_lib" / "_fast").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1 and not (node.module or "").startswith("course_lib"), \
                    f"{path.name} imports {node.module!r} from the library"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("course_lib") for a in node.names), path.name


def test_twin_on_host_arrays():
    z = np.zeros((2, 3))
    assert _fast.twin("adam_update", z, z) is inplace.adam_update
    assert _fast.twin("relu_forward", z) is _fast.relu_forward
    assert _fast.twin("sigmoid_forward", z) is None, "no host twin: the reference runs"
    assert _fast.twin("relu_forward", [1.0, -1.0]) is None, "not an array: the reference runs"


def test_twin_on_the_fake_gpu_picks_kernels_only_for_arrays_that_suit_them(fake_gpu):
    import cupy  # the fake

    z32, z64 = cupy.asarray(np.zeros((4, 3), np.float32)), cupy.asarray(np.zeros((4, 3)))
    labels = cupy.asarray(np.array([0, 1, 2, 0]))
    assert _fast.twin("relu_forward", z32) is _cuda.relu_forward
    assert _fast.twin("relu_backward", z32, z64) is None, "mixed dtypes: the reference runs"
    assert _fast.twin("relu_forward", cupy.asarray(np.zeros(3, np.int64))) is None
    assert _fast.twin("tanh_forward", z64) is None
    assert _fast.twin("softmax_cross_entropy", z64, labels) is _cuda.softmax_cross_entropy
    assert _fast.twin("softmax_cross_entropy", z64, z64) is None, "one-hot labels: the reference"
    assert _fast.twin("adam_update", z64, z64) is _cuda.TWINS["adam_update"][0]
    assert _fast.twin("adam_update", z64, z32) is inplace.adam_update, "mixed: in place, no kernel"
    assert _fast.twin("rmsprop_update", z64, z64) is inplace.rmsprop_update, "no kernel written"


# --- the GPU benchmark, as far as it goes without a GPU ------------------------------------------

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"


@pytest.mark.skipif(GPU_MISSING is None, reason="a GPU is here: the benchmark would run in full")
def test_the_gpu_benchmark_says_one_sentence_without_a_gpu(one_sentence):
    done = subprocess.run([sys.executable, str(BENCH)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    one_sentence(done.stdout.strip(), "GPU benchmark skipped")


def test_the_gpu_benchmark_fills_its_section_of_results(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))
    for var in ("CUPY_TF32", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, os.environ.get(var, ""))  # the script sets them when imported
    import bench_gpu

    results = tmp_path / "RESULTS.md"
    results.write_text(f"# CPU\nkept\n\n# GPU\n{bench_gpu.BEGIN}\nnot measured yet\n"
                       f"{bench_gpu.END}\nafter\n")
    run = {"ms": {"cupy": 0.5, "cupy graph": 0.3, "cupy unfused": 0.9, "torch": 0.45},
           "numpy_ms": 60.0, "notes": [], "x_torch": {"cupy": 1.1, "cupy graph": 0.7,
                                                      "cupy unfused": 2.0}}
    bench_gpu.write_results(results, bench_gpu.section({1024: run, 4096: run}, "a test GPU"))
    text = results.read_text()
    assert text.startswith("# CPU\nkept\n\n# GPU\n") and text.endswith(f"{bench_gpu.END}\nafter\n")
    assert "not measured yet" not in text and "on a test GPU" in text
    assert "| 4096 | 0.500 | 0.300 | 0.900 | 0.450 | 60.0 | 1.10 (≤ 1.20) PASS | 0.70 (≤ 1.20) PASS |" \
        in text
    assert "| 1024 | 0.500 | 0.300 | 0.900 | 0.450 | 60.0 | 1.10 | 0.70 |" in text


# --- on a GPU -----------------------------------------------------------------------------------


@pytest.fixture
def cupy_backend(monkeypatch):
    import cupy

    monkeypatch.setattr(_cuda, "_compiled", {})
    backend.use("cupy")
    try:
        yield cupy
    finally:
        backend.use("numpy")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_cuda.KERNELS))
def test_kernel_matches_its_oracle_on_the_gpu(name, dtype, cupy_backend):
    inputs, outputs, kwargs = kernel_cases(cupy_backend, dtype)[name]
    kernel = _cuda.KERNELS[name]
    out_kernel, out_oracle = fresh(outputs), fresh(outputs)
    got = results(kernel(*inputs, *out_kernel, **kwargs), out_kernel)
    expected = results(kernel.oracle(*inputs, *out_oracle, **kwargs), out_oracle)
    assert len(got) == len(expected)
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g.dtype == e.dtype == dtype
        assert_close(g, e, dtype, f"{name}, result {k}: compiled kernel against its oracle")
    for k, (g, e) in enumerate(zip(out_kernel, out_oracle, strict=True)):
        assert_close(g, e, dtype, f"{name}, output {k} (written in place)")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_on_the_gpu_matches_numpy(case, dtype, cupy_backend):
    backend.use("numpy")
    expected = host_numbers(*fit_case(case, dtype=dtype))
    backend.use("cupy")
    net, history = fit_case(case, dtype=dtype)
    assert backend.is_device_array(net.parameters()[0].data)
    params, logs = host_numbers(net, history)
    tol = {np.float32: 1e-4, np.float64: 1e-9}[dtype]
    for k, (got, want) in enumerate(zip(params, expected[0], strict=True)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"parameter {k}")
    for key in logs:
        np.testing.assert_allclose(logs[key], expected[1][key], rtol=tol, atol=tol, err_msg=key)


@pytest.mark.gpu
@needs_gpu
def test_one_seed_gives_one_network_on_cpu_and_gpu(cupy_backend):
    backend.use("numpy")
    on_cpu = [p.data for p in layers.mlp([5, 7, 3], "relu", rng=11, batchnorm=True).parameters()]
    backend.use("cupy")
    on_gpu = layers.mlp([5, 7, 3], "relu", rng=11, batchnorm=True).parameters()
    for cpu, gpu in zip(on_cpu, on_gpu, strict=True):
        assert backend.is_device_array(gpu.data)
        np.testing.assert_array_equal(backend.to_numpy(gpu.data), cpu)


HOST_READS = ("get", "item", "tolist", "__float__", "__int__", "__bool__", "__index__",
              "__complex__")


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("case", CASES)
def test_fit_reads_the_gpu_per_epoch_not_per_step(case, cupy_backend, monkeypatch):
    """As on the fake device, with cupy.ndarray's ways of reading values on the host (``get``,
    which ``float()``, ``.item()`` and the rest go through, and each of those) counted."""
    cupy = cupy_backend
    reads = collections.Counter()

    def counting(name, method):
        def read(self, *args, **kwargs):
            reads[name] += 1
            return method(self, *args, **kwargs)
        return read

    for name in HOST_READS:
        method = getattr(cupy.ndarray, name, None)
        if method is None:
            continue
        try:
            monkeypatch.setattr(cupy.ndarray, name, counting(name, method))
        except TypeError as err:
            pytest.skip(f"cupy.ndarray.{name} cannot be patched to count host reads here ({err})")

    def count(batch_size):
        reads.clear()
        fit_case(case, batch_size=batch_size, dtype=np.float32, dropout=0.2)
        return dict(reads)

    few, many = count(32), count(8)
    assert few == many, f"host reads grow with the steps per epoch: {few} vs {many}"
    assert few, "no read was counted, not even the epoch's loss: the patching missed cupy.ndarray"


@pytest.mark.gpu
@needs_gpu
def test_fused_and_unfused_fit_agree_on_the_gpu(cupy_backend, monkeypatch):
    case = "relu, softmax cross-entropy, Adam"
    fused = host_numbers(*fit_case(case))
    assert set(_cuda._compiled) == KERNELS_USED[case], "fit on the GPU runs the fused kernels"
    monkeypatch.setattr(_cuda, "enabled", False)
    unfused = host_numbers(*fit_case(case))
    for got, want in zip(fused[0], unfused[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)

