"""course_lib: the readable NumPy (or CuPy) implementation every course notebook imports.

Modules, simplest first: ``backend`` (numpy or cupy), ``functional`` (forward/backward pairs),
``losses``, ``optim``, ``layers``, ``train`` (``fit``), ``gradcheck``, ``datasets``, ``checks``.
``plotting``, ``widgets`` and ``grading`` load matplotlib, ipywidgets or nbgrader and are
imported only when used.
"""

import importlib

from . import backend
from .overrides import using

__version__ = "0.1.0"
__all__ = ["backend", "using", "__version__"]

_LAZY = {
    "functional", "losses", "optim", "layers", "train", "gradcheck", "datasets", "checks",
    "plotting", "widgets", "grading", "overrides",
}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


backend._cap_threads_if_oversubscribed()
