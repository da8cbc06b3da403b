"""Shared fixtures for the library tests.

``xp`` / ``backend_name`` run a test once per backend: NumPy always, CuPy when it is installed
and sees a CUDA device (otherwise that case is skipped with the reason). The fixture switches
``course_lib.backend.use(...)`` for the test and puts NumPy back afterwards.

The gradient helpers here are deliberately independent of ``course_lib.gradcheck``: they work
on a NumPy copy of the input, one element at a time, and hand each perturbed copy to the
function on the backend under test.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from course_lib import backend


def _cupy_skip_reason() -> str | None:
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install -e '.[gpu]'), so the cupy backend is not tested"
    if not backend.gpu_available():
        return "CuPy is installed but no CUDA device is usable, so the cupy backend is not tested"
    return None


@pytest.fixture(params=["numpy", "cupy"])
def backend_name(request):
    """The backend this test runs on; course_lib.backend is switched to it for the test."""
    name = request.param
    if name == "cupy":
        reason = _cupy_skip_reason()
        if reason:
            pytest.skip(reason)
    backend.use(name)
    try:
        yield name
    finally:
        backend.use("numpy")


@pytest.fixture
def xp(backend_name):
    """The array namespace of the backend under test (numpy or cupy)."""
    return backend.xp()


# --- independent gradient helpers ------------------------------------------------------------


def numeric_grad(f, x, eps: float = 1e-5):
    """Centred-difference gradient of the scalar function ``f`` at ``x`` (returned as NumPy).

    ``x`` may live on either backend; ``f`` receives arrays of the same backend."""
    module = backend.get_array_module(x)
    host = np.array(backend.to_numpy(x), dtype=np.float64, copy=True)
    grad = np.zeros_like(host)
    for idx in np.ndindex(*host.shape):
        old = host[idx]
        host[idx] = old + eps
        plus = float(f(module.asarray(host.copy())))
        host[idx] = old - eps
        minus = float(f(module.asarray(host.copy())))
        host[idx] = old
        grad[idx] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, n) -> float:
    """``‖a − n‖ / max(‖a‖ + ‖n‖, 1e-12)`` on NumPy copies (CONVENTIONS.md)."""
    a = np.asarray(backend.to_numpy(a), dtype=np.float64)
    n = np.asarray(backend.to_numpy(n), dtype=np.float64)
    assert a.shape == n.shape, f"gradient shape {a.shape} differs from the numerical {n.shape}"
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12))


def assert_grad_close(name, analytic, numeric, threshold: float = 1e-7):
    err = rel_error(analytic, numeric)
    assert err < threshold, f"{name}: relative error {err:.2e} against the numerical gradient"


_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")


def assert_one_sentence(message: str, *mentions: str):
    """A message for a learner: one line, one sentence, naming what it is about."""
    assert message, "the message is empty"
    assert "\n" not in message, f"message spans several lines: {message!r}"
    assert message.rstrip().endswith((".", "?", "!")), f"message is not a sentence: {message!r}"
    assert not _SENTENCE_BREAK.search(message), f"message has several sentences: {message!r}"
    for word in mentions:
        assert word.lower() in message.lower(), f"message does not mention {word!r}: {message!r}"


@pytest.fixture
def num_grad():
    """``num_grad(f, x)``: independent centred-difference gradient (NumPy result)."""
    return numeric_grad


@pytest.fixture
def grad_close():
    """``grad_close(name, analytic, numeric)``: assert a float64 relative error below 1e-7."""
    return assert_grad_close


@pytest.fixture
def one_sentence():
    """``one_sentence(message, *words)``: assert a single-sentence message naming ``words``."""
    return assert_one_sentence


@pytest.fixture
def host():
    """``host(x)``: a NumPy copy of a backend array, for comparisons."""
    return lambda x: np.asarray(backend.to_numpy(x))
