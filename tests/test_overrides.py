"""course_lib.using / overrides.fallback: the learner's functions run inside the scope, and a
broken one is reported in one sentence naming it while the reference takes over."""

import numpy as np
import pytest

import course_lib
from course_lib import datasets, layers, optim, overrides, train
from course_lib import functional as F
from course_lib.lessons import xor


@pytest.fixture(autouse=True)
def _fresh_reports():
    """Each report is printed once per session; start every test with none made."""
    overrides.messages.clear()
    yield
    overrides.messages.clear()


def _counting(fn):
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)

    wrapper.calls = 0
    wrapper.__name__ = fn.__name__
    return wrapper


def _data(xp):
    X, y = course_lib.datasets.or_gate()
    return xp.asarray(X), xp.asarray(y)


def _net():
    return layers.Sequential(layers.Linear(2, 3, rng=0), layers.Sigmoid(), layers.Linear(3, 1, rng=1),
                             layers.Sigmoid())


def _sentences(out):
    return [line for line in out.splitlines() if line.strip()]


def test_layers_use_the_learners_function_inside_the_scope(xp, host):
    mine = _counting(F.sigmoid_forward)
    model, X = _net(), _data(xp)[0]
    with course_lib.using(sigmoid_forward=mine):
        inside = host(model.forward(X))
        assert mine.calls == 2  # two Sigmoid layers
        assert overrides.active() == {"sigmoid_forward": mine}
    model.forward(X)
    assert mine.calls == 2, "outside the scope the reference is used again"
    np.testing.assert_allclose(inside, host(model.forward(X)))


def test_the_learners_result_is_what_the_layer_returns(xp, host):
    def half_sigmoid(z):  # right shape, different values: proves the learner's output is used
        out, cache = F.sigmoid_forward(z)
        return out / 2, cache

    with course_lib.using(sigmoid_forward=half_sigmoid):
        out = host(layers.Sigmoid().forward(xp.zeros((2, 2))))
    np.testing.assert_allclose(out, 0.25)


def _unfinished(z):
    raise NotImplementedError


def test_unimplemented_override_is_reported_and_training_goes_on(xp, capsys, one_sentence):
    X, y = _data(xp)
    model = _net()
    with course_lib.using(sigmoid_forward=_unfinished):
        history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=2.0),
                            X, y, num_epochs=200, batch_size=None, progress=False)
    lines = _sentences(capsys.readouterr().out)
    assert len(lines) == 1, lines
    one_sentence(lines[0], "sigmoid_forward", "not implemented")
    assert history["loss"][-1] < history["loss"][0], "the reference trained the network"


def test_wrong_shape_override_is_reported(xp, host, capsys, one_sentence):
    def transposed(z):
        out, cache = F.sigmoid_forward(z)
        return out.T, cache

    z = xp.asarray(np.random.default_rng(0).standard_normal((4, 3)))
    with course_lib.using(sigmoid_forward=transposed):
        out = host(layers.Sigmoid().forward(z))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out, host(F.sigmoid_forward(z)[0]))
    lines = _sentences(capsys.readouterr().out)
    assert len(lines) == 1, lines
    one_sentence(lines[0], "sigmoid_forward", "(3, 4)", "(4, 3)")


def test_override_that_raises_is_reported(xp, capsys, one_sentence):
    def broken(dout, cache):
        return dout @ cache  # a shape error from NumPy

    model, X = _net(), _data(xp)[0]
    with course_lib.using(sigmoid_backward=broken):
        model.forward(X)
        dx = model.backward(xp.ones((4, 1)))
    assert dx.shape == (4, 2)
    lines = _sentences(capsys.readouterr().out)
    assert len(lines) == 1
    one_sentence(lines[0], "sigmoid_backward")


def test_nested_scopes(xp):
    outer, inner = _counting(F.relu_forward), _counting(F.relu_forward)
    layer, z = layers.ReLU(), xp.ones((2, 2))
    with course_lib.using(relu_forward=outer):
        layer.forward(z)
        with course_lib.using(relu_forward=inner):
            layer.forward(z)
            layer.forward(z)
        layer.forward(z)
    layer.forward(z)
    assert (outer.calls, inner.calls) == (2, 2)
    assert overrides.active() == {}


def test_optimizer_and_loss_overrides(xp):
    rule = _counting(optim.sgd_update)
    loss = _counting(course_lib.losses.half_squared_error)
    X, y = _data(xp)
    model = _net()
    with course_lib.using(sgd_update=rule, half_squared_error=loss):
        train.fit(model, course_lib.losses.half_squared_error,
                  optim.SGD(model.parameters(), lr=0.1), X, y, num_epochs=3, batch_size=None,
                  progress=False)
    assert rule.calls == 3 * 4  # 3 steps × 4 parameters
    assert loss.calls == 3


def test_override_state_is_the_learners(xp, host):
    """The first call is compared with the reference on a copy: the learner's state dict and
    the batch-norm running statistics are updated once, by the learner's function."""
    calls = []

    def mine(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
        calls.append(1)
        return F.batchnorm_forward(x, gamma, beta, state, training, eps, momentum)

    layer = layers.BatchNorm1d(2)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    with course_lib.using(batchnorm_forward=mine):
        layer.forward(xp.asarray(x))
    np.testing.assert_allclose(host(layer.state["running_mean"]), 0.1 * x.mean(axis=0))
    assert len(calls) == 1


def test_unknown_name_raises():
    with pytest.raises(KeyError, match="sigmoid_forwards"):
        with course_lib.using(sigmoid_forwards=F.sigmoid_forward):
            pass
    with pytest.raises(TypeError, match="sigmoid_forward"):
        with course_lib.using(sigmoid_forward=42):
            pass
    assert overrides.active() == {}


def test_none_is_ignored():
    with course_lib.using(sigmoid_forward=None):
        assert overrides.active() == {}


# --- fallback -------------------------------------------------------------------------------


def _reference_forward(X):
    return X * 2


def test_fallback_uses_a_working_function(xp, host, capsys):
    mine = _counting(lambda X: X + X)
    fn = overrides.fallback(mine, _reference_forward, name="forward")
    np.testing.assert_allclose(host(fn(xp.ones(3))), 2.0)
    fn(xp.ones(3))
    assert mine.calls == 2
    assert capsys.readouterr().out == ""


def test_fallback_reports_unimplemented(xp, host, capsys, one_sentence):
    def forward(X):
        raise NotImplementedError

    fn = overrides.fallback(forward, _reference_forward)
    np.testing.assert_allclose(host(fn(xp.ones(3))), 2.0)
    np.testing.assert_allclose(host(fn(xp.ones(2))), 2.0)
    lines = _sentences(capsys.readouterr().out)
    assert len(lines) == 1
    one_sentence(lines[0], "forward", "not implemented")


def test_fallback_reports_a_wrong_shape(xp, host, capsys, one_sentence):
    def forward(X):
        return X.sum(axis=0)

    fn = overrides.fallback(forward, _reference_forward, name="network_forward")
    np.testing.assert_allclose(host(fn(xp.ones((4, 2)))), 2.0)
    lines = _sentences(capsys.readouterr().out)
    assert len(lines) == 1
    one_sentence(lines[0], "network_forward", "(2,)", "(4, 2)")


# --- fallback(in_place=True) -------------------------------------------------------------------------


def _reference_sum(values, scale=1.0):
    return scale * sum(values)


def test_fallback_in_place_uses_the_learners_result_when_it_works(capsys):
    """A working learner's function is called and nothing is printed."""
    got = overrides.fallback(lambda values, scale=1.0: -1.0, _reference_sum, in_place=True)([1, 2], scale=2.0)
    assert got == -1.0
    assert capsys.readouterr().out == ""


def test_fallback_in_place_falls_back_with_one_sentence(capsys, one_sentence):
    """Not implemented yet → the reference's answer and one sentence naming the function."""
    def my_sum(values, scale=1.0):
        raise NotImplementedError

    assert overrides.fallback(my_sum, _reference_sum, in_place=True)([1, 2], scale=2.0) == 6.0
    out = capsys.readouterr().out.strip()
    one_sentence(out, "my_sum", "not implemented yet", "reference")


def test_fallback_in_place_restores_what_the_learner_changed(capsys, one_sentence):
    """A learner that changes the model and a list argument, then fails: the reference gets the
    starting weights and the starting list, so its result is the reference's alone."""
    X, y = datasets.xor()

    def broken_train(model, X, y, lr=1.0, num_epochs=5, log=None):
        for p in model.parameters():
            p.data = p.data + 100.0
        log.append("changed")
        raise ValueError("shapes do not match")

    def reference(model, X, y, lr=1.0, num_epochs=5, log=None):
        return xor.train_network(model, X, y, lr=lr, num_epochs=num_epochs), list(log)

    net = xor.khan_network()
    costs, log = overrides.fallback(broken_train, reference, "train_network", in_place=True)(
        net, X, y, num_epochs=5, log=[])
    expected = xor.train_network(xor.khan_network(), X, y, lr=1.0, num_epochs=5)
    assert np.allclose(costs, expected), "the reference did not start from the original weights"
    assert log == [], "the reference saw the learner's change to a list argument"
    one_sentence(capsys.readouterr().out.strip(), "train_network", "ValueError")
