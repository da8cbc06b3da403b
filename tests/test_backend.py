"""course_lib.backend: namespaces, conversions, backend selection, thread caps, and the guard
of issue 9: library code that handles data never calls NumPy directly on it."""

import ast
import importlib.util
import os
import pathlib

import numpy as np
import pytest

from course_lib import backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_get_array_module_of_host_data():
    assert backend.get_array_module(np.zeros(3)) is np
    assert backend.get_array_module(np.zeros(3), np.ones(2)) is np
    assert backend.get_array_module([1.0, 2.0]) is np
    assert backend.get_array_module(3.0) is np


def test_current_backend(xp, backend_name):
    assert backend.name() == backend_name
    assert backend.xp() is xp
    assert backend.get_array_module(xp.zeros(2)) is xp
    assert backend.is_device_array(xp.zeros(2)) == (backend_name == "cupy")


def test_round_trip(xp, backend_name):
    x = np.arange(6.0).reshape(2, 3)
    d = backend.to_device(x)
    assert backend.get_array_module(d) is xp
    back = backend.to_numpy(d)
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, x)
    f32 = backend.to_device(x, dtype=np.float32)
    assert f32.dtype == np.float32
    assert backend.to_device([1, 2, 3]).shape == (3,)
    assert isinstance(backend.to_numpy(2.5), np.ndarray)


def test_use_refuses_unknown_names(one_sentence):
    with pytest.raises(ValueError) as err:
        backend.use("nonsense")
    one_sentence(str(err.value), "nonsense", "numpy", "cupy")
    assert backend.name() == "numpy"


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed here")
def test_use_cupy_without_cupy(one_sentence):
    with pytest.raises(RuntimeError) as err:
        backend.use("cupy")
    one_sentence(str(err.value), "CuPy")
    assert backend.name() == "numpy", "a failed switch leaves the backend as it was"
    assert backend.gpu_available() is False


def test_cpu_quota():
    quota = backend.cpu_quota()
    assert isinstance(quota, int) and 1 <= quota <= (os.cpu_count() or 1)


def test_cap_threads_limits_the_blas_pools():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    # start from two threads, so the test means something under OPENBLAS_NUM_THREADS=1 too
    widened = threadpoolctl.threadpool_limits(limits=2, user_api="blas")
    try:
        assert backend.cap_threads(1) == 1
        blas = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
        assert blas, "NumPy's BLAS pool should be visible to threadpoolctl"
        assert all(pool["num_threads"] == 1 for pool in blas), blas
    finally:
        if backend._thread_limiter is not None:
            backend._thread_limiter.restore_original_limits()
        widened.restore_original_limits()
    with pytest.raises(ValueError, match="at least 1"):
        backend.cap_threads(0)


# --- issue 9's guard: no direct NumPy calls on data that may live on the GPU ---------------

GUARDED = ["functional", "losses", "optim", "layers", "train", "gradcheck", "_validate"]

# (module, enclosing function, call): why it is a host-side use and not a computation on data.
ALLOWED = {
    # initial weights are drawn on the host with NumPy, then moved to the backend
    # (CONVENTIONS.md: one seed gives the same network on CPU and GPU)
    ("layers", "as_generator", "numpy.random.default_rng"),
    # dropout's seed generator; on the GPU a CuPy generator is seeded from it
    ("layers", "Dropout.__init__", "numpy.random.default_rng"),
    # the shuffling permutation is drawn on the host, then moved to the device once per epoch
    ("train", "fit", "numpy.random.default_rng"),
    # silences NumPy's overflow warnings of a diverging run (fit reports it in one sentence);
    # it reads no data, and CuPy arrays never warn
    ("train", "fit", "numpy.errstate"),
    # a random upstream gradient drawn on the host, then moved with xp.asarray
    ("gradcheck", "check_pair", "numpy.random.default_rng"),
    # validates the hyper-parameters once on a one-element dummy, before any training
    ("optim", "Optimizer.__init__", "numpy.zeros"),
    # NaN / inf checks that run only when isinstance(x, numpy.ndarray): no device sync
    ("_validate", "require_finite", "numpy.isfinite"),
    ("_validate", "require_finite", "numpy.isnan"),
}


def numpy_calls(source: str):
    """Every call of the form ``numpy.<...>(`` / ``np.<...>(`` (any alias of numpy, including
    imports inside functions) and every ``from numpy import``, as (enclosing function, call)."""
    tree = ast.parse(source)
    aliases, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or "numpy" for a in node.names if a.name.split(".")[0] == "numpy"}

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, [*scope, child.name])
                continue
            where = ".".join(scope) or "<module>"
            if isinstance(child, ast.ImportFrom) and (child.module or "").split(".")[0] == "numpy":
                found.append((where, f"from {child.module} import"))
            if isinstance(child, ast.Call):
                parts, func = [], child.func
                while isinstance(func, ast.Attribute):
                    parts.append(func.attr)
                    func = func.value
                if isinstance(func, ast.Name) and func.id in aliases:
                    found.append((where, ".".join(["numpy", *reversed(parts)])))
            visit(child, scope)

    visit(tree, [])
    return found


def test_the_guard_sees_direct_numpy_calls():
    source = (
        "import numpy as np\n"
        "from numpy import exp\n"
        "def relu(z):\n"
        "    xp = np\n"
        "    return np.maximum(z, 0) + np.linalg.norm(z)\n"
        "class Layer:\n"
        "    def forward(self, x):\n"
        "        import numpy\n"
        "        return numpy.random.default_rng(0).random(x.shape)\n"
    )
    assert numpy_calls(source) == [
        ("<module>", "from numpy import"),
        ("relu", "numpy.maximum"),
        ("relu", "numpy.linalg.norm"),
        ("Layer.forward", "numpy.random.default_rng"),
    ]


@pytest.mark.parametrize("module", GUARDED)
def test_library_code_uses_the_backend_namespace(module):
    source = (ROOT / "course_lib" / f"{module}.py").read_text(encoding="utf-8")
    offending = [(module, where, call) for where, call in numpy_calls(source)
                 if (module, where, call) not in ALLOWED]
    assert not offending, (
        "these calls use numpy directly where the data may be CuPy arrays; use "
        "xp = get_array_module(x) and xp.<fn>, or add a commented entry to ALLOWED if the call "
        f"is host-side only: {offending}"
    )
