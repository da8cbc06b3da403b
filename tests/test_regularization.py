"""course_lib.regularization (notebook 07's L2 for fit) and checks.check_equal (exact values in
the checks of notebooks 07 and 08)."""

import numpy as np
import pytest

from course_lib import checks, layers, optim, regularization, train


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


def test_overfit_run_overfits_and_l2_helps():
    _, plain = regularization.overfit_run(num_epochs=300)
    _, l2 = regularization.overfit_run(num_epochs=300, l2=0.003)
    assert plain["loss"][-1] < 0.05 and plain["val_loss"][-1] > 2 * min(plain["val_loss"])
    assert l2["val_loss"][-1] < 0.6 * plain["val_loss"][-1]
    (X, y), (X_val, y_val) = regularization.noisy_data("circles", seed=1)
    assert X.shape == (60, 2) and y.shape == (60, 1) and X_val.shape == (150, 2)
    with pytest.raises(ValueError, match="dataset"):
        regularization.noisy_data("spirals")


def test_overfit_run_matches_plain_fit_without_regularization():
    (X, y), validation = regularization.noisy_data("moons", seed=0)
    net = layers.mlp([2, 32, 32, 1], "relu", rng=0, output_activation="sigmoid")
    history = train.fit(net, "binary_cross_entropy", optim.Adam(net.parameters(), lr=0.01), X, y,
                        num_epochs=20, batch_size=None, validation=validation, progress=False)
    _, again = regularization.overfit_run(num_epochs=20)
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
