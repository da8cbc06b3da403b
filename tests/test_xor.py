"""course_lib.lessons.xor (notebook 05's reference exercises), checked against hand-worked numbers and the
seeds: least squares gives w = 0, w₀ = 0.5 on XOR (seed 004), seed 004's ReLU network gives
[0, 1, 1, 0], and seed 003's network reaches its printed cost after 4900 epochs."""

import numpy as np
import pytest

from course_lib import datasets, layers
from course_lib.lessons import xor

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _half_squared_cost(net, X, y):
    """Our own forward pass of a Linear-Sigmoid-Linear-Sigmoid network and ½ mean (ŷ − y)²."""
    h = _sigmoid(X @ net[0].W.data + net[0].b.data)
    y_hat = _sigmoid(h @ net[2].W.data + net[2].b.data)
    return 0.5 * float(np.sum((y_hat - y) ** 2)) / X.shape[0]


# --- linear models ---------------------------------------------------------------------------


def test_least_squares_on_xor_is_the_constant_one_half_seed004():
    """Seed 004: solving the normal equations on XOR gives w = 0, w₀ = 0.5."""
    X, y = datasets.xor()
    w, w0 = xor.least_squares(X, y)
    assert w.shape == (2,), f"w should have one weight per feature, got shape {w.shape}"
    assert np.allclose(w, 0.0, atol=1e-12), f"w should be [0, 0] on XOR, got {w}"
    assert w0 == pytest.approx(0.5), f"w₀ should be 0.5 on XOR, got {w0}"
    assert isinstance(w0, float), "w₀ comes back as a plain float"


def test_least_squares_recovers_an_exact_plane():
    """Targets made by y = 2x₁ − 3x₂ + 1 are fitted exactly, from (N,) or (N, 1) targets."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, 5.0], [-1.0, 3.0]])
    y = 2 * X[:, 0] - 3 * X[:, 1] + 1
    for targets in (y, y.reshape(-1, 1)):
        w, w0 = xor.least_squares(X, targets)
        assert np.allclose(w, [2.0, -3.0]), f"expected w = [2, −3], got {w}"
        assert w0 == pytest.approx(1.0), f"expected w₀ = 1, got {w0}"


def test_feature_cross_appends_the_product(xp, host):
    """[x₁, x₂] → [x₁, x₂, x₁x₂] on the XOR table, on every backend."""
    crossed = xor.add_feature_cross(xp.asarray(XOR_X))
    expected = [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]]
    assert np.array_equal(host(crossed), expected), f"expected {expected}, got {host(crossed)}"


def test_least_squares_with_the_feature_cross_solves_xor():
    """XOR = x₁ + x₂ − 2x₁x₂ exactly, so with the product feature least squares has zero error."""
    w, w0 = xor.least_squares(xor.add_feature_cross(XOR_X), XOR_Y)
    assert np.allclose(w, [1.0, 1.0, -2.0]), f"expected w = [1, 1, −2], got {w}"
    assert w0 == pytest.approx(0.0, abs=1e-12), f"expected w₀ = 0, got {w0}"


# --- seed 004's hand-made ReLU network --------------------------------------------------------


def test_relu_network_seed004_gives_xor(xp, host):
    """W = [[1, 1], [1, 1]], c = [0, −1], w = [1, −2], b = 0 maps the XOR table to [0, 1, 1, 0]."""
    W, c = xp.asarray([[1.0, 1.0], [1.0, 1.0]]), xp.asarray([0.0, -1.0])
    y_hat = xor.relu_network(xp.asarray(XOR_X), W, c, xp.asarray([1.0, -2.0]), 0.0)
    assert np.array_equal(host(y_hat), XOR_Y), f"expected [0, 1, 1, 0], got {host(y_hat)}"
    column = xor.relu_network(xp.asarray(XOR_X), W, c, xp.asarray([[1.0], [-2.0]]), xp.asarray([0.0]))
    assert host(column).shape == (4, 1), f"w of shape (2, 1) gives ŷ (4, 1), got {host(column).shape}"
    assert np.array_equal(host(column)[:, 0], XOR_Y)


def test_relu_network_clips_negative_hidden_values():
    """Hidden pre-activation −1 (input (0, 0), second unit) is cut to 0: without the ReLU the
    same weights give ŷ = 2 there instead of 0."""
    y_hat = xor.relu_network(XOR_X[:1], np.ones((2, 2)), np.array([0.0, -1.0]),
                             np.array([1.0, -2.0]), 0.0)
    assert y_hat[0] == 0.0, f"ŷ(0, 0) should be 0 after the ReLU, got {y_hat[0]}"


# --- seed 003's sigmoid network ----------------------------------------------------------------


def test_khan_network_shapes_and_zero_biases():
    """Rows are examples: W¹ is (2, 3), W² is (3, 1) (seed 003's W (3×2) and (1×3) transposed)."""
    net = xor.khan_network()
    assert net[0].W.shape == (2, 3) and net[2].W.shape == (3, 1)
    assert not np.any(net[0].b.data) and not np.any(net[2].b.data), "biases start at 0"
    assert np.array_equal(xor.khan_network()[0].W.data, net[0].W.data), "same weights every call"


def test_train_network_reaches_seed003_cost_after_4900_epochs():
    """Seed 003 prints ``Cost at epoch#4900: 0.0009210166430616655`` with α = 1."""
    X, y = datasets.xor()
    net = xor.khan_network()
    start_cost = _half_squared_cost(net, X, y)
    costs = xor.train_network(net, X, y, lr=1.0, num_epochs=5000)
    assert len(costs) == 5000
    assert costs[0] == pytest.approx(start_cost, rel=1e-12), \
        "costs[0] is the cost of the untrained network (measured before the first update)"
    assert costs[4900] == pytest.approx(0.0009210166430616655, rel=1e-9), \
        f"seed 003's cost at epoch#4900 is 0.0009210166430616655, got {costs[4900]!r}"
    assert xor.accuracy(net, X, y) == 1.0


def test_train_network_one_step_is_gradient_descent(num_grad):
    """One epoch moves every parameter by −η times its own centred-difference gradient."""
    X, y = datasets.xor()
    net = xor.khan_network()
    params = net.parameters()
    before = [p.data.copy() for p in params]

    def cost_of(p):
        old = p.data.copy()

        def f(x):
            p.data = x
            cost = _half_squared_cost(net, X, y)
            p.data = old
            return cost
        return f

    numeric = [num_grad(cost_of(p), p.data) for p in params]
    xor.train_network(net, X, y, lr=0.5, num_epochs=1)
    for p, old, g in zip(params, before, numeric, strict=True):
        assert np.allclose(p.data, old - 0.5 * g, rtol=0, atol=1e-9), \
            f"{p.name}: the update is not w − η·dJ/dw"


# --- symmetry ----------------------------------------------------------------------------------


def test_hidden_units_spread_by_hand():
    """The spread is the largest max − min over a row of W: [[1, 2, 3], [0, 0, 5]] → 5."""
    assert xor.hidden_units_spread([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]]) == 5.0
    assert xor.hidden_units_spread(np.full((2, 4), 0.7)) == 0.0
    assert xor.hidden_units_spread(np.zeros((0, 3))) == 0.0


def test_equal_weights_stay_equal_and_cannot_learn_xor():
    """Every hidden unit gets the same gradient, so after training they are still identical."""
    net = xor.equal_weights_network(0.5, hidden=4)
    assert np.all(net[0].W.data == 0.5) and np.all(net[2].W.data == 0.5)
    trained = xor.symmetry_experiment(0.5, hidden=4, num_epochs=1000)
    assert xor.hidden_units_spread(trained[0].W.data) < 1e-12, "hidden units drifted apart"
    assert xor.hidden_units_spread(trained[2].W.data.T) < 1e-12
    assert xor.accuracy(trained, XOR_X, XOR_Y) < 1.0, "identical hidden units cannot separate XOR"


def test_sigmoid_network_layout():
    """2-3-1 by default: Linear, Sigmoid, Linear, Sigmoid."""
    net = xor.sigmoid_network()
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [layers.Linear, layers.Sigmoid, layers.Linear, layers.Sigmoid]
    assert net[0].W.shape == (2, 3) and net[2].W.shape == (3, 1)
