"""course_lib.widgets without a browser: build, step, move sliders, read state and artists.

The clock of a widget is an ipywidgets ``Play`` that only ticks in a browser; here ticks are
made by hand (``tick()`` advances the clock's value, exactly what the browser sends). Expected
numbers are computed independently of the widget: hand-written update rules, the model's own
forward pass on the widget's grid, the seed-003 learning rates on a quadratic of known
curvature."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

import course_lib
from course_lib import layers, overrides, regularization
from course_lib.widgets import (
    DATASETS,
    BatchNormView,
    LearningRateExplorer,
    OptimizerRace,
    Playground,
    RegularizationView,
    describe_path,
    headless,
)

ALL = (Playground, RegularizationView, LearningRateExplorer, OptimizerRace, BatchNormView)


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def one_sentence(text):
    """A status made of sentences that each end once (no traceback, no multi-line dump)."""
    return "\n" not in text and "Traceback" not in text


# --- building ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_widget_builds_headless_without_training(cls):
    start = time.perf_counter()
    w = cls()
    seconds = time.perf_counter() - start
    assert seconds < 5, f"{cls.__name__} took {seconds:.1f} s to build headless"
    assert w.ui is not None and w.live.canvas in w.ui.children
    assert not w.playing
    assert w.live.full_draws == 0, "nothing is drawn until a browser asks for a frame"
    if hasattr(w, "epoch"):
        assert w.epoch == 0
    assert "_repr_mimebundle_" in dir(w)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_headless_flags(monkeypatch):
    assert headless()
    monkeypatch.delenv("COURSE_HEADLESS")
    assert not headless()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert headless()
    monkeypatch.setenv("COURSE_HEADLESS", "0")
    assert headless(), "nbgrader's variable alone makes it headless"
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert not headless()


def test_pretrain_is_skipped_headless_and_done_otherwise(monkeypatch):
    assert Playground(pretrain=5).epoch == 0
    assert BatchNormView(depth=2, pretrain=3).epoch == 0
    monkeypatch.setenv("COURSE_HEADLESS", "0")
    assert Playground(pretrain=5).epoch == 5


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_widget_renders_and_saves(cls):
    w = cls()
    w.step(3)
    w.live.render()  # a full Agg draw: what the browser's first frame costs
    assert w.live.full_draws == 1
    png = w.live.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w.step(1)  # after a full draw, frames are drawn in place
    assert w.live.blits >= 1


def test_import_course_lib_stays_light_and_widgets_keep_the_backend():
    code = (
        "import sys, course_lib\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'ipympl') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "import matplotlib; matplotlib.use('agg'); import matplotlib.pyplot\n"
        "from course_lib.widgets import Playground; Playground()\n"
        "assert matplotlib.get_backend() == 'agg', matplotlib.get_backend()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"COURSE_HEADLESS": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]


# --- playground: stepping, state, artists ------------------------------------------------------


def test_playground_step_updates_state_and_artists():
    pg = Playground("moons", hidden_layers=2, units=8)
    pg.step(4)
    s = pg.state()
    assert s["epoch"] == 4 and len(s["loss"]) == 4 and len(s["val_loss"]) == 4
    assert all(np.isfinite(s["loss"]))
    a = pg.artists
    np.testing.assert_array_equal(a["train_loss"].get_ydata(), s["loss"])
    np.testing.assert_array_equal(a["val_loss"].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(a["train_points"].get_offsets(), pg.data["X_train"])
    np.testing.assert_array_equal(a["val_points"].get_offsets(), pg.data["X_val"])
    # the boundary image is the model's own class-1 probability on the grid
    image = np.asarray(a["boundary"].get_array())
    pg.model.eval()
    expected = pg.model.forward(pg._grid).reshape(image.shape)
    pg.model.train()
    np.testing.assert_allclose(image, expected)
    x0, x1, y0, y1 = a["boundary"].get_extent()
    X = np.concatenate([pg.data["X_train"], pg.data["X_val"]])
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max() and y0 < X[:, 1].min() and y1 > X[:, 1].max()
    assert "Epoch 4" in pg.counter.value


def test_playground_learns_xor():
    pg = Playground("XOR", optimizer="Adam", lr=0.03)
    pg.step(60)
    acc = pg.accuracy()
    assert acc["train"] >= 0.95 and acc["val"] >= 0.9, acc
    assert pg.history["loss"][-1] < pg.history["loss"][0] / 3


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_data_set_can_be_picked(name):
    pg = Playground()
    before = pg.data["X_train"].copy()
    pg.set(dataset=name, noise=0.2)
    assert pg.epoch == 0
    assert pg.data["X_train"].shape == (160, 2)
    assert set(np.unique(pg.data["y_train"])) <= {0, 1}
    if name != "XOR":
        assert not np.array_equal(before, pg.data["X_train"])
    pg.step(1)
    assert np.isfinite(pg.history["loss"][-1])


def test_regenerate_and_split():
    pg = Playground("circles")
    first = pg.data["X_train"].copy()
    pg.regenerate()
    assert not np.array_equal(first, pg.data["X_train"])
    pg.set(val_fraction=0.5)
    assert len(pg.data["X_val"]) == 100 and len(pg.data["X_train"]) == 100
    np.testing.assert_array_equal(pg.artists["val_points"].get_offsets(), pg.data["X_val"])


def test_architecture_controls_rebuild_the_network():
    pg = Playground(hidden_layers=2, units=8)
    pg.step(2)
    pg.set(hidden_layers=3, units=5, activation="relu", batchnorm=True)
    assert pg.epoch == 0 and pg.history["loss"] == []
    kinds = [type(l).__name__ for l in pg.model.layers]
    assert kinds.count("Linear") == 4 and kinds.count("ReLU") == 3
    assert kinds.count("BatchNorm1d") == 3
    assert [l.out_features for l in pg.model.layers if isinstance(l, layers.Linear)] == [5, 5, 5, 1]
    pg.set(batch_size=1)  # batch norm cannot take a batch of one: the widget uses two
    pg.step(1)
    assert np.isfinite(pg.history["loss"][-1]), pg.status
    pg.set(hidden_layers=0)  # logistic regression
    assert [type(l).__name__ for l in pg.model.layers] == ["Linear", "Sigmoid"]
    pg.step(1)


def test_training_controls_act_live():
    pg = Playground(optimizer="SGD", lr=0.1)
    pg.step(2)
    pg.set(lr=0.3, batch_size=8, dropout=0.25)
    assert pg.trainer.lr == pytest.approx(0.3)
    assert pg.trainer.batch_size == 8
    rates = {l.rate for l in pg.model.layers if isinstance(l, layers.Dropout)}
    assert rates == {0.25}
    pg.set(optimizer="Adam")
    assert type(pg.trainer.optimizer).__name__ == "Adam" and pg.epoch == 2
    pg.step(1)
    assert pg.epoch == 3


def test_l2_matches_the_convention_and_shrinks_weights():
    """The widgets' L2 is the library's: regularization.l2_penalty, an array scalar and 2λW."""
    W = np.array([[0.3, 0.1], [6.0, -1.0]])
    value, grad = regularization.l2_penalty(W, 0.5)
    assert float(value) == pytest.approx(0.5 * (0.09 + 0.01 + 36 + 1))
    np.testing.assert_allclose(grad, 2 * 0.5 * W)

    plain, reg = RegularizationView(), RegularizationView(l2=0.01)
    plain.step(30)
    reg.step(30)
    assert reg.weight_norm() < 0.8 * plain.weight_norm()
    # biases are not penalised: a step with only the L2 gradient leaves them alone
    pg = Playground(optimizer="SGD", lr=0.1, l2=0.1)
    biases = [l.b.data.copy() for l in pg.model.layers if isinstance(l, layers.Linear)]
    assert all(np.all(b == 0) for b in biases)


def test_l2_slider_accepts_any_value():
    pg = Playground()
    pg.set(l2=0.005)
    assert pg.trainer.l2 == 0.005 and pg.controls["l2"].value == 0.005


def test_unknown_controls_and_bad_arguments_are_loud():
    with pytest.raises(KeyError, match="no control called 'learning_rate'"):
        Playground().set(learning_rate=0.1)
    with pytest.raises(ValueError, match="dataset must be one of"):
        Playground("iris")
    with pytest.raises(KeyError):
        Playground(functions=dict(sigmoid_fwd=lambda z: z))
    with pytest.raises(ValueError, match="step needs"):
        Playground().step(0)


# --- playground: play, pause, the clock --------------------------------------------------------


def test_play_trains_in_chunks_and_pause_stops_at_once():
    pg = Playground()
    pg.tick()
    assert pg.epoch == 0, "a tick while paused does nothing"
    pg.play()
    pg.tick()
    first = pg.epoch
    assert first >= 1
    pg.tick()
    assert pg.epoch > first
    pg.pause()
    stopped = pg.epoch
    for _ in range(3):
        pg.tick()
        pg.clock.value += 1  # even a tick already on its way does nothing once paused
    assert pg.epoch == stopped
    assert not pg.state()["playing"]


def test_a_tick_is_a_short_chunk():
    pg = Playground()
    pg.frame_budget = 0.02
    pg.play()
    start = time.perf_counter()
    pg.tick()
    assert time.perf_counter() - start < 2.0
    assert 1 <= pg.epoch < 200


def test_stop_button_rewinds_the_clock_without_training():
    pg = Playground()
    pg.play()
    pg.tick()
    done = pg.epoch
    pg.clock.playing = False
    pg.clock.value = 0  # what the Play widget's stop button sends
    assert pg.epoch == done


def test_reset_starts_again_with_the_same_settings():
    pg = Playground(units=4, lr=0.2)
    pg.step(3)
    first_loss = pg.history["loss"][0]
    pg.reset()
    assert pg.epoch == 0 and pg.history == {"loss": [], "val_loss": []}
    assert pg.controls["units"].value == 4 and pg.trainer.lr == pytest.approx(0.2)
    pg.step(1)
    assert pg.history["loss"][0] == pytest.approx(first_loss), "same seed, same first epoch"


# --- the learner's code ----------------------------------------------------------------------


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def test_unimplemented_learner_function_is_one_sentence_in_the_status():
    pg = Playground(activation="sigmoid", functions=dict(sigmoid_forward=not_implemented))
    assert "sigmoid_forward is not implemented yet" in pg.status
    assert "reference is used instead" in pg.status
    assert one_sentence(pg.status)
    pg.step(3)
    assert pg.epoch == 3 and np.isfinite(pg.history["loss"][-1])
    assert "course-status" in pg.status_line.value


def test_wrong_shape_update_rule_is_reported_and_training_goes_on():
    def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return w.ravel()[:1], state

    pg = Playground(optimizer="Adam", functions=dict(adam_update=adam_update))
    pg.step(2)
    assert "adam_update returned shape (1,)" in pg.status
    assert pg.epoch == 2 and np.isfinite(pg.history["loss"][-1])


def test_correct_learner_functions_are_used_and_named():
    calls = []

    def sigmoid_forward(z):
        calls.append(z.shape)
        out = 1 / (1 + np.exp(-z))
        return out, out

    pg = Playground(functions=dict(sigmoid_forward=sigmoid_forward))
    pg.step(1)
    assert len(calls) > 3, "the output layer runs the learner's sigmoid"
    assert pg.status == "Running your sigmoid_forward; course_lib's reference for the rest."


def test_learner_function_failing_later_pauses_with_one_sentence():
    count = {"n": 0}

    def tanh_forward(z):
        count["n"] += 1
        if count["n"] > 5:
            raise RuntimeError("ran out of patience")
        return np.tanh(z), np.tanh(z)

    pg = Playground(functions=dict(tanh_forward=tanh_forward))
    pg.play()
    pg.tick()  # no exception escapes the callback
    assert not pg.playing
    assert pg.status.startswith("Stopped: RuntimeError: ran out of patience.")
    assert one_sentence(pg.status)
    epochs = pg.epoch
    pg.tick()
    assert pg.epoch == epochs


def test_nan_from_the_learner_stops_training_with_a_sentence():
    def sgd_update(w, dw, state, lr):
        return w * np.nan, state

    pg = Playground(functions=dict(sgd_update=sgd_update))
    pg.play()
    pg.tick()
    assert not pg.playing and pg.status.startswith("Stopped:")
    assert "nan" in pg.status


def test_widget_built_inside_using_keeps_the_learners_functions():
    with course_lib.using(tanh_forward=not_implemented):
        pg = Playground()
    assert overrides.active() == {}
    pg.step(1)
    assert "tanh_forward is not implemented yet" in pg.status


def test_learner_l2_penalty_is_checked_like_the_others():
    def l2_penalty_sum_only(W, lam):
        return lam * (W**2).sum()

    pg = Playground(l2=0.01, functions=dict(l2_penalty=l2_penalty_sum_only))
    pg.step(1)
    assert "l2_penalty returned" in pg.status and "2-tuple" in pg.status
    calls = []

    def my_l2(W, lam):
        calls.append(W.shape)
        return lam * (W**2).sum(), 2 * lam * W

    pg = Playground(l2=0.01, functions=dict(l2_penalty=my_l2))
    pg.step(1)
    assert calls and pg.status == "Running your l2_penalty; course_lib's reference for the rest."


def test_a_model_of_the_learners_own():
    model = layers.Sequential(layers.Linear(2, 6, rng=1), layers.Tanh(), layers.Linear(6, 1, rng=2),
                              layers.Sigmoid())
    pg = Playground(model=model)
    assert pg.model is model and pg.controls["units"].disabled
    start = model.layers[0].W.data.copy()
    pg.step(3)
    assert not np.array_equal(start, model.layers[0].W.data)
    pg.reset()
    np.testing.assert_array_equal(start, model.layers[0].W.data)

    wrong = layers.Sequential(layers.Linear(2, 3, rng=1))
    pg = Playground(model=wrong)
    assert "Your model cannot be used here" in pg.status and "(5, 3)" in pg.status
    assert pg.model is not wrong and not pg.controls["units"].disabled
    pg.step(1)


def test_a_model_with_batch_norm_never_gets_a_batch_of_one():
    model = layers.Sequential(layers.Linear(2, 4, rng=1), layers.BatchNorm1d(4), layers.Tanh(),
                              layers.Linear(4, 1, rng=2), layers.Sigmoid())
    pg = Playground(model=model, batch_size=1)
    pg.step(1)
    assert pg.trainer.batch_size == 2 and np.isfinite(pg.history["loss"][-1]), pg.status


def test_pressing_play_again_retries_after_an_error():
    pg = Playground()
    pg.error = "something went wrong."
    pg._show_status()
    assert pg.status.startswith("Stopped:")
    pg.play()
    assert not pg.status.startswith("Stopped:")
    pg.tick()
    assert pg.epoch >= 1


def test_data_of_the_learners_own():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    pg = Playground(data=(X, y))
    assert pg.controls["dataset"].value == "your data"
    assert len(pg.data["X_train"]) + len(pg.data["X_val"]) == 60
    pg.step(2)


# --- learning-rate explorer ----------------------------------------------------------------------


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("lr, verdict", [(0.5, "slow"), (5, "fast"), (5e-10, "slow"),
                                         (50, "diverging"), (15, "oscillating")])
def test_explorer_seed_003_learning_rates(dims, lr, verdict):
    ex = LearningRateExplorer(dims=dims, steps=30)
    button = next(b for b in ex.preset_buttons if b.description == f"α = {lr:g}")
    button.click()
    assert ex.controls["lr"].value == pytest.approx(lr)
    assert ex.verdict == verdict, (lr, dims, ex.verdict, ex.rate)
    assert verdict in ex.counter.value


def test_explorer_path_follows_gradient_descent_by_hand():
    ex = LearningRateExplorer(lr=0.5, dims=1, steps=3)
    w, expected = -8.0, [-8.0]
    for _ in range(3):
        w = w - 0.5 * (w - 2.0) / 10  # J(w) = (w − 2)²/20
        expected.append(w)
    np.testing.assert_allclose(ex.path[:, 0], expected)
    np.testing.assert_allclose(ex.artists["path"].get_xdata(), expected)
    np.testing.assert_allclose(ex.artists["path"].get_ydata(), [(v - 2) ** 2 / 20 for v in expected])
    ex.step(2)
    assert len(ex.path) == 6 and ex.state()["steps"] == 5
    ex.set(dims=2)
    assert ex.path.shape == (6, 2)
    np.testing.assert_allclose(ex.path[1], [-8 + 0.5 * 8 / 20, 4 - 0.5 * 4 / 10])  # x²/40 + y²/20
    ex.reset()
    assert len(ex.path) == 1


def test_explorer_runs_the_learners_step_and_reports_a_missing_one():
    seen = []

    def gradient_descent_step(w, dw, lr):
        seen.append(lr)
        return w - lr * dw

    ex = LearningRateExplorer(lr=5, step_fn=gradient_descent_step, steps=4)
    assert seen and seen[0] == pytest.approx(5)
    assert ex.verdict == "fast" and ex.status == "Running your gradient_descent_step; course_lib's reference for the rest."

    def gradient_descent_step_stub(w, dw, lr):
        raise NotImplementedError

    ex = LearningRateExplorer(lr=5, step_fn=gradient_descent_step_stub, steps=4)
    assert "gradient_descent_step_stub is not implemented yet" in ex.status
    assert ex.verdict == "fast", "the reference step drew the path"


def test_explorer_play_reveals_steps_and_stops_at_the_end():
    ex = LearningRateExplorer(steps=0)
    ex.play()
    ex.tick()
    ex.tick()
    assert len(ex.path) == 3
    ex.set(steps=ex.max_steps)
    ex.tick()
    assert not ex.playing


def test_describe_path():
    assert describe_path([[4.0], [2.0], [1.0]], np.array([0.0]))[0] == "fast"
    assert describe_path([[4.0], [-8.0]], np.array([0.0]))[0] == "diverging"
    assert describe_path([[4.0], [-2.0], [1.0], [-0.5]], np.array([0.0]))[0] == "oscillating"
    verdict, rate = describe_path([[4.0], [3.9], [3.8]], np.array([0.0]))
    assert verdict == "slow" and 0.97 < rate < 0.98


# --- optimizer race ------------------------------------------------------------------------------


def test_race_paths_follow_the_conventions_by_hand():
    race = OptimizerRace("ravine")
    race.step(2)

    def g(p):  # gradient of f = x²/20 + y²
        return np.array([p[0] / 10, 2 * p[1]])

    start = np.array([-8.0, 1.5])
    # SGD η = 0.9
    w = start.copy()
    for _ in range(2):
        w = w - 0.9 * g(w)
    np.testing.assert_allclose(race.paths["SGD"][-1], w)
    # momentum v ← γv + ηg, w ← w − v (η = 0.1, γ = 0.9)
    w, v = start.copy(), np.zeros(2)
    for _ in range(2):
        v = 0.9 * v + 0.1 * g(w)
        w = w - v
    np.testing.assert_allclose(race.paths["momentum"][-1], w)
    # Adam's first step is η·sign(g) (η = 0.3)
    np.testing.assert_allclose(race.paths["Adam"][1], start - 0.3 * np.sign(g(start)), rtol=1e-6)
    head = race.artists["Adam"]["head"]
    np.testing.assert_allclose([head.get_xdata()[0], head.get_ydata()[0]], race.paths["Adam"][-1])
    path = race.artists["SGD"]["path"]
    np.testing.assert_allclose(path.get_xdata(), [p[0] for p in race.paths["SGD"]])
    assert race.state()["steps"] == 2


def test_race_slider_replays_to_the_current_step():
    race = OptimizerRace("ravine")
    race.step(10)
    race.set(lr_SGD=0.1, gamma=0.5)
    assert race.steps == 10
    fresh = OptimizerRace("ravine", lr={"SGD": 0.1}, gamma=0.5)
    fresh.step(10)
    for name in race.names:
        np.testing.assert_allclose(race.paths[name][-1], fresh.paths[name][-1])


def test_race_surfaces_and_divergence():
    race = OptimizerRace("ravine")
    race.set(surface="saddle")
    assert race.steps == 0 and race.controls["lr_SGD"].value == pytest.approx(0.05)
    race.step(40)
    values = race.state()["values"]
    assert values["Adam"] < values["SGD"], "adaptive steps leave the saddle sooner"
    race.set(surface="ravine", )
    race.set(lr_SGD=3.0)  # |1 − 3·2| = 5 per step across the ravine
    race.step(30)
    assert race.diverged["SGD"] and "diverged: SGD" in race.counter.value
    assert not race.diverged["Adam"]


def test_race_runs_the_learners_rules():
    used = []

    def momentum_update(w, dw, state, lr, gamma=0.9):
        used.append(True)
        v = gamma * state.get("v", 0) + lr * dw
        return w - v, {"v": v}

    def adam_update(w, dw, state, **hyper):
        raise NotImplementedError

    race = OptimizerRace(functions=dict(momentum_update=momentum_update, adam_update=adam_update))
    race.step(5)
    assert used
    assert "adam_update is not implemented yet" in race.status
    assert race.status.endswith("Running your momentum_update; course_lib's reference for the rest.")
    ref = OptimizerRace()
    ref.step(5)
    np.testing.assert_allclose(race.paths["Adam"][-1], ref.paths["Adam"][-1])
    np.testing.assert_allclose(race.paths["momentum"][-1], ref.paths["momentum"][-1])


def test_race_play_and_pause():
    race = OptimizerRace()  # 30 steps a second on a clock of 100 ms: 3 steps a tick
    race.play()
    race.tick()
    assert race.steps == 3
    race.pause()
    race.tick()
    assert race.steps == 3


# --- batch-norm view -----------------------------------------------------------------------------


def test_batchnorm_view_histograms_and_curves():
    view = BatchNormView(depth=4, units=16)
    view.step(12)
    s = view.state()
    assert s["epoch"] == 12 and len(s["loss"]["with"]) == 12 and len(s["loss"]["without"]) == 12
    for kind in ("with", "without"):
        assert len(s["histograms"][kind]) == 4
        for k, hist in enumerate(s["histograms"][kind]):
            assert hist.shape == (30,) and hist.sum() == pytest.approx(1.0)
            drawn = view.artists[kind][k].get_data().values
            np.testing.assert_allclose(drawn, hist / hist.max())
    np.testing.assert_array_equal(view.artists["loss"]["with"].get_ydata(), s["loss"]["with"])
    assert s["edges"][0] == 0 and s["edges"][-1] == 1, "sigmoid activations lie in (0, 1)"
    assert s["loss"]["with"][-1] < s["loss"]["without"][-1], "batch norm trains faster here"


def test_batchnorm_view_histograms_are_the_networks_activations():
    view = BatchNormView(depth=2, units=8)
    view.step(1)
    # the same networks' activations counted by hand on the last epoch's batches
    captured = view._captured["with"]
    layer2 = np.concatenate([a.ravel() for a in captured[1::2]])
    counts, _ = np.histogram(np.clip(layer2, 0, 1), bins=np.linspace(0, 1, 31))
    np.testing.assert_allclose(view.histograms["with"][1], counts / counts.sum())
    assert len(layer2) == 300 * 8, "every example of the epoch, every unit"


def test_batchnorm_view_controls():
    view = BatchNormView(depth=3)
    view.step(2)
    canvas = view.live.canvas
    view.set(depth=5)
    assert view.epoch == 0 and len(view.artists["with"]) == 5
    assert view.live.canvas in view.ui.children and canvas not in view.ui.children
    view.set(activation="tanh")
    assert view.edges[0] == -1
    view.set(lr=0.05)
    assert all(t.lr == pytest.approx(0.05) for t in view.trainers.values())
    view.play()
    view.tick()
    assert view.epoch >= 1
    view.pause()


def test_batchnorm_view_runs_the_learners_batchnorm():
    view = BatchNormView(depth=2, functions=dict(batchnorm_forward=not_implemented))
    view.step(2)
    assert "batchnorm_forward is not implemented yet" in view.status
    assert all(np.isfinite(v[-1]) for v in view.history.values())


# --- the playground on the learner's own train_network (notebook 05) -----------------------------

def _train_network(sign=1.0, store=True):
    """A learner's train_network (notebook 05): right with sign 1, stepping uphill with sign -1,
    computing the step but never storing it with store=False."""
    from course_lib import losses

    def train_network(model, X, y, lr=1.0, num_epochs=5000):
        costs = []
        for _ in range(num_epochs):
            cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
            costs.append(float(cost))
            model.backward(d_y_hat)
            for p in model.parameters():
                new = p.data - sign * lr * p.grad
                if store:
                    p.data = new
        return costs
    return train_network


def _xor_playground(**kwargs):
    return Playground("XOR", hidden_layers=1, units=8, activation="tanh", lr=0.5, **kwargs)


def test_the_playground_trains_with_the_learners_train_network():
    mine = _xor_playground(train_network=_train_network())
    mine.step(400)
    assert mine.status == "Running your train_network; course_lib's reference for the rest."
    assert mine.history["loss"][-1] < 0.8 * mine.history["loss"][0]
    # full-batch gradient descent on the half squared error, not the playground's own minibatches
    ref = _xor_playground()
    ref.step(1)
    assert abs(mine.history["loss"][0] - ref.history["loss"][0]) > 1e-6


def test_a_train_network_stepping_uphill_is_named_and_trains_differently():
    broken = _xor_playground(train_network=_train_network(sign=-1.0))
    broken.step(60)
    right = _xor_playground(train_network=_train_network())
    right.step(60)
    assert broken.history["loss"][-1] > broken.history["loss"][0]
    assert right.history["loss"][-1] < right.history["loss"][0]
    status = broken.status
    assert "Training is diverging: the loss rose from" in status
    assert "check your train_network" in status
    assert "Running your train_network" in status


def test_a_train_network_that_stores_nothing_is_told_so():
    pg = _xor_playground(train_network=_train_network(store=False))
    pg.step(2)
    assert ("Your train_network left every weight as it was after an epoch: its update does not "
            "reach the model's parameters.") in pg.status


def test_an_unfinished_train_network_falls_back_to_the_reference():
    def train_network(model, X, y, lr=1.0, num_epochs=5000):
        raise NotImplementedError()

    pg = _xor_playground(train_network=train_network)
    pg.step(50)
    assert "train_network is not implemented yet; the course_lib reference is used instead." \
        in pg.status
    assert pg.history["loss"][-1] < pg.history["loss"][0]


def test_the_pace_control_sets_epochs_per_second():
    pg = _xor_playground(pace=10)              # the clock ticks every 100 ms: one epoch a tick
    pg.play()
    for _ in range(5):
        pg._frame()
    assert pg.epoch == 5
    pg.set(pace=3)                             # 0.3 of an epoch a tick: the fractions add up
    for _ in range(10):
        pg._frame()
    assert pg.epoch == 8
    pg.pause()


# --- the pace control and the diverge / stall sentence of every live view (issue 16) ------------
#
# A tick is what the browser's clock sends every ``interval`` ms; at a pace of p units a second
# each tick owes p × interval / 1000 units, the fractions carried over. The frame budget is
# lifted so that only the pace, never the machine's speed, decides how much a tick does.


def ticks(widget, n):
    widget.frame_budget = 60.0
    widget.play()
    for _ in range(n):
        widget.tick()
    widget.pause()
    return widget


def units_done(widget):
    return widget.epoch if hasattr(widget, "epoch") else widget.state()["steps"]


PACED = {
    "LearningRateExplorer": lambda **kw: LearningRateExplorer(steps=0, **kw),
    "OptimizerRace": lambda **kw: OptimizerRace(**kw),
    "RegularizationView": lambda **kw: RegularizationView(**kw),
    "BatchNormView": lambda **kw: BatchNormView(depth=2, units=8, **kw),
}


@pytest.mark.parametrize("name", list(PACED))
@pytest.mark.parametrize("pace, interval, n_ticks, expected", [
    (10, 100, 7, 7),    # one unit a tick
    (3, 100, 10, 3),    # 0.3 a tick: 0.3, 0.6, 0.9, 1.2 → 1 (0.2 kept), ..., 1.0 at the 10th → 3
    (30, 50, 4, 6),     # 1.5 a tick: 1, 2, 1, 2
    (1, 250, 9, 2),     # a quarter a tick: one unit every fourth tick
])
def test_the_pace_control_sets_units_per_second(name, pace, interval, n_ticks, expected):
    w = PACED[name](pace=pace, interval=interval)
    assert w.controls["pace"].description == f"{w.unit}s/s"
    ticks(w, n_ticks)
    assert units_done(w) == expected


@pytest.mark.parametrize("name", list(PACED))
def test_the_pace_can_change_while_playing_and_max_runs_a_whole_chunk(name):
    w = PACED[name](pace=10, interval=100)
    ticks(w, 2)
    w.set(pace=3)                  # 0.3 a tick from here on
    ticks(w, 4)
    assert units_done(w) == 3
    w.set(pace="max")
    ticks(w, 1)
    assert units_done(w) > 4, "at max a tick runs as many units as its budget allows"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_an_impossible_pace_is_refused_in_one_sentence(cls):
    with pytest.raises(ValueError, match=r"pace must be one of 1, 3, 10, 30, 100, 300, 1000, max "
                                         rf"\({cls.unit}s a second\), got 7\.$"):
        cls(pace=7)
    with pytest.raises(ValueError, match="got 'fast'"):
        cls().set(pace="fast")


# 04: the learning-rate explorer (J(w) = (w − 2)²/20 from w = −8: the distance to the minimum is
# multiplied by |1 − α/10| per step)

def _gd_step(sign):
    def gradient_descent_step(w, dw, lr):
        return w - sign * lr * dw
    return gradient_descent_step


def _gd_step_that_forgets():
    def gradient_descent_step(w, dw, lr):
        return w   # the step is computed nowhere
    return gradient_descent_step


def test_explorer_says_when_the_learners_step_diverges():
    ex = LearningRateExplorer(lr=0.5, steps=20, step_fn=_gd_step(-1))
    # theirs: 10 · 1.05²⁰ from the minimum; the reference's point: 10 · 0.95²⁰
    assert (f"Your gradient_descent_step is diverging: the distance to the minimum grew from 10 "
            f"to {10 * 1.05**20:.3g} in 20 steps at α = 0.5, where the reference step brings it "
            f"down to {10 * 0.95**20:.3g};") in ex.status
    assert "26.5" in ex.status and "3.58" in ex.status
    assert ex.status.endswith("Running your gradient_descent_step; course_lib's reference for "
                              "the rest.")


def test_explorer_says_when_the_learners_step_stalls():
    ex = LearningRateExplorer(lr=0.5, steps=20, step_fn=_gd_step_that_forgets())
    assert ("Your gradient_descent_step has stalled: the point is still 10 from the minimum after "
            f"20 steps, where the reference step's point is {10 * 0.95**20:.3g} from it;") \
        in ex.status


def test_explorer_alpha_50_diverges_whoever_steps():
    # |1 − 50/10| = 4: after k steps the point is 10 · 4^k away, and the path stops once |w| passes
    # 10¹², at k = 19 (10 · 4¹⁸ = 6.9·10¹¹, 10 · 4¹⁹ = 2.7·10¹²)
    expected = (f"Gradient descent is diverging: the distance to the minimum grew from 10 to "
                f"{10 * 4.0**19:.3g} in 19 steps; α = 50 is too large for this cost")
    for step_fn in (None, _gd_step(1)):
        ex = LearningRateExplorer(steps=20, step_fn=step_fn)
        ex.preset_buttons[3].click()
        assert ex.controls["lr"].value == 50
        assert expected in ex.status, "the learning rate is blamed, never the right step"
        assert "Your" not in ex.status


@pytest.mark.parametrize("step_fn", [None, _gd_step(1)], ids=["reference", "learners"])
@pytest.mark.parametrize("dims", [1, 2])
def test_explorer_says_nothing_when_descent_goes_well(step_fn, dims):
    ex = LearningRateExplorer(steps=20, dims=dims, step_fn=step_fn)
    for lr in (0.5, 5, 15):
        ex.set(lr=lr)
        ex.set(steps=100)
        assert ex.warning is None, (lr, ex.status)
        ex.set(steps=20)
    assert "diverging" not in ex.status and "stalled" not in ex.status


def test_explorer_the_crawling_preset_is_called_stalled_by_its_learning_rate():
    ex = LearningRateExplorer(lr=5e-10, steps=20, step_fn=_gd_step(1))
    assert ("Gradient descent has stalled: the point is still 10 from the minimum after 20 steps; "
            "α = 5e-10 is too small to move it visibly.") in ex.status


# 06: the optimizer race (ravine f = x²/20 + y² from (−8, 1.5), where f = 3.2 + 2.25 = 5.45)

def _ravine(x, y):
    return x**2 / 20 + y**2


def test_race_names_the_learners_rule_that_diverged():
    def sgd_update(w, dw, state, lr):
        return w + lr * dw, state   # uphill

    race = OptimizerRace(functions=dict(sgd_update=sgd_update))
    race.step(30)
    # theirs: x·(1 + 0.9/10) and y·(1 + 0.9·2) per step; gone once a coordinate passes 10⁶
    k = next(k for k in range(1, 30) if max(8 * 1.09**k, 1.5 * 2.8**k) > 1e6)
    assert k == 14
    theirs = _ravine(-8 * 1.09**k, 1.5 * 2.8**k)
    ref = _ravine(-8 * 0.91**k, 1.5 * (-0.8) ** k)   # course_lib's: factors 1 − 0.09 and 1 − 1.8
    assert (f"Your sgd_update diverged: f rose from 5.45 to {theirs:.3g} in 14 steps, where "
            f"course_lib's sgd_update brings it down to {ref:.3g};") in race.status
    assert race.diverged["SGD"] and not race.reference["SGD"]["diverged"]
    assert "Running your sgd_update" in race.status


def test_race_names_the_learners_rule_that_stalled():
    def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return w, state   # the step is never applied

    race = OptimizerRace(functions=dict(adam_update=adam_update))
    race.step(9)
    assert race.warning is None, "ten steps before a rule is called stalled"
    race.step(1)
    # course_lib's Adam by hand (η = 0.3), ten steps from the start
    g = lambda p: np.array([p[0] / 10, 2 * p[1]])  # noqa: E731
    w, m, v = np.array([-8.0, 1.5]), np.zeros(2), np.zeros(2)
    for t in range(1, 11):
        m = 0.9 * m + 0.1 * g(w)
        v = 0.999 * v + 0.001 * g(w) ** 2
        w = w - 0.3 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    assert (f"Your adam_update stalled: f is still 5.45 after 10 steps (the point moved 0), where "
            f"course_lib's adam_update brings it down to {_ravine(*w):.3g};") in race.status
    assert race.status.count("Your ") == 1, "only the rule that stalled is named"


def test_race_a_learning_rate_too_large_is_named_without_blaming_anyone():
    race = OptimizerRace()
    race.set(lr_SGD=3.0)   # |1 − 3·2| = 5 across the ravine: 1.5 · 5^k passes 10⁶ at k = 9
    race.step(30)
    assert "SGD diverged at step 9: η = 3 is too large for the ravine" in race.status
    assert "Your" not in race.status


@pytest.mark.parametrize("surface", ["ravine", "saddle"])
def test_race_says_nothing_for_right_rules_and_the_defaults(surface):
    def momentum_update(w, dw, state, lr, gamma=0.9):
        v = gamma * state.get("v", 0) + lr * dw
        return w - v, {"v": v}

    for functions in (None, dict(momentum_update=momentum_update)):
        race = OptimizerRace(surface, functions=functions)
        race.step(race.max_steps)
        assert race.warning is None, race.status
        assert "diverged" not in race.status and "stalled" not in race.status


# 07: the regularization view (defaults: 40 training points, one batch an epoch, Adam 0.01)

def _zero_dropout_forward(x, rate, rng, training=True):
    from course_lib import functional
    out, cache = functional.dropout_forward(x, rate, rng, training)
    return out * 0, cache   # every unit dropped: nothing reaches the output layer


def _uphill_dropout_backward(dout, cache):
    from course_lib import functional
    return -functional.dropout_backward(dout, cache)


def _status_loss_figures(status):
    import re
    found = re.search(r"the loss rose from ([\d.e+-]+) to ([\d.e+-]+) in (\d+) epochs;", status)
    assert found, status
    return float(found[1]), float(found[2]), int(found[3])


def test_regularization_view_says_when_the_learners_dropout_makes_training_diverge():
    view = RegularizationView(functions=dict(dropout_backward=_uphill_dropout_backward))
    view.step(60)
    assert "Training is diverging: the loss rose from" in view.status
    assert "check your dropout_backward:" in view.status
    first, last, n = _status_loss_figures(view.status)
    loss = view.history["loss"]
    assert n >= 20 and last > 1.5 * first, "the sentence quotes what the curve shows"
    assert first == pytest.approx(loss[0], rel=2e-3) and last == pytest.approx(loss[n - 1], rel=2e-3)
    assert "Running your dropout_backward" in view.status


def test_regularization_view_says_when_the_learners_dropout_stalls_training():
    view = RegularizationView(functions=dict(dropout_forward=_zero_dropout_forward))
    view.step(299)
    assert view.warning is None
    view.step(1)
    # the output layer sees only zeros: its first answer is sigmoid(0) = 1/2 for every point
    # (loss ln 2), and its bias alone can only learn the class balance p, loss H(p)
    p = view.data["y_train"].mean()
    floor = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert (f"Training has stalled: the loss is {floor:.3g} after 300 epochs, no lower than at "
            f"the start ({np.log(2):.3g}); check your dropout_forward:") in view.status


def test_regularization_view_names_the_learners_l2_and_dropout_and_is_quiet_when_right():
    from course_lib import functional

    def l2_penalty(W, lam):
        return lam * (W**2).sum(), 2 * lam * W

    def dropout_forward(x, rate, rng, training=True):
        return functional.dropout_forward(x, rate, rng, training)

    def dropout_backward(dout, cache):
        return functional.dropout_backward(dout, cache)

    mine = dict(l2_penalty=l2_penalty, dropout_forward=dropout_forward,
                dropout_backward=dropout_backward)
    for functions in (None, mine):
        view = RegularizationView(l2=0.01, dropout=0.2, functions=functions)
        view.step(300)
        assert view.warning is None, view.status
    assert view.status == ("Running your l2_penalty, dropout_forward and dropout_backward; "
                           "course_lib's reference for the rest.")
    plain = RegularizationView()
    plain.step(300)
    assert plain.warning is None and plain.status == "Running course_lib's reference functions."


# 08: the batch-norm view (the network with batch norm runs the learner's functions)

def test_batchnorm_view_says_when_the_learners_update_diverges():
    def sgd_update(w, dw, state, lr):
        return w + lr * dw, state

    view = BatchNormView(depth=3, units=16, functions=dict(sgd_update=sgd_update))
    view.step(19)
    assert view.warning is None, "twenty epochs before a rise counts"
    view.step(1)
    first, last = view.history["with"][0], view.history["with"][-1]
    assert last > 1.5 * first
    assert (f"Training with batch norm is diverging: the loss rose from {first:.3g} to "
            f"{last:.3g} in 20 epochs; check your sgd_update:") in view.status


def test_batchnorm_view_says_when_the_learners_batchnorm_stalls_training():
    def batchnorm_backward(dout, cache):
        from course_lib import functional
        dx, dgamma, dbeta = functional.batchnorm_backward(dout, cache)
        return dx * 0, dgamma * 0, dbeta * 0   # no gradient gets through

    view = BatchNormView(depth=3, units=16, functions=dict(batchnorm_backward=batchnorm_backward))
    view.step(300)
    first, last = view.history["with"][0], view.history["with"][-1]
    assert last > 0.99 * first
    assert (f"Training with batch norm has stalled: the loss is {last:.3g} after 300 epochs, no "
            f"lower than at the start ({first:.3g}); check your batchnorm_backward:") in view.status


def test_batchnorm_view_is_quiet_for_the_reference_and_right_functions():
    from course_lib import functional

    def batchnorm_forward(x, gamma, beta, state, training=True, eps=1e-5, momentum=0.9):
        return functional.batchnorm_forward(x, gamma, beta, state, training, eps, momentum)

    for functions in (None, dict(batchnorm_forward=batchnorm_forward)):
        view = BatchNormView(functions=functions)
        view.step(300)
        assert view.warning is None, view.status
    assert view.status == "Running your batchnorm_forward; course_lib's reference for the rest."
