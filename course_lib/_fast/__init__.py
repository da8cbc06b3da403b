"""Speed twins of the library's reference functions, looked up by name: ``twin(name, *arrays)``.

The library's reference functions (``functional``, ``losses``, ``optim``) carry the maths and
nothing else. When course_lib's own function is in force (no learner's code put in its place
with ``course_lib.using``), the layers, the optimizers and ``fit`` ask here for a faster function
with the same signature and the same numbers:

- ``inplace``: the update rules writing into the weights and the state's arrays (NumPy or CuPy);
- ``cuda``: fused CUDA kernels (ReLU, sigmoid, softmax cross-entropy, SGD, momentum, Adam) for
  CuPy arrays of float32 or float64;
- ``relu_forward`` below, NumPy's faster ``maximum``.

This package imports nothing from the library.
"""

from __future__ import annotations

import numpy

from . import cuda, inplace


def relu_forward(z):
    """``max(z, 0)`` against a row of zeros, not the scalar 0: NumPy vectorises that case (twice
    as fast on a (4096, 256) batch)."""
    return numpy.maximum(z, numpy.zeros(z.shape[-1:], dtype=z.dtype)), z


# the twins for NumPy arrays, by name
ON_THE_HOST = {**inplace.UPDATES, "relu_forward": relu_forward}


def twin(name: str, *arrays):
    """The fast function for the reference called ``name`` when ``arrays`` (its array arguments,
    in order) suit it, else None (then the caller runs the reference).

    NumPy arrays: the in-place update rules and ``relu_forward``. CuPy arrays: the fused kernel
    where ``cuda.enabled`` and the dtypes suit it, else the in-place update rules."""
    first = arrays[0]
    if type(first) is numpy.ndarray:  # the common case first: one type check
        return ON_THE_HOST.get(name)
    if inplace.array_module(first) is numpy:
        return inplace.UPDATES.get(name) if isinstance(first, numpy.ndarray) else None
    return cuda.twin(name, *arrays) or inplace.UPDATES.get(name)
