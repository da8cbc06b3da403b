"""course_lib.checks: each helper passes a right answer, fails a wrong one with a message that
names the pieces a learner needs, never prints the expected values, and cannot be fooled by a
notebook that rebinds numpy's comparison functions."""

import builtins
import os
import subprocess
import sys

import numpy as np
import pytest

from course_lib import checks
from course_lib.checks import (
    CheckFailed,
    call,
    check,
    check_close,
    check_finite,
    check_gradients,
    check_shape,
    check_type,
    passed,
    relative_error,
)

# softmax([3, 1, 0.5]) from CONVENTIONS.md, rounded to the 3 digits the table gives
SOFTMAX_ROW = np.array([0.821, 0.111, 0.067])


def failure(fn, *args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_check_failed_is_an_assertion_error():
    # nbgrader scores a cell that raises as 0 points; AssertionError also reads right in pytest
    assert issubclass(CheckFailed, AssertionError)


def test_check_raises_with_the_message():
    check(True, "never shown")
    assert failure(check, False, "the loss must go down") == "the loss must go down"


# --- call --------------------------------------------------------------------------------------

def test_call_returns_the_result():
    assert call(lambda a, b=0: a + b, 2, b=3) == 5


def test_call_reports_not_implemented_yet_under_grading(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")

    def linear_forward(X, W, b):
        raise NotImplementedError()

    message = failure(call, linear_forward, 1, 2, 3)
    assert message == (
        "linear_forward is not implemented yet: write your code in the cell above, where it says "
        "YOUR CODE HERE."
    )


def test_call_outside_grading_says_not_attempted_with_the_points(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def forward(X, params, activations):
        raise NotImplementedError()

    checks.before_cell(None)                             # no cell id known: the exercise's total
    with pytest.raises(checks.NotAttempted) as info:
        call(forward, 1, 2, 3)
    # forward's two check cells hold 1 point each (the notebook's nbgrader metadata)
    assert str(info.value).startswith("forward: not attempted yet: 0 of 2 points.")
    assert isinstance(info.value, CheckFailed)          # still a failure for nbgrader


def test_a_failed_check_renders_as_one_box_without_frames():
    with pytest.raises(CheckFailed) as info:
        check(False, "the loss must go down " * 10)
    lines = info.value._render_traceback_()
    assert "check failed" in lines[0]
    assert " ".join(line.strip() for line in lines[1:]) == ("the loss must go down " * 10).strip()
    assert all(len(line) <= 96 for line in lines[1:])
    assert not any("course_lib" in line or "File " in line for line in lines)



def test_call_names_the_exception_the_function_and_the_line():
    def sigmoid(z):
        return 1 / (1 + undefined_name)  # noqa: F821

    message = failure(call, sigmoid, 1.0)
    assert "sigmoid raised NameError" in message
    assert "undefined_name" in message
    assert "return 1 / (1 + undefined_name)" in message


def test_call_uses_the_given_name_and_rejects_non_functions():
    def broken():
        raise ZeroDivisionError("division by zero")

    assert "relu_backward raised ZeroDivisionError: division by zero" in failure(
        call, broken, name="relu_backward"
    )
    assert "relu is not a function (it is NoneType)" in failure(call, None, name="relu")


def test_call_passes_copies_so_in_place_work_leaves_the_test_inputs_alone():
    def relu_in_place(x, cache):
        x[x < 0] = 0
        cache["x"][:] = 0
        return x

    x = np.array([-1.0, 2.0])
    cache = {"x": np.array([5.0])}
    out = call(relu_in_place, x, cache=cache)
    assert out.tolist() == [0.0, 2.0]
    assert x.tolist() == [-1.0, 2.0] and cache["x"].tolist() == [5.0]


# --- type and shape ----------------------------------------------------------------------------

def test_check_type():
    assert check_type("f", np.ones(2), np.ndarray) is not None
    check_type("f", 1.5, (float, int))
    assert "f returned None but ndarray was expected: did you forget the return" in failure(
        check_type, "f", None, np.ndarray
    )
    assert "f returned list but float or int was expected" in failure(
        check_type, "f", [1.0], (float, int)
    )


def test_check_shape_passes_and_returns_an_array():
    out = check_shape("linear_forward", [[1, 2], [3, 4], [5, 6]], (3, 2))
    assert isinstance(out, np.ndarray) and out.shape == (3, 2)
    check_shape("f", np.ones((7, 2)), (None, 2))


def test_check_shape_names_both_shapes_and_the_hint():
    message = failure(
        check_shape, "linear_forward", np.ones((2, 3)), (3, 2),
        hint="did you use W without transposing / in the wrong order?",
    )
    assert message == (
        "linear_forward returned shape (2, 3) but (3, 2) was expected: did you use W without "
        "transposing / in the wrong order?"
    )


@pytest.mark.parametrize(
    "shape, expected, piece",
    [
        ((2, 3), (3, 2), "looks transposed"),
        ((3,), (3, 1), "axis of length 1"),
        ((3, 1), (3,), "axis of length 1"),
        ((6,), (2, 3), "another arrangement"),
        ((1,), (), "() (a single number)"),
        ((4, 3), (4,), "forget to sum or average"),
        ((4,), (4, 3), "an axis is missing"),
    ],
)
def test_check_shape_derives_a_hint(shape, expected, piece):
    message = failure(check_shape, "f", np.ones(shape), expected)
    assert f"returned shape {shape}" in message
    assert piece in message


def test_check_shape_on_none_and_tuples():
    assert "forget the return statement" in failure(check_shape, "f", None, (2,))
    message = failure(check_shape, "sigmoid_forward", (np.ones(2), np.ones(2)), (2,))
    assert "returned a tuple of 2 items" in message


# --- finite ------------------------------------------------------------------------------------

def test_check_finite():
    check_finite("sigmoid", np.array([0.0, 1.0]))
    message = failure(check_finite, "sigmoid", np.array([np.nan, 1.0, np.inf, -np.inf]))
    assert "sigmoid returned values that contain nan and inf (3 of 4 entries)" in message
    assert "exp of a large number" in message
    assert "use log1p" in failure(check_finite, "bce", [np.inf], hint="use log1p")


# --- close -------------------------------------------------------------------------------------

def test_check_close_passes_within_tolerance():
    out = check_close("softmax", SOFTMAX_ROW * (1 + 1e-9), SOFTMAX_ROW)
    assert out.dtype == np.float64
    check_close("cost", 0.125 + 1e-12, 0.125)
    check_close("f", [np.nan, np.inf], [np.nan, np.inf])
    check_close("f", SOFTMAX_ROW + 0.001, SOFTMAX_ROW, atol=0.002)


def _assert_hides(message, *numbers):
    for number in numbers:
        assert number not in message, f"the message gives away {number}: {message}"


def test_check_close_wrong_values_do_not_reveal_the_expected_ones():
    got = np.array([0.5, 0.3, 0.2])
    message = failure(check_close, "softmax", got, SOFTMAX_ROW)
    assert message.startswith("softmax returned the right shape (3,) but 3 of 3 values differ")
    assert "yours: [0.5, 0.3, 0.2]" in message
    _assert_hides(message, "0.821", "0.111", "0.067", "0.82", "0.11")


def test_check_close_on_a_single_number():
    message = failure(check_close, "cost", 0.3, 0.089)
    assert message.startswith("cost returned 0.3, which is not the expected value")
    _assert_hides(message, "0.089", "0.08")


def test_check_close_uses_the_matching_mistake_hint():
    logits = np.array([[1.0, 2.0], [3.0, 5.0]])
    right = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    over_columns = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    mistakes = [
        (lambda: np.exp(logits), "you forgot to normalise"),
        (over_columns, "it matches softmax taken over axis 0: normalise each row"),
    ]
    message = failure(check_close, "softmax", over_columns, right, mistakes=mistakes)
    assert message.endswith("it matches softmax taken over axis 0: normalise each row")
    message = failure(check_close, "softmax", np.exp(logits), right, mistakes=mistakes)
    assert message.endswith("you forgot to normalise")


def test_check_close_skips_mistakes_that_cannot_be_computed():
    def broken():
        raise RuntimeError("no")

    message = failure(
        check_close, "f", [1.0, 5.0], [1.0, 2.0], hint="check the exponent",
        mistakes=[(broken, "never"), (np.ones(3), "wrong shape, never")],
    )
    assert message.endswith("check the exponent")


def test_check_close_generic_hint_when_no_mistake_matches():
    message = failure(
        check_close, "f", [1.0, 5.0], [1.0, 2.0], hint="check the exponent",
        mistakes=[([7.0, 7.0], "never")],
    )
    assert "1 of 2 values differs" in message and "first at index (1,)" in message
    assert message.endswith(": check the exponent")


@pytest.mark.parametrize(
    "got, piece",
    [
        ([0.25, 0.5, 1.5], "off by a factor of 0.5"),
        ([1.0, 2.0, 6.0], "off by a factor of 2"),
        ([-0.5, -1.0, -3.0], "the sign is flipped"),
        ([1.5, 2.0, 4.0], "off by the same amount"),
    ],
)
def test_check_close_derives_a_hint_from_the_values(got, piece):
    message = failure(check_close, "mse", got, [0.5, 1.0, 3.0])
    assert piece in message


def test_check_close_spots_a_transposed_square_result():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "looks transposed" in failure(check_close, "dW", expected.T, expected)


def test_check_close_names_a_simple_factor_of_a_single_number_only():
    assert "off by a factor of 2" in failure(check_close, "loss", 0.25, 0.125)
    assert "factor" not in failure(check_close, "loss", 0.3, 0.125)


def test_check_close_reports_nan_before_values():
    message = failure(check_close, "bce", [np.nan, 0.1], [0.2, 0.1])
    assert "contain nan (1 of 2 entries)" in message


def test_check_close_checks_the_shape_first():
    message = failure(check_close, "linear_forward", np.ones((2, 3)), np.ones((3, 2)))
    assert "returned shape (2, 3) but (3, 2) was expected" in message


def test_check_close_rejects_what_is_not_numbers():
    assert "not an array of numbers" in failure(check_close, "f", {"a": 1}, [1.0])
    assert "forget the return statement" in failure(check_close, "f", None, [1.0])


# --- gradients ---------------------------------------------------------------------------------

def test_relative_error_by_hand():
    assert relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2**0.5 / 2)  # √2 / (1 + 1)
    assert relative_error([3.0, 4.0], [0.0, 0.0]) == pytest.approx(1.0)  # 5 / 5
    assert relative_error([0.0], [0.0]) == 0.0  # denominator floored at 1e-12
    assert relative_error([2.0, 2.0], [2.0, 2.0]) == 0.0


def test_check_gradients_passes_and_returns_the_error():
    numeric = np.array([[0.1, -0.2], [0.3, 0.4]])
    error = check_gradients("dW", numeric * (1 + 1e-9), numeric)
    assert 0 <= error < 1e-8


def test_check_gradients_prints_the_relative_error():
    numeric = np.array([[0.1, -0.2], [0.3, 0.4]])
    # a = 2n: ‖a − n‖ / (‖a‖ + ‖n‖) = ‖n‖ / 3‖n‖ = 1/3
    message = failure(check_gradients, "dW", 2 * numeric, numeric)
    assert "dW: the relative error" in message and "3.33e-01" in message
    assert "above the threshold 1e-07" in message and "factor of 2" in message
    assert "sign is flipped" in failure(check_gradients, "dW", -numeric, numeric)
    assert "all zeros" in failure(check_gradients, "dW", 0 * numeric, numeric)
    _assert_hides(message, "0.3", "0.4")


def test_check_gradients_threshold_and_shape():
    numeric = np.array([1.0, 2.0])
    # a − n = (0, 0.01); ‖a‖ = √5.0401 ≈ 2.24502, ‖n‖ = √5 ≈ 2.23607: 0.01 / 4.48109 ≈ 2.2316e-3
    check_gradients("db", [1.0, 2.01], numeric, threshold=1e-2)
    assert "2.23e-03" in failure(check_gradients, "db", [1.0, 2.01], numeric)
    assert "returned shape (1, 2) but (2,)" in failure(check_gradients, "db", [[1.0, 2.0]], numeric)


# --- passed ------------------------------------------------------------------------------------

def test_passed_names_what_passed_and_never_claims_everything(capsys):
    passed("linear_forward: shapes and values on the example batch")
    out = capsys.readouterr().out
    assert out == (
        "✓ linear_forward: shapes and values on the example batch (the grader runs more checks)\n"
    )
    assert "all tests passed" not in out.lower()


# --- robustness against the notebook -----------------------------------------------------------

def _liar(*args, **kwargs):
    return True


@pytest.mark.parametrize(
    "attribute",
    ["allclose", "isclose", "array_equal", "all", "any", "abs", "absolute", "isfinite",
     "subtract", "less_equal", "asarray", "max", "sum"],
)
def test_rebinding_numpy_cannot_make_a_wrong_answer_pass(monkeypatch, attribute):
    monkeypatch.setattr(np, attribute, _liar)
    monkeypatch.setattr(np.testing, "assert_allclose", _liar)
    with pytest.raises(CheckFailed):
        check_close("softmax", [0.5, 0.3, 0.2], SOFTMAX_ROW)
    with pytest.raises(CheckFailed):
        check_gradients("dW", [1.0, 2.0], [2.0, 4.0])
    check_close("softmax", SOFTMAX_ROW, SOFTMAX_ROW)  # a right answer still passes


def test_rebinding_every_comparison_at_once(monkeypatch):
    for attribute in ("allclose", "isclose", "array_equal", "all", "abs", "asarray", "isfinite"):
        monkeypatch.setattr(np, attribute, _liar)
    with pytest.raises(CheckFailed):
        check_close("cost", 0.3, 0.089)
    with pytest.raises(CheckFailed):
        check_shape("f", np.ones((2, 3)), (3, 2))
    with pytest.raises(CheckFailed):
        check_finite("f", [np.nan])


def test_rebinding_builtins_cannot_make_a_wrong_answer_pass():
    saved = builtins.abs, builtins.max, builtins.all
    builtins.abs = lambda x: 0
    builtins.max = lambda *a, **k: 1e300
    builtins.all = _liar
    try:
        try:
            check_gradients("dW", [1.0, 2.0], [2.0, 4.0])
            outcome = "passed"
        except CheckFailed:
            outcome = "failed"
    finally:
        builtins.abs, builtins.max, builtins.all = saved
    assert outcome == "failed"


def test_an_array_subclass_that_claims_equality_still_fails():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, dtype=bool)

        def __sub__(self, other):
            return np.zeros(self.shape)

        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return np.zeros(self.shape)

    got = np.array([0.5, 0.3, 0.2]).view(Sneaky)
    with pytest.raises(CheckFailed):
        check_close("softmax", got, SOFTMAX_ROW)


def test_importing_checks_is_light():
    code = (
        "import sys, course_lib.checks; "
        "print(sorted(m for m in ('sklearn', 'matplotlib', 'scipy', 'cupy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_helpers_hide_their_frames_from_tracebacks():
    for helper in (checks.check_close, checks.check_shape, checks.check_finite, checks.call,
                   checks.check_gradients, checks.check_type):
        assert "__tracebackhide__" in helper.__code__.co_varnames


@pytest.mark.gpu
def test_cupy_arrays_are_compared_on_the_host():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as err:
        pytest.skip(str(err))
    check_close("softmax", cupy.asarray(SOFTMAX_ROW), SOFTMAX_ROW)
    check_type("softmax", cupy.asarray(SOFTMAX_ROW), np.ndarray)
    with pytest.raises(CheckFailed, match="off by a factor of 2"):
        check_close("softmax", cupy.asarray(2 * SOFTMAX_ROW), cupy.asarray(SOFTMAX_ROW))
    assert check_gradients("dW", cupy.asarray(SOFTMAX_ROW), SOFTMAX_ROW) == 0.0


# --- in IPython: Run All goes on past an unfinished exercise ------------------------------------

class _Result:
    def __init__(self, error=None):
        self.error_in_exec = error


class _Info:
    def __init__(self, cell_id):
        self.cell_id = cell_id


def _run_check_cell(cell_id, body):
    """What IPython does around a cell: pre_run_cell, the code, post_run_cell; returns the result."""
    checks.before_cell(_Info(cell_id))
    result = _Result()
    try:
        body()
    except Exception as err:  # noqa: BLE001 - IPython records any exception the same way
        result.error_in_exec = err
    checks.after_cell(result)
    return result


def _stub(X, W, b):
    raise NotImplementedError()


def test_not_attempted_is_no_error_outside_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    result = _run_check_cell("test_linear_forward", lambda: call(_stub, 1, 2, 3))
    assert result.error_in_exec is None                  # the cell counts as run: Run All goes on


def test_not_attempted_fails_under_grading(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    result = _run_check_cell("test_linear_forward", lambda: call(_stub, 1, 2, 3))
    assert isinstance(result.error_in_exec, CheckFailed)


def test_a_wrong_answer_still_stops_outside_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    result = _run_check_cell("test_linear_forward",
                             lambda: check_close("z", call(lambda: np.zeros(2)), np.ones(2)))
    assert isinstance(result.error_in_exec, CheckFailed)


def test_points_come_from_the_running_cell(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    checks.before_cell(_Info("test_categorical_cross_entropy"))

    def categorical_cross_entropy(y_hat, y):
        raise NotImplementedError()

    with pytest.raises(checks.NotAttempted, match="0 of 2 points"):
        call(categorical_cross_entropy, 1, 2)
    checks.before_cell(_Info(None))


def test_run_all_reaches_the_last_cell_of_a_fresh_student_notebook(tmp_path):
    """notebooks/01 as handed out, run as JupyterLab's Run All does (stop at the first error)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from pathlib import Path

    path = Path(__file__).parents[1] / "notebooks/01_forward_propagation/forward_propagation.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(env={**os.environ, "COURSE_HEADLESS": "1",
                        "MY_NN_PATH": str(tmp_path / "my_nn.py")})
    outputs = {c.id: c.outputs for c in nb.cells if c.cell_type == "code"}
    text = "".join(o.get("text", "") for o in outputs["test_linear_forward"])
    assert "linear_forward: not attempted yet: 0 of 1 point." in text
    assert not any(o["output_type"] == "error" for c in outputs.values() for o in c)
    assert nb.cells[-1].cell_type != "code" or nb.cells[-1].get("execution_count")
