"""The capstone view (notebook 09): the learner's own network training on the 8×8 digits, with
the training and validation curves and a grid of test images labelled with the network's
answers as it learns.

Driven by the learner's ``init_params``, ``model_forward``, ``model_backward`` and ``evaluate``
(checked once by ``lessons.capstone.yours``: a function that is not ready is named in the status
line and course_lib's reference takes over). Each epoch is one fresh permutation of the training
set in mini-batches, with course_lib's Adam rule on every parameter.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import datasets, losses, optim
from ..lessons import capstone
from .base import (
    LiveWidget,
    as_words,
    epoch_limit,
    log_limits,
    log_slider,
    loss_warning,
    slider_style,
)

GRID = 16  # test images shown (4 × 4)


class CapstoneView(LiveWidget):
    """``CapstoneView(functions=dict(init_params=..., model_forward=..., model_backward=...,
    evaluate=...))``: a 64-w-w-10 ReLU network (He initialisation, Adam) on the digits.

    Controls ``lr`` and ``width`` (a new width starts again). ``step(n)`` trains n epochs;
    ``history`` holds "loss", "val_loss", "val_accuracy"; ``predictions`` the answers shown for
    the grid's test images; ``state()``. ``pace``: epochs a second while playing. When the loss
    diverges or stalls the status line says so in one sentence, naming the learner's functions."""

    unit = "epoch"
    max_units_per_frame = 5

    def __init__(self, *, functions: dict | None = None, lr: float = 3e-3, width: int = 64,
                 batch_size: int = 32, seed: int = 0, interval: int = 150, pretrain: int = 0,
                 pace="max", figsize=(9.6, 3.6)):
        super().__init__(None, interval, pace)
        functions = dict(functions or {})
        unknown = set(functions) - {"init_params", "model_forward", "model_backward", "evaluate"}
        if unknown:
            raise ValueError(f"CapstoneView runs init_params, model_forward, model_backward and "
                             f"evaluate; it has no use for {', '.join(sorted(unknown))}.")
        self.net = capstone.yours(**functions, verbose=False)
        self.notes.extend(self.net.notes)
        self.seed, self.batch_size = seed, batch_size
        (self.X, self.y), (self.X_val, self.y_val), (self.X_test, self.y_test) = \
            datasets.digits_split(seed=seed)
        raw, _ = datasets.digits(scaled=True)
        order = np.random.default_rng(seed).permutation(len(raw))
        self.images = raw[order[:GRID]]  # the grid's test images, as the eye sees them
        c = self.controls
        c["lr"] = log_slider(lr, 1e-4, 0.1, "learning rate", "300px")
        c["width"] = W.Dropdown(options=[16, 32, 64, 128], value=width, description="width",
                                **slider_style("160px", "50px"))
        c["lr"].observe(lambda _: None, names="value")  # read at every step
        c["width"].observe(lambda _: self.reset(), names="value")
        self._figsize = figsize
        self._make_figure()
        self._guarded(self._reset)
        if pretrain and not self.headless:
            self._guarded(self._advance, int(pretrain))
        self._guarded(self._redraw, True)
        self._box([W.HBox(self._settings()), self._transport(), self.live.canvas,
                   self.status_line], "capstone-view")

    # -- the network ------------------------------------------------------------------------

    def _reset(self):
        w = self.controls["width"].value
        self.params = self.net.init_params([64, w, w, 10], "he", self.seed)
        self.states = [{k: {} for k in layer if k != "state"} for layer in self.params]
        self.rng = np.random.default_rng(self.seed)
        self.epoch = 0
        self.history = {"loss": [], "val_loss": [], "val_accuracy": []}
        self.warning = None
        self.predictions = self._predict()
        self._limits = {"x": 20.0, "y": (0.03, 3.0)}

    def _predict(self):
        scores, _ = self.net.model_forward(self.X_test[:GRID], self.params, "relu",
                                           training=False)
        return np.argmax(np.asarray(scores), axis=1)

    def _one_epoch(self):
        lr = float(self.controls["lr"].value)
        total = 0.0
        for index in capstone.minibatches(len(self.X), self.batch_size, self.rng):
            scores, caches = self.net.model_forward(self.X[index], self.params, "relu",
                                                    training=True)
            loss, dscores = losses.softmax_cross_entropy(scores, self.y[index])
            if not math.isfinite(float(loss)):
                raise FloatingPointError("the loss is not finite any more: lower the learning "
                                         "rate and press Reset.")
            grads = self.net.model_backward(dscores, caches)
            for layer, grad, state in zip(self.params, grads, self.states, strict=True):
                for name in grad:
                    layer[name], state[name] = optim.adam_update(layer[name], grad[name],
                                                                 state[name], lr=lr)
            total += float(loss) * len(index)
        val_loss, val_acc = self.net.evaluate(self.params, self.X_val, self.y_val)
        self.epoch += 1
        self.history["loss"].append(total / len(self.X))
        self.history["val_loss"].append(float(val_loss))
        self.history["val_accuracy"].append(float(val_acc))
        self.predictions = self._predict()
        if not self.warning:
            self.warning = loss_warning(self.history["loss"], self.unit, as_words(self.net.own),
                                        lr)
        return True

    # -- figure -----------------------------------------------------------------------------

    def _make_figure(self):
        ax_loss, ax_acc = self._new_figure(self._figsize, loss=(0.07, 0.15, 0.26, 0.72),
                                           accuracy=(0.41, 0.15, 0.2, 0.72))
        lines = {}
        for key, ax, colour, label in (("loss", ax_loss, "C0", "training"),
                                       ("val_loss", ax_loss, "C1", "validation"),
                                       ("val_accuracy", ax_acc, "C1", "validation")):
            (lines[key],) = ax.plot([], [], color=colour, lw=1.5, label=label)
            self.live.animate(lines[key])
        ax_loss.set_yscale("log")
        ax_loss.set_title("loss", fontsize=9)
        ax_loss.set_xlabel("epoch")
        ax_loss.legend(fontsize=8, frameon=False)
        ax_acc.set_title("validation accuracy", fontsize=9)
        ax_acc.set_xlabel("epoch")
        ax_acc.set_ylim(0, 1)
        self.labels = []
        for k in range(GRID):
            row, col = divmod(k, 4)
            ax = self.figure.add_axes((0.66 + col * 0.085, 0.70 - row * 0.215, 0.065, 0.15))
            ax.imshow(self.images[k].reshape(8, 8), cmap="gray_r")
            ax.set_xticks([])
            ax.set_yticks([])
            label = ax.text(0.5, 1.04, "", transform=ax.transAxes, ha="center", va="bottom",
                            fontsize=8)
            self.labels.append(self.live.animate(label))
        self.figure.text(0.65, 0.95, "test images: the network's answer", fontsize=9)
        self.artists = {"lines": lines, "labels": self.labels}

    def _redraw(self, full: bool = False):
        epochs = np.arange(1, self.epoch + 1)
        for key, line in self.artists["lines"].items():
            line.set_data(epochs, self.history[key])
        for label, guess, truth in zip(self.labels, self.predictions, self.y_test[:GRID],
                                       strict=True):
            label.set_text(str(int(guess)))
            label.set_color("green" if guess == truth else "red")
        x_lim = epoch_limit(self.epoch, self._limits["x"], minimum=20)
        values = self.history["loss"] + self.history["val_loss"]
        y_lim = log_limits(values, self._limits["y"], floor=1e-3)
        if full or x_lim != self._limits["x"] or y_lim != self._limits["y"]:
            self.axes["loss"].set_xlim(0, x_lim)
            self.axes["loss"].set_ylim(*y_lim)
            self.axes["accuracy"].set_xlim(0, x_lim)
            self._limits = {"x": x_lim, "y": y_lim}
            full = True
        text = f'<span class="course-epoch"><b>Epoch {self.epoch:,}</b></span>'
        if self.epoch:
            text += (f" &nbsp; validation accuracy {self.history['val_accuracy'][-1]:.1%}")
        self.counter.value = text
        self.live.refresh(full)

    reference_only = "Running course_lib's reference network."

    def _running(self):
        mine = self.net.own if hasattr(self, "net") else []
        return ("Running your " + as_words(mine) + ".") if mine else None

    def state(self) -> dict:
        return {"epoch": self.epoch, **{k: list(v) for k, v in self.history.items()},
                "predictions": [int(p) for p in self.predictions], "status": self.status,
                "playing": self.playing}
