"""Input checks shared by the library: one clear sentence instead of a traceback from NumPy.

Shape checks read only metadata, so they cost nothing. Value checks (NaN / inf) read the data and,
on a GPU, would force a device-to-host sync; they run on NumPy arrays only, and ``fit`` checks the
loss once per epoch on every backend.
"""

from __future__ import annotations

import math
import numbers

import numpy


def shape_of(x):
    return tuple(getattr(x, "shape", ()))


def require_ndim(name, x, ndim, layout):
    if getattr(x, "ndim", None) != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array {layout}, got shape {shape_of(x)}.")


def require_same_shape(name_a, a, name_b, b):
    if shape_of(a) != shape_of(b):
        raise ValueError(
            f"{name_a} has shape {shape_of(a)} but {name_b} has shape {shape_of(b)}; they must match."
        )


def require_shape(name, x, shape, source):
    """``x`` must have ``shape``, which ``source`` had (``"the forward output"``)."""
    if shape_of(x) != shape:
        raise ValueError(f"{name} has shape {shape_of(x)} but {source} had shape {shape}.")


def require_linear(X, W, b):
    """``X @ W + b`` needs X (N, D), W (D, M), b (M,). One combined test when they fit (it runs
    on every forward); the sentence that names the mismatch is worked out only when they do not."""
    if getattr(X, "ndim", 0) == 2 and getattr(W, "ndim", 0) == 2 and X.shape[1] == W.shape[0] \
            and shape_of(b) == (W.shape[1],):
        return
    require_ndim("X", X, 2, "(N examples, D features)")
    require_ndim("W", W, 2, "(D inputs, M outputs)")
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has shape {shape_of(X)} and W has shape {shape_of(W)}: X's {X.shape[1]} columns "
            f"must equal W's {W.shape[0]} rows."
        )
    raise ValueError(f"b has shape {shape_of(b)} but W has shape {shape_of(W)}: b must be "
                     f"({W.shape[1]},).")


_value_checks_paused = 0


class values_checked_by_caller:  # noqa: N801  (used like a function: `with values_checked_by_caller():`)
    """Inside this block ``require_finite`` does nothing: ``fit`` checks its data once before
    training and the loss once per epoch, so checking every batch again only costs time. (A
    class, not a generator: it is entered once per epoch, and this is twice as cheap.)"""

    def __enter__(self):
        global _value_checks_paused
        _value_checks_paused += 1

    def __exit__(self, *exc):
        global _value_checks_paused
        _value_checks_paused -= 1


def require_finite(name, x):
    if _value_checks_paused:
        return
    if isinstance(x, numpy.ndarray) and x.dtype.kind in "fc" and not numpy.isfinite(x).all():
        bad = "nan" if numpy.isnan(x).any() else "inf"
        raise ValueError(f"{name} contains {bad} values; check the data or the step that made them.")


def _is_number(value):
    """A real number, NumPy scalars included (a learning rate read from an array), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive(name, value):
    if not (_is_number(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return value


def fraction(name, value, low_inclusive=True):
    """A number in [0, 1) (or (0, 1) when ``low_inclusive`` is False)."""
    ok = _is_number(value) and (0 <= value < 1 if low_inclusive else 0 < value < 1)
    if not ok:
        interval = "[0, 1)" if low_inclusive else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}.")
    return value


def positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int | numpy.integer) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return int(value)
