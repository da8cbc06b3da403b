"""course_lib.train: seed 003's worked numbers, XOR to 100 %, mini-batching, validation, early
stopping (the pure rule and the callback) and the clear stop when the loss stops being a number.

Seed 003's figures are the article's; the fit mechanics are checked by watching what the model
is fed (a recording layer) and what the schedule is asked for, not by re-running fit's code."""

import math
import re
import warnings

import numpy as np
import pytest

from course_lib import datasets, layers, optim, train

OR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
OR_Y = np.array([[0.0], [1.0], [1.0], [1.0]])


def _seed_003_neuron(xp):
    """One sigmoid neuron, w = [0.1, 0.6], b = 0 (seed 003's W (1×2) is our W.T)."""
    model = layers.Sequential(layers.Linear(2, 1), layers.Sigmoid())
    model[0].W.data = xp.asarray([[0.1], [0.6]])
    model[0].b.data = xp.asarray([0.0])
    return model


def _cost(model, X, y):
    return float(train.losses.half_squared_error(model.forward(X), y)[0])


def test_or_gate_is_the_truth_table():
    X, y = datasets.or_gate()
    np.testing.assert_array_equal(X, OR_X)
    np.testing.assert_array_equal(np.asarray(y).reshape(4, 1), OR_Y)


def test_seed_003_first_two_steps(xp, host):
    X, y = xp.asarray(OR_X), xp.asarray(OR_Y)
    model = _seed_003_neuron(xp)
    opt = optim.SGD(model.parameters(), lr=1.0)  # α = 1
    assert abs(_cost(model, X, y) - 0.0889) < 5e-5  # seed 003 Fig 43: 0.089

    def step():
        opt.zero_grad()
        _, grad = train.losses.half_squared_error(model.forward(X), y)
        model.backward(grad)

    step()
    opt.step()
    assert abs(_cost(model, X, y) - 0.0840) < 5e-5  # seed 003 Fig 47: 0.084
    step()  # second step's gradients, "rounded to 3 decimal places: [-0.044, -0.035], [-0.031]"
    np.testing.assert_allclose(host(model[0].W.grad).ravel(), [-0.0443, -0.0350], atol=5e-5)
    np.testing.assert_allclose(host(model[0].b.grad), [-0.0313], atol=5e-5)


def test_seed_003_through_fit(xp):
    X, y = xp.asarray(OR_X), xp.asarray(OR_Y)
    model = _seed_003_neuron(xp)
    history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=1.0), X, y,
                        num_epochs=1, batch_size=None, progress=False)
    assert abs(history["loss"][0] - 0.0889) < 5e-5  # the cost the epoch started from
    assert abs(_cost(model, X, y) - 0.0840) < 5e-5


def test_seed_003_after_5000_epochs(xp):
    X, y = xp.asarray(OR_X), xp.asarray(OR_Y)
    model = _seed_003_neuron(xp)
    history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=1.0), X, y,
                        num_epochs=5000, batch_size=None, progress=False)
    assert len(history["loss"]) == 5000
    cost = _cost(model, X, y)
    assert abs(cost - 0.00053) < 5e-6, f"cost {cost:.6f} after 5000 epochs, seed 003 says ~0.0005"
    assert train.accuracy(model, X, y) == 1.0


def test_xor_reaches_100_percent(xp):
    X, y = datasets.xor()
    X, y = xp.asarray(X), xp.asarray(y)
    model = layers.mlp([2, 3, 1], "tanh", init="lecun", rng=0, output_activation="sigmoid")
    history = train.fit(model, "binary_cross_entropy", optim.Adam(model.parameters(), lr=0.05),
                        X, y, num_epochs=1000, batch_size=None, progress=False)
    assert train.accuracy(model, X, y) == 1.0, f"XOR accuracy after training: {history}"
    assert history["accuracy"][-1] == 1.0
    assert history["loss"][-1] < 0.1


# --- mini-batches ---------------------------------------------------------------------------


class _Recorder(layers.Module):
    """Identity that remembers the first feature of every training batch it sees."""

    def __init__(self):
        self.batches = []

    def forward(self, x):
        if self.training:
            self.batches.append(np.asarray(train.backend.to_numpy(x))[:, 0].copy())
        return x

    def backward(self, dout):
        return dout


def _recorded_fit(xp, seed, N=10, batch_size=4, num_epochs=3, lr_schedule=None):
    recorder = _Recorder()
    model = layers.Sequential(recorder, layers.Linear(1, 1, rng=0))
    X = xp.asarray(np.arange(N, dtype=float).reshape(-1, 1))  # the feature is the row number
    y = xp.asarray(np.zeros((N, 1)))
    history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=0.001), X,
                        y, num_epochs=num_epochs, batch_size=batch_size, seed=seed,
                        progress=False, lr_schedule=lr_schedule)
    return recorder.batches, history


def test_every_epoch_is_a_fresh_shuffle_with_a_short_last_batch(xp):
    batches, _ = _recorded_fit(xp, seed=0)
    assert [len(b) for b in batches] == [4, 4, 2] * 3  # ⌈10 / 4⌉ = 3 iterations per epoch
    epochs = [np.concatenate(batches[i:i + 3]) for i in (0, 3, 6)]
    for order in epochs:
        assert sorted(order) == list(range(10)), "each epoch sees every example exactly once"
    assert len({tuple(order) for order in epochs}) == 3, "the order changes every epoch"
    assert any(list(order) != list(range(10)) for order in epochs)


def test_shuffling_is_seeded(xp):
    a, history_a = _recorded_fit(xp, seed=1)
    b, history_b = _recorded_fit(xp, seed=1)
    c, history_c = _recorded_fit(xp, seed=2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert history_a["loss"] == history_b["loss"]
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert history_a["loss"] != history_c["loss"]


def test_one_iteration_per_mini_batch(xp):
    asked = []

    def schedule(k):
        asked.append(k)
        return 0.001

    _recorded_fit(xp, seed=0, lr_schedule=schedule)
    assert asked == list(range(9))  # 3 epochs × 3 iterations, the short batch included
    asked.clear()
    _recorded_fit(xp, seed=0, N=8, batch_size=None, num_epochs=4, lr_schedule=schedule)
    assert asked == [0, 1, 2, 3]  # full batch: one iteration per epoch


def test_fit_uses_the_schedule(xp):
    model = layers.Sequential(layers.Linear(1, 1, rng=0))
    opt = optim.SGD(model.parameters(), lr=0.1)
    X, y = xp.asarray([[1.0], [2.0]]), xp.asarray([[1.0], [2.0]])
    train.fit(model, "mse", opt, X, y, num_epochs=3, batch_size=None, progress=False,
              lr_schedule=optim.LinearDecay(0.1, 0.01, 100))
    assert math.isclose(opt.lr, 0.1 * (1 - 2 / 100) + 0.01 * 2 / 100)  # k = 2 was the last


def test_validation_is_recorded(xp):
    X, y = datasets.xor()
    X, y = xp.asarray(X), xp.asarray(y)
    model = layers.mlp([2, 4, 1], "tanh", rng=0, output_activation="sigmoid")
    history = train.fit(model, "binary_cross_entropy", optim.Adam(model.parameters(), lr=0.01),
                        X, y, num_epochs=7, batch_size=2, validation=(X, y), progress=False)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == [1, 2, 3, 4, 5, 6, 7]
    assert all(len(v) == 7 for v in history.history.values())
    # the last validation loss is the BCE of the trained model, computed here by hand
    model.eval()
    p = np.asarray(train.backend.to_numpy(model.forward(X)))
    t = np.asarray(train.backend.to_numpy(y))
    bce = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert math.isclose(history["val_loss"][-1], bce, rel_tol=1e-9)
    assert history["val_accuracy"][-1] == np.mean((p > 0.5) == (t > 0.5))


def test_progress_bar(xp, capsys):
    model = layers.Sequential(layers.Linear(1, 1, rng=0))
    X = xp.asarray([[1.0], [2.0]])
    train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.01), X, X, num_epochs=3,
              progress=True)
    out = capsys.readouterr().out
    assert "Epoch 3/3" in out and "loss" in out


# --- early stopping -------------------------------------------------------------------------


@pytest.mark.parametrize("values,patience,min_delta,expected", [
    ([1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.5], 3, 0.0, (5, 2)),  # three worse in a row
    ([1.0, 0.9, 0.9, 0.9, 0.9], 3, 0.0, (4, 1)),  # ties are no improvement
    ([1.0, 0.9, 0.9, 0.85, 0.9, 0.9], 3, 0.0, (None, 3)),  # the wait restarts at 0.85
    ([3.0, 2.0, 1.0], 1, 0.0, (None, 2)),  # always improving
    ([1.0, 1.0], 1, 0.0, (1, 0)),
    # min_delta 0.1: 0.95 and 0.92 improve by less than 0.1, 0.85 by more than 0.1
    ([1.0, 0.95, 0.92, 0.85, 0.8, 0.79], 2, 0.1, (2, 0)),
    ([1.0, 0.95, 0.85, 0.8, 0.79, 0.78], 2, 0.1, (4, 2)),
    ([], 2, 0.0, (None, None)),
])
def test_early_stopping_rule(values, patience, min_delta, expected):
    assert train.early_stopping(values, patience, min_delta) == expected


def _my_early_stopping(values, patience, min_delta):
    """The rule as CONVENTIONS.md states it, written independently of course_lib."""
    best, best_at, since = float("inf"), None, 0
    for i, v in enumerate(values):
        if best - v > min_delta:
            best, best_at, since = v, i, 0
        else:
            since += 1
            if since == patience:
                return i, best_at
    return None, best_at


class _Snapshots(train.Callback):
    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, epoch, logs, model):
        self.weights[epoch] = [np.array(train.backend.to_numpy(p.data)) for p in model.parameters()]
        return False


def _overfitting_run(xp, patience, min_delta=0.0, restore=True):
    """Training pulls w towards 2, validation wants w = 1: the val loss falls, then rises."""
    model = layers.Sequential(layers.Linear(1, 1))
    model[0].W.data, model[0].b.data = xp.zeros((1, 1)), xp.zeros(1)
    snapshots = _Snapshots()
    stopper = train.EarlyStopping(patience=patience, min_delta=min_delta,
                                  restore_best_weights=restore)
    history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=0.02),
                        xp.asarray([[1.0], [2.0]]), xp.asarray([[2.0], [4.0]]), num_epochs=200,
                        batch_size=None, validation=(xp.asarray([[1.0]]), xp.asarray([[1.0]])),
                        callbacks=[snapshots, stopper], progress=False)
    return model, history, snapshots


@pytest.mark.parametrize("patience,min_delta", [(3, 0.0), (5, 0.0), (2, 1e-3)])
def test_early_stopping_callback_restores_the_best_weights(xp, host, patience, min_delta):
    model, history, snapshots = _overfitting_run(xp, patience, min_delta)
    stop, best = _my_early_stopping(history["val_loss"], patience, min_delta)
    assert stop is not None and stop + 1 < 200, "the validation loss should turn up"
    assert history.stopped_epoch == stop + 1 == len(history.epoch)
    assert history.best_epoch == best + 1
    assert history.stopped is train.Stop.EARLY and "early stopping" in history.stop_reason
    for p, saved in zip(model.parameters(), snapshots.weights[best + 1], strict=True):
        np.testing.assert_array_equal(host(p.data), saved)
    assert not np.array_equal(snapshots.weights[best + 1][0], snapshots.weights[stop + 1][0])


def test_early_stopping_without_restoring_keeps_the_last_weights(xp, host):
    model, history, snapshots = _overfitting_run(xp, 3, restore=False)
    last = snapshots.weights[history.stopped_epoch]
    for p, saved in zip(model.parameters(), last, strict=True):
        np.testing.assert_array_equal(host(p.data), saved)


def test_early_stopping_needs_validation(xp):
    model = layers.Sequential(layers.Linear(1, 1))
    X = xp.asarray([[1.0], [2.0]])
    with pytest.raises(ValueError, match="validation"):
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), X, X, num_epochs=3,
                  callbacks=[train.EarlyStopping(2)], progress=False)


def test_early_stopping_restores_batchnorm_statistics(xp, host):
    model = layers.mlp([2, 4, 1], "tanh", batchnorm=True, rng=0)
    snapshots = _Snapshots()

    class Stats(train.Callback):
        seen = {}

        def on_epoch_end(self, epoch, logs, model):
            self.seen[epoch] = host(model[1].state["running_mean"]).copy()
            return False

    stats = Stats()
    rng = np.random.default_rng(0)
    X, Xv = rng.standard_normal((16, 2)), rng.standard_normal((8, 2))
    history = train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.5), xp.asarray(X),
                        xp.asarray(X[:, :1] * 3), num_epochs=60, batch_size=4,
                        validation=(xp.asarray(Xv), xp.asarray(-Xv[:, :1] * 3)),
                        callbacks=[snapshots, stats, train.EarlyStopping(3)], progress=False)
    assert history.stopped_epoch is not None
    np.testing.assert_array_equal(host(model[1].state["running_mean"]),
                                  stats.seen[history.best_epoch])


def test_early_stopping_restores_a_nested_block(xp, host):
    block = layers.Sequential(layers.Linear(2, 4, rng=0), layers.BatchNorm1d(4), layers.Tanh())
    model = layers.Sequential(block, layers.Linear(4, 1, rng=1))

    class Stats(train.Callback):
        def __init__(self):
            self.seen = {}

        def on_epoch_end(self, epoch, logs, model):
            self.seen[epoch] = host(block[1].state["running_mean"]).copy()
            return False

    stats = Stats()
    rng = np.random.default_rng(0)
    X, Xv = rng.standard_normal((16, 2)), rng.standard_normal((8, 2))
    history = train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.5), xp.asarray(X),
                        xp.asarray(X[:, :1] * 3), num_epochs=60, batch_size=4,
                        validation=(xp.asarray(Xv), xp.asarray(-Xv[:, :1] * 3)),
                        callbacks=[stats, train.EarlyStopping(3)], progress=False)
    assert history.stopped_epoch is not None and history.best_epoch != history.stopped_epoch
    np.testing.assert_array_equal(host(block[1].state["running_mean"]),
                                  stats.seen[history.best_epoch])


# --- the loss stops being a number ----------------------------------------------------------


def test_nan_stops_training_with_one_sentence(xp, capsys):
    X = xp.asarray(np.linspace(-3, 3, 20).reshape(-1, 1))
    y = 2 * X + 1
    model = layers.mlp([1, 8, 1], "tanh", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notes on the way up
        history = train.fit(model, "half_squared_error", optim.SGD(model.parameters(), lr=50),
                            X, y, num_epochs=200, batch_size=5, progress=False)
    reason = history.stop_reason
    assert reason is not None and re.search(r"loss became (nan|inf)", reason), reason
    assert "learning rate 50" in reason and history.stopped is train.Stop.DIVERGED
    assert history.stopped_epoch < 200 and len(history.epoch) == history.stopped_epoch
    assert not math.isfinite(history["loss"][-1])
    assert reason in capsys.readouterr().out


def test_nan_stop_when_only_validation_sees_it(xp, capsys):
    """The epoch's last full-batch step leaves inf weights: the training loss of the epoch was
    finite, the validation predictions are not. Still one sentence, no ValueError."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    X, y = xp.asarray(X), xp.asarray(X[:, :1] * 3)
    model = layers.mlp([2, 16, 16, 1], "relu", rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = train.fit(model, "mse", optim.SGD(model.parameters(), lr=50), X, y,
                            num_epochs=100, batch_size=None, validation=(X, y), progress=False)
    reason = history.stop_reason
    assert reason is not None and re.search(r"loss became (nan|inf)", reason), reason
    assert "learning rate 50" in reason
    assert reason in capsys.readouterr().out


# --- the one epoch loop and the model fit needs ---------------------------------------------


def test_fit_names_the_model_interface_it_needs(xp):
    class NoBackward:
        def forward(self, X):
            return X

        def parameters(self):
            return []

    X = xp.asarray([[1.0], [2.0]])
    with pytest.raises(TypeError) as err:
        train.fit(NoBackward(), "mse", None, X, X, progress=False)
    message = str(err.value)
    assert "forward(X), backward(dout), parameters(), train() and eval()" in message
    assert "has no backward or train or eval" in message and "\n" not in message


def test_a_last_batch_of_one_joins_the_one_before_only_under_batch_norm():
    rng = np.random.default_rng(0)
    sizes = [len(b) for b in train.batches(9, 4, rng)]
    assert sizes == [4, 4, 1]
    assert [len(b) for b in train.batches(9, 4, rng, min_last=2)] == [4, 5]
    assert train.batches(9, 9, rng) == [None]  # one full batch: no shuffle needed

    def batch_sizes(batchnorm):
        recorder = _Recorder()
        model = layers.Sequential(recorder, *layers.mlp([1, 2, 1], rng=0, batchnorm=batchnorm))
        X, y = np.arange(9.0).reshape(-1, 1), np.zeros((9, 1))
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.01), X, y, num_epochs=1,
                  batch_size=4, progress=False)
        return [len(b) for b in recorder.batches]

    assert batch_sizes(False) == [4, 4, 1]
    assert batch_sizes(True) == [4, 5], "batch norm cannot normalise a batch of one"


def test_run_epoch_is_fits_epoch(xp):
    """One run_epoch by hand gives fit's first epoch: the same loss, accuracy and weights (fit
    trains a sigmoid output feeding BCE on the logits: ``train.logits_form``)."""
    X, y = datasets.xor()
    X, y = xp.asarray(X), xp.asarray(y)

    def model_and_optimizer():
        model = layers.mlp([2, 4, 1], "tanh", rng=0, output_activation="sigmoid")
        return model, optim.Adam(model.parameters(), lr=0.05)

    model, opt = model_and_optimizer()
    history = train.fit(model, "binary_cross_entropy", opt, X, y, num_epochs=1, batch_size=3,
                        seed=5, progress=False)
    again, opt = model_and_optimizer()
    body, loss_fn = train.logits_form(again, train.losses.binary_cross_entropy)
    result = train.run_epoch(body, loss_fn, opt, X, y, 3, np.random.default_rng(5), classify=True,
                             threshold=0.0)
    loss, accuracy, iterations = result
    assert iterations == 2
    assert (loss, accuracy) == (history["loss"][0], history["accuracy"][0])
    for a, b in zip(model.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(train.backend.to_numpy(a.data), train.backend.to_numpy(b.data))


def test_evaluate_says_nan_for_diverged_weights(xp):
    model = layers.mlp([2, 3, 1], rng=0, output_activation="sigmoid")
    model[0].W.data = model[0].W.data * np.nan
    X, y = xp.asarray([[0.0, 1.0], [1.0, 0.0]]), xp.asarray([[0.0], [1.0]])
    assert math.isnan(train.evaluate(model, "binary_cross_entropy", X, y)["loss"])


def test_fit_trains_a_sigmoid_output_on_the_logits():
    """A confidently wrong unit (z = 50, y = 0): the clipped probability form gives dL/dz = 0 and
    the weight would not move; fit uses the logits form (dL/dz = p − y = 1), so one SGD step of
    lr 0.1 on x = 1 takes W from 50 to 49.9 and b from 0 to −0.1. evaluate reports the exact loss,
    50 then 49.8 (the clipped form would say 27.6)."""
    model = layers.mlp([1, 1], output_activation="sigmoid", rng=0)
    model.layers[0].W.data[...] = 50.0
    X, y = np.array([[1.0]]), np.array([0.0])
    assert math.isclose(train.evaluate(model, "binary_cross_entropy", X, y)["loss"], 50.0, rel_tol=1e-12)
    train.fit(model, "binary_cross_entropy", optim.SGD(model.parameters(), lr=0.1), X, y,
              num_epochs=1, batch_size=1, progress=False)
    assert math.isclose(float(model.layers[0].W.data[0, 0]), 49.9, rel_tol=1e-12)
    assert math.isclose(float(model.layers[0].b.data[0]), -0.1, rel_tol=1e-12)
    figures = train.evaluate(model, "binary_cross_entropy", X, y)
    assert math.isclose(figures["loss"], 49.8, rel_tol=1e-12) and figures["accuracy"] == 0.0
    assert float(train.predict(model, X)[0, 0]) > 0.999  # the model itself still ends in its sigmoid
