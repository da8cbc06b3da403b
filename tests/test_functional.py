"""course_lib.functional: forward values against hand results, every backward against an
independent centred-difference gradient (float64, relative error below 1e-7), on each backend.

Expected values come from hand computation, the seeds, or a NumPy formula written here; the
numerical gradients come from ``conftest.numeric_grad``, not from course_lib.gradcheck."""

import math

import numpy as np
import pytest

from course_lib import functional as F

SHAPES = [(1, 1), (1, 5), (3, 4), (7, 3), (2, 33)]  # N = 1, odd sizes, wide


def _rand(xp, shape, seed=0, scale=1.0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape) * scale)


def _away_from_zero(xp, shape, seed=0):
    """Random values with |z| ≥ 0.1, so that ReLU's kink at 0 is never within ε."""
    z = np.random.default_rng(seed).standard_normal(shape)
    z = np.sign(z) * (0.1 + np.abs(z))
    z[z == 0] = 0.5
    return xp.asarray(z)


def _check_input_gradient(forward, backward, z, dout, num_grad, grad_close, name):
    """backward(dout, cache) against the numerical gradient of sum(forward(z) · dout)."""
    _, cache = forward(z)
    analytic = backward(dout, cache)
    numeric = num_grad(lambda v: (forward(v)[0] * dout).sum(), z)
    grad_close(name, analytic, numeric)


# --- linear ---------------------------------------------------------------------------------


def test_linear_forward_by_hand(xp, host):
    X = xp.asarray([[1.0, 2.0]])
    W = xp.asarray([[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]])
    b = xp.asarray([0.5, 0.5, 0.5])
    out, _ = F.linear_forward(X, W, b)
    # [1·1 + 2·0, 1·0 + 2·1, 1·2 + 2·3] + 0.5
    np.testing.assert_allclose(host(out), [[1.5, 2.5, 8.5]])


@pytest.mark.parametrize("N,D,M", [(1, 1, 1), (1, 3, 2), (5, 3, 7), (4, 17, 3), (3, 2, 40)])
def test_linear_gradients(xp, num_grad, grad_close, N, D, M):
    X, W, b = _rand(xp, (N, D), 1), _rand(xp, (D, M), 2), _rand(xp, (M,), 3)
    dout = _rand(xp, (N, M), 4)
    _, cache = F.linear_forward(X, W, b)
    dX, dW, db = F.linear_backward(dout, cache)
    assert dX.shape == (N, D) and dW.shape == (D, M) and db.shape == (M,)
    grad_close("dX", dX, num_grad(lambda v: (F.linear_forward(v, W, b)[0] * dout).sum(), X))
    grad_close("dW", dW, num_grad(lambda v: (F.linear_forward(X, v, b)[0] * dout).sum(), W))
    grad_close("db", db, num_grad(lambda v: (F.linear_forward(X, W, v)[0] * dout).sum(), b))


# --- activations: values --------------------------------------------------------------------


def test_sigmoid_values(xp, host):
    out, _ = F.sigmoid_forward(xp.asarray([0.0]))
    assert host(out)[0] == 0.5
    z = np.linspace(-8, 8, 33)
    out, _ = F.sigmoid_forward(xp.asarray(z))
    np.testing.assert_allclose(host(out), 1 / (1 + np.exp(-z)), rtol=1e-12)


def test_tanh_is_a_rescaled_sigmoid(xp, host):
    z = np.linspace(-5, 5, 41)
    out, _ = F.tanh_forward(xp.asarray(z))
    np.testing.assert_allclose(host(out), 2 / (1 + np.exp(-2 * z)) - 1, atol=1e-12)
    sig2z, _ = F.sigmoid_forward(xp.asarray(2 * z))
    np.testing.assert_allclose(host(out), 2 * host(sig2z) - 1, atol=1e-12)


def test_relu_and_leaky_relu_values(xp, host):
    z = xp.asarray([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_allclose(host(F.relu_forward(z)[0]), [0.0, 0.0, 0.5, 3.0])
    np.testing.assert_allclose(host(F.leaky_relu_forward(z, 0.1)[0]), [-0.2, -0.05, 0.5, 3.0])
    np.testing.assert_allclose(host(F.leaky_relu_forward(z)[0]), [-0.02, -0.005, 0.5, 3.0])


def test_softmax_seed_004(xp, host):
    p = host(F.softmax(xp.asarray([3.0, 1.0, 0.5])))
    # seed 004: e³ / (e³ + e¹ + e^0.5) = 20.085 / 24.452 = 0.821
    np.testing.assert_allclose(p, [0.821, 0.111, 0.067], atol=5e-4)
    assert abs(p.sum() - 1) < 1e-12


def test_softmax_rows_and_shift(xp, host):
    z = np.random.default_rng(5).standard_normal((4, 6))
    p = host(F.softmax(xp.asarray(z)))
    e = np.exp(z)
    np.testing.assert_allclose(p, e / e.sum(axis=1, keepdims=True), rtol=1e-12)
    # adding a constant to a row changes nothing, even a huge one
    np.testing.assert_allclose(host(F.softmax(xp.asarray(z + 500.0))), p, rtol=1e-10)


def test_softmax_temperature(xp, host):
    z = xp.asarray([3.0, 1.0, 0.5])
    hot = host(F.softmax(z, T=100.0))
    assert hot.max() - hot.min() < 0.01, f"T = 100 should be near uniform, got {hot}"
    cold = host(F.softmax(z, T=0.01))
    assert cold[0] > 0.999, f"T = 0.01 should be near one-hot, got {cold}"
    # softmax(z / T) by definition
    e = np.exp(np.array([3.0, 1.0, 0.5]) / 2.0)
    np.testing.assert_allclose(host(F.softmax(z, T=2.0)), e / e.sum(), rtol=1e-12)


# --- activations: gradients -----------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid_gradient(xp, num_grad, grad_close, shape):
    _check_input_gradient(F.sigmoid_forward, F.sigmoid_backward, _rand(xp, shape, 1, 2.0),
                          _rand(xp, shape, 2), num_grad, grad_close, "sigmoid")


@pytest.mark.parametrize("shape", SHAPES)
def test_tanh_gradient(xp, num_grad, grad_close, shape):
    _check_input_gradient(F.tanh_forward, F.tanh_backward, _rand(xp, shape, 1),
                          _rand(xp, shape, 2), num_grad, grad_close, "tanh")


@pytest.mark.parametrize("shape", SHAPES)
def test_relu_gradient(xp, num_grad, grad_close, shape):
    _check_input_gradient(F.relu_forward, F.relu_backward, _away_from_zero(xp, shape, 1),
                          _rand(xp, shape, 2), num_grad, grad_close, "relu")


@pytest.mark.parametrize("alpha", [0.01, 0.2])
@pytest.mark.parametrize("shape", SHAPES)
def test_leaky_relu_gradient(xp, num_grad, grad_close, shape, alpha):
    _check_input_gradient(lambda z: F.leaky_relu_forward(z, alpha), F.leaky_relu_backward,
                          _away_from_zero(xp, shape, 1), _rand(xp, shape, 2), num_grad,
                          grad_close, f"leaky_relu(alpha={alpha})")


def test_relu_gradient_by_hand(xp, host):
    z = xp.asarray([-1.0, 2.0, -3.0, 4.0])
    _, cache = F.relu_forward(z)
    np.testing.assert_allclose(host(F.relu_backward(xp.asarray([5.0, 6.0, 7.0, 8.0]), cache)),
                               [0.0, 6.0, 0.0, 8.0])


# --- dropout --------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.2, 0.5])
@pytest.mark.parametrize("shape", [(1, 7), (5, 3), (2, 40)])
def test_dropout_gradient_with_fixed_mask(xp, num_grad, grad_close, shape, rate):
    x, dout = _rand(xp, shape, 1), _rand(xp, shape, 2)

    def forward(v):  # the same mask every call: the generator is re-seeded identically
        return F.dropout_forward(v, rate, np.random.default_rng(42))[0]

    _, cache = F.dropout_forward(x, rate, np.random.default_rng(42))
    grad_close("dropout", F.dropout_backward(dout, cache),
               num_grad(lambda v: (forward(v) * dout).sum(), x))


def test_dropout_drops_the_rate_and_scales_the_rest(xp, host):
    rate = 0.3
    x = xp.asarray(np.full((200, 100), 2.0))
    out = host(F.dropout_forward(x, rate, np.random.default_rng(0))[0])
    dropped = (out == 0).mean()
    assert abs(dropped - rate) < 0.01, f"{dropped:.3f} of the units were dropped, expected {rate}"
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 2.0 / (1 - rate))  # inverted dropout: 1 / (1 − rate)
    assert abs(out.mean() - 2.0) < 0.03  # the expected value is preserved


def test_dropout_identity_at_inference_and_rate_zero(xp, host):
    x = _rand(xp, (4, 5), 3)
    for out, cache in (F.dropout_forward(x, 0.5, np.random.default_rng(0), training=False),
                       F.dropout_forward(x, 0.0, np.random.default_rng(0))):
        np.testing.assert_array_equal(host(out), host(x))
        dout = _rand(xp, (4, 5), 4)
        np.testing.assert_array_equal(host(F.dropout_backward(dout, cache)), host(dout))


def test_dropout_same_seed_same_mask(xp, host):
    x = _rand(xp, (6, 6), 1)
    a = host(F.dropout_forward(x, 0.5, np.random.default_rng(7))[0])
    b = host(F.dropout_forward(x, 0.5, np.random.default_rng(7))[0])
    c = host(F.dropout_forward(x, 0.5, np.random.default_rng(8))[0])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# --- batch normalisation --------------------------------------------------------------------


def test_batchnorm_normalises_each_feature(xp, host):
    x = np.random.default_rng(0).normal(loc=[3.0, -2.0, 10.0], scale=[2.0, 0.5, 4.0],
                                        size=(64, 3))
    out, _ = F.batchnorm_forward(xp.asarray(x), xp.ones(3), xp.zeros(3), {})
    out = host(out)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=0), 1.0, atol=1e-4)  # ε = 1e-5 shrinks it a hair
    # the formula by hand, biased variance
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(out, x_hat, rtol=1e-10)


def test_batchnorm_scale_and_shift(xp, host):
    x = np.random.default_rng(1).standard_normal((10, 2))
    gamma, beta = np.array([2.0, -0.5]), np.array([1.0, 3.0])
    out, _ = F.batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), {})
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(host(out), gamma * x_hat + beta, rtol=1e-10)


def test_batchnorm_running_statistics_after_one_step(xp, host):
    x = np.random.default_rng(2).normal(5.0, 3.0, size=(8, 4))
    mean, var = x.mean(axis=0), x.var(axis=0)  # biased: divide by N
    state = {}
    F.batchnorm_forward(xp.asarray(x), xp.ones(4), xp.zeros(4), state)
    # the state starts at mean 0, variance 1
    np.testing.assert_allclose(host(state["running_mean"]), 0.9 * 0 + 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(host(state["running_var"]), 0.9 * 1 + 0.1 * var, rtol=1e-12)
    # from a given state
    m0, v0 = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 1.5, 2.5, 3.5])
    state = {"running_mean": xp.asarray(m0), "running_var": xp.asarray(v0)}
    F.batchnorm_forward(xp.asarray(x), xp.ones(4), xp.zeros(4), state)
    np.testing.assert_allclose(host(state["running_mean"]), 0.9 * m0 + 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(host(state["running_var"]), 0.9 * v0 + 0.1 * var, rtol=1e-12)


@pytest.mark.parametrize("N", [1, 5])
def test_batchnorm_inference_uses_the_running_statistics(xp, host, N):
    rm, rv = np.array([1.0, -1.0, 0.5]), np.array([4.0, 0.25, 1.0])
    gamma, beta = np.array([1.5, 0.5, -1.0]), np.array([0.1, 0.2, 0.3])
    state = {"running_mean": xp.asarray(rm), "running_var": xp.asarray(rv)}
    x = np.random.default_rng(3).standard_normal((N, 3))
    out, _ = F.batchnorm_forward(xp.asarray(x), xp.asarray(gamma), xp.asarray(beta), state,
                                 training=False)
    np.testing.assert_allclose(host(out), gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta,
                               rtol=1e-12)
    # frozen: inference leaves the running statistics alone
    np.testing.assert_array_equal(host(state["running_mean"]), rm)
    np.testing.assert_array_equal(host(state["running_var"]), rv)


@pytest.mark.parametrize("shape", [(3, 1), (5, 4), (7, 3), (4, 25)])
def test_batchnorm_training_gradients(xp, num_grad, grad_close, shape):
    N, D = shape
    x, dout = _rand(xp, shape, 1, 2.0), _rand(xp, shape, 2)
    gamma = xp.asarray(np.random.default_rng(3).uniform(0.5, 2.0, D))
    beta = _rand(xp, (D,), 4)

    def J(x, gamma, beta):  # a fresh state each call: the running statistics don't matter here
        return (F.batchnorm_forward(x, gamma, beta, {})[0] * dout).sum()

    _, cache = F.batchnorm_forward(x, gamma, beta, {})
    dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)
    grad_close("dx", dx, num_grad(lambda v: J(v, gamma, beta), x))
    grad_close("dgamma", dgamma, num_grad(lambda v: J(x, v, beta), gamma))
    grad_close("dbeta", dbeta, num_grad(lambda v: J(x, gamma, v), beta))


@pytest.mark.parametrize("shape", [(1, 3), (4, 5), (2, 30)])
def test_batchnorm_inference_gradients(xp, num_grad, grad_close, shape):
    N, D = shape
    x, dout = _rand(xp, shape, 1, 2.0), _rand(xp, shape, 2)
    gamma = xp.asarray(np.random.default_rng(3).uniform(0.5, 2.0, D))
    beta = _rand(xp, (D,), 4)
    rng = np.random.default_rng(5)
    stats = {"running_mean": xp.asarray(rng.standard_normal(D)),
             "running_var": xp.asarray(rng.uniform(0.5, 2.0, D))}

    def J(x, gamma, beta):
        return (F.batchnorm_forward(x, gamma, beta, dict(stats), training=False)[0] * dout).sum()

    _, cache = F.batchnorm_forward(x, gamma, beta, dict(stats), training=False)
    dx, dgamma, dbeta = F.batchnorm_backward(dout, cache)
    grad_close("dx", dx, num_grad(lambda v: J(v, gamma, beta), x))
    grad_close("dgamma", dgamma, num_grad(lambda v: J(x, v, beta), gamma))
    grad_close("dbeta", dbeta, num_grad(lambda v: J(x, gamma, v), beta))


def test_batchnorm_dbeta_is_the_column_sum(xp, host):
    dout = np.arange(6.0).reshape(3, 2)
    _, cache = F.batchnorm_forward(_rand(xp, (3, 2), 1), xp.ones(2), xp.zeros(2), {})
    _, _, dbeta = F.batchnorm_backward(xp.asarray(dout), cache)
    np.testing.assert_allclose(host(dbeta), [0 + 2 + 4, 1 + 3 + 5])
    assert math.isclose(float(host(dbeta).sum()), 15.0)


def test_dropout_rate_may_be_a_numpy_scalar(xp, host):
    out, _ = F.dropout_forward(xp.ones((20, 20)), np.float32(0.5), np.random.default_rng(0))
    assert set(np.unique(host(out))) == {0.0, 2.0}


def test_softmax_temperature_may_be_a_numpy_scalar(xp, host):
    for T in np.array([0.5, 2.0]):  # iterating an array gives NumPy scalars
        e = np.exp(np.array([1.0, 2.0]) / float(T))
        np.testing.assert_allclose(host(F.softmax(xp.asarray([1.0, 2.0]), T=np.float32(T))),
                                   e / e.sum(), rtol=1e-6)
