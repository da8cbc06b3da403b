"""course_lib: the readable NumPy (or CuPy) implementation every course notebook imports.

Four parts, lowest first; each uses only the parts below it:

- the library, simplest first: ``backend`` (numpy or cupy), ``functional`` (forward/backward
  pairs), ``losses``, ``optim``, ``regularization`` (L2), ``layers``, ``train`` (``fit``),
  ``gradcheck``, ``datasets``, ``plotting``; ``overrides`` (``using``) is how the learner's own
  functions get in; ``_fast`` holds the in-place and CUDA twins the library looks up by name;
- ``lessons``: what only the notebooks use (``checks``, per-notebook helpers);
- ``widgets``: the live views;
- ``grading``: the instructor's tools.

``import course_lib`` loads only ``backend`` and ``overrides``; every other module is imported
when first used (``course_lib.layers``), so matplotlib, ipywidgets, nbgrader and cupy load only
where they are needed.
"""

import importlib

from . import backend, overrides

__version__ = "0.1.0"
__all__ = ["backend", "using", "__version__"]

_SUBMODULES = {
    "functional", "losses", "optim", "regularization", "layers", "train", "gradcheck",
    "datasets", "plotting", "overrides", "lessons", "widgets", "grading", "checks",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


def using(**functions):
    """Run everything inside the ``with`` block on the learner's functions instead of ours:
    ``with course_lib.using(sigmoid_forward=my_sigmoid, adam_update=my_adam): ...``.

    The one way in for the learner's code: layers, ``fit``, optimizers, gradient checks and
    widgets all look their functions up through it. Any function of ``functional``, ``losses``,
    ``optim``'s update rules and ``linear_decay``, ``regularization.l2_penalty`` and
    ``train.early_stopping`` can be replaced; ``None`` values are ignored."""
    from . import functional, losses, optim, regularization, train  # noqa: F401  (they register)

    return overrides.using(**functions)


backend.cap_threads_if_oversubscribed()
