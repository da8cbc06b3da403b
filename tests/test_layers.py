"""course_lib.layers: Linear / activations / Dropout / BatchNorm1d / Sequential against NumPy
formulas written here and an independent numerical gradient; initialisers; modes; summary()."""

import numpy as np
import pytest

from course_lib import backend, layers


def _rand(xp, shape, seed=0):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape))


def test_linear_forward_and_backward(xp, host):
    layer = layers.Linear(3, 2, rng=0)
    W = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 1.0]])
    b = np.array([0.1, -0.2])
    layer.W.data, layer.b.data = xp.asarray(W), xp.asarray(b)
    X = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_allclose(host(layer(xp.asarray(X))), X @ W + b, rtol=1e-12)
    dout = np.random.default_rng(2).standard_normal((4, 2))
    dX = layer.backward(xp.asarray(dout))
    np.testing.assert_allclose(host(dX), dout @ W.T, rtol=1e-12)
    np.testing.assert_allclose(host(layer.W.grad), X.T @ dout, rtol=1e-12)
    np.testing.assert_allclose(host(layer.b.grad), dout.sum(axis=0), rtol=1e-12)
    # backward never touches the weights (that is the optimizer's job)
    np.testing.assert_array_equal(host(layer.W.data), W)


# standard deviations for a 400 -> 300 layer, worked out by hand from each paper's rule
@pytest.mark.parametrize("init,std", [("plain", 0.01), ("lecun", (1 / 400) ** 0.5),
                                      ("xavier", (2 / 700) ** 0.5), ("he", (2 / 400) ** 0.5)])
def test_initialisers(xp, host, init, std):
    layer = layers.Linear(400, 300, init=init, rng=0)
    W = host(layer.W.data)
    assert abs(W.mean()) < 0.01 * std
    assert abs(W.std() / std - 1) < 0.01, f"{init}: std {W.std():.4g} vs {std:.4g}"
    assert (host(layer.b.data) == 0).all()
    assert backend.get_array_module(layer.W.data) is xp


def test_same_seed_same_network_on_every_backend(backend_name, host):
    here = host(layers.Linear(5, 4, rng=3).W.data)
    again = host(layers.Linear(5, 4, rng=3).W.data)
    np.testing.assert_array_equal(here, again)
    assert not np.array_equal(here, host(layers.Linear(5, 4, rng=4).W.data))
    backend.use("numpy")
    try:
        on_cpu = layers.Linear(5, 4, rng=3).W.data
    finally:
        backend.use(backend_name)
    np.testing.assert_array_equal(here, on_cpu)


def test_linear_rejects_unknown_init():
    with pytest.raises(ValueError, match="init"):
        layers.Linear(2, 2, init="glorot-ish")


@pytest.mark.parametrize("layer,formula", [
    (layers.Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
    (layers.Tanh(), np.tanh),
    (layers.ReLU(), lambda z: np.maximum(z, 0)),
    (layers.LeakyReLU(0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    (layers.Identity(), lambda z: z),
], ids=["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_activation_layers(xp, host, num_grad, grad_close, layer, formula):
    z = np.random.default_rng(0).standard_normal((5, 4))
    z = np.sign(z) * (0.1 + np.abs(z))  # away from ReLU's kink
    np.testing.assert_allclose(host(layer(xp.asarray(z))), formula(z), rtol=1e-12)
    dout = _rand(xp, (5, 4), 1)
    layer(xp.asarray(z))
    grad_close(type(layer).__name__, layer.backward(dout),
               num_grad(lambda v: (layer.forward(v) * dout).sum(), xp.asarray(z)))


def test_dropout_layer_modes(xp, host):
    layer = layers.Dropout(0.5, rng=0)
    x = xp.ones((50, 40))
    out = host(layer(x))
    assert set(np.unique(out)) == {0.0, 2.0}
    np.testing.assert_array_equal(host(layer.backward(xp.ones((50, 40)))), out)  # same mask
    layer.eval()
    np.testing.assert_array_equal(host(layer(x)), host(x))


def test_batchnorm_layer_train_then_eval(xp, host):
    layer = layers.BatchNorm1d(3)
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(16, 3))
    out = host(layer(xp.asarray(x)))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    rm, rv = 0.1 * x.mean(axis=0), 0.9 + 0.1 * x.var(axis=0)
    np.testing.assert_allclose(host(layer.state["running_mean"]), rm, rtol=1e-12)
    np.testing.assert_allclose(host(layer.state["running_var"]), rv, rtol=1e-12)
    layer.eval()
    one = x[:1]
    np.testing.assert_allclose(host(layer(xp.asarray(one))), (one - rm) / np.sqrt(rv + 1e-5),
                               rtol=1e-12)


def test_sequential_modes_and_parameters(xp):
    model = layers.Sequential(layers.Linear(4, 3), layers.BatchNorm1d(3), layers.ReLU(),
                              layers.Dropout(0.2), layers.Linear(3, 1))
    assert len(model.parameters()) == 6  # W, b, gamma, beta, W, b
    model.eval()
    assert not any(layer.training for layer in model.layers)
    model.train()
    assert all(layer.training for layer in model.layers)
    assert set(model.buffers()) == {"1.running_mean", "1.running_var"}
    with pytest.raises(TypeError, match="not a layer"):
        layers.Sequential(layers.ReLU(), "relu")


def test_sequential_gradients_against_numerical(xp, host, num_grad, grad_close):
    """A whole float64 network with batch norm: every parameter and the input gradient."""
    model = layers.Sequential(layers.Linear(4, 5, rng=0), layers.BatchNorm1d(5), layers.Tanh(),
                              layers.Linear(5, 3, rng=1), layers.Sigmoid(),
                              layers.Linear(3, 2, rng=2))
    model[1].gamma.data = xp.asarray([0.5, 1.5, 2.0, 1.0, 0.8])
    model[1].beta.data = xp.asarray([0.1, -0.2, 0.0, 0.3, 0.5])
    X, dout = _rand(xp, (6, 4), 3), _rand(xp, (6, 2), 4)

    def J(_=None):
        model[1].state = {}  # running statistics do not enter the training-mode output
        return (model.forward(X) * dout).sum()

    J()
    dX = model.backward(dout)
    grad_close("dX", dX, num_grad(lambda v: (model.forward(v) * dout).sum(), X))
    for i, layer in enumerate(model.layers):
        for p in layer.parameters():
            analytic = host(p.grad).copy()
            original = p.data

            def J_of(v, p=p):
                p.data = v
                return J()

            numeric = num_grad(J_of, original)
            p.data = original
            if i == 0 and p.name == "b":
                # batch norm subtracts the batch mean, cancelling the bias before it: the true
                # gradient is 0 and both estimates are rounding noise
                assert np.abs(analytic).max() < 1e-12 and np.abs(numeric).max() < 1e-9
                continue
            grad_close(f"layer {i} {p.name}", analytic, numeric)


def test_mlp_builder(xp):
    model = layers.mlp([2, 8, 8, 1], "tanh", batchnorm=True, dropout=0.1,
                       output_activation="sigmoid", rng=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d", "Tanh",
                     "Dropout", "Linear", "Sigmoid"]
    assert [(layer.in_features, layer.out_features) for layer in model.layers
            if isinstance(layer, layers.Linear)] == [(2, 8), (8, 8), (8, 1)]


# --- summary --------------------------------------------------------------------------------


def _seed_004_model():
    return layers.Sequential(
        layers.Linear(20, 64), layers.BatchNorm1d(64), layers.ReLU(), layers.Dropout(0.3),
        layers.Linear(64, 32), layers.BatchNorm1d(32), layers.ReLU(), layers.Dropout(0.3),
        layers.Linear(32, 1),
    )


def test_summary_seed_004(xp):
    lines = []
    counts = _seed_004_model().summary(print_fn=lines.append)
    # Dense 20→64: 1,344; BN 64: 256; Dense 64→32: 2,080; BN 32: 128; Dense 32→1: 33
    assert counts == {"total": 3841, "trainable": 3649, "non_trainable": 192}
    text = "\n".join(lines)
    for figure in ("3,841", "3,649", "192", "1,344", "2,080", "256", "128", "33"):
        assert figure in text, f"{figure} missing from the summary:\n{text}"
    assert "(None, 64)" in text and "(None, 1)" in text


def test_summary_prints_by_default(xp, capsys):
    _seed_004_model().summary()
    out = capsys.readouterr().out
    assert "Total params: 3,841" in out
    assert "Trainable params: 3,649" in out
    assert "Non-trainable params: 192" in out


def test_a_lone_batchnorm_has_256_parameters(xp):
    layer = layers.BatchNorm1d(64)
    assert sum(p.size for p in layer.parameters()) == 128  # γ and β: trainable
    assert sum(int(v.size) for v in layer.buffers().values()) == 128  # running mean, variance
    counts = layers.Sequential(layer).summary(input_features=64, print_fn=lambda *_: None)
    assert counts == {"total": 256, "trainable": 128, "non_trainable": 128}


def test_state_dict_round_trip(xp, host):
    model = layers.mlp([3, 4, 2], batchnorm=True, rng=0)
    model.forward(_rand(xp, (5, 3), 1))  # moves the running statistics
    saved = model.state_dict()
    before = [host(p.data).copy() for p in model.parameters()]
    stats = host(model[1].state["running_mean"]).copy()
    for p in model.parameters():
        p.data = p.data * 0 + 7
    model.forward(_rand(xp, (5, 3), 2))
    model.load_state_dict(saved)
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(host(p.data), b)
    np.testing.assert_array_equal(host(model[1].state["running_mean"]), stats)


def test_state_dict_round_trip_with_a_nested_sequential(xp, host):
    block = layers.Sequential(layers.Linear(3, 4, rng=0), layers.BatchNorm1d(4))
    model = layers.Sequential(block, layers.Tanh(), layers.Linear(4, 1, rng=1))
    model.forward(_rand(xp, (5, 3), 1))
    saved = model.state_dict()
    stats = host(block[1].state["running_mean"]).copy()
    model.forward(_rand(xp, (5, 3), 2) + 3)
    assert not np.array_equal(host(block[1].state["running_mean"]), stats)
    model.load_state_dict(saved)
    np.testing.assert_array_equal(host(block[1].state["running_mean"]), stats)
