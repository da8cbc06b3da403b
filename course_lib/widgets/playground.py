"""The playground (notebook 05) and the regularization view (notebook 07).

A small network learns a 2-D binary data set while its decision boundary (class-1 probability on
a grid, one ``imshow`` updated in place) and its train / validation loss curves are redrawn. The
network is course_lib's layers, so it runs whatever functions are in scope: the learner's own
through ``functions=`` or an enclosing ``course_lib.using``.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import datasets, layers, optim, overrides, plotting, regularization, train
from ..backend import to_device, to_numpy
from ..lessons import xor
from . import base
from .base import (
    LiveWidget,
    epoch_limit,
    log_limits,
    log_slider,
    loss_warning,
    sentence,
    slider_style,
    thin,
)


def _blobs(n, noise, seed):
    # two gaussian blobs at (±2, 0); the noise slider widens them
    return datasets.blobs(n, std=0.3 + 2 * noise, seed=seed)


DATASETS = {
    "XOR": datasets.xor_points,
    "circles": datasets.circles,
    "moons": datasets.moons,
    "spirals": datasets.spirals,
    "gaussian blobs": _blobs,
}

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu")


L2_VALUES = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
CONTROL_GROUPS = ("data", "network", "training", "l2", "dropout")


class Playground(LiveWidget):
    """Train a small network on a 2-D data set and watch its decision boundary move.

    ``Playground(dataset="XOR", hidden_layers=2, units=16, activation="tanh", optimizer="SGD",
    lr=0.1, functions=dict(sigmoid_forward=my_sigmoid))``

    From Python: ``step(n)`` trains n epochs and redraws; ``set(lr=0.3, units=4, ...)`` moves
    controls (names in ``controls``); ``play()`` / ``pause()`` / ``reset()`` / ``regenerate()``;
    ``state()`` returns epoch, losses, accuracies and the status; ``artists`` holds the plotted
    artists (``boundary`` image, ``train_points``, ``val_points``, ``train_loss``, ``val_loss``).

    ``model``: your own network (forward / backward / parameters, output (N, 1) probabilities)
    or a function that builds one; the architecture controls are then disabled. ``data``:
    ``(X, y)`` of your own (2 features, labels 0/1) added to the data set picker. ``pretrain``:
    epochs trained while building (skipped when headless, so autograding stays fast).
    ``pace``: epochs a second while playing (``PACES``; "max": as many as each tick allows).
    When training diverges or stalls the status line says so in one sentence (``warning``).
    The plotted training loss is the data loss (binary cross-entropy, without the L2 term)."""

    unit = "epoch"

    def __init__(self, dataset: str = "XOR", *, n: int = 200, noise: float = 0.1,
                 val_fraction: float = 0.2, hidden_layers: int = 2, units: int = 16,
                 activation: str = "tanh", batchnorm: bool = False, optimizer: str = "SGD",
                 lr: float = 0.1, batch_size: int = 16, l2: float = 0.0, dropout: float = 0.0,
                 seed: int = 0, functions: dict | None = None, model=None, data=None,
                 resolution: int = 100, interval: int = 100, controls=CONTROL_GROUPS,
                 pretrain: int = 0, figsize=(8.4, 3.6), train_network=None, pace="max"):
        super().__init__(functions, interval, pace)
        if train_network is None and functions is None:
            # the notebook's own train_network (notebook 05), when there is one
            train_network = (None if base.headless()
                             else overrides.notebook_functions().get("train_network"))
        if train_network is not None:
            self.own_functions["train_network"] = overrides.fallback(
                train_network, xor.train_network, "train_network", in_place=True)
        self.n, self.seed, self.data_seed = n, seed, seed
        self.resolution = int(resolution)
        self.custom_data = None
        choices = list(DATASETS)
        if data is not None:
            X, y = data
            self.custom_data = (np.asarray(to_numpy(X), dtype=float),
                                np.asarray(to_numpy(y)).reshape(-1))
            choices.append("your data")
            dataset = "your data"
        if dataset not in choices:
            raise ValueError(f"dataset must be one of {', '.join(choices)}, got {dataset!r}.")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}.")
        if optimizer not in optim.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(optim.OPTIMIZERS)}, "
                             f"got {optimizer!r}.")
        self.user_model = model
        self._user_snapshot = None
        self._make_controls(choices, dataset, noise, val_fraction, hidden_layers, units,
                            activation, batchnorm, optimizer, lr, batch_size, l2, dropout)
        if "train_network" in self.own_functions:  # their loop: full batch, plain gradient descent
            self.controls["optimizer"].disabled = self.controls["batch_size"].disabled = True
        self._make_figure(figsize)
        self._guarded(self._new_data)
        if pretrain and not self.headless:
            self._guarded(self._advance, int(pretrain))
        self._guarded(self._redraw, True)
        self._build_ui(controls)

    # -- controls ---------------------------------------------------------------------------

    def _make_controls(self, choices, dataset, noise, val_fraction, hidden_layers, units,
                       activation, batchnorm, optimizer, lr, batch_size, l2, dropout):
        s = slider_style
        c = self.controls
        c["dataset"] = W.Dropdown(options=choices, value=dataset, description="data",
                                  **s("200px", "50px"))
        c["noise"] = W.FloatSlider(value=noise, min=0.0, max=0.5, step=0.01, description="noise",
                                   readout_format=".2f", **s("230px", "50px"))
        c["val_fraction"] = W.FloatSlider(value=val_fraction, min=0.1, max=0.5, step=0.05,
                                          description="validation", readout_format=".0%",
                                          **s("250px", "70px"))
        c["hidden_layers"] = W.IntSlider(value=hidden_layers, min=0, max=6, description="layers",
                                         **s("230px", "50px"))
        c["units"] = W.IntSlider(value=units, min=1, max=32, description="units",
                                 **s("230px", "50px"))
        c["activation"] = W.Dropdown(options=ACTIVATIONS, value=activation,
                                     description="activation", **s("200px", "70px"))
        c["batchnorm"] = W.Checkbox(value=batchnorm, description="batch norm", indent=False,
                                    layout=W.Layout(width="110px"))
        c["optimizer"] = W.Dropdown(options=list(optim.OPTIMIZERS), value=optimizer,
                                    description="optimizer", **s("200px", "70px"))
        c["lr"] = log_slider(lr, 1e-4, 10, "learning rate")
        c["batch_size"] = W.IntSlider(value=batch_size, min=1, max=64, description="batch",
                                      **s("230px", "50px"))
        options = sorted({*L2_VALUES, float(l2)})
        c["l2"] = W.SelectionSlider(options=[(f"{v:g}", v) for v in options], value=float(l2),
                                    description="L2 λ", **s("260px", "50px"))
        c["dropout"] = W.FloatSlider(value=dropout, min=0.0, max=0.6, step=0.05,
                                     description="dropout", readout_format=".2f",
                                     **s("250px", "60px"))
        self.regenerate_button = W.Button(description="Regenerate", layout=W.Layout(width="100px"),
                                          tooltip="new random points")
        self.regenerate_button.on_click(lambda _: self.regenerate())
        for name in ("dataset", "noise", "val_fraction"):
            c[name].observe(self._on_data_change, names="value")
        for name in ("hidden_layers", "units", "activation", "batchnorm"):
            c[name].observe(self._on_architecture_change, names="value")
        c["optimizer"].observe(self._on_optimizer_change, names="value")
        c["lr"].observe(self._on_live_change, names="value")
        c["batch_size"].observe(self._on_live_change, names="value")
        c["l2"].observe(self._on_live_change, names="value")
        c["dropout"].observe(self._on_live_change, names="value")
        if self.user_model is not None:
            for name in ("hidden_layers", "units", "activation", "batchnorm", "dropout"):
                c[name].disabled = True

    def _build_ui(self, groups):
        c = self.controls
        rows = {
            "data": [c["dataset"], c["noise"], c["val_fraction"], self.regenerate_button],
            "network": [c["hidden_layers"], c["units"], c["activation"], c["batchnorm"]],
            "training": [c["optimizer"], c["lr"], c["batch_size"]],
        }
        extra = [c[g] for g in ("l2", "dropout") if g in groups]
        if "training" in groups:
            rows["training"] += extra
            extra = []
        children = [W.HBox(rows[g], layout=W.Layout(flex_flow="row wrap", align_items="center"))
                    for g in ("data", "network", "training") if g in groups]
        if extra:
            children.append(W.HBox(extra, layout=W.Layout(flex_flow="row wrap")))
        children += [self._transport(), self.live.canvas, self.status_line]
        self._box(children, "playground", width="auto")

    # -- figure -----------------------------------------------------------------------------

    def _make_figure(self, figsize):
        ax_b, ax_l = self._new_figure(figsize, boundary=(0.08, 0.13, 0.37, 0.8),
                                      loss=(0.56, 0.13, 0.42, 0.8))
        blank = np.full((self.resolution, self.resolution), 0.5)
        # the image uses the light middle of the colour map, the points its dark ends
        boundary = ax_b.imshow(blank, origin="lower", extent=(-1, 1, -1, 1), cmap="RdBu_r",
                               vmin=-0.6, vmax=1.6, interpolation="bilinear", aspect="auto")
        none = np.zeros(0)
        kw = dict(c=none, cmap="RdBu_r", vmin=0, vmax=1, s=18, linewidths=0.8)
        train_pts = ax_b.scatter(none, none, edgecolors="k", **kw)
        val_pts = ax_b.scatter(none, none, edgecolors="w", marker="s", **kw)
        ax_b.set_xlabel("$x_1$", labelpad=1)
        ax_b.set_ylabel("$x_2$", labelpad=1)
        (train_loss,) = ax_l.plot([], [], color="C0", lw=1.5, label="train")
        (val_loss,) = ax_l.plot([], [], color="C1", lw=1.5, label="validation")
        ax_l.set_yscale("log")
        ax_l.set_xlim(0, 50)
        ax_l.set_ylim(0.03, 1.0)
        ax_l.set_xlabel("epoch", labelpad=1)
        ax_l.set_ylabel("loss (cross-entropy)", labelpad=1)
        ax_l.legend(loc="upper right", fontsize=8, frameon=False)
        self.artists = {"boundary": boundary, "train_points": train_pts, "val_points": val_pts,
                        "train_loss": train_loss, "val_loss": val_loss}
        for artist in self.artists.values():
            self.live.animate(artist)

    # -- data and model ---------------------------------------------------------------------

    def _make_data(self):
        name = self.controls["dataset"].value
        if name == "your data":
            X, y = self.custom_data
        else:
            X, y = DATASETS[name](self.n, self.controls["noise"].value, self.data_seed)
        (Xt, yt), (Xv, yv) = datasets.train_val_split(X, y, self.controls["val_fraction"].value,
                                                      seed=self.data_seed)
        return to_numpy(Xt), to_numpy(yt), to_numpy(Xv), to_numpy(yv)

    def _new_data(self):
        Xt, yt, Xv, yv = self._make_data()
        self.data = {"X_train": Xt, "y_train": yt, "X_val": Xv, "y_val": yv}
        self._device = {k: to_device(v) for k, v in self.data.items()}
        X = np.concatenate([Xt, Xv])
        margin = (X.max(axis=0) - X.min(axis=0)) * 0.25 + 0.1  # a quarter of the data's size
        xx, yy, self._grid = plotting.grid_for(X, self.resolution, margin)
        extent = self.extent = (xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0])
        a = self.artists
        a["boundary"].set_extent(extent)
        a["train_points"].set_offsets(Xt)
        a["train_points"].set_array(yt.astype(float))
        a["val_points"].set_offsets(Xv)
        a["val_points"].set_array(yv.astype(float))
        ax = self.axes["boundary"]
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        self._reset()

    def _build_model(self):
        c = self.controls
        if self.user_model is not None:
            if hasattr(self.user_model, "forward"):
                if self._user_snapshot is None:
                    self._user_snapshot = train.snapshot(self.user_model)
                else:
                    train.restore(self.user_model, self._user_snapshot)
                return self.user_model
            return self.user_model()
        sizes = [2] + [c["units"].value] * c["hidden_layers"].value + [1]
        return base.network(sizes, c["activation"].value, c["batchnorm"].value,
                            c["dropout"].value, seed=self.seed)

    def _reset(self):
        c = self.controls
        self.error = None
        self.model = self._build_model()
        try:
            self._check_model()
        except Exception as err:
            if self.user_model is None:
                raise
            self.notes.append(f"Your model cannot be used here ({sentence(err)[:-1]}); the "
                              "playground trains its own network instead.")
            self.user_model = None
            for name in ("hidden_layers", "units", "activation", "batchnorm", "dropout"):
                c[name].disabled = False
            self.model = self._build_model()
        self.trainer = base.Trainer(self.model, c["optimizer"].value, c["lr"].value,
                                    self._batch_size(), c["l2"].value, seed=self.seed)
        self.epoch = 0
        self.warning = None
        self.history = {"loss": [], "val_loss": []}
        self.live_limits = {"x": 50.0, "y": (0.03, 1.0)}

    def _check_model(self):
        Xv = self._device["X_val"]
        out = train.predict(self.model, Xv[:5])
        shape = tuple(getattr(out, "shape", ()))
        if shape != (min(5, Xv.shape[0]), 1):
            raise ValueError(f"it returns shape {shape} for {min(5, Xv.shape[0])} points where "
                             "one probability per point, shape (N, 1), is needed")

    def _batch_size(self):
        size = self.controls["batch_size"].value
        has_batchnorm = any(isinstance(l, layers.BatchNorm1d) for l in train.leaves(self.model))
        return max(size, 2) if has_batchnorm else size  # batch norm needs two examples

    # -- training ---------------------------------------------------------------------------

    def _one_epoch(self):
        d = self._device
        own = self.own_functions.get("train_network")
        if own is not None and not own.failed:
            before = [np.array(to_numpy(p.data)) for p in self.model.parameters()]
            own(self.model, d["X_train"], d["y_train"], lr=self.trainer.lr, num_epochs=1)
            loss = train.evaluate(self.model, "binary_cross_entropy", d["X_train"],
                                  d["y_train"], classification=False)["loss"]
            if self.epoch == 0 and not own.failed and all(
                    np.array_equal(b, to_numpy(p.data))
                    for b, p in zip(before, self.model.parameters(), strict=True)):
                self.warning = ("Your train_network left every weight as it was after an epoch: "
                                "its update does not reach the model's parameters.")
        else:
            loss = self.trainer.epoch(d["X_train"], d["y_train"])
        val_loss = train.evaluate(self.model, "binary_cross_entropy", d["X_val"], d["y_val"],
                                  classification=False)["loss"]
        self.epoch += 1
        self.history["loss"].append(loss)
        self.history["val_loss"].append(val_loss)
        if not (math.isfinite(loss) and math.isfinite(val_loss)):
            self.pause()
            cause = (f"your {self.yours()} may be the cause, or " if self.yours() else "")
            self.error = (f"the loss became {loss:g} at epoch {self.epoch}; {cause}the learning "
                          f"rate {self.trainer.lr:g} is too high: lower it and press Reset.")
            return False
        self._watch_progress()
        return True

    def _watch_progress(self):
        """One sentence when training diverges or stalls (the first one found stays)."""
        if not self.warning:
            self.warning = loss_warning(self.history["loss"], self.unit, self.yours(),
                                        self.trainer.lr)

    # -- drawing ----------------------------------------------------------------------------

    def _redraw(self, full: bool = False):
        a = self.artists
        a["boundary"].set_data(self.boundary())
        epochs = np.arange(1, self.epoch + 1)
        a["train_loss"].set_data(thin(epochs), thin(self.history["loss"]))
        a["val_loss"].set_data(thin(epochs), thin(self.history["val_loss"]))
        ax = self.axes["loss"]
        x_lim = epoch_limit(self.epoch, self.live_limits["x"])
        y_lim = log_limits(self.history["loss"][-1:] + self.history["val_loss"][-1:]
                           + self.history["loss"][:1], self.live_limits["y"])
        if full or x_lim != self.live_limits["x"] or y_lim != self.live_limits["y"]:
            ax.set_xlim(0, x_lim)
            ax.set_ylim(*y_lim)
            self.live_limits = {"x": x_lim, "y": y_lim}
            full = True
        self._update_counter()
        self.live.refresh(full)

    def _update_counter(self):
        text = f'<span class="course-epoch"><b>Epoch {self.epoch:,}</b></span>'
        if self.epoch:
            acc = self.accuracy()
            text += (f" &nbsp; loss {self.history['loss'][-1]:.3f} / "
                     f"{self.history['val_loss'][-1]:.3f} &nbsp; accuracy "
                     f"{acc['train']:.0%} / {acc['val']:.0%} (train / validation)")
        self.counter.value = text

    # -- control callbacks ------------------------------------------------------------------

    def _on_data_change(self, change):
        self._guarded(self._new_data)
        self._guarded(self._redraw, True)

    def _on_architecture_change(self, change):
        self.reset()

    def _on_optimizer_change(self, change):
        self._guarded(self.trainer.set_optimizer, change["new"], self.controls["lr"].value)

    def _on_live_change(self, change):
        c = self.controls
        self.trainer.lr = c["lr"].value
        self.trainer.batch_size = self._batch_size()
        self.trainer.l2 = c["l2"].value
        base.set_dropout(self.model, c["dropout"].value)

    # -- public helpers ---------------------------------------------------------------------

    def regenerate(self):
        """New random points from the same data set (the network starts again)."""
        self.data_seed += 1
        self._guarded(self._new_data)
        self._guarded(self._redraw, True)
        return self

    def boundary(self):
        """The model's class-1 probability on the grid, as a (resolution, resolution) image."""
        scores = plotting.class_scores(lambda points: train.predict(self.model, points), self._grid)
        return scores.reshape(self.resolution, self.resolution)

    def accuracy(self) -> dict:
        """Fraction of points on the right side of the boundary: ``{"train": ..., "val": ...}``."""
        d = self._device
        return {part: train.accuracy(self.model, d[f"X_{part}"], d[f"y_{part}"])
                for part in ("train", "val")}

    def state(self) -> dict:
        """What the widget shows, as plain values (for tests and for checking by eye)."""
        return {
            "epoch": self.epoch,
            "loss": list(self.history["loss"]),
            "val_loss": list(self.history["val_loss"]),
            "accuracy": self.accuracy() if self.epoch else None,
            "playing": self.playing,
            "status": self.status,
            "settings": {k: w.value for k, w in self.controls.items()},
        }


class RegularizationView(Playground):
    """Notebook 07: a network big enough to overfit noisy data, with λ (L2) and dropout sliders.

    ``RegularizationView(l2=0.0, dropout=0.0, functions=dict(l2_penalty=..., dropout_forward=...,
    dropout_backward=...))``; the sliders act while it trains. Like the playground it has the
    pace control and says in one sentence, naming your functions, when the loss diverges or
    stalls. Defaults: moons
    with noise 0.35, 80 points of which half are for validation, 3 hidden layers of 32 ReLU
    units, Adam at 0.01, so without regularization the validation loss turns up while the training
    loss keeps falling."""

    def __init__(self, dataset: str = "moons", *, n: int = 80, noise: float = 0.35,
                 val_fraction: float = 0.5, hidden_layers: int = 3, units: int = 32,
                 activation: str = "relu", optimizer: str = "Adam", lr: float = 0.01,
                 batch_size: int = 40, l2: float = 0.0, dropout: float = 0.0,
                 controls=("l2", "dropout"), **kwargs):
        super().__init__(dataset, n=n, noise=noise, val_fraction=val_fraction,
                         hidden_layers=hidden_layers, units=units, activation=activation,
                         optimizer=optimizer, lr=lr, batch_size=batch_size, l2=l2,
                         dropout=dropout, controls=controls, **kwargs)
        self.ui.add_class("course-regularization")

    def weight_norm(self) -> float:
        """Σ W² over the weight matrices (what L2 pushes down)."""
        return float(sum(float((W.data * W.data).sum())
                         for W in regularization.weight_matrices(self.model)))
