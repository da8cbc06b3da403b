"""The array namespace: NumPy by default, CuPy when asked for.

Every function in course_lib that touches data starts with ``xp = get_array_module(x)`` and
uses ``xp`` instead of ``numpy``, so the same code runs on the CPU and on a GPU (the pattern of
CuPy's CPU/GPU-agnostic guide). Conversion happens only at the edges: ``to_device`` when data
enters, ``to_numpy`` when a plot or a widget needs it.

    >>> import course_lib.backend as backend
    >>> backend.use("cupy")        # or COURSE_LIB_BACKEND=cupy before starting Python
    >>> xp = backend.xp()          # cupy now, numpy before
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy

Array = Any  # numpy.ndarray or cupy.ndarray

_NAMES = ("numpy", "cupy")
_current = numpy


def _import_cupy():
    try:
        import cupy
    except ImportError as err:  # cupy is an optional extra: pip install -e ".[gpu]"
        raise RuntimeError(
            "The cupy backend needs CuPy and a CUDA GPU: install it with pip install -e '.[gpu]' "
            f"(import failed: {err})."
        ) from None
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as err:
        raise RuntimeError(f"CuPy is installed but no CUDA device is usable ({err}).") from None
    return cupy


def use(name: str = "numpy"):
    """Select the backend for new arrays: ``"numpy"`` or ``"cupy"``. Returns the namespace."""
    global _current
    if name not in _NAMES:
        raise ValueError(f"Unknown backend {name!r}; choose one of {', '.join(_NAMES)}.")
    _current = numpy if name == "numpy" else _import_cupy()
    return _current


def xp():
    """The namespace of the current backend (``numpy`` or ``cupy``)."""
    return _current


def name() -> str:
    """``"numpy"`` or ``"cupy"``."""
    return _current.__name__


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        _import_cupy()
    except RuntimeError:
        return False
    return True


def get_array_module(*arrays):
    """The namespace the arrays live in: ``cupy`` for GPU arrays, ``numpy`` for anything else."""
    cupy = sys.modules.get("cupy")  # never import cupy just to ask
    if cupy is not None:
        return cupy.get_array_module(*arrays)
    return numpy


def is_device_array(x) -> bool:
    return get_array_module(x) is not numpy


def to_numpy(x):
    """A NumPy copy of ``x`` (a no-op for NumPy arrays and Python scalars)."""
    if is_device_array(x):
        return x.get()
    return numpy.asarray(x)


def to_device(x, dtype=None):
    """``x`` as an array of the current backend (optionally cast to ``dtype``)."""
    return _current.asarray(x, dtype=dtype)


# --- one-CPU hosts -------------------------------------------------------------------------

def cpu_quota() -> int:
    """CPUs this process may really use: the cgroup CPU quota or the affinity mask, whichever is
    smaller. Binder containers report the host's cores through ``os.cpu_count()``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, cpus)


def _cgroup_quota():
    try:  # cgroup v2: "max 100000" or "150000 100000"
        with open("/sys/fs/cgroup/cpu.max") as f:
            limit, period = f.read().split()[:2]
        if limit != "max":
            return max(1, int(int(limit) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            limit = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        if limit > 0:
            return max(1, limit // period)
    except (OSError, ValueError):
        pass
    return None


_thread_limiter = None


def cap_threads(n: int | None = None) -> int:
    """Limit BLAS/OpenMP thread pools to ``n`` threads (default: the CPU quota). Returns ``n``.

    With more BLAS threads than granted CPUs, matrix products slow down instead of speeding up."""
    global _thread_limiter
    n = cpu_quota() if n is None else int(n)
    if n < 1:
        raise ValueError(f"The thread count must be at least 1, got {n}.")
    from threadpoolctl import threadpool_limits

    _thread_limiter = threadpool_limits(limits=n)
    return n


def cap_threads_if_oversubscribed():
    """Called at import: cap the pools when the host reports more cores than we may use, unless
    the user already chose a thread count through the environment."""
    if any(v in os.environ for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    if cpu_quota() < (os.cpu_count() or 1):
        cap_threads()



_env_backend = os.environ.get("COURSE_LIB_BACKEND", "").strip().lower()
if _env_backend:
    use(_env_backend)
