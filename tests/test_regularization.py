"""course_lib.regularization (notebook 07's L2 for fit) and checks.check_equal (exact values in
the checks of notebooks 07 and 08)."""

import numpy as np
import pytest

from course_lib import checks, layers, optim, regularization, train
from course_lib.lessons import overfitting


def test_l2_penalty_seed000():
    penalty, grad = regularization.l2_penalty(np.array([0.3, 0.1, 6.0]), 1.0)
    assert penalty == pytest.approx(36.1)
    assert np.allclose(grad, [0.6, 0.2, 12.0])
    assert regularization.l2_penalty(np.array([0.3, 0.1, 6.0]), 0.01)[0] == pytest.approx(0.361)


def test_weight_matrices_leave_out_biases_and_batchnorm():
    net = layers.Sequential(layers.mlp([2, 3, 1], batchnorm=True, rng=0),
                            layers.Linear(1, 2, rng=1))
    weights = regularization.weight_matrices(net)
    assert [w.shape for w in weights] == [(2, 3), (3, 1), (1, 2)]
    assert all(w.name == "W" for w in weights)


def test_l2_wrapper_adds_2_lambda_w_then_steps():
    net = layers.mlp([2, 3, 1], rng=0)
    before = [p.data.copy() for p in net.parameters()]
    opt = regularization.L2(optim.SGD(net.parameters(), lr=0.5), net, lam=0.1)
    for p in net.parameters():
        p.grad = np.zeros_like(p.data)
    opt.step()
    for p, old in zip(net.parameters(), before, strict=True):
        expected = old * (1 - 2 * 0.5 * 0.1) if p.name == "W" else old  # biases untouched
        assert np.allclose(p.data, expected)
    opt.lr = 0.2
    assert opt.optimizer.lr == 0.2
    assert opt.penalty() == pytest.approx(0.1 * sum(float((w.data ** 2).sum())
                                                    for w in regularization.weight_matrices(net)))


def test_l2_wrapper_uses_the_given_penalty_and_refuses_bad_lambda():
    net = layers.mlp([2, 2, 1], rng=0)
    calls = []

    def penalty(W, lam):
        calls.append(W.shape)
        return lam * float((W * W).sum()), 2 * lam * W

    opt = regularization.L2(optim.SGD(net.parameters(), lr=0.1), net, 0.01, penalty=penalty)
    for p in net.parameters():
        p.grad = np.zeros_like(p.data)
    opt.step()
    assert calls == [(2, 2), (2, 1)]
    for bad in (-1.0, float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="lam"):
            regularization.L2(optim.SGD(net.parameters(), lr=0.1), net, bad)


def test_l2_penalty_gradient_matches_centred_difference(xp, num_grad, grad_close, host):
    """2λW is the gradient of λ Σ W², for a matrix, on every backend."""
    W = xp.asarray(np.random.default_rng(0).normal(size=(3, 2)))
    value, dW = regularization.l2_penalty(W, 0.3)
    assert float(value) == pytest.approx(0.3 * float((host(W) ** 2).sum()))
    grad_close("l2_penalty", dW, num_grad(lambda w: regularization.l2_penalty(w, 0.3)[0], W))


def test_l2_wrapper_steps_down_the_regularized_objective(num_grad, grad_close):
    """After a backward pass of the data loss J, one L2(SGD, lr=1) step moves every parameter by
    the centred-difference gradient of J + λ Σ W² (weights penalised, biases not)."""
    from course_lib import losses

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    net = layers.mlp([2, 3, 1], "tanh", rng=0)
    lam = 0.05
    weights = regularization.weight_matrices(net)

    def objective():
        data = float(losses.half_squared_error(net.forward(X), y)[0])
        return data + lam * sum(float((W.data ** 2).sum()) for W in weights)

    def objective_of(p):
        old = p.data.copy()

        def f(x):
            p.data = x
            value = objective()
            p.data = old
            return value
        return f

    numeric = [num_grad(objective_of(p), p.data) for p in net.parameters()]
    opt = regularization.L2(optim.SGD(net.parameters(), lr=1.0), net, lam)
    opt.zero_grad()
    net.backward(losses.half_squared_error(net.forward(X), y)[1])
    before = [p.data.copy() for p in net.parameters()]
    opt.step()
    for p, old, n in zip(net.parameters(), before, numeric, strict=True):
        grad_close(f"L2 step on {p.name}", old - p.data, n)


def test_l2_uses_the_l2_penalty_in_scope():
    """Without penalty=, L2 steps with the l2_penalty in force: the learner's inside using."""
    import course_lib

    calls = []

    def l2_penalty(W, lam):
        calls.append(W.shape)
        return lam * (W * W).sum(), 2 * lam * W

    net = layers.mlp([2, 3, 1], rng=0)
    opt = regularization.L2(optim.SGD(net.parameters(), lr=0.1), net, 0.01)
    for p in net.parameters():
        p.grad = np.zeros_like(p.data)
    with course_lib.using(l2_penalty=l2_penalty):
        opt.step()
        assert opt.penalty() > 0
    assert calls[:2] == [(2, 3), (3, 1)], "called once per weight matrix, biases left out"
    calls.clear()
    opt.step()
    assert calls == [], "outside the scope the reference is used"


def test_l2_refuses_in_one_sentence(one_sentence):
    """A negative λ and a model without weight matrices are each refused in one sentence."""
    net = layers.mlp([2, 2, 1], rng=0)
    with pytest.raises(ValueError) as err:
        regularization.L2(optim.SGD(net.parameters(), lr=0.1), net, -1.0)
    one_sentence(str(err.value), "lam", "-1.0")
    with pytest.raises(ValueError) as err:
        regularization.L2(optim.SGD(net.parameters(), lr=0.1), layers.Sigmoid(), 0.1)
    one_sentence(str(err.value), "weight matrix")
    assert regularization.weight_matrices(layers.Sigmoid()) == []


def test_overfit_run_overfits_and_l2_helps():
    _, plain = overfitting.overfit_run(num_epochs=300)
    _, l2 = overfitting.overfit_run(num_epochs=300, l2=0.003)
    assert plain["loss"][-1] < 0.05 and plain["val_loss"][-1] > 2 * min(plain["val_loss"])
    assert l2["val_loss"][-1] < 0.6 * plain["val_loss"][-1]
    (X, y), (X_val, y_val) = overfitting.noisy_data("circles", seed=1)
    assert X.shape == (60, 2) and y.shape == (60, 1) and X_val.shape == (150, 2)
    with pytest.raises(ValueError, match="dataset"):
        overfitting.noisy_data("spirals")


def test_overfit_run_matches_plain_fit_without_regularization():
    (X, y), validation = overfitting.noisy_data("moons", seed=0)
    net = layers.mlp([2, 32, 32, 1], "relu", rng=0, output_activation="sigmoid")
    history = train.fit(net, "binary_cross_entropy", optim.Adam(net.parameters(), lr=0.01), X, y,
                        num_epochs=20, batch_size=None, validation=validation, progress=False)
    _, again = overfitting.overfit_run(num_epochs=20)
    assert np.allclose(history["val_loss"], again["val_loss"])


def test_check_equal():
    assert checks.check_equal("f", (np.int64(3), None), (3, None)) == (3, None)
    assert checks.check_equal("f", {"total": np.int32(5)}, {"total": 5}) == {"total": 5}
    with pytest.raises(checks.CheckFailed, match="off by one") as failure:
        checks.check_equal("f", (4, 2), (3, 2), mistakes=[((4, 2), "off by one")])
    assert "(3, 2)" not in str(failure.value), "the expected value is never printed"
    for got, expected in [(3.0, 3), (True, 1), ((3,), 3), ([1, None], (1, 2)), ({"a": 1}, {"b": 1})]:
        with pytest.raises(checks.CheckFailed):
            checks.check_equal("f", got, expected)
