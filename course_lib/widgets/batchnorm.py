"""The batch-norm view (notebook 08): the same deep network trained with and without batch
normalisation, side by side, with a histogram of every hidden layer's activations.

Both networks start from the same weights (batch-norm layers draw nothing at random) and see the
same mini-batches. The histograms count the activations of the last epoch trained (every batch
of it, in training mode), so they show what the next layer really received.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import datasets, layers, optim, train
from ..backend import to_device, to_numpy
from . import base
from .base import (
    LiveWidget,
    epoch_limit,
    log_limits,
    log_slider,
    loss_warning,
    slider_style,
    thin,
)

RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 4.0),
          "leaky_relu": (-0.2, 4.0)}
BINS = 30
KINDS = ("without", "with")


class BatchNormView(LiveWidget):
    """A deep network with and without batch norm: activation histograms and loss curves.

    ``BatchNormView(depth=5, units=32, activation="sigmoid", lr=0.5)``; controls ``lr``,
    ``activation``, ``depth``, ``optimizer`` (changing the last three starts again).
    ``step(n)`` trains both networks n epochs; ``histograms["with"][k]`` is the fraction of
    layer k's activations in each of the 30 bins over ``edges``; ``history``; ``state()``.
    ``pretrain``: epochs trained while building (skipped when headless). ``pace``: epochs a
    second while playing. The network with batch norm runs every function of the learner's in
    scope (their ``batchnorm_forward`` / ``batchnorm_backward``): when its loss diverges or
    stalls the status line says so in one sentence naming them. (The network without batch
    norm is the lesson's slow learner: it is not watched.)"""

    unit = "epoch"
    max_units_per_frame = 100

    def __init__(self, dataset: str = "circles", *, depth: int = 5, units: int = 32,
                 activation: str = "sigmoid", optimizer: str = "SGD", lr: float = 0.5,
                 batch_size: int = 32, n: int = 300, noise: float = 0.08, seed: int = 0,
                 functions: dict | None = None, interval: int = 120, pretrain: int = 0,
                 pace="max", figsize=(8.8, 3.8)):
        if activation not in RANGES:
            raise ValueError(f"activation must be one of {', '.join(RANGES)}, got {activation!r}.")
        generators = {"circles": datasets.circles, "moons": datasets.moons,
                      "spirals": datasets.spirals, "XOR": datasets.xor_points}
        if dataset not in generators:
            raise ValueError(f"dataset must be one of {', '.join(generators)}, got {dataset!r}.")
        super().__init__(functions, interval, pace)
        self.seed, self.batch_size = seed, batch_size
        X, y = generators[dataset](n, noise, seed)
        self.X, self.y = to_device(X), to_device(y)
        s = slider_style
        c = self.controls
        c["lr"] = log_slider(lr, 1e-3, 10, "learning rate", "300px")
        c["activation"] = W.Dropdown(options=list(RANGES), value=activation,
                                     description="activation", **s("200px", "70px"))
        c["depth"] = W.IntSlider(value=depth, min=2, max=8, description="hidden layers",
                                 **s("260px", "95px"))
        c["optimizer"] = W.Dropdown(options=list(optim.OPTIMIZERS), value=optimizer,
                                    description="optimizer", **s("200px", "70px"))
        self.units = units
        self._figsize = figsize
        c["lr"].observe(self._on_lr, names="value")
        for name in ("activation", "depth", "optimizer"):
            c[name].observe(lambda _: self.reset(), names="value")
        self._guarded(self._reset)
        if pretrain and not self.headless:
            self._guarded(self._advance, int(pretrain))
        self._guarded(self._redraw, True)
        self._box([W.HBox(self._settings(), layout=W.Layout(flex_flow="row wrap")),
                   self._transport(), self.live.canvas, self.status_line], "batchnorm-view")

    # -- networks ---------------------------------------------------------------------------

    def _reset(self):
        c = self.controls
        depth, act = c["depth"].value, c["activation"].value
        sizes = [2] + [self.units] * depth + [1]
        self.trainers = {}
        for kind in KINDS:
            model = base.network(sizes, act, batchnorm=kind == "with", seed=self.seed)
            self.trainers[kind] = base.Trainer(model, c["optimizer"].value, c["lr"].value,
                                          self.batch_size, seed=self.seed)
        self.epoch = 0
        self.history = {kind: [] for kind in KINDS}
        self.edges = np.linspace(*RANGES[act], BINS + 1)
        self.histograms = {kind: [np.zeros(BINS) for _ in range(depth)] for kind in KINDS}
        self.warning = None
        self._captured = {kind: [] for kind in KINDS}
        if getattr(self, "live", None) is None or self._layout != (depth, act):
            self._make_figure()
        self._limits = {"x": 50.0, "y": (0.03, 1.0)}

    def _one_epoch(self):
        self.epoch += 1
        for kind, trainer in self.trainers.items():
            captured: list = []
            loss = trainer.epoch(self.X, self.y, forward=recording(trainer.model, captured))
            self.history[kind].append(loss)
            self._captured[kind] = captured
        if not self.warning:
            self.warning = loss_warning(self.history["with"], self.unit, self.yours(),
                                        self.controls["lr"].value, "Training with batch norm")
        return True

    def _count(self):
        depth = self.controls["depth"].value
        lo, hi = self.edges[0], self.edges[-1]
        for kind in KINDS:
            captured = self._captured[kind]
            if not captured:
                continue
            for k in range(depth):
                values = np.concatenate([to_numpy(a).ravel() for a in captured[k::depth]])
                values = np.clip(values[np.isfinite(values)], lo, hi)
                counts, _ = np.histogram(values, bins=self.edges)
                self.histograms[kind][k] = counts / max(counts.sum(), 1)

    # -- figure -----------------------------------------------------------------------------

    def _make_figure(self):
        depth, act = self.controls["depth"].value, self.controls["activation"].value
        self._layout = (depth, act)
        old = getattr(self, "live", None)
        (ax_l,) = self._new_figure(self._figsize, loss=(0.75, 0.14, 0.23, 0.76))
        fig = self.figure
        left, right = 0.09, 0.66
        width = (right - left) / depth
        self.axes.update({"with": [], "without": []})
        self.artists = {"with": [], "without": []}
        for row, kind in enumerate(KINDS):
            for k in range(depth):
                ax = fig.add_axes((left + k * width + 0.006, 0.56 - row * 0.44, width - 0.012,
                                   0.34))
                ax.set_yticks([])
                ax.set_xlim(self.edges[0], self.edges[-1])
                ax.set_ylim(0, 1.05)
                ax.set_xticks([self.edges[0], self.edges[-1]])
                ax.tick_params(labelsize=7, pad=1)
                if row == 0:
                    ax.set_title(f"layer {k + 1}", fontsize=8, pad=2)
                if k == 0:
                    ax.set_ylabel(f"{kind} BN", fontsize=8)
                stairs = ax.stairs(np.zeros(BINS), self.edges, fill=True,
                                   color="C0" if kind == "without" else "C2")
                self.live.animate(stairs)
                self.axes[kind].append(ax)
                self.artists[kind].append(stairs)
        lines = {}
        for kind, colour in zip(KINDS, ("C0", "C2"), strict=True):
            (lines[kind],) = ax_l.plot([], [], color=colour, lw=1.5, label=f"{kind} BN")
            self.live.animate(lines[kind])
        ax_l.set_yscale("log")
        ax_l.set_xlabel("epoch", labelpad=1)
        ax_l.set_ylabel("training loss", labelpad=1)
        ax_l.legend(fontsize=8, frameon=False)
        fig.text(0.09, 0.96, f"{act} activations per hidden layer (last epoch)", fontsize=9)
        self.artists["loss"] = lines
        if old is not None and self.ui is not None:  # swap the canvas inside the displayed box
            self.ui.children = [self.live.canvas if ch is old.canvas else ch
                                for ch in self.ui.children]
            old.figure.canvas.close()

    def _redraw(self, full: bool = False):
        self._count()
        for kind in KINDS:
            for hist, stairs in zip(self.histograms[kind], self.artists[kind], strict=True):
                top = hist.max()
                stairs.set_data(hist / top if top > 0 else hist)
        epochs = np.arange(1, self.epoch + 1)
        for kind in KINDS:
            self.artists["loss"][kind].set_data(thin(epochs), thin(self.history[kind]))
        x_lim = epoch_limit(self.epoch, self._limits["x"])
        recent = [h[-1] for h in self.history.values() if h]
        y_lim = log_limits(recent + [h[0] for h in self.history.values() if h], self._limits["y"])
        if full or x_lim != self._limits["x"] or y_lim != self._limits["y"]:
            self.axes["loss"].set_xlim(0, x_lim)
            self.axes["loss"].set_ylim(*y_lim)
            self._limits = {"x": x_lim, "y": y_lim}
            full = True
        text = f'<span class="course-epoch"><b>Epoch {self.epoch:,}</b></span>'
        if self.epoch:
            text += " &nbsp; training loss " + " / ".join(
                f"{self.history[k][-1]:.3f} {k} BN" for k in KINDS)
        self.counter.value = text
        self.live.refresh(full)

    def _on_lr(self, change):
        for trainer in self.trainers.values():
            trainer.lr = change["new"]

    def saturation(self, kind: str = "without", margin: float = 0.05) -> list[float]:
        """Per layer, the fraction of activations within ``margin`` of the ends of the range
        (saturated sigmoid/tanh units pass almost no gradient)."""
        out = []
        for hist in self.histograms[kind]:
            centres = (self.edges[:-1] + self.edges[1:]) / 2
            lo, hi = self.edges[0], self.edges[-1]
            span = hi - lo
            near = (centres < lo + margin * span) | (centres > hi - margin * span)
            out.append(float(hist[near].sum()))
        return out

    def state(self) -> dict:
        return {"epoch": self.epoch, "loss": {k: list(v) for k, v in self.history.items()},
                "histograms": {k: [h.copy() for h in v] for k, v in self.histograms.items()},
                "edges": self.edges.copy(), "status": self.status, "playing": self.playing,
                "finite": all(math.isfinite(v[-1]) for v in self.history.values() if v)}


def recording(model, captured: list):
    """A forward pass through ``model``'s layers that appends each hidden activation's output
    to ``captured`` (what the histograms count)."""
    activations = tuple(c for c in set(layers.ACTIVATIONS.values()) if c is not layers.Identity)
    stack = train.leaves(model)
    last = max((i for i, l in enumerate(stack) if isinstance(l, activations)), default=-1)

    def forward(X):
        out = X
        for i, layer in enumerate(stack):
            out = layer.forward(out)
            if isinstance(layer, activations) and i != last:
                captured.append(out)
        return out

    return forward
