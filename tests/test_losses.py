"""course_lib.losses: values by hand and from the seeds, gradients against an independent
centred difference (float64, relative error below 1e-7), index and one-hot labels."""

import math
import warnings

import numpy as np
import pytest

from course_lib import losses as L

SHAPES = [(1, 1), (5, 1), (3, 4), (7, 3), (2, 21)]


def _rng(seed):
    return np.random.default_rng(seed)


def _probabilities(shape, seed):
    """Values in (0.05, 0.95): away from the clipping bounds, where the formula is exact."""
    return _rng(seed).uniform(0.05, 0.95, shape)


def _labels(N, K, seed):
    return _rng(seed).integers(0, K, N)


def _one_hot(y, K):
    out = np.zeros((len(y), K))
    out[np.arange(len(y)), y] = 1.0
    return out


def _check_loss(loss, y_hat, y, num_grad, grad_close, name):
    value, grad = loss(y_hat, y)
    assert grad.shape == y_hat.shape, f"{name}: grad {grad.shape} vs input {y_hat.shape}"
    grad_close(name, grad, num_grad(lambda v: loss(v, y)[0], y_hat))
    return value


# --- values ---------------------------------------------------------------------------------


def test_half_squared_error_seed_003(xp):
    value, grad = L.half_squared_error(xp.asarray([[0.5]]), xp.asarray([[0.0]]))
    assert math.isclose(float(value), 0.125)  # ½ (0.5 − 0)²
    assert math.isclose(float(grad[0, 0]), 0.5)  # ŷ − y


def test_half_squared_error_is_a_mean_over_examples(xp, host):
    y_hat = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    y = np.array([[0.0, 0.0], [3.0, 3.0], [1.0, 1.0]])
    value, grad = L.half_squared_error(xp.asarray(y_hat), xp.asarray(y))
    # per example ½Σ: ½(1 + 4) = 2.5, ½(0 + 1) = 0.5, ½(1 + 1) = 1.0; mean = 4 / 3
    assert math.isclose(float(value), 4 / 3)
    np.testing.assert_allclose(host(grad), (y_hat - y) / 3)


def test_mse_is_twice_the_half_squared_error_for_one_output(xp, host):
    y_hat, y = _rng(0).standard_normal((6, 1)), _rng(1).standard_normal((6, 1))
    half, g_half = L.half_squared_error(xp.asarray(y_hat), xp.asarray(y))
    full, g_full = L.mse(xp.asarray(y_hat), xp.asarray(y))
    assert math.isclose(float(full), np.mean((y_hat - y) ** 2), rel_tol=1e-12)
    assert math.isclose(float(full), 2 * float(half), rel_tol=1e-12)
    np.testing.assert_allclose(host(g_full), 2 * host(g_half), rtol=1e-12)


def test_mse_averages_over_every_element(xp):
    y_hat, y = np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0, 0.0]])
    value, _ = L.mse(xp.asarray(y_hat), xp.asarray(y))
    assert math.isclose(float(value), (1 + 4 + 9) / 3)
    half, _ = L.half_squared_error(xp.asarray(y_hat), xp.asarray(y))
    assert math.isclose(float(value), 2 * float(half) / 3)  # K = 3 outputs


def test_binary_cross_entropy_by_hand(xp):
    p, y = np.array([[0.9], [0.2], [0.6]]), np.array([[1.0], [0.0], [1.0]])
    value, _ = L.binary_cross_entropy(xp.asarray(p), xp.asarray(y))
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3
    assert math.isclose(float(value), expected, rel_tol=1e-12)


def test_binary_cross_entropy_is_finite_at_0_and_1(xp, host):
    value, grad = L.binary_cross_entropy(xp.asarray([[0.0], [1.0]]), xp.asarray([[0.0], [1.0]]))
    assert math.isfinite(float(value)) and float(value) < 1e-9, "right and certain costs ~0"
    assert np.isfinite(host(grad)).all()
    value, grad = L.binary_cross_entropy(xp.asarray([[0.0], [1.0]]), xp.asarray([[1.0], [0.0]]))
    assert math.isfinite(float(value)) and float(value) > 10, "wrong and certain costs a lot"
    assert np.isfinite(host(grad)).all()


def test_binary_cross_entropy_gradient_through_sigmoid_is_p_minus_y(xp, host):
    """dL/dz = (p − y) / N per CONVENTIONS.md when p = σ(z) (chain rule with σ' = p(1 − p))."""
    z = _rng(0).standard_normal((5, 1))
    y = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    p = 1 / (1 + np.exp(-z))
    _, dp = L.binary_cross_entropy(xp.asarray(p), xp.asarray(y))
    np.testing.assert_allclose(host(dp) * p * (1 - p), (p - y) / 5, rtol=1e-10)


def test_categorical_cross_entropy_seed_002(xp):
    """Seed 002: the target class (Dog) predicted with 0.88 costs −log 0.88 ≈ 0.128."""
    p = xp.asarray([[0.88, 0.03, 0.03, 0.03, 0.03]])
    for y in (xp.asarray([0]), xp.asarray([[1.0, 0.0, 0.0, 0.0, 0.0]])):
        value, _ = L.categorical_cross_entropy(p, y)
        assert abs(float(value) - 0.128) < 5e-4
        assert math.isclose(float(value), -math.log(0.88), rel_tol=1e-12)


def test_categorical_cross_entropy_mean_over_rows(xp):
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    value, _ = L.categorical_cross_entropy(xp.asarray(p), xp.asarray([0, 2]))
    assert math.isclose(float(value), -(math.log(0.7) + math.log(0.8)) / 2, rel_tol=1e-12)


def test_softmax_cross_entropy_by_hand(xp, host):
    logits = np.array([[3.0, 1.0, 0.5], [0.0, 0.0, 0.0]])
    y = np.array([0, 2])
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 0]) + np.log(p[1, 2])) / 2
    for labels in (xp.asarray(y), xp.asarray(_one_hot(y, 3))):
        value, grad = L.softmax_cross_entropy(xp.asarray(logits), labels)
        assert math.isclose(float(value), expected, rel_tol=1e-12)
        np.testing.assert_allclose(host(grad), (p - _one_hot(y, 3)) / 2, rtol=1e-12)


def test_softmax_cross_entropy_leaves_its_inputs_alone(xp, host):
    logits = _rng(0).standard_normal((4, 3))
    d_logits = xp.asarray(logits.copy())
    L.softmax_cross_entropy(d_logits, xp.asarray([0, 1, 2, 0]))
    np.testing.assert_array_equal(host(d_logits), logits)


# --- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_half_squared_error_gradient(xp, num_grad, grad_close, shape):
    y_hat, y = xp.asarray(_rng(1).standard_normal(shape)), xp.asarray(_rng(2).standard_normal(shape))
    _check_loss(L.half_squared_error, y_hat, y, num_grad, grad_close, "half_squared_error")


@pytest.mark.parametrize("shape", SHAPES)
def test_mse_gradient(xp, num_grad, grad_close, shape):
    y_hat, y = xp.asarray(_rng(1).standard_normal(shape)), xp.asarray(_rng(2).standard_normal(shape))
    _check_loss(L.mse, y_hat, y, num_grad, grad_close, "mse")


@pytest.mark.parametrize("N", [1, 5, 8])
def test_squared_errors_with_flat_targets(xp, num_grad, grad_close, host, N):
    """(N,) targets for a (N, 1) prediction are a column (the regression layout of seed 001)."""
    y_hat, y = _rng(1).standard_normal((N, 1)), _rng(2).standard_normal(N)
    for loss in (L.half_squared_error, L.mse):
        value = _check_loss(loss, xp.asarray(y_hat), xp.asarray(y), num_grad, grad_close,
                            loss.__name__)
        same, _ = loss(xp.asarray(y_hat), xp.asarray(y.reshape(-1, 1)))
        assert math.isclose(float(value), float(same), rel_tol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_binary_cross_entropy_gradient(xp, num_grad, grad_close, shape):
    p = xp.asarray(_probabilities(shape, 1))
    hard = xp.asarray(_rng(2).integers(0, 2, shape).astype(float))
    soft = xp.asarray(_rng(3).uniform(0, 1, shape))
    _check_loss(L.binary_cross_entropy, p, hard, num_grad, grad_close, "bce, 0/1 labels")
    _check_loss(L.binary_cross_entropy, p, soft, num_grad, grad_close, "bce, soft labels")


@pytest.mark.parametrize("shape", [(1, 2), (3, 4), (7, 3), (2, 21)])
def test_categorical_cross_entropy_gradient(xp, num_grad, grad_close, shape):
    N, K = shape
    p = _probabilities(shape, 1)
    p = xp.asarray(p / p.sum(axis=1, keepdims=True))
    y = _labels(N, K, 2)
    v1 = _check_loss(L.categorical_cross_entropy, p, xp.asarray(y), num_grad, grad_close,
                     "cce, index labels")
    v2 = _check_loss(L.categorical_cross_entropy, p, xp.asarray(_one_hot(y, K)), num_grad,
                     grad_close, "cce, one-hot labels")
    assert math.isclose(float(v1), float(v2), rel_tol=1e-12)


@pytest.mark.parametrize("shape", [(1, 2), (1, 5), (3, 4), (7, 3), (2, 21)])
def test_softmax_cross_entropy_gradient(xp, num_grad, grad_close, shape):
    N, K = shape
    logits = xp.asarray(_rng(1).standard_normal(shape) * 2)
    y = _labels(N, K, 2)
    v1 = _check_loss(L.softmax_cross_entropy, logits, xp.asarray(y), num_grad, grad_close,
                     "softmax_cross_entropy, index labels")
    v2 = _check_loss(L.softmax_cross_entropy, logits, xp.asarray(_one_hot(y, K)), num_grad,
                     grad_close, "softmax_cross_entropy, one-hot labels")
    assert math.isclose(float(v1), float(v2), rel_tol=1e-12)


def test_index_labels_out_of_range_are_refused(xp):
    """The losses refuse them on host arrays; on the GPU reading the labels' range back would
    stop the device on every step, so there ``fit`` refuses them once, before it trains."""
    from course_lib import layers, optim, train

    if xp is np:
        with pytest.raises(ValueError, match="Class indices"):
            L.softmax_cross_entropy(xp.zeros((2, 3)), xp.asarray([0, 3]))
        with pytest.raises(ValueError, match="Class indices"):
            L.categorical_cross_entropy(xp.full((2, 3), 1 / 3), xp.asarray([-1, 0]))
    for loss, y in (("softmax_cross_entropy", [0, 3]), ("categorical_cross_entropy", [-1, 0])):
        net = layers.mlp([2, 3], rng=0)
        with pytest.raises(ValueError, match="Class indices"):
            train.fit(net, loss, optim.SGD(net.parameters()), xp.ones((2, 2)), xp.asarray(y),
                      num_epochs=1, progress=False)


# --- binary cross-entropy from logits -------------------------------------------------------

# z from −1000 to 1000: far beyond where σ(z) rounds to 0 or 1 in float64 (|z| > 37)
_Z_WIDE = np.concatenate([np.linspace(-1000, 1000, 81), [-36.7, -28.0, -1e-3, 0.0, 1e-3, 28.0, 36.7]])


def _bce_logits_decimal(z, y):
    """Independent value: log(1 + e^z) − z·y per example (the same loss, written as softplus and
    not torch's max/log1p form), in 50-digit decimal arithmetic, where e^1000 is no trouble."""
    import decimal
    ctx = decimal.Context(prec=50)
    total = decimal.Decimal(0)
    for zi, yi in zip(z, y, strict=True):
        d = decimal.Decimal(float(zi))
        total += ctx.ln(1 + ctx.exp(d)) - d * decimal.Decimal(float(yi))
    return float(total / len(z))


@pytest.mark.parametrize("label", [0.0, 1.0, 0.3])
def test_bce_with_logits_matches_an_independent_formula_for_any_z(label):
    z = _Z_WIDE.reshape(-1, 1)
    y = np.full_like(z, label)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        value, grad = L.binary_cross_entropy_with_logits(z, y)
    assert math.isclose(float(value), _bce_logits_decimal(z.ravel(), y.ravel()), rel_tol=1e-12)
    # gradient p − y per example (before the mean), p = σ(z) written as 1/(1 + e^−z) in decimals
    import decimal
    p = np.array([float(1 / (1 + decimal.Context(prec=50).exp(-decimal.Decimal(float(zi))))) for zi in z.ravel()])
    np.testing.assert_allclose(grad.ravel() * len(z), p - label, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_centred_difference_for_any_z():
    """Each z alone (N = 1): the centred difference (ε = 1e-5) of the loss equals the returned
    gradient p − y; a confidently wrong unit (z = ±1000 against its label) keeps ±1."""
    eps = 1e-5
    for label in (0.0, 1.0):
        y = np.array([[label]])
        for zi in _Z_WIDE:
            with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
                warnings.simplefilter("error")
                _, g = L.binary_cross_entropy_with_logits(np.array([[zi]]), y)
                up, _ = L.binary_cross_entropy_with_logits(np.array([[zi + eps]]), y)
                down, _ = L.binary_cross_entropy_with_logits(np.array([[zi - eps]]), y)
            numeric = (up - down) / (2 * eps)
            assert abs(float(g[0, 0]) - numeric) < 1e-6 * max(1.0, abs(zi)), (zi, label, g, numeric)
    _, g = L.binary_cross_entropy_with_logits(np.array([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]]))
    np.testing.assert_array_equal(g.ravel() * 2, [1.0, -1.0])


def test_bce_with_logits_equals_sigmoid_then_bce_where_p_is_not_clipped(xp, host):
    z = _rng(3).uniform(-8, 8, (9, 1))
    y = _rng(4).integers(0, 2, (9, 1)).astype(float)
    p = 1 / (1 + np.exp(-z))
    v_prob, g_prob = L.binary_cross_entropy(xp.asarray(p), xp.asarray(y))
    v_log, g_log = L.binary_cross_entropy_with_logits(xp.asarray(z), xp.asarray(y))
    assert math.isclose(float(v_prob), float(v_log), rel_tol=1e-12)
    np.testing.assert_allclose(host(g_log), host(g_prob) * p * (1 - p), rtol=1e-9)  # chain rule through σ


def test_sigmoid_then_clipped_bce_stops_learning_where_the_logits_form_does_not():
    """The figures the notebooks quote: a wrong unit (y = 0) at z = 28, 30, 40 gets dL/dz = 0.69,
    0.093, 0 through the clipped probability form, and 1 from the logits."""
    for z, expected in [(28.0, 0.69), (30.0, 0.093), (40.0, 0.0)]:
        p = 1 / (1 + math.exp(-z))
        _, dp = L.binary_cross_entropy(np.array([[p]]), np.array([[0.0]]))
        assert math.isclose(float(dp[0, 0]) * p * (1 - p), expected, abs_tol=0.005), z
        _, dz = L.binary_cross_entropy_with_logits(np.array([[z]]), np.array([[0.0]]))
        assert math.isclose(float(dz[0, 0]), 1.0, rel_tol=1e-9)
