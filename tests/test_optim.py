"""course_lib.optim: every update rule against steps worked out by hand (CONVENTIONS.md), the
limits each rule is known for, the classes against the pure rules, the linear decay schedule.

The running example: w = 1.0, first gradient g1 = 0.5, second gradient g2 = 0.25, lr = 0.1."""

import math

import numpy as np
import pytest

from course_lib import layers, optim

W0, G1, G2, LR = 1.0, 0.5, 0.25, 0.1


def _two_steps(xp, rule, **hyper):
    """Two steps of ``rule`` from an empty state; returns (w1, state1, w2, state2) as floats."""
    w = xp.asarray([W0])
    w1, s1 = rule(w, xp.asarray([G1]), {}, LR, **hyper)
    s1_copy = {k: (float(v[0]) if hasattr(v, "shape") else v) for k, v in s1.items()}
    w2, s2 = rule(w1, xp.asarray([G2]), s1, LR, **hyper)
    s2_copy = {k: (float(v[0]) if hasattr(v, "shape") else v) for k, v in s2.items()}
    return float(w1[0]), s1_copy, float(w2[0]), s2_copy


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_sgd_by_hand(xp):
    w1, _, w2, _ = _two_steps(xp, optim.sgd_update)
    assert close(w1, 0.95)  # 1 − 0.1·0.5
    assert close(w2, 0.925)  # 0.95 − 0.1·0.25


def test_momentum_by_hand(xp):
    w1, s1, w2, s2 = _two_steps(xp, optim.momentum_update, gamma=0.9)
    assert close(s1["v"], 0.05) and close(w1, 0.95)  # v1 = 0.9·0 + 0.1·0.5; w1 = 1 − v1
    assert close(s2["v"], 0.07)  # v2 = 0.9·0.05 + 0.1·0.25 = 0.045 + 0.025
    assert close(w2, 0.88)  # 0.95 − 0.07


def test_adagrad_by_hand(xp):
    w1, s1, w2, s2 = _two_steps(xp, optim.adagrad_update)
    assert close(s1["r"], 0.25)  # r1 = 0.5²
    assert close(w1, 1 - 0.1 * 0.5 / (0.5 + 1e-8))  # = 0.900000002
    assert close(w1, 0.900000002)
    assert close(s2["r"], 0.3125)  # 0.25 + 0.25²
    # w2 = w1 − 0.1·0.25 / (√0.3125 + δ) = 0.900000002 − 0.0447213595
    assert close(w2, 0.85527864325)


def test_rmsprop_by_hand(xp):
    w1, s1, w2, s2 = _two_steps(xp, optim.rmsprop_update, rho=0.9)
    assert close(s1["r"], 0.025)  # 0.9·0 + 0.1·0.25
    assert close(w1, 0.68377225398)  # 1 − 0.1·0.5 / √0.025 = 1 − 0.316227766
    assert close(s2["r"], 0.02875)  # 0.9·0.025 + 0.1·0.0625
    assert close(w2, 0.53633030652)  # w1 − 0.025 / √0.02875 = w1 − 0.147441956


def test_adam_by_hand(xp):
    w = xp.asarray([W0])
    w1, s1 = optim.adam_update(w, xp.asarray([G1]), {}, lr=LR)
    assert s1["t"] == 1  # t is incremented before the update
    assert close(float(s1["m"][0]), 0.05)  # (1 − 0.9)·0.5
    assert close(float(s1["v"][0]), 0.00025)  # (1 − 0.999)·0.25
    # m̂ = 0.05 / 0.1 = 0.5, v̂ = 0.00025 / 0.001 = 0.25: w1 = 1 − 0.1·0.5 / (0.5 + 1e-8)
    assert close(float(w1[0]), 0.900000002)
    w2, s2 = optim.adam_update(w1, xp.asarray([G2]), s1, lr=LR)
    assert s2["t"] == 2
    assert close(float(s2["m"][0]), 0.07)  # 0.9·0.05 + 0.1·0.25
    assert close(float(s2["v"][0]), 0.00031225)  # 0.999·0.00025 + 0.001·0.0625
    # m̂ = 0.07 / 0.19 = 0.368421053, v̂ = 0.00031225 / 0.001999 = 0.156203102
    assert close(float(w2[0]), 0.80678204048)  # w1 − 0.1·0.368421053 / 0.395225381


def test_rules_accept_an_empty_state_and_vectors(xp, host):
    w = xp.asarray([[1.0, -2.0], [0.5, 3.0]])
    g = xp.asarray([[0.1, -0.2], [0.3, 0.0]])
    for rule, keys in ((optim.sgd_update, set()), (optim.momentum_update, {"v"}),
                       (optim.adagrad_update, {"r"}), (optim.rmsprop_update, {"r"}),
                       (optim.adam_update, {"m", "v", "t"})):
        new_w, state = rule(w, g, {}, 0.01)
        assert new_w.shape == w.shape and set(state) == keys, rule.__name__
        # a zero gradient leaves the weight where it is (no division by zero: δ > 0)
        assert host(new_w)[1, 1] == 3.0, rule.__name__
        assert np.isfinite(host(new_w)).all()


@pytest.mark.parametrize("g", [0.5, -0.5, 1e-3, -40.0])
def test_adam_first_step_is_about_lr_times_sign(xp, g):
    w1, _ = optim.adam_update(xp.asarray([2.0]), xp.asarray([g]), {}, lr=0.01)
    assert math.isclose(2.0 - float(w1[0]), 0.01 * math.copysign(1, g), rel_tol=1e-4)


def test_adagrad_steps_shrink_under_a_constant_gradient(xp):
    w, state, steps = xp.asarray([0.0]), {}, []
    for _ in range(6):
        new_w, state = optim.adagrad_update(w, xp.asarray([2.0]), state, 0.1)
        steps.append(float(w[0] - new_w[0]))
        w = new_w
    # r_k = 4k, step_k = 0.1·2 / √(4k) = 0.1 / √k
    np.testing.assert_allclose(steps, [0.1 / math.sqrt(k) for k in range(1, 7)], rtol=1e-7)
    assert all(a > b for a, b in zip(steps, steps[1:], strict=False))


def test_rmsprop_average_tends_to_g_squared(xp):
    w, state = xp.asarray([0.0]), {}
    for _ in range(300):
        w, state = optim.rmsprop_update(w, xp.asarray([3.0]), state, 0.01)
    # r_k = (1 − 0.9^k)·9, and 0.9^300 is about 2e-14
    assert math.isclose(float(state["r"][0]), 9.0, rel_tol=1e-10)


def test_momentum_terminal_step(xp):
    w, state = xp.asarray([0.0]), {}
    for _ in range(400):
        new_w, state = optim.momentum_update(w, xp.asarray([0.5]), state, 0.1, gamma=0.9)
        step, w = float(w[0] - new_w[0]), new_w
    assert math.isclose(step, 0.1 * 0.5 / (1 - 0.9), rel_tol=1e-9)  # = 0.5, ten plain steps


# --- schedules ------------------------------------------------------------------------------


def test_linear_decay_seed_004():
    assert math.isclose(optim.linear_decay(0, 0.1, 0.01, 100), 0.1)
    assert math.isclose(optim.linear_decay(50, 0.1, 0.01, 100), 0.055)  # ½·0.1 + ½·0.01
    assert math.isclose(optim.linear_decay(100, 0.1, 0.01, 100), 0.01)
    assert math.isclose(optim.linear_decay(250, 0.1, 0.01, 100), 0.01)
    schedule = optim.LinearDecay(0.1, 0.01, 100)
    assert [round(schedule(k), 12) for k in (0, 25, 50, 100, 101)] == \
        [0.1, 0.0775, 0.055, 0.01, 0.01]


# --- classes against the rules --------------------------------------------------------------

CLASSES = [
    (optim.SGD, optim.sgd_update, {}),
    (optim.Momentum, optim.momentum_update, {"gamma": 0.8}),
    (optim.AdaGrad, optim.adagrad_update, {"eps": 1e-8}),
    (optim.RMSProp, optim.rmsprop_update, {"rho": 0.95, "eps": 1e-8}),
    (optim.Adam, optim.adam_update, {"beta1": 0.85, "beta2": 0.99, "eps": 1e-8}),
]


@pytest.mark.parametrize("cls,rule,hyper", CLASSES, ids=[c[0].__name__ for c in CLASSES])
def test_classes_step_like_the_rules(xp, host, cls, rule, hyper):
    model = layers.Sequential(layers.Linear(3, 2, rng=0), layers.Tanh(), layers.Linear(2, 1, rng=1))
    params = model.parameters()
    expected = [host(p.data).copy() for p in params]
    states = [{} for _ in params]
    opt = cls(params, lr=0.05, **hyper)
    rng = np.random.default_rng(0)
    for step in range(3):
        grads = [rng.standard_normal(p.shape) for p in params]
        opt.zero_grad()
        assert all(p.grad is None for p in params)
        for p, g in zip(params, grads, strict=True):
            p.grad = xp.asarray(g)
        opt.step()
        for i, g in enumerate(grads):
            new, states[i] = rule(expected[i], g, states[i], 0.05, **hyper)
            expected[i] = new
            np.testing.assert_allclose(host(params[i].data), expected[i], rtol=1e-12,
                                       err_msg=f"{cls.__name__}, step {step + 1}, param {i}")


def test_optimizer_skips_parameters_without_gradients(xp, host):
    model = layers.Linear(2, 2, rng=0)
    before = host(model.b.data).copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.W.grad = xp.ones((2, 2))
    opt.step()
    np.testing.assert_array_equal(host(model.b.data), before)


def test_optimizer_needs_parameters():
    with pytest.raises(ValueError, match="no parameters"):
        optim.SGD([], lr=0.1)


@pytest.mark.parametrize("lr", [np.float32(0.5), np.float64(0.5), np.int64(1), 1])
def test_numpy_scalars_are_numbers_too(xp, host, lr):
    """A learning rate read from a NumPy array (a sweep, a float32 config) is a number."""
    w1, _ = optim.sgd_update(xp.asarray([1.0]), xp.asarray([0.5]), {}, lr)
    assert math.isclose(float(host(w1)[0]), 1 - float(lr) * 0.5, rel_tol=1e-6)
    w1, _ = optim.momentum_update(xp.asarray([1.0]), xp.asarray([0.5]), {}, 0.1,
                                  gamma=np.float32(0.5))
    assert math.isclose(float(host(w1)[0]), 0.95)
