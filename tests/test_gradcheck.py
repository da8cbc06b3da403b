"""course_lib.gradcheck against gradients known in closed form, and its ability to catch a
wrong backward pass (a check that cannot fail checks nothing)."""

import math

import numpy as np
import pytest

import course_lib
from course_lib import gradcheck, layers


def _rand(xp, shape, seed=0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 2)])
def test_numerical_gradient_of_sum_of_cubes(xp, host, shape):
    x = _rand(xp, shape)
    before = host(x).copy()
    g = gradcheck.numerical_gradient(lambda v: (v ** 3).sum(), x)
    # d/dx Σ x³ = 3x²; the centred difference is off by ε² = 1e-10 per element
    np.testing.assert_allclose(host(g), 3 * before ** 2, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(host(x), before)  # x is restored


def test_numerical_gradient_of_a_quadratic_form(xp, host):
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.5, -1.5])
    g = gradcheck.numerical_gradient(lambda v: v @ xp.asarray(A) @ v, xp.asarray(x))
    np.testing.assert_allclose(host(g), 2 * A @ x, rtol=1e-8)  # ∇ xᵀAx = 2Ax for symmetric A


@pytest.mark.parametrize("view", ["transposed", "sliced"])
def test_numerical_gradient_of_a_non_contiguous_array(xp, host, view):
    """A transposed or sliced view (seed 003's W.T) must be perturbed in place, not through a
    reshaped copy, which would leave f unchanged and give silent zeros."""
    base = _rand(xp, (4, 6))
    x = base.T if view == "transposed" else base[:, :4]
    g = gradcheck.numerical_gradient(lambda v: (v ** 2).sum(), x)
    np.testing.assert_allclose(host(g), 2 * host(x), rtol=1e-7)


def test_numerical_gradient_array(xp, host):
    x, dout = _rand(xp, (3, 2), 1), _rand(xp, (3, 2), 2)
    g = gradcheck.numerical_gradient_array(lambda v: v ** 2, x, dout)
    np.testing.assert_allclose(host(g), 2 * host(x) * host(dout), rtol=1e-7)  # d/dx Σ x²·dout


def test_relative_error_values(xp):
    a = xp.asarray([1.0, 2.0, 3.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert math.isclose(gradcheck.relative_error(a, -a), 1.0)
    # ‖(1, −1)‖ / (1 + 1) = √2 / 2
    assert math.isclose(gradcheck.relative_error(xp.asarray([1.0, 0.0]), xp.asarray([0.0, 1.0])),
                        math.sqrt(2) / 2)
    assert gradcheck.relative_error(xp.zeros(3), xp.zeros(3)) == 0.0  # the 1e-12 floor
    with pytest.raises(ValueError, match="shapes"):
        gradcheck.relative_error(xp.zeros(3), xp.zeros(4))


def test_check_pair_passes_the_reference(xp):
    z = _rand(xp, (4, 3))
    assert gradcheck.check_pair("sigmoid_forward", z) < 1e-7
    assert gradcheck.check_pair("tanh_forward", z) < 1e-7
    assert gradcheck.check_pair("leaky_relu_forward", z + 0.05 * xp.sign(z), 0.1) < 1e-7


def _wrong_sigmoid_backward(dout, cache):
    return dout * cache  # forgot the (1 − σ) factor


def test_check_pair_catches_a_wrong_backward(xp):
    with course_lib.using(sigmoid_backward=_wrong_sigmoid_backward):
        assert gradcheck.check_pair("sigmoid_forward", _rand(xp, (4, 3))) > 1e-2


def _model():
    return layers.Sequential(layers.Linear(3, 5, rng=0), layers.BatchNorm1d(5), layers.Sigmoid(),
                             layers.Dropout(0.5, rng=0), layers.Linear(5, 2, rng=1))


def test_check_model_on_a_float64_network(xp, host):
    model = _model()
    X, y = _rand(xp, (6, 3), 1), xp.asarray([0, 1, 1, 0, 1, 0])
    stats = host(model[1].state["running_mean"]).copy()
    errors = gradcheck.check_model(model, "softmax_cross_entropy", X, y, verbose=False)
    assert set(errors) == {"0.W", "0.b", "1.gamma", "1.beta", "4.W", "4.b"}
    for name, err in errors.items():
        if name != "0.b":  # batch norm cancels the bias before it: its true gradient is 0
            assert err < 1e-7, f"{name}: {err:.2e}"
    assert model[3].training, "dropout's mode is restored"
    np.testing.assert_array_equal(host(model[1].state["running_mean"]), stats)


def test_check_model_catches_a_wrong_backward(xp, capsys):
    X, y = _rand(xp, (6, 3), 1), xp.asarray([0, 1, 1, 0, 1, 0])
    with course_lib.using(sigmoid_backward=_wrong_sigmoid_backward):
        errors = gradcheck.check_model(_model(), "softmax_cross_entropy", X, y)
    assert errors["0.W"] > 1e-3 and errors["1.gamma"] > 1e-3
    assert errors["4.W"] < 1e-7  # the layer after the mistake is unaffected
    assert "CHECK THIS" in capsys.readouterr().out


def test_check_model_on_a_nested_network(xp, host):
    """Blocks built as Sequentials: every parameter checked under its own name, dropout inside
    a block switched off for the check, the block's running statistics left as they were."""
    block = layers.Sequential(layers.Linear(3, 5, rng=0), layers.BatchNorm1d(5), layers.Sigmoid(),
                              layers.Dropout(0.5, rng=0), layers.Linear(5, 4, rng=1))
    model = layers.Sequential(block, layers.Linear(4, 2, rng=2))
    X, y = _rand(xp, (6, 3), 1), xp.asarray([0, 1, 1, 0, 1, 0])
    stats = host(block[1].state["running_var"]).copy()
    errors = gradcheck.check_model(model, "softmax_cross_entropy", X, y, verbose=False)
    assert len(errors) == len(model.parameters()) == 8, f"a parameter was lost: {list(errors)}"
    # the first bias feeds batch norm, which cancels it (true gradient 0): only it may fail
    failing = {name for name, err in errors.items() if err >= 1e-7}
    assert failing <= {list(errors)[1]}, f"relative errors: {errors}"
    assert block[3].training
    np.testing.assert_array_equal(host(block[1].state["running_var"]), stats)


def test_numerical_gradient_refuses_integer_arrays(xp, one_sentence):
    """x ± ε would be stored back as whole numbers and give a meaningless gradient."""
    with pytest.raises(ValueError) as err:
        gradcheck.numerical_gradient(lambda v: (v ** 2).sum(), xp.asarray([1, 2, 3]))
    one_sentence(str(err.value), "float", "int")
