"""course_lib.widgets.CapstoneView without a browser (the style of tests/test_widgets.py): build,
step, move controls, and the learner's functions running the network (or named in one sentence
when not ready). Expected numbers come from the network's own parameters, recomputed here."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.lessons import capstone
from course_lib.widgets import CapstoneView


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_builds_headless_without_training():
    w = CapstoneView()
    assert w.epoch == 0 and not w.playing and w.live.full_draws == 0
    assert w.live.canvas in w.ui.children
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()
    assert w.status == "Running course_lib's reference network."


def test_steps_train_and_the_grid_shows_the_networks_answers():
    w = CapstoneView(width=32)
    w.step(3)
    state = w.state()
    assert state["epoch"] == 3 and len(state["loss"]) == len(state["val_accuracy"]) == 3
    assert state["loss"][-1] < state["loss"][0] and state["val_accuracy"][-1] > 0.85
    # the grid's answers are the trained network's argmax on the first 16 test images
    scores, _ = capstone.model_forward(w.X_test[:16], w.params, "relu", training=False)
    assert state["predictions"] == np.argmax(scores, axis=1).tolist()
    right = np.array(state["predictions"]) == w.y_test[:16]
    colours = [label.get_color() for label in w.labels]
    assert colours == ["green" if r else "red" for r in right]
    # the validation accuracy drawn is the one evaluate gives on the validation set
    assert state["val_accuracy"][-1] == pytest.approx(
        capstone.evaluate(w.params, w.X_val, w.y_val)[1])
    x, y = w.artists["lines"]["val_accuracy"].get_data()
    assert list(x) == [1, 2, 3] and list(y) == state["val_accuracy"]
    w.live.render()
    assert w.live.png()[:4] == b"\x89PNG"


def test_width_control_starts_again_and_lr_is_read_live():
    w = CapstoneView(width=32)
    w.step(1)
    w.set(width=16)
    assert w.epoch == 0 and w.params[0]["W"].shape == (64, 16)
    w.set(lr=0.01)
    w.step(1)
    assert w.epoch == 1


def test_the_learners_functions_drive_the_network():
    calls = {"forward": 0, "backward": 0}

    def model_forward(X, params, activation="relu", dropout=0.0, rng=None, training=True):
        calls["forward"] += 1
        return capstone.model_forward(X, params, activation, dropout, rng, training)

    def model_backward(dscores, caches):
        calls["backward"] += 1
        return capstone.model_backward(dscores, caches)

    w = CapstoneView(functions=dict(model_forward=model_forward, model_backward=model_backward))
    before = dict(calls)
    w.step(1)
    assert calls["backward"] - before["backward"] == 34  # ⌈1079 / 32⌉ mini-batches, one epoch
    assert calls["forward"] - before["forward"] >= 35    # and the grid's predictions
    assert w.status == "Running your model_forward and model_backward."


def test_a_function_not_ready_is_one_sentence_and_the_reference_takes_over():
    def model_forward(X, params, activation="relu", dropout=0.0, rng=None, training=True):
        raise NotImplementedError

    def model_backward(dscores, caches):
        raise NotImplementedError

    w = CapstoneView(functions=dict(model_forward=model_forward, model_backward=model_backward))
    w.step(1)
    assert w.epoch == 1 and w.error is None
    assert "model_forward or model_backward is not implemented yet" in w.status
    assert "\n" not in w.status and "Traceback" not in w.status


def test_unknown_function_names_are_refused_in_one_sentence():
    with pytest.raises(ValueError, match="no use for adam_update"):
        CapstoneView(functions=dict(adam_update=lambda *a: a))


def test_the_pace_control_sets_epochs_per_second():
    w = CapstoneView(width=16, pace=1, interval=500)   # half an epoch a tick
    w.frame_budget = 60.0
    w.play()
    for _ in range(5):
        w.tick()
    assert w.epoch == 2 and w.controls["pace"].description == "epochs/s"
    w.pause()
    with pytest.raises(ValueError, match=r"pace must be one of .* \(epochs a second\), got 2\."):
        CapstoneView(pace=2)


def test_a_stalled_loss_is_said_in_one_sentence_and_the_reference_is_quiet():
    def init_params(sizes, init="he", seed=0):
        params = capstone.init_params(sizes, init, seed)
        return [{k: v * 0 for k, v in layer.items()} for layer in params]  # every weight zero

    # all weights zero: every score is 0, the softmax uniform, the loss ln 10 = 2.30; no hidden
    # unit ever gets a gradient, so only the last bias learns (the classes are nearly balanced)
    w = CapstoneView(width=16, functions=dict(init_params=init_params))
    w.step(299)
    assert w.warning is None
    w.step(1)
    assert w.status.startswith(f"Training has stalled: the loss is {np.log(10):.3g} after 300 "
                               f"epochs, no lower than at the start ({np.log(10):.3g}); check your "
                               "init_params:")
    assert w.status.endswith("Running your init_params.")
    assert "\n" not in w.status
    right = CapstoneView(width=16)
    right.step(20)
    assert right.warning is None and right.status == "Running course_lib's reference network."
