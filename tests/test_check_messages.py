"""Each misleading message of issue 16, planted: the notebook's own check cell (from notebooks/,
as learners get it) runs on a function with that mistake, and the new message is asserted.

The cells run in order in one namespace, as Run All would, with the planted function in place
of the exercise's stub; the check cells before the one under test are skipped."""

import contextlib
import io
import json
import linecache
import re
from pathlib import Path

import numpy as np
import pytest

from course_lib import checks

ROOT = Path(__file__).parents[1]


def _cells(folder: str):
    path = next((ROOT / "notebooks").glob(f"{folder}*/*.ipynb"))
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _code(cell) -> str:
    source = "".join(cell["source"])
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def run_until(folder: str, target: str, planted: dict[str, str], monkeypatch, tmp_path):
    """Run the notebook's code cells up to ``target`` (included); ``planted`` replaces the
    source of exercise cells by id. Returns (printed text, the CheckFailed's message or None)."""
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    try:
        return _run_cells(folder, target, planted, namespace)
    finally:  # the notebook's figures, as a kernel's end would close them
        import matplotlib.pyplot as plt

        plt.close("all")


def _run_cells(folder: str, target: str, planted: dict[str, str], namespace: dict):
    for cell in _cells(folder):
        if cell["cell_type"] != "code":
            continue
        cid = cell.get("id")
        graded = cell["metadata"].get("nbgrader", {}).get("grade")
        if graded and cid != target:
            continue
        source = planted.get(cid, _code(cell))
        filename = f"<cell {cid}>"  # kept in linecache, as IPython keeps each cell's source
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        if cid != target:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, filename, "exec"), namespace)  # noqa: S102
            continue
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(source, filename, "exec"), namespace)  # noqa: S102
        except checks.CheckFailed as failure:
            return out.getvalue(), str(failure)
        return out.getvalue(), None
    raise AssertionError(f"no cell {target} in {folder}")


CORRECT_LINEAR = """
def linear_forward(X, W, b):
    return X @ W + b, (X, W)
"""


def test_a_wrong_cache_does_not_suggest_returning_it(monkeypatch, tmp_path):
    planted = {"linear_forward": """
def linear_forward(X, W, b):
    return X @ W + b, X
"""}
    _, message = run_until("01", "test_linear_forward", planted, monkeypatch, tmp_path)
    assert message.startswith("linear_forward's cache is ndarray of shape (3, 3) but a tuple "
                              "of 2, (X, W), was expected")
    assert "return X, W" not in message and "`return" not in message


def test_an_unflattened_y_is_named_not_the_intercept(monkeypatch, tmp_path):
    planted = {"least_squares": """
def least_squares(X, y):
    A = np.column_stack([np.ones(len(X)), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]     # y is (4, 1): theta comes out (3, 1)
    return theta[1:], theta[0]
"""}
    _, message = run_until("05", "test_least_squares", planted, monkeypatch, tmp_path)
    assert "returned shape (2, 1) but (2,) was expected" in message
    assert "w came out as a column: y arrives here as (N, 1)" in message
    assert "intercept" not in message


def test_a_softmax_shifted_by_the_global_max_is_told_so(monkeypatch, tmp_path):
    planted = {"softmax": """
def softmax(z, T=1.0):
    s = z / T
    e = np.exp(s - np.max(s))                        # one maximum for the whole batch
    return e / e.sum(axis=-1, keepdims=True)
"""}
    _, message = run_until("01", "test_softmax", planted, monkeypatch, tmp_path)
    assert "the shift seems to use one maximum for the whole batch" in message
    assert "missing max shift" not in message


def test_a_softmax_without_any_shift_gets_the_overflow_hint(monkeypatch, tmp_path):
    planted = {"softmax": """
def softmax(z, T=1.0):
    e = np.exp(z / T)
    return e / e.sum(axis=-1, keepdims=True)
"""}
    _, message = run_until("01", "test_softmax", planted, monkeypatch, tmp_path)
    assert "e^1000 overflows to inf" in message
    assert "whole batch" not in message


FORWARD_WITHOUT_LAST_ACTIVATION = """
def forward(X, params, activations):
    A, caches = X, []
    for l, ((W, b), name) in enumerate(zip(params, activations)):
        Z, linear_cache = F.linear_forward(A, W, b)
        activation_cache = None
        A = Z
        if l < len(params) - 1:                      # the last layer's activation forgotten
            A, activation_cache = ACTIVATIONS[name](Z)
        caches.append((linear_cache, activation_cache))
    return A, caches
"""


def test_forward_without_the_last_activation(monkeypatch, tmp_path):
    planted = {"forward": FORWARD_WITHOUT_LAST_ACTIVATION}
    _, message = run_until("01", "test_forward", planted, monkeypatch, tmp_path)
    assert "that is the last layer's Z: its activation seems to be missing." in message
    _, message = run_until("01", "test_forward_caches", planted, monkeypatch, tmp_path)
    assert message.startswith("the activation cache caches[1][1] is None")
    assert "was that layer's activation applied (the last one too)?" in message
    assert "return statement" not in message


@pytest.mark.parametrize("body", ["np.max(0, z), z", "max(0, z), z"])
def test_max_of_two_names_np_maximum(monkeypatch, tmp_path, body):
    planted = {"relu_forward": f"""
def relu_forward(z):
    return {body}
"""}
    _, message = run_until("01", "test_relu_forward", planted, monkeypatch, tmp_path)
    assert message.startswith("relu_forward raised ")
    assert "the elementwise comparison is np.maximum." in message


def test_at_work_compares_with_a_bias_that_counts(monkeypatch, tmp_path):
    planted = {"linear_forward": """
def linear_forward(X, W, b):
    return X @ W, (X, W)                              # the bias forgotten
"""}
    printed, _ = run_until("01", "use-linear-forward", planted, monkeypatch, tmp_path)
    assert "equal to course_lib's layers on the same network: False" in printed
    printed, _ = run_until("01", "use-linear-forward", {"linear_forward": CORRECT_LINEAR},
                           monkeypatch, tmp_path)
    assert "equal to course_lib's layers on the same network: True" in printed


def test_at_work_says_when_the_reference_stood_in(monkeypatch, tmp_path):
    printed, _ = run_until("01", "use-sigmoid-forward", {}, monkeypatch, tmp_path)  # the stub
    assert "sigmoid_forward is not implemented yet" in printed
    assert "course_lib's sigmoid_forward stood in for yours" in printed
    assert "equal to" not in printed


# --- 04's minibatches: each shuffling mistake is named, with rng.permutation ------------------

def _minibatches(shuffle: str, X_rows: str = "X[order[s:s + batch_size]]",
                 y_rows: str = "y[order[s:s + batch_size]]") -> str:
    return f"""
def minibatches(X, y, batch_size, rng):
    {shuffle}
    return [({X_rows}, {y_rows}) for s in range(0, X.shape[0], batch_size)]
"""


SHUFFLING_MISTAKES = {
    "not shuffled": (_minibatches("pass", "X[s:s + batch_size]", "y[s:s + batch_size]"),
                     "MINIBATCHES_UNSHUFFLED"),
    "X and y with two permutations": (
        _minibatches("order, order_y = rng.permutation(len(X)), rng.permutation(len(X))",
                     y_rows="y[order_y[s:s + batch_size]]"), "MINIBATCHES_LABELS"),
    "X and y each rng.permutation-ed": (
        _minibatches("X, y = rng.permutation(X), rng.permutation(y)",
                     "X[s:s + batch_size]", "y[s:s + batch_size]"), "MINIBATCHES_LABELS"),
    "X and y each rng.shuffle-d": (
        _minibatches("rng.shuffle(X); rng.shuffle(y)", "X[s:s + batch_size]",
                     "y[s:s + batch_size]"), "MINIBATCHES_LABELS"),
    "np.random.permutation": (_minibatches("order = np.random.permutation(len(X))"),
                              "MINIBATCHES_NOT_RNG"),
    "np.random.shuffle": (_minibatches("order = np.arange(len(X)); np.random.shuffle(order)"),
                          "MINIBATCHES_NOT_RNG"),
    "a new unseeded generator": (
        _minibatches("order = np.random.default_rng().permutation(len(X))"),
        "MINIBATCHES_NOT_RNG"),
    "a generator re-seeded on every call": (
        _minibatches("order = np.random.default_rng(0).permutation(len(X))"),
        "MINIBATCHES_RESEEDED"),
    "rng.integers: with replacement": (
        _minibatches("order = rng.integers(0, len(X), size=len(X))"), "MINIBATCHES_COVERAGE"),
    "rng.choice: with replacement": (_minibatches("order = rng.choice(len(X), size=len(X))"),
                                     "MINIBATCHES_COVERAGE"),
}


@pytest.mark.parametrize("mistake", list(SHUFFLING_MISTAKES))
def test_a_shuffling_mistake_in_minibatches_names_rng_permutation(mistake, monkeypatch, tmp_path):
    source, hint = SHUFFLING_MISTAKES[mistake]
    _, message = run_until("04", "test-minibatches", {"minibatches": source}, monkeypatch,
                           tmp_path)
    assert message == getattr(checks.catalogue, hint), message
    assert "rng.permutation" in message


def test_the_right_minibatches_passes_its_check(monkeypatch, tmp_path):
    printed, message = run_until("04", "test-minibatches", {"minibatches": _minibatches(
        "order = rng.permutation(X.shape[0])")}, monkeypatch, tmp_path)
    assert message is None and "minibatches: sizes with a short last batch" in printed


# --- the catalogue stays out of the visible check cells ------------------------------------------

def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_no_visible_check_cell_prints_a_corrected_line():
    """notebooks/ (as learners get them): no graded cell holds a corrected line of the
    catalogue, and no hint of the catalogue does either."""
    lines = {name: [_squeeze(line) for line in found]
             for name, found in checks.catalogue.CORRECTED_LINES.items()}
    found = []
    for path in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if not cell["metadata"].get("nbgrader", {}).get("grade") or cell["cell_type"] != "code":
                continue
            text = _squeeze("".join(cell["source"]))
            found += [(path.parent.name, cell["id"], line)
                      for group in lines.values() for line in group if line in text]
    assert found == []


def test_the_catalogue_hints_print_no_corrected_line():
    catalogue = checks.catalogue
    hints = [catalogue.SIGMOID_OVERFLOW, catalogue.TANH_OVERFLOW,
             catalogue.FORWARD_ACTIVATION_CACHE_NONE, catalogue.LEAST_SQUARES_NO_INTERCEPT,
             catalogue.TRAIN_NETWORK_NOT_DOWN, catalogue.softmax_overflow(lambda z: z),
             catalogue.softmax_overflow(lambda z: None)]
    X = np.eye(3)
    for pairs in (catalogue.linear_forward(X, X, np.ones(3)), catalogue.relu_forward(X),
                  catalogue.leaky_relu_forward(X, 0.2), catalogue.tanh_forward(X),
                  catalogue.softmax_batch(X), catalogue.softmax_temperature(X[0], 10.0, X[0]),
                  catalogue.forward_output(X), catalogue.sigmoid_forward(X, X),
                  catalogue.least_squares_w_shape(2), *_later_notebooks_pairs(catalogue, X)):
        hints += [hint for _, hint in pairs]
    hints += [value for name, value in vars(catalogue).items()
              if name.isupper() and isinstance(value, str)]
    hints += [hint for name, value in vars(catalogue).items()
              if name.isupper() and isinstance(value, dict) and name != "CORRECTED_LINES"
              for hint in value.values() if isinstance(hint, str)]
    corrected = [_squeeze(line) for group in catalogue.CORRECTED_LINES.values() for line in group]
    assert [(h, c) for h in hints for c in corrected if c in _squeeze(h)] == []


def _later_notebooks_pairs(catalogue, X):
    """Every (value, hint) list of notebooks 02 to 08 in the catalogue."""
    X = np.full((3, 3), 0.3)
    P, labels, one_hot = np.full((5, 5), 0.2), np.arange(5), np.eye(5)
    return [
        *catalogue.mse_one(), *catalogue.bce_with_logits_one(), *catalogue.bce_with_logits_far(),
        catalogue.half_squared_error_one(), catalogue.half_squared_error_or(0.1),
        catalogue.half_squared_error_batch(0.1, 3), catalogue.half_squared_error_gradient(X, 3),
        catalogue.mse_batch(0.1, 4, 3), catalogue.mse_gradient(X, 4, 3),
        catalogue.binary_cross_entropy_or(X, X, 0.1),
        catalogue.binary_cross_entropy_or_gradient(X, X, X),
        catalogue.bce_with_logits_or(X, X, 0.1), catalogue.bce_with_logits_or_gradient(X, X),
        catalogue.categorical_cross_entropy_dog(P[0]),
        catalogue.categorical_cross_entropy_table(P, labels, 0.1),
        catalogue.categorical_cross_entropy_gradient(P, one_hot, P),
        catalogue.softmax_cross_entropy_table(0.1, 5),
        catalogue.softmax_cross_entropy_gradient(P, one_hot, P),
        catalogue.softmax_cross_entropy_far(),
        catalogue.sigmoid_backward(X, X), catalogue.sigmoid_backward_khan(),
        catalogue.relu_backward(X, X), catalogue.tanh_backward(X, X),
        catalogue.linear_backward_db(X), *catalogue.linear_backward_square(X, X, X),
        catalogue.numerical_gradient_cube(X), catalogue.gradient_check_doubled(0.1),
        catalogue.gradient_descent_step_khan(), catalogue.gradient_descent_step(X, X, 0.5),
        catalogue.linear_decay(50), *catalogue.train_neuron_khan(),
        catalogue.add_feature_cross_gate(), *catalogue.relu_network_lecture(),
        catalogue.train_network_first_cost(0.1, 0.2), catalogue.train_network_later_cost(0.1),
        *catalogue.momentum_first_step(), catalogue.momentum_second_step(),
        catalogue.adagrad_first_step(), catalogue.adagrad_second_step(),
        catalogue.rmsprop_first_step(), catalogue.rmsprop_second_step(),
        catalogue.adam_first_step(), catalogue.adam_second_step(),
        *catalogue.cost_and_gradient_zero_weights(0.1),
        catalogue.l2_penalty_article(), catalogue.l2_penalty_matrix(),
        catalogue.l2_penalty_gradient(X, 0.01), catalogue.dropout_training_kept(X, 0.2),
        catalogue.dropout_training_mask(X), catalogue.dropout_inference(X, 0.3),
        catalogue.dropout_backward(X, X, 0.4), *catalogue.early_stopping_curves(),
        *catalogue.early_stopping_ties_min_delta(),
        [(None, catalogue.dropout_rate_as_keep(0.8)), (None, catalogue.dropout_share(0.5))],
        catalogue.batchnorm_training(X, X[0], X[0], X[0], X[0], X, 1.0, 4.0),
        catalogue.batchnorm_tiny(X, X[0], X[0]), catalogue.batchnorm_inv_std(X[0]),
        catalogue.batchnorm_running_mean(X[0], X[0]), catalogue.batchnorm_running_var(X[0], X[0], 4),
        catalogue.batchnorm_running_var_new(X[0]),
        catalogue.batchnorm_inference(X, X[0], X[0], X[0], X[0]),
        catalogue.batchnorm_dgamma(X, X, X), catalogue.batchnorm_dbeta(X, X),
        catalogue.batchnorm_dx(X, X[0], X, X[0]), catalogue.batchnorm_dx_inference(X, X[0], X, X[0]),
        catalogue.count_parameters_small(), catalogue.count_parameters_lecture(),
        catalogue.count_parameters_batchnorm(),
    ]


# --- nbgrader validate keeps the whole message ---------------------------------------------------

def test_nbgrader_validate_prints_the_whole_hint_and_the_count_first(tmp_path):
    """A learner's notebook 01 with the bias forgotten, validated as the Validate button does
    (nbgrader_config.py from the repository): the hint is printed whole, after the count."""
    import os
    import subprocess
    import sys

    nb = json.loads((ROOT / "notebooks/01_forward_propagation/forward_propagation.ipynb")
                    .read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("id") == "linear_forward":
            cell["source"] = "def linear_forward(X, W, b):\n    return X @ W, (X, W)\n"
    path = tmp_path / "forward_propagation.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    nbgrader = Path(sys.executable).with_name("nbgrader")
    env = {**os.environ, "COURSE_HEADLESS": "1", "MY_NN_PATH": str(tmp_path / "my_nn.py")}
    done = subprocess.run([str(nbgrader), "validate", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    out = " ".join(done.stdout.split())                   # the box's lines, joined again
    assert out.startswith("9 CHECK(S) FAILED."), done.stdout[:500]   # 1 wrong, 8 not attempted
    assert ("linear_forward on a 3 x 3 batch returned the right shape (3, 3) but 9 of 9 values "
            "differ from the expected ones (first at index (0, 0); yours: values from -1.5 to 6): "
            "the bias seems to be missing.") in out
    errors = [part.split("=" * 20)[0] for part in done.stdout.split("The error was:")[1:]]
    assert len(errors) == 9 and not any("..." in e for e in errors)   # no message cut
