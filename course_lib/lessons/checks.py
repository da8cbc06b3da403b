"""Helpers for the test cells of the course notebooks.

A failed check raises ``CheckFailed`` (an ``AssertionError``, so nbgrader scores the cell 0) with
one self-contained sentence: what was checked, what came back (a shape, a dtype, a property such
as "contains nan"), what was expected in shape or property, and a hint naming the likely
mistake. Messages never print the expected values: that would hand out the answer.

    >>> out = call(linear_forward, X, W, b)                  # "not implemented yet", not a traceback
    >>> check_shape("linear_forward", out, (3, 2))
    >>> check_close("softmax", out, expected, mistakes=[(softmax_axis0, "normalise each row")])
    >>> passed("linear_forward: shapes and values on the example batch")

The comparisons use numpy functions captured when this module is imported and do
their own arithmetic, so a notebook that rebinds ``np.allclose``, ``np.isclose`` or ``np`` itself
cannot make a wrong answer pass. CuPy arrays are copied to the host before they are compared.
"""

from __future__ import annotations

import builtins
import copy as _copy_module
import inspect as _inspect_module
import numbers as _numbers_module
import os as _os
import re as _re
import textwrap as _textwrap
import traceback as _traceback
import warnings as _warnings_module

import numpy as _np

# This module's own copy of the builtins: a notebook that rebinds ``builtins.abs`` (or ``max``,
# ``all``...) changes nothing here, and the code below can say ``abs`` and ``len`` plainly.
__builtins__ = dict(vars(builtins))

# Captured at import: later rebinding of numpy's names in a notebook changes nothing here.
_ndarray = _np.ndarray
_asarray = _np.asarray
_array2string = _np.array2string
_float64 = _np.float64
_isfinite = _np.isfinite
_isnan = _np.isnan
_abs_array = _np.absolute
_subtract = _np.subtract
_multiply = _np.multiply
_add = _np.add
_less_equal = _np.less_equal
_logical_and = _np.logical_and
_logical_or = _np.logical_or
_logical_not = _np.logical_not
_equal = _np.equal
_sqrt = _np.sqrt
_sum = _np.add.reduce
_all = _np.logical_and.reduce
_any = _np.logical_or.reduce
_count = _np.count_nonzero
_argwhere = _np.argwhere
_min = _np.minimum.reduce
_max_array = _np.maximum.reduce
_transpose = _np.transpose
_errstate = _np.errstate
_deepcopy = _copy_module.deepcopy
_signature = _inspect_module.signature
_extract_tb = _traceback.extract_tb


def grading() -> bool:
    """True while nbgrader grades or validates a notebook (it sets ``NBGRADER_EXECUTION``)."""
    return bool(_os.environ.get("NBGRADER_EXECUTION"))


class CheckFailed(AssertionError):
    """A notebook check did not pass; the message says what, and the likely mistake.

    In a notebook it shows as one box with the message (IPython's ``_render_traceback_``): no
    frames, no path into course_lib."""

    def _render_traceback_(self):
        lines = ["\x1b[1;31m✗ check failed\x1b[0m"]
        for paragraph in str(self).split("\n"):
            lines.extend(_textwrap.wrap(paragraph, 96, break_on_hyphens=False) or [""])
        return lines


class NotAttempted(CheckFailed):
    """The exercise a check calls still raises NotImplementedError (the cell was not filled in).

    Outside grading the notebook's IPython shows its message as a plain line and lets the cell
    count as run, so Run All goes on to the last cell; under grading it fails as any check."""

    def __init__(self, message: str, name: str = "", points=None):
        super().__init__(message)
        self.name = name
        self.points = points

    def _render_traceback_(self):
        return [str(self)]


def _fail(message: str):
    __tracebackhide__ = True
    raise CheckFailed(message) from None


def check(condition, message: str) -> None:
    """Raise CheckFailed(message) unless ``condition`` is true."""
    __tracebackhide__ = True
    if not condition:
        _fail(message)


# --- calling the learner's function ------------------------------------------------------------

def _protected(value):
    """A copy of array arguments (also inside tuples, lists, dicts), so that a function that works
    in place cannot change the inputs the test computes its expected values from."""
    if isinstance(value, (tuple, list, dict)) or _hasattr_shape(value):
        try:
            return _deepcopy(value)
        except Exception:
            return value
    return value


def _hasattr_shape(value) -> bool:
    return getattr(value, "shape", None) is not None and getattr(value, "dtype", None) is not None


def _where_it_failed(err: BaseException) -> str:
    """' (in relu, line 4: z = X @ W)' for the deepest frame outside site-packages and this file."""
    frames = [
        f for f in _extract_tb(err.__traceback__)
        if "site-packages" not in f.filename and f.filename != __file__
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{code})"


_MAX_OF_TWO = _re.compile(r"(?<![\w.])(np\.max|numpy\.max|np\.amax|max|np\.min|min)\(\s*[^,()]+,")


def _error_hint(err: BaseException):
    """A hint for an error whose cause the failing line shows (None when it shows none)."""
    frames = [f for f in _extract_tb(err.__traceback__)
              if "site-packages" not in f.filename and f.filename != __file__]
    line = frames[-1].line if frames and frames[-1].line else ""
    match = _MAX_OF_TWO.search(line)
    if match and isinstance(err, (TypeError, ValueError)):
        fn = match.group(1)
        largest = "largest" if "max" in fn else "smallest"
        pair = "np.maximum" if "max" in fn else "np.minimum"
        return (f"{fn}(a, b) does not compare two values: {fn} gives the {largest} value of one "
                f"array (a second argument is an axis, or for Python's {fn.split('.')[-1]} a "
                f"single True/False is needed); the elementwise comparison is {pair}.")
    return None


def call(fn, *args, name: str | None = None, **kwargs):
    """Call the learner's ``fn(*args, **kwargs)`` and return what it returns.

    An unfinished exercise (``NotImplementedError``) or any other exception becomes one readable
    CheckFailed. Array arguments are passed as copies."""
    __tracebackhide__ = True
    name = name or getattr(fn, "__name__", "the function")
    if not callable(fn):
        _fail(
            f"{name} is not a function (it is {type(fn).__name__}): run the cell that defines it "
            "and check the name."
        )
    _record_call(name, fn)
    args = [_protected(a) for a in args]
    kwargs = {k: _protected(v) for k, v in kwargs.items()}
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        _not_attempted(name)
    except Exception as err:  # the learner's code may fail in any way: report it in one line
        detail = f": {err}" if str(err) else ""
        _fail(
            f"{name} raised {type(err).__name__}{detail}{_where_it_failed(err)}. "
            f"{_error_hint(err) or 'Fix the error in your function, run its cell again, then this one.'}"
        )


def _not_attempted(name: str):
    """Raise NotAttempted for ``name``: under grading the usual failure, else "0 of N points"."""
    __tracebackhide__ = True
    if grading():
        _fail(
            f"{name} is not implemented yet: write your code in the cell above, where it says "
            "YOUR CODE HERE."
        )
    points = _points_of(name)
    score = f"0 of {points} point{'s' if points != 1 else ''}" if points else "0 points so far"
    raise NotAttempted(f"{name}: not attempted yet: {score}. Write your code where it says "
                       "YOUR CODE HERE, run that cell, then this one.", name, points) from None


# --- which check cell is running, and which functions passed (for my_nn.save) ----------------

_state = {"cell": None, "called": []}  # the running cell's id; (name, fn) called in it


def _points_of(name: str):
    """The running check cell's points (JupyterLab sends the cell's id), else the points of all
    the check cells of exercise ``name``; None when the catalogue does not know it."""
    cell = _state["cell"]
    if cell in catalogue.CHECK_CELLS:
        return catalogue.CHECK_CELLS[cell][1]
    total = sum(points for names, points in catalogue.CHECK_CELLS.values() if name in names)
    return total or None


def _record_call(name: str, fn) -> None:
    _state["called"].append((name, getattr(fn, "__wrapped_learner__", fn)))


def before_cell(info) -> None:
    """IPython's pre_run_cell: remember which cell runs (JupyterLab sends its id)."""
    _state["cell"] = getattr(info, "cell_id", None)
    _state["called"] = []


def after_cell(result) -> None:
    """IPython's post_run_cell: outside grading a NotAttempted is not an error (Run All goes
    on), and each function a check cell called is marked as passed or failed in that cell."""
    error = getattr(result, "error_in_exec", None)
    if isinstance(error, NotAttempted) and not grading():
        result.error_in_exec = None
    cell = _state["cell"]
    if cell:
        ok = error is None
        for name, fn in _state["called"]:
            my_nn.record(name, cell, fn, ok and not isinstance(error, NotAttempted))
    _state["called"] = []


def _show_not_attempted(shell, etype, value, tb, tb_offset=None):
    print(str(value))


def install(shell=None) -> None:
    """Register the hooks above in the running IPython (done when this module is imported)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None or getattr(shell, "_course_checks_installed", False):
        return
    shell.events.register("pre_run_cell", before_cell)
    shell.events.register("post_run_cell", after_cell)
    if not grading():
        shell.set_custom_exc((NotAttempted,), _show_not_attempted)
    shell._course_checks_installed = True


# --- converting what came back -----------------------------------------------------------------

def _to_host(got):
    """A NumPy view of ``got``; CuPy arrays are copied from the GPU first."""
    from .. import backend  # light; imported late so this module never needs it at import

    if backend.is_device_array(got):
        got = got.get()
    return got


def _describe(got) -> str:
    if got is None:
        return "None"
    shape = getattr(got, "shape", None)
    if shape is not None:
        return f"{type(got).__name__} of shape {tuple(shape)}"
    return type(got).__name__


def _names_a_function(name: str) -> bool:
    """'linear_forward' or 'softmax on a batch' names what a function returned; 'the activation
    cache caches[1][1]' or "linear_forward's cache" names a value stored somewhere."""
    return not name.startswith("the ") and "'s " not in name and "[" not in name


def _as_float_array(name: str, got, what: str = "an array of numbers", none_hint=None):
    __tracebackhide__ = True
    if got is None and not _names_a_function(name):
        _fail(f"{name} is None but {what} was expected: "
              f"{none_hint or 'check what your code stores there.'}")
    if got is None:
        _fail(f"{name} returned None but {what} was expected: did you forget the return statement?")
    if isinstance(got, (tuple, list)) and _any_array_inside(got):
        _fail(
            f"{name} returned a {type(got).__name__} of {len(got)} items but {what} was expected: "
            "return one array (or pick the right item of the tuple)."
        )
    try:
        array = _asarray(_to_host(got), dtype=_float64)
    except (TypeError, ValueError):
        _fail(f"{name} returned {_describe(got)}, which is not {what}.")
    return array


def _any_array_inside(items) -> bool:
    return any(getattr(item, "ndim", 0) > 0 for item in items)


def _shape_text(shape) -> str:
    if len(shape) == 0:
        return "() (a single number)"
    return str(tuple(shape))


def _show(array) -> str:
    """The learner's own values, compactly (theirs, so printing them gives nothing away)."""
    if array.ndim == 0:
        return f"{float(array):.6g}"
    if array.size <= 8:
        return _array2string(array, precision=4, separator=", ").replace("\n", "")
    finite = array[_isfinite(array)]
    if finite.size == 0:
        return f"an array of {array.size} values"
    return f"values from {float(_min(finite, axis=None)):.4g} to {float(_max_array(finite, axis=None)):.4g}"


# --- type and shape ----------------------------------------------------------------------------

def _type_names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


def check_type(name: str, got, types, hint: str | None = None):
    """Check that ``got`` is an instance of ``types`` (a type or a tuple). CuPy arrays count as
    numpy.ndarray. Returns ``got``."""
    __tracebackhide__ = True
    types_tuple = types if isinstance(types, tuple) else (types,)
    if isinstance(got, types_tuple):
        return got
    if _ndarray in types_tuple and type(got).__module__.split(".")[0] == "cupy":
        return got
    if hint is None:
        hint = "did you forget the return statement?" if got is None else _type_hint(got)
    _fail(f"{name} returned {_describe(got)} but {_type_names(types)} was expected: {hint}")


def _type_hint(got) -> str:
    if isinstance(got, (tuple, list)):
        return "did you return several values where one was wanted, or build a list in a loop?"
    return "check what your function returns on its last line."


def _shape_hint(got_shape, expected_shape) -> str:
    got_shape, expected_shape = tuple(got_shape), tuple(expected_shape)
    if len(expected_shape) == 0:
        return ("did you forget to take the mean or the sum, or return an array of one element "
                "instead of a number (float(...) or .item() gives the number)?")
    if len(got_shape) == len(expected_shape) == 2 and got_shape == expected_shape[::-1]:
        return ("it looks transposed: check the order of the matrix product and whether a .T is "
                "missing or one too many.")
    if _size(got_shape) == _size(expected_shape):
        if [d for d in got_shape if d != 1] == [d for d in expected_shape if d != 1]:
            return ("the same values with an axis of length 1 added or dropped: check keepdims "
                    "or a reshape.")
        return "the same number of entries in another arrangement: check a reshape or the axis."
    if len(got_shape) < len(expected_shape):
        return "an axis is missing: did you sum or average over an axis that should stay?"
    if len(got_shape) > len(expected_shape):
        return "an extra axis: did you forget to sum or average over an axis?"
    return "check which axis you summed over and the order of the matrix product."


def _size(shape) -> int:
    size = 1
    for d in shape:
        size *= d
    return size


def _shape_matches(got_shape, expected_shape) -> bool:
    if len(got_shape) != len(expected_shape):
        return False
    return all(e is None or g == e for g, e in zip(got_shape, expected_shape, strict=True))


def check_shape(name: str, got, expected_shape, hint: str | None = None, mistakes=None):
    """Check the shape of ``got`` (``None`` in ``expected_shape`` matches any length).

    ``mistakes``: ``[(wrong_shape, hint), ...]``, a hint for a shape that a known mistake gives;
    ``hint`` for any other wrong shape. Returns ``got`` as a float64 NumPy array."""
    __tracebackhide__ = True
    array = _as_float_array(name, got, none_hint=hint)
    expected_shape = tuple(expected_shape)
    if not _shape_matches(array.shape, expected_shape):
        for wrong_shape, wrong_hint in mistakes or ():
            if tuple(array.shape) == tuple(wrong_shape):
                hint = wrong_hint
                break
        if hint is None and None not in expected_shape:
            hint = _shape_hint(array.shape, expected_shape)
        hint = hint or "check the axes of your result."
        _fail(
            f"{name} returned shape {_shape_text(array.shape)} but {_shape_text(expected_shape)} "
            f"was expected: {hint}"
        )
    return array


# --- values ------------------------------------------------------------------------------------

def check_finite(name: str, got, hint: str | None = None):
    """Check that ``got`` contains no nan or inf. Returns ``got`` as a float64 NumPy array."""
    __tracebackhide__ = True
    array = _as_float_array(name, got)
    bad = _logical_not(_isfinite(array))
    if not _any(bad, axis=None):
        return array
    n_nan, n_inf = _count(_isnan(array)), _count(bad) - _count(_isnan(array))
    found = " and ".join(text for text, k in (("nan", n_nan), ("inf", n_inf)) if k)
    if hint is None:
        hint = ("nan comes from 0/0, inf − inf or the log of a negative number; inf from exp of a "
                "large number, the log of 0 or a division by zero.")
    _fail(
        f"{name} returned values that contain {found} ({_count(bad)} of {array.size} entries) "
        f"where finite numbers were expected: {hint}"
    )


def _close_mask(got, expected, rtol: float, atol: float):
    """Elementwise |got − expected| ≤ atol + rtol·|expected|, nan matching nan, inf matching inf."""
    both_nan = _logical_and(_isnan(got), _isnan(expected))
    same_inf = _logical_and(_logical_not(_isfinite(expected)), _equal(got, expected))
    with _errstate(invalid="ignore", over="ignore"):
        diff = _abs_array(_subtract(got, expected))
        bound = _add(atol, _multiply(rtol, _abs_array(expected)))
        near = _less_equal(diff, bound)
    return _logical_or(_logical_or(both_nan, same_inf), near)


def _all_close(got, expected, rtol: float, atol: float) -> bool:
    if tuple(got.shape) != tuple(expected.shape):
        return False
    return bool(_all(_close_mask(got, expected, rtol, atol), axis=None))


def _mistake_hint(got, mistakes, rtol: float, atol: float):
    """The hint of the first known-wrong value that ``got`` matches, else None."""
    for wrong, hint in mistakes or ():
        try:
            value = wrong() if callable(wrong) else wrong
            value = _asarray(_to_host(value), dtype=_float64)
        except Exception:  # a diagnosis that cannot be computed is simply skipped
            continue
        if _all_close(got, value, rtol, atol):
            return hint
    return None


def _property_hint(got, expected, rtol: float, atol: float):
    """A hint derived from how ``got`` relates to ``expected``: a factor, the sign, a transpose."""
    if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1:
        flipped = _transpose(got)
        if not _all_close(flipped, got, rtol, atol) and _all_close(flipped, expected, rtol, atol):
            return "it looks transposed: check the order of the matrix product or a missing .T."
    e_dot_e = float(_sum(_multiply(expected, expected), axis=None))
    if e_dot_e > 0 and _all(_isfinite(expected), axis=None):
        factor = float(_sum(_multiply(got, expected), axis=None)) / e_dot_e
        if _telling_factor(factor, expected.size) and _all_close(
            got, _multiply(factor, expected), 1e-4, atol
        ):
            if abs(factor + 1) <= 1e-3:
                return "the sign is flipped: check a minus sign (w − η·g, p − y, …)."
            which = "every value is" if expected.size > 1 else "the value is"
            return (f"{which} off by a factor of {factor:.3g}: check a constant such as the 1/N of "
                    "a mean, the ½ of the squared error, or the 2 of a derivative.")
        shift = float(_sum(_subtract(got, expected), axis=None)) / expected.size
        if expected.size > 1 and abs(shift) > atol and _all_close(
            got, _add(expected, shift), 1e-4, atol
        ):
            return "every value is off by the same amount: check a constant term such as the bias."
    return None


# With a single value every wrong answer is "some factor" of the right one; only these say something.
_SIMPLE_FACTORS = (-1.0, 2.0, 0.5, -2.0, -0.5, 4.0, 0.25)


def _telling_factor(factor: float, size: int) -> bool:
    if factor == 0 or abs(factor - 1) <= 1e-3:
        return False
    return size > 1 or any(abs(factor - f) <= 1e-6 * abs(f) for f in _SIMPLE_FACTORS)


def check_close(name: str, got, expected, rtol: float = 1e-6, atol: float = 1e-8,
                hint: str | None = None, mistakes=None, none_hint: str | None = None):
    """Check that ``got`` equals ``expected`` within |got − expected| ≤ atol + rtol·|expected|.

    Shapes must match exactly. ``mistakes`` is a list of ``(wrong, hint)`` pairs, ``wrong`` a
    known-wrong value or a function of no arguments that computes it; when ``got`` matches one,
    the message gives its hint, which should name the mistake and the fix ("it matches softmax
    taken over axis 0: normalise each row"). Otherwise it gives ``hint`` or one derived from the values (a
    constant factor, a flipped sign, a transpose). Returns ``got`` as a float64 NumPy array."""
    __tracebackhide__ = True
    expected = _asarray(_to_host(expected), dtype=_float64)
    if got is None:
        _as_float_array(name, got, none_hint=none_hint or hint)
    array = check_shape(name, got, expected.shape)
    if _all_close(array, expected, rtol, atol):
        return array
    if _all(_isfinite(expected), axis=None):
        check_finite(name, array)
    mask = _close_mask(array, expected, rtol, atol)
    diagnosis = (
        _mistake_hint(array, mistakes, rtol, atol)
        or hint
        or _property_hint(array, expected, rtol, atol)
        or "compare your formula with the one in the text, term by term."
    )
    _fail(f"{name} {_what_differs(array, mask)}: {diagnosis}")


def _what_differs(array, mask) -> str:
    if array.ndim == 0:
        return f"returned {_show(array)}, which is not the expected value"
    wrong = _count(_logical_not(mask))
    first = tuple(int(i) for i in _argwhere(_logical_not(mask))[0])
    where = f"first at index {first}" if array.size > 1 else "its only entry"
    verb = "differs" if wrong == 1 else "differ"
    return (f"returned the right shape {_shape_text(array.shape)} but {wrong} of {array.size} "
            f"values {verb} from the expected ones ({where}; yours: {_show(array)})")


# --- gradients ---------------------------------------------------------------------------------

def relative_error(a, b) -> float:
    """‖a − b‖₂ / max(‖a‖₂ + ‖b‖₂, 1e-12): the gradient-check figure (CONVENTIONS.md)."""
    a = _asarray(_to_host(a), dtype=_float64)
    b = _asarray(_to_host(b), dtype=_float64)
    diff = _subtract(a, b)
    numerator = float(_sqrt(_sum(_multiply(diff, diff), axis=None)))
    norm_a = float(_sqrt(_sum(_multiply(a, a), axis=None)))
    norm_b = float(_sqrt(_sum(_multiply(b, b), axis=None)))
    return numerator / max(norm_a + norm_b, 1e-12)


def check_gradients(name: str, analytic, numeric, threshold: float = 1e-7,
                    hint: str | None = None) -> float:
    """Check an analytic gradient against a numerical one by their relative error.

    analytic, numeric: same shape. Passes when the relative error is below ``threshold``
    (1e-7 in float64). Returns the relative error."""
    __tracebackhide__ = True
    numeric = _asarray(_to_host(numeric), dtype=_float64)
    analytic = check_shape(name, analytic, numeric.shape)
    check_finite(name, analytic)
    error = relative_error(analytic, numeric)
    if error < threshold:
        return error
    if hint is None:
        hint = _gradient_hint(analytic, numeric)
    _fail(
        f"{name}: the relative error between your analytic gradient and the numerical one is "
        f"{error:.2e}, above the threshold {threshold:.0e}: {hint}"
    )


def _gradient_hint(analytic, numeric) -> str:
    if not _any(analytic, axis=None):
        return "your gradient is all zeros: is the result assigned and returned?"
    derived = _property_hint(analytic, numeric, 1e-4, 1e-10)
    if derived:
        return derived
    return ("check each factor of the chain rule, and that every path into a node adds its "
            "gradient (a sum over the batch for a bias).")


# --- the learner's code at work ---------------------------------------------------------------

def at_work(scope, yours, reference, what: str) -> None:
    """For the cells that run a network on the learner's functions (``with course_lib.using(...)
    as scope``): print the result and whether it equals ``what`` (``reference``), or, when
    course_lib's reference stood in for one of them, say so instead of comparing the reference
    with itself."""
    stood_in = sorted(name for name, fn in scope.items() if getattr(fn, "failed", False))
    print("ŷ =", _pretty(yours).replace("\n", ""))
    if stood_in:
        print(f"course_lib's {', '.join(stood_in)} stood in for yours (see above), so this is "
              "the reference's result: there is nothing of yours to compare yet.")
        return
    try:
        same = _all_close(_asarray(_to_host(yours), dtype=_float64),
                          _asarray(_to_host(reference), dtype=_float64), 1e-6, 1e-8)
    except (TypeError, ValueError):
        same = False
    print(f"equal to {what}: {same}")


# --- success -----------------------------------------------------------------------------------

def passed(what: str) -> None:
    """Print one line saying which visible checks passed (the hidden ones run at grading)."""
    print(f"✓ {what} (the grader runs more checks)")


# --- warnings as failures, and try-it cells ------------------------------------------------------


_catch_warnings = _warnings_module.catch_warnings
_simplefilter = _warnings_module.simplefilter


class _WarningRaised(BaseException):
    """Carries a warning turned into an error past ``call``'s handler (which catches Exception)."""

    def __init__(self, warning):
        super().__init__(warning)
        self.warning = warning


def call_without_warnings(fn, *args, name: str | None = None, hint: str | None = None, **kwargs):
    """Like ``call``, but any warning the learner's code gives (a RuntimeWarning such as "overflow
    encountered in exp" or "invalid value encountered in divide") fails the check with ``hint``:
    a warning means an intermediate value overflowed or was 0/0, even when the result looks
    right. Returns what ``fn`` returns."""
    __tracebackhide__ = True
    name = name or getattr(fn, "__name__", "the function")

    def strict(*a, **k):
        with _catch_warnings():
            _simplefilter("error")
            try:
                return fn(*a, **k)
            except Warning as warning:
                raise _WarningRaised(warning) from None

    strict.__wrapped_learner__ = fn
    try:
        return call(strict if callable(fn) else fn, *args, name=name, **kwargs)
    except _WarningRaised as raised:
        warning = raised.warning
        text = str(warning) or type(warning).__name__
        if hint is None:
            hint = ("rearrange the formula so that every intermediate value stays finite "
                    "(no exp of a large number, no 0/0).")
        _fail(f"{name} gave the warning \"{text}\"{_where_it_failed(warning)}, and a warning counts "
              f"as a failure here: {hint}")


def _outline(value, depth: int = 0) -> str:
    """A short description of a returned value: 'array (3, 2)', 'tuple of 2: array (3,), float'."""
    shape = getattr(value, "shape", None)
    if shape is not None and getattr(value, "dtype", None) is not None:
        return f"array {tuple(shape)}"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if depth >= 2 or len(value) > 6:
            return f"{kind} of {len(value)}"
        inner = ", ".join(_outline(v, depth + 1) for v in value)
        return f"{kind} of {len(value)}: ({inner})" if depth else f"{kind} of {len(value)}: {inner}"
    if isinstance(value, dict):
        return f"dict with keys {list(value)}"
    return type(value).__name__


def _pretty(value) -> str:
    """Numbers and arrays printed compactly (4 decimals), other values as their repr."""
    host = _to_host(value)
    if _hasattr_shape(host) or isinstance(host, (int, float)):
        try:
            array = _asarray(host, dtype=_float64)
        except (TypeError, ValueError):
            return repr(value)
        if array.ndim == 0:
            return f"{float(array):.6g}"
        return _array2string(array, precision=4, suppress_small=True, max_line_width=90)
    return repr(value)


def try_it(fn, *args, name: str | None = None, **kwargs):
    """For try-it cells: call the learner's ``fn(*args, **kwargs)``, print what it returns and
    return it. Never raises: an unfinished function prints "not implemented yet", an error prints
    one sentence, and both return None.

    The ``(out, cache)`` pair of a function whose name ends in ``forward`` prints ``out`` and an
    outline of the cache; other tuples print item by item."""
    name = name or getattr(fn, "__name__", "the function")
    try:
        result = call(fn, *args, name=name, **kwargs)
    except NotAttempted:
        print(f"{name} is not implemented yet: write your code in the cell above, where it says "
              "YOUR CODE HERE.")
        return None
    except CheckFailed as failure:
        print(str(failure))
        return None
    finally:
        if _state["called"] and _state["called"][-1][0] == name:
            _state["called"].pop()  # a try-it cell is no check: it marks nothing as passed
    if isinstance(result, tuple) and len(result) == 2 and name.endswith("forward"):
        print(f"{name} returned out =\n{_pretty(result[0])}\nand a cache ({_outline(result[1])})")
    elif isinstance(result, tuple) and 0 < len(result) <= 6:
        items = "\n".join(f"[{i}] {_pretty(item)}" for i, item in enumerate(result))
        print(f"{name} returned a tuple of {len(result)}:\n{items}")
    else:
        print(f"{name} returned\n{_pretty(result)}")
    return result


def check_tuple(name: str, got, size: int, what: str, hint: str | None = None):
    """Check that ``got`` is a tuple (or list) of ``size`` items, ``what`` naming them, e.g.
    ``"(loss, grad)"``; returns it as a tuple so that a test can unpack it.

    ``name`` is a function ("linear_forward": it *returned* something else) or a stored value
    ("linear_forward's cache": it *is* something else); ``hint`` replaces the default hint."""
    __tracebackhide__ = True
    if isinstance(got, (tuple, list)) and len(got) == size:
        return tuple(got)
    stored = not _names_a_function(name)
    if got is None:
        found = "None"
        default = ("check what is stored there." if stored
                   else "did you forget the return statement?")
    elif isinstance(got, (tuple, list)):
        found = f"a {type(got).__name__} of {len(got)} items"
        default = f"it should hold exactly {what}." if stored else f"return exactly {what}."
    else:
        found = _describe(got)
        default = (f"it should be the tuple {what}, with its {size} items in that order." if stored
                   else f"return all of them, e.g. `return {what.strip('()')}`.")
    verb = "is" if stored else "returned"
    _fail(f"{name} {verb} {found} but a tuple of {size}, {what}, was expected: {hint or default}")


# --- exact values: indices, counts, None ---------------------------------------------------------


_Integral = _numbers_module.Integral
_np_integer = _np.integer
_np_floating = _np.floating


def _plain(value):
    """``value`` as plain Python: integers (NumPy's too) become int, tuples/lists of them tuples,
    dicts stay dicts of plain values; anything else is returned as it is."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (_Integral, _np_integer)):
        return int(value)
    if isinstance(value, (float, _np_floating)):
        return float(value)
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return (len(a) == len(b) and all(k in b for k in a)
                and all(_same(a[k], b[k]) for k in a))
    return a == b


def check_equal(name: str, got, expected, hint: str | None = None, mistakes=None):
    """Check an exact value: an index, a count, None, or a tuple or dict of them (NumPy integers
    count as ints). ``mistakes``: ``[(wrong_value, hint), ...]``; the message shows what came
    back, never ``expected``. Returns ``got`` as plain Python."""
    __tracebackhide__ = True
    plain, want = _plain(got), _plain(expected)
    if _same(plain, want):
        return plain
    diagnosis = None
    for wrong, wrong_hint in mistakes or ():
        if _same(plain, _plain(wrong)):
            diagnosis = wrong_hint
            break
    diagnosis = diagnosis or hint or "compare your rule with the one in the text, step by step."
    _fail(f"{name} returned {repr(plain)}, which is not the expected value: {diagnosis}")


def _unchanged(before, after) -> bool:
    """Whether ``after`` holds the values ``before`` held (arrays by value, NaN equal to NaN;
    tuples, lists and dicts item by item)."""
    if _hasattr_shape(before):
        if not _hasattr_shape(after) or tuple(before.shape) != tuple(after.shape):
            return False
        a, b = _to_host(before), _to_host(after)
        same = _equal(a, b)
        if a.dtype.kind in "fc":
            same = _logical_or(same, _logical_and(_isnan(a), _isnan(b)))
        return bool(_all(_asarray(same).ravel()))
    if isinstance(before, (tuple, list)):
        return (isinstance(after, (tuple, list)) and len(before) == len(after)
                and all(_unchanged(x, y) for x, y in zip(before, after, strict=True)))
    if isinstance(before, dict):
        return (isinstance(after, dict) and before.keys() == after.keys()
                and all(_unchanged(before[k], after[k]) for k in before))
    try:
        return bool(before == after)
    except Exception:
        return True


def call_keeping_inputs(fn, *args, name: str | None = None, **kwargs):
    """Like ``call``, but ``fn`` gets arrays of its own that the check looks at afterwards: if it
    changed one of its array arguments in place (``w -= ...``, ``z[mask] = ...``), the check
    fails and names the argument. (``call`` passes copies, so there a function that writes into
    its inputs goes unseen.) Returns what ``fn`` returns."""
    __tracebackhide__ = True
    name = name or getattr(fn, "__name__", "the function")
    kept = [_protected(a) for a in args]
    kept_kw = {k: _protected(v) for k, v in kwargs.items()}
    given = [_protected(a) for a in args]
    given_kw = {k: _protected(v) for k, v in kwargs.items()}
    result = call(lambda: fn(*given, **given_kw), name=name)
    try:
        params = list(_signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    changed = [f"`{params[i]}`" if i < len(params) else f"number {i + 1}"
               for i, (a, b) in enumerate(zip(kept, given, strict=True)) if not _unchanged(a, b)]
    changed += [f"`{k}`" for k in kept_kw if not _unchanged(kept_kw[k], given_kw[k])]
    if changed:
        _fail(f"{name} changed its argument {' and '.join(changed)} in place: the caller still "
              "needs the values it passed in. Compute a new array and return it instead of "
              "writing into the one you were given (no +=, -=, *= or slice assignment on it).")
    return result

install()

# checks.catalogue: the catalogue of likely mistakes the check cells use (lessons/mistakes.py)
from . import mistakes as catalogue  # noqa: E402
from . import my_nn  # noqa: E402  (it records which functions passed their checks)
