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
