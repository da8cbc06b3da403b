"""course_lib.lessons.surfaces (notebook 06): the ravine and saddle surfaces and their gradients, the
trajectories of the update rules on them, and a network's cost as a function of one flat vector.

The oracles are independent: values worked by hand, conftest's centred difference, SGD on the
ravine in closed form and by a hand loop, and our own forward pass of seed 001's network."""

import numpy as np
import pytest

from course_lib import datasets, layers, optim, overrides, train
from course_lib.lessons import surfaces

SURFACES = {"ravine": surfaces.RAVINE, "saddle": surfaces.SADDLE}


# --- the surfaces ------------------------------------------------------------------------------


def test_surface_values_by_hand():
    """Ravine x²/20 + y² at the start (−8, 1.5) is 3.2 + 2.25; the saddle's minima (0, ±1) are −¼."""
    assert surfaces.RAVINE((-8.0, 1.5)) == pytest.approx(5.45)
    assert surfaces.RAVINE((0.0, 0.0)) == 0.0
    assert surfaces.SADDLE((0.0, 1.0)) == pytest.approx(-0.25)
    assert surfaces.SADDLE((0.0, -1.0)) == pytest.approx(-0.25)
    assert surfaces.SADDLE((0.0, 0.0)) == 0.0
    assert surfaces.SADDLE((2.0, 0.0)) == pytest.approx(2.0)


def test_surface_gradients_by_hand():
    """∇ravine = (x/10, 2y); ∇saddle = (x, y³ − y), zero at the saddle point and the minima."""
    assert np.allclose(surfaces.RAVINE.gradient((-8.0, 1.5)), [-0.8, 3.0])
    assert np.allclose(surfaces.SADDLE.gradient((-2.0, 0.01)), [-2.0, 0.01**3 - 0.01])
    for point in [(0.0, 0.0), (0.0, 1.0), (0.0, -1.0)]:
        assert np.allclose(surfaces.SADDLE.gradient(point), 0.0), f"∇saddle{point} should be 0"
    grad = surfaces.RAVINE.gradient([1, 2])  # integers in, float64 out
    assert grad.dtype == np.float64 and grad.shape == (2,)


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_gradient_matches_centred_difference(name, num_grad, grad_close):
    """Each surface's gradient agrees with a centred difference at random points (float64)."""
    surface = SURFACES[name]
    rng = np.random.default_rng(1)
    for point in rng.uniform(-3, 3, size=(10, 2)):
        grad_close(f"{name} at {point}", surface.gradient(point), num_grad(surface, point))


@pytest.mark.parametrize("name", list(SURFACES))
def test_surface_value_works_on_grids_and_minima_are_minima(name):
    """value(xx, yy) evaluates a whole grid; no grid point is below the listed minima."""
    surface = SURFACES[name]
    xx, yy = np.meshgrid(np.linspace(*surface.xlim, 41), np.linspace(*surface.ylim, 31))
    zz = surface.value(xx, yy)
    assert zz.shape == (31, 41)
    lowest = min(surface(m) for m in surface.minima)
    assert zz.min() >= lowest - 1e-12, f"{name}: a grid point lies below the minima"
    for m in surface.minima:
        assert np.allclose(surface.gradient(m), 0.0), f"{name}: ∇f is not 0 at the minimum {m}"


# --- trajectories ------------------------------------------------------------------------------


def test_sgd_on_the_ravine_is_geometric():
    """SGD with η on the ravine: x ← x(1 − η/10), y ← y(1 − 2η), so x_k = −8·0.91ᵏ and
    y_k = 1.5·(−0.8)ᵏ for η = 0.9 (the race's default), the start first."""
    path = surfaces.trajectory("sgd_update", surfaces.RAVINE, steps=30, lr=0.9)
    k = np.arange(31)
    assert path.shape == (31, 2), f"steps + 1 points expected, got {path.shape}"
    assert np.allclose(path[:, 0], -8.0 * 0.91**k), "x does not shrink by 0.91 per step"
    assert np.allclose(path[:, 1], 1.5 * (-0.8) ** k), "y does not flip and shrink by 0.8 per step"


def test_trajectory_matches_a_hand_loop_with_a_schedule_and_a_start():
    """Gradient descent written out by hand, with η_k = 0.5/(k + 1) and a chosen start."""
    w = np.array([1.0, -1.2])
    expected = [w.copy()]
    for k in range(12):
        x, y = w
        w = w - 0.5 / (k + 1) * np.array([x, y**3 - y])
        expected.append(w.copy())
    path = surfaces.trajectory(optim.sgd_update, surfaces.SADDLE, start=(1.0, -1.2), steps=12,
                               lr=lambda k: 0.5 / (k + 1))
    assert np.allclose(path, expected, rtol=0, atol=1e-12)


def test_momentum_trajectory_first_steps_by_hand():
    """From (−8, 1.5), η = 0.1, γ = 0.9: v₁ = η g₀ = (−0.08, 0.3) → (−7.92, 1.2);
    g₁ = (−0.792, 2.4), v₂ = 0.9 v₁ + 0.1 g₁ = (−0.1512, 0.51) → (−7.7688, 0.69)."""
    path = surfaces.trajectory("momentum_update", surfaces.RAVINE, steps=2, lr=0.1, gamma=0.9)
    assert np.allclose(path, [[-8.0, 1.5], [-7.92, 1.2], [-7.7688, 0.69]])


def test_trajectory_cuts_a_diverging_run():
    """SGD with η = 2 multiplies y by −3 per step; |y| first passes 10⁶ at step 13, so the path
    stops at step 12 and repeats that point to the end, all finite."""
    path = surfaces.trajectory("sgd_update", surfaces.RAVINE, steps=20, lr=2.0)
    assert path.shape == (21, 2)
    assert np.all(np.isfinite(path))
    assert path[12, 1] == pytest.approx(1.5 * (-3.0) ** 12)
    assert np.all(path[13:] == path[12]), "after divergence the path should repeat its last point"


def test_trajectory_uses_the_rule_in_scope():
    """A rule named by string is looked up through ``using``: the learner's rule is the one run."""
    calls = []

    def my_sgd(w, dw, state, lr):
        calls.append(1)
        return w - lr * dw, state

    with overrides.using(sgd_update=my_sgd):
        surfaces.trajectory("sgd_update", surfaces.RAVINE, steps=5, lr=0.1)
    assert len(calls) == 5, f"the learner's sgd_update ran {len(calls)} times, expected 5"


def test_race_runs_every_optimizer_with_its_default_rate():
    """Five paths of steps + 1 points; SGD's is the trajectory at the default η = 0.9; ``lr`` and
    ``gamma`` reach only the optimizer they name."""
    paths = surfaces.race(surfaces.RAVINE, steps=10)
    assert list(paths) == ["SGD", "momentum", "AdaGrad", "RMSProp", "Adam"]
    assert all(p.shape == (11, 2) for p in paths.values())
    assert np.allclose(paths["SGD"], surfaces.trajectory("sgd_update", surfaces.RAVINE, steps=10, lr=0.9))
    changed = surfaces.race(surfaces.RAVINE, steps=10, lr={"Adam": 0.01}, gamma=0.5)
    assert np.allclose(changed["Adam"], surfaces.trajectory("adam_update", surfaces.RAVINE, steps=10, lr=0.01))
    assert np.allclose(changed["momentum"],
                       surfaces.trajectory("momentum_update", surfaces.RAVINE, steps=10, lr=0.1, gamma=0.5))
    assert np.allclose(changed["SGD"], paths["SGD"]), "gamma changed SGD's path"


def test_step_lengths_under_a_constant_gradient():
    """g = (0.5, −1), η = 0.1. SGD: η‖g‖ every step. Momentum: η‖g‖(1 − γᵏ)/(1 − γ).
    AdaGrad: r = k g², so each coordinate moves η/√k: η√2/√k. RMSProp: r = (1 − ρᵏ) g², so
    η√2/√(1 − ρᵏ). Adam: m̂ = g, v̂ = g² exactly, so η√2 every step (δ, ε = 10⁻⁸ aside)."""
    g, eta, k = np.array([0.5, -1.0]), 0.1, np.arange(1, 41)
    norm = np.linalg.norm(g)
    expected = {
        "sgd_update": np.full(40, eta * norm),
        "momentum_update": eta * norm * (1 - 0.9**k) / (1 - 0.9),
        "adagrad_update": eta * np.sqrt(2) / np.sqrt(k),
        "rmsprop_update": eta * np.sqrt(2) / np.sqrt(1 - 0.9**k),
        "adam_update": np.full(40, eta * np.sqrt(2)),
    }
    for rule, lengths in expected.items():
        got = surfaces.step_lengths(rule, g, steps=40, lr=eta)
        assert got.shape == (40,)
        assert np.allclose(got, lengths, rtol=1e-6), f"{rule}: step lengths {got[:3]} ..."


# --- the same network with each optimizer ------------------------------------------------------


def test_compare_optimizers_one_history_each_and_reproducible():
    """One History per optimizer named, one value per epoch; every run starts from the same
    seeded network and batch order, so a second call reproduces the first."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    data, val = (X[:32], y[:32]), (X[32:], y[32:])
    runs = surfaces.compare_optimizers([2, 6, 2], data, val, lr={"SGD": 0.1, "Adam": 0.01},
                                       num_epochs=3, batch_size=16)
    assert list(runs) == ["SGD", "Adam"]
    for name, history in runs.items():
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert len(history[key]) == 3, f"{name}: {key} should have one value per epoch"
    again = surfaces.compare_optimizers([2, 6, 2], data, val, lr={"SGD": 0.1}, num_epochs=3,
                                        batch_size=16)
    assert np.allclose(again["SGD"]["loss"], runs["SGD"]["loss"]), "runs are not reproducible"
    assert not np.allclose(runs["SGD"]["loss"], runs["Adam"]["loss"])
    model = layers.mlp([2, 6, 2], "tanh", rng=0)
    by_hand = train.fit(model, "softmax_cross_entropy", optim.SGD(model.parameters(), lr=0.1), *data,
                        num_epochs=3, batch_size=16, validation=val, progress=False, seed=0)
    assert np.allclose(runs["SGD"]["val_loss"], by_hand["val_loss"]), "SGD's run is not plain fit"


# --- flat parameters and cost_and_gradient -----------------------------------------------------


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _seed001_cost(theta, X, y):
    """Seed 001's network written out: ŷ = σ(σ(X W¹) W²), cost ½ mean (ŷ − y)², θ = [W¹, W²]."""
    W1, W2 = theta[:6].reshape(2, 3), theta[6:].reshape(3, 1)
    y_hat = _sigmoid(_sigmoid(X @ W1) @ W2)
    return 0.5 * float(np.sum((y_hat - y) ** 2)) / X.shape[0]


def test_flat_parameters_round_trip():
    """θ joins W¹ (2×3) then W² (3×1) row-major: nine numbers; writing θ back changes only them."""
    net = surfaces.test_score_network(rng=0)
    params = surfaces.weights_of(net)
    assert [p.shape for p in params] == [(2, 3), (3, 1)]
    theta = surfaces.flat_parameters(params)
    assert theta.shape == (9,)
    assert np.array_equal(theta[:6], params[0].data.ravel())
    new = np.arange(9.0)
    surfaces.set_flat_parameters(params, new)
    assert np.array_equal(params[0].data, [[0, 1, 2], [3, 4, 5]])
    assert np.array_equal(params[1].data, [[6], [7], [8]])
    assert not np.any(net[0].b.data) and not np.any(net[2].b.data), "biases stay 0"
    new[0] = 99.0
    assert params[0].data[0, 0] == 0.0, "set_flat_parameters should copy θ, not share it"


def test_flat_gradient_fills_missing_gradients_with_zeros():
    net = surfaces.test_score_network(rng=0)
    params = surfaces.weights_of(net)
    for p in params:
        p.grad = None
    params[1].grad = np.array([[1.0], [2.0], [3.0]])
    assert np.array_equal(surfaces.flat_gradient(params), [0, 0, 0, 0, 0, 0, 1, 2, 3])


def test_set_flat_parameters_refuses_a_wrong_length(one_sentence):
    params = surfaces.weights_of(surfaces.test_score_network(rng=0))
    with pytest.raises(ValueError) as err:
        surfaces.set_flat_parameters(params, np.zeros(8))
    one_sentence(str(err.value), "θ", "9")


def test_cost_and_gradient_on_seed001_network(num_grad, grad_close):
    """The cost is our own forward pass at θ; the gradient matches a centred difference of it."""
    X, y = datasets.test_scores()
    net = surfaces.test_score_network(rng=0)
    params = surfaces.weights_of(net)
    theta = np.random.default_rng(3).normal(size=9)
    cost, grad = surfaces.cost_and_gradient(theta, net, X, y, params)
    assert cost == pytest.approx(_seed001_cost(theta, X, y), rel=1e-12)
    assert grad.shape == (9,)
    grad_close("cost_and_gradient", grad, num_grad(lambda t: _seed001_cost(t, X, y), theta))
    assert np.array_equal(surfaces.flat_parameters(params), theta), "θ was not written into the network"
    again = surfaces.cost_and_gradient(theta, net, X, y, params)[1]
    assert np.array_equal(again, grad), "gradients piled up across calls (zero_grad missing)"


def test_cost_and_gradient_covers_every_parameter_by_default():
    """Without ``params`` θ covers weights and biases: 9 + 3 + 1 = 13 numbers."""
    X, y = datasets.test_scores()
    net = surfaces.test_score_network(rng=0)
    theta = surfaces.flat_parameters(net.parameters())
    cost, grad = surfaces.cost_and_gradient(theta, net, X, y)
    assert grad.shape == (13,) and np.isfinite(cost)
