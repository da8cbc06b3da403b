"""One way in for the learner's code: ``with course_lib.using(sigmoid_forward=my_sigmoid): ...``.

The library registers each function a learner may replace (``register``, at the end of
``functional``, ``losses``, ``optim``, ``regularization`` and ``train``); layers, ``fit``, the
optimizers, gradient checks and widgets look their building blocks up by name through
``get(name)``. This module imports nothing from the library: the library imports it. Inside a ``using`` scope the learner's function is returned instead of the
reference. Its first call is compared against the reference (structure and shapes); if it is
not implemented yet, raises, or returns the wrong shape, one sentence naming the function is
printed and the reference takes over for the rest of the scope, so a half-finished notebook
still trains, plots and animates.
"""

from __future__ import annotations

import contextlib
import copy
import sys

_references: dict = {}  # name -> the library's function, filled by register()
scopes: list[dict] = []  # the open ``using`` scopes, innermost last (empty: ours run, fast)
messages: list[str] = []  # every report made, newest last (widgets show these)
_default_providers: list = []  # functions returning {name: learner's function} (my_nn's file)


def add_default_provider(provider) -> None:
    """Register ``provider()`` -> ``{name: function}``: the learner's functions saved from earlier
    notebooks, which widgets use by default (course_lib.lessons.my_nn registers one)."""
    if provider not in _default_providers:
        _default_providers.append(provider)


def default_functions() -> dict:
    """The learner's functions widgets run by default: the saved ones (providers), then those
    defined in the running notebook; only names course_lib can take in. Nothing under grading."""
    import os

    if os.environ.get("NBGRADER_EXECUTION"):
        return {}
    found: dict = {}
    for provider in _default_providers:
        try:
            found.update(provider())
        except Exception:  # a broken file of the learner's: the reference is used
            continue
    found.update(notebook_functions())
    return {k: v for k, v in found.items() if k in _references and callable(v)}


def notebook_functions() -> dict:
    """Functions defined in the running notebook (IPython's namespace), by name; {} elsewhere."""
    shell_module = sys.modules.get("IPython")
    get_ipython = getattr(shell_module, "get_ipython", None)
    shell = get_ipython() if get_ipython else None
    if shell is None:
        return {}
    return {k: v for k, v in shell.user_ns.items()
            if callable(v) and getattr(v, "__module__", None) == "__main__"}


def register(*functions):
    """Make each of ``functions`` replaceable by name inside ``using``; returns nothing."""
    for fn in functions:
        _references[fn.__name__] = fn


def reference(name: str):
    """The course_lib implementation of ``name``."""
    try:
        return _references[name]
    except KeyError:
        known = ", ".join(sorted(_references)) or "none are loaded yet"
        raise KeyError(f"course_lib has no function called {name!r} that can be overridden "
                       f"(these can: {known}).") from None


def get(name: str):
    """The function to call for ``name``: the innermost override, else the reference."""
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    return reference(name)


def active() -> dict:
    """The overrides in force, name -> learner's function (innermost wins)."""
    merged: dict = {}
    for scope in scopes:
        merged.update({k: v.learner for k, v in scope.items()})
    return merged


@contextlib.contextmanager
def using(**functions):
    """Run everything inside the ``with`` block on the given functions instead of course_lib's.

    ``None`` values are ignored, so ``using(adam_update=maybe_mine)`` is safe to write."""
    scope = {}
    for name, fn in functions.items():
        if fn is None:
            continue
        ref = reference(name)  # raises KeyError for unknown names: a typo should be loud
        if not callable(fn):
            raise TypeError(f"using({name}=...) needs a function, got {type(fn).__name__}.")
        scope[name] = _Checked(name, fn, ref)
    scopes.append(scope)
    try:
        yield scope
    finally:
        scopes.remove(scope)


def report(message: str) -> None:
    """Print one sentence for the learner and remember it.

    Each checked function reports at most once per ``using`` scope (it then falls back for good),
    so re-running a cell with the same unfinished function shows the sentence again."""
    print(message, file=sys.stdout)
    messages.append(message)


class _Checked:
    """The learner's function, checked against the reference on its first call."""

    def __init__(self, name, learner, ref, in_place=False):
        self.name, self.learner, self.ref, self.in_place = name, learner, ref, in_place
        self.verified = False
        self.failed = False

    def __call__(self, *args, **kwargs):
        if self.failed:
            return self.ref(*args, **kwargs)
        if self.verified:
            return self.learner(*args, **kwargs)
        if self.in_place:
            return self._first_call_in_place(args, kwargs)
        # First call: run the reference on copies of anything it might advance or update
        # (random generators, state dicts), then the learner's function on the real arguments.
        expected = self.ref(*copy.deepcopy(_mutable(args)), **copy.deepcopy(_mutable(kwargs)))
        try:
            got = self.learner(*args, **kwargs)
        except NotImplementedError:
            return self._fall_back(f"{self.name} is not implemented yet", args, kwargs)
        except Exception as err:  # the learner's code may fail in any way; report it plainly
            problem = f"{self.name} raised {type(err).__name__}: {err}"
            return self._fall_back(problem, args, kwargs)
        problem = _compare_structure(self.name, got, expected)
        if problem:
            return self._fall_back(problem, args, kwargs)
        self.verified = True
        return got

    def _first_call_in_place(self, args, kwargs):
        """For a function that changes its arguments (trains a model in place): the learner's
        runs first, on the real arguments; if it fails, every argument gets its starting value
        back (a model through ``state_dict``, anything else as a deep copy) and the reference
        runs. Running both would train the model twice, so nothing is compared."""
        saved = _starting_values(args, kwargs)
        try:
            got = self.learner(*args, **kwargs)
        except NotImplementedError:
            problem = f"{self.name} is not implemented yet"
        except Exception as err:  # the learner's code may fail in any way; report it plainly
            problem = f"{self.name} raised {type(err).__name__}: {err}"
        else:
            self.verified = True
            return got
        args, kwargs = _put_back(saved, args, kwargs)
        return self._fall_back(problem, args, kwargs)

    def _fall_back(self, problem, args, kwargs):
        self.failed = True
        report(f"{problem}; the course_lib reference is used instead.")
        return self.ref(*args, **kwargs)


def _is_model(value) -> bool:
    return hasattr(value, "state_dict") and hasattr(value, "load_state_dict")


def _starting_values(args, kwargs):
    """Models' ``state_dict()`` and deep copies of every other argument."""
    def save(v):
        return v.state_dict() if _is_model(v) else copy.deepcopy(v)
    return [save(a) for a in args], {k: save(v) for k, v in kwargs.items()}


def _put_back(saved, args, kwargs):
    """The arguments as they were: models restored in place (the caller holds them), the rest
    replaced by their saved copies."""
    def put(value, state):
        if _is_model(value):
            value.load_state_dict(state)
            return value
        return state
    saved_args, saved_kwargs = saved
    return ([put(a, s) for a, s in zip(args, saved_args, strict=True)],
            {k: put(v, saved_kwargs[k]) for k, v in kwargs.items()})


def _mutable(values):
    """Leave arrays shared (deep-copying data is costly) but copy dicts, lists and generators."""
    if isinstance(values, dict):
        return {k: _mutable_one(v) for k, v in values.items()}
    return tuple(_mutable_one(v) for v in values)


def _mutable_one(v):
    if isinstance(v, dict | list) or type(v).__name__ in ("Generator", "RandomState"):
        return copy.deepcopy(v)
    return v


def _compare_structure(name, got, expected, where=""):
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            kind = f"a {len(got)}-tuple" if isinstance(got, tuple | list) else type(got).__name__
            return f"{name} returned {kind}{where} where a {len(expected)}-tuple was expected"
        if name.endswith("_forward"):
            # a forward's cache is the learner's own business; only its output is compared
            return _compare_structure(name, got[0], expected[0], " (output)")
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = _compare_structure(name, g, e, f" (item {i})")
            if problem:
                return problem
        return None
    shape = getattr(expected, "shape", None)
    if shape is not None and getattr(expected, "ndim", 0) > 0:
        got_shape = getattr(got, "shape", None)
        if got_shape is None:
            return f"{name} returned {type(got).__name__}{where} where an array was expected"
        if tuple(got_shape) != tuple(shape):
            return f"{name} returned shape {tuple(got_shape)}{where} where {tuple(shape)} was expected"
    return None


def fallback(learner, ref, name: str | None = None, *, in_place: bool = False):
    """The learner's ``learner`` function, checked against ``ref`` on its first call like an
    override: not implemented, raising or mis-shaped -> one sentence, then ``ref`` is used.

    For notebook functions that course_lib has no name for (``forward`` of a whole network,
    ``minibatches``, ``numerical_gradient``...): ``fwd = fallback(forward, reference_forward)``.
    ``in_place=True`` for a function that changes its arguments, such as a training loop:
    the learner's runs first, and if it fails the arguments are put back before ``ref`` runs."""
    return _Checked(name or getattr(learner, "__name__", "this function"), learner, ref, in_place)
