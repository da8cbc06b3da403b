"""``fit``, and ``run_epoch``: the one epoch loop that ``fit`` and every widget share.

One iteration is one update from one mini-batch; one epoch is one pass over all N examples, i.e.
⌈N / batch_size⌉ iterations, reshuffled every epoch from a seeded generator (CONVENTIONS.md).
On a GPU the data stay on the device: batches are indexed there and the loss is read back once
per epoch, not once per step. ``fit`` adds validation, early stopping, a progress bar and a
clear stop when the loss stops being a number.
"""

from __future__ import annotations

import enum
import math
import sys
import time
from functools import partial

import numpy

from . import _fast, backend, layers, losses, overrides
from ._validate import positive_int, require_finite, shape_of, values_checked_by_caller
from .backend import get_array_module

# The optimizer classes by the names the notebooks and widgets show.


class Stop(enum.Enum):
    """Why ``fit`` ended before ``num_epochs`` (``History.stopped``)."""

    DIVERGED = "diverged"  # the loss or the validation loss became nan or inf
    EARLY = "early stopping"  # a callback (EarlyStopping) asked to stop


class History:
    """What ``fit`` recorded: ``history["loss"]``, ``history["val_loss"]`` (and accuracies for
    classification losses), one value per epoch; epochs are numbered from 1. ``stopped`` says
    why training ended early (a ``Stop``, or None), ``stop_reason`` says it in a sentence."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped: Stop | None = None
        self.stop_reason: str | None = None
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.seconds = 0.0

    def record(self, epoch: int, logs: dict):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def stop(self, epoch: int, why: Stop, reason: str):
        self.stopped, self.stopped_epoch, self.stop_reason = why, epoch, reason

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        return f"History({len(self.epoch)} epochs: {last})"


# --- early stopping -------------------------------------------------------------------------


def early_stopping(val_losses, patience: int, min_delta: float = 0.0):
    """The early-stopping rule on a validation curve: ``(stop_index, best_index)``.

    A value improves on the best so far only if it is lower by more than ``min_delta`` (a tie is
    no improvement). Training stops at the position where ``patience`` values in a row have not
    improved; ``stop_index`` is None if that never happens. Indices are positions in the list."""
    positive_int("patience", patience)
    if min_delta < 0:
        raise ValueError(f"min_delta must be at least 0, got {min_delta}.")
    best, best_index, wait = math.inf, None, 0
    for i, value in enumerate(val_losses):
        if value < best - min_delta:
            best, best_index, wait = value, i, 0
        else:
            wait += 1
            if wait >= patience:
                return i, best_index
    return None, best_index


class Callback:
    """Hooks called by ``fit``; ``on_epoch_end`` returns True to stop training."""

    def on_train_begin(self, model):
        pass

    def on_epoch_end(self, epoch: int, logs: dict, model) -> bool:
        return False

    def on_train_end(self, model, history: History):
        pass


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without an improvement of the monitored value greater than
    ``min_delta``; by default put back the weights of the best epoch."""

    def __init__(self, patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = True, monitor: str = "val_loss"):
        self.patience = positive_int("patience", patience)
        if min_delta < 0:
            raise ValueError(f"min_delta must be at least 0, got {min_delta}.")
        self.min_delta, self.restore_best_weights, self.monitor = min_delta, restore_best_weights, monitor

    def on_train_begin(self, model):
        self.best, self.best_epoch, self.wait, self.best_state = math.inf, None, 0, None

    def on_epoch_end(self, epoch, logs, model):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r} but fit only records "
                             f"{', '.join(logs)}; pass validation=(X_val, y_val).")
        value = logs[self.monitor]
        if value < self.best - self.min_delta:  # the same rule as early_stopping()
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = snapshot(model)
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_train_end(self, model, history):
        history.best_epoch = self.best_epoch
        if self.restore_best_weights and self.best_state is not None:
            restore(model, self.best_state)


def snapshot(model):
    """Copies of a model's parameters and buffers."""
    return ([p.data.copy() for p in model.parameters()],
            [{k: v.copy() for k, v in layer.buffers().items()} for layer in leaves(model)])


def restore(model, state):
    params, buffers = state
    for p, data in zip(model.parameters(), params, strict=True):
        p.data = data.copy()
    for layer, saved in zip(leaves(model), buffers, strict=True):
        for k, v in saved.items():
            layer.buffers()[k] = v.copy()


def leaves(model):
    """The innermost layers, in order: a Sequential nested in a Sequential is opened up, since
    its ``buffers()`` is a fresh dict and writing into it would restore nothing."""
    inner = getattr(model, "layers", None)
    if inner is None:
        return [model]
    return [leaf for layer in inner for leaf in leaves(layer)]


# --- progress -------------------------------------------------------------------------------


class _Progress:
    """One line, redrawn in place with '\\r' (works in terminals and in Jupyter), at most every
    ``interval`` seconds so a notebook's output stays small."""

    def __init__(self, num_epochs, enabled, interval=0.5):
        self.num_epochs, self.enabled, self.interval = num_epochs, enabled, interval
        self.last = 0.0

    def update(self, epoch, logs, final=False):
        if not self.enabled:
            return
        now = time.perf_counter()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        width = 20
        done = int(width * epoch / self.num_epochs)
        bar = "━" * done + "─" * (width - done)
        figures = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
        end = "\n" if final else ""
        sys.stdout.write(f"\rEpoch {epoch}/{self.num_epochs} {bar}  {figures}{end}")
        sys.stdout.flush()


# --- losses, predictions, evaluation --------------------------------------------------------


def resolve_loss(loss):
    """The loss function to call: a name or one of ``course_lib.losses`` is looked up through
    ``course_lib.using`` (so the learner's own takes its place); any other function as given."""
    if isinstance(loss, str):
        return overrides.get(loss)
    name = getattr(loss, "__name__", "")
    if getattr(loss, "__module__", "") == losses.__name__:
        return overrides.get(name)  # a reference loss: let course_lib.using swap it
    if not callable(loss):
        raise TypeError(f"loss must be a function (y_hat, y) -> (loss, grad) or its name, "
                        f"got {type(loss).__name__}.")
    return loss


def logits_form(model, loss_fn):
    """``(body, binary_cross_entropy_with_logits)`` when ``model`` is a Sequential ending in a
    sigmoid whose output feeds course_lib's binary cross-entropy: ``body`` is the same layers
    without that sigmoid (sharing their parameters), so the loss is computed from the logits,
    exact for any z with gradient p − y, where the clipped probability form stops learning for
    |z| ≳ 28. ``None`` otherwise, and whenever a learner's sigmoid or BCE is in force through
    ``course_lib.using`` (their functions then run as written)."""
    if (loss_fn is not losses.binary_cross_entropy or not isinstance(model, layers.Sequential)
            or not model.layers or not isinstance(model.layers[-1], layers.Sigmoid)
            or overrides.get("sigmoid_forward") is not overrides.reference("sigmoid_forward")):
        return None
    body = layers.Sequential(*model.layers[:-1])
    body.training = model.training
    return body, losses.binary_cross_entropy_with_logits


def _correct(y_hat, y, threshold: float = 0.5):
    """Number of correct predictions: argmax for several outputs, ``threshold`` for one (0.5 for
    a probability, 0 for a logit)."""
    if y_hat.ndim == 2 and y_hat.shape[1] > 1:
        pred = y_hat.argmax(axis=1)
        target = y.argmax(axis=1) if y.ndim == 2 else y
    else:
        pred = (y_hat.reshape(-1) > threshold)
        target = y.reshape(-1) > 0.5
    return (pred == target).sum()


def predict(model, X, batch_size: int | None = None):
    """The model's output on X in eval mode (the mode is restored afterwards)."""
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        if batch_size is None or batch_size >= X.shape[0]:
            return model.forward(X)
        xp = get_array_module(X)
        return xp.concatenate([model.forward(X[i:i + batch_size])
                               for i in range(0, X.shape[0], batch_size)])
    finally:
        model.train(was_training)


def evaluate(model, loss, X, y, classification: bool | None = None) -> dict:
    """``{"loss": ..., "accuracy": ...}`` on (X, y) in eval mode (accuracy for classification);
    ``{"loss": nan}`` when the predictions are not finite (weights that diverged)."""
    loss_fn, threshold = resolve_loss(loss), 0.5
    logits = logits_form(model, loss_fn)
    if logits is not None:
        (model, loss_fn), threshold = logits, 0.0
    y_hat = predict(model, X)
    xp = get_array_module(y_hat)
    try:
        value, _ = loss_fn(y_hat, y)
    except ValueError:  # the loss refuses nan or inf predictions: say nan, as fit's stop does
        if bool(xp.isfinite(y_hat).all()):
            raise
        return {"loss": math.nan}
    out = {"loss": float(value)}
    if losses.is_classification(loss_fn) if classification is None else classification:
        out["accuracy"] = float(_correct(y_hat, xp.asarray(y), threshold)) / X.shape[0]
    return out


def accuracy(model, X, y) -> float:
    """Fraction of examples classified correctly (argmax, or threshold 0.5 for one output)."""
    y_hat = predict(model, X)
    xp = get_array_module(y_hat)
    return float(_correct(y_hat, xp.asarray(y))) / X.shape[0]


def fast_loss(loss_fn, X):
    """The loss to call on each mini-batch of X: off the host, course_lib's own loss runs its
    fast twin where the arrays suit one (``course_lib._fast.twin``: softmax cross-entropy in
    fused CUDA kernels); any other loss, a learner's included, runs as given."""
    if type(X) is numpy.ndarray or getattr(loss_fn, "__module__", "") != losses.__name__:
        return loss_fn
    name = loss_fn.__name__
    return lambda y_hat, y: (_fast.twin(name, y_hat, y) or loss_fn)(y_hat, y)


def _labels_checked_once(loss_fn, *label_arrays):
    """``loss_fn``, which first checks that class indices for an (N, K) prediction lie in
    [0, K − 1]. The losses check that only on host arrays (reading the range back from a GPU
    stops it), so on the GPU ``fit`` checks all of y, and y_val, once: at its first step, when
    K is known."""
    pending = [True]
    indices = [a for a in label_arrays if a.ndim == 1 and a.dtype.kind in "iu" and a.size]

    def loss(y_hat, y):
        if pending and y_hat.ndim == 2 and y_hat.shape[1] >= 2:
            for labels in indices:
                losses.check_class_indices(labels, y_hat.shape[1])
        pending.clear()
        return loss_fn(y_hat, y)

    return loss


# --- one epoch ------------------------------------------------------------------------------


def batches(N: int, batch_size: int, rng, xp=numpy, min_last: int = 1):
    """One epoch's mini-batches: index arrays into N examples, in a fresh order drawn from ``rng``
    (a NumPy Generator) and moved to ``xp``'s device once; ``[None]`` for one full batch. A last
    batch smaller than ``min_last`` joins the one before."""
    if batch_size >= N:
        return [None]
    order = xp.asarray(rng.permutation(N))
    starts = list(range(0, N, batch_size))
    if len(starts) > 1 and N - starts[-1] < min_last:
        starts.pop()
    return [order[a:b] for a, b in zip(starts, starts[1:] + [N], strict=True)]


def training_backward(model):
    """``model.backward`` for a training step: the input is data, whose gradient nobody needs,
    so course_lib's Sequential and Linear are told to skip it (one matrix product fewer)."""
    if isinstance(model, (layers.Sequential, layers.Linear)):
        return partial(model.backward, input_grad=False)
    return model.backward


def run_epoch(model, loss_fn, optimizer, X, y, batch_size: int, rng, *, iteration: int = 0,
              lr_schedule=None, classify: bool = False, forward=None,
              backward=None, threshold: float = 0.5) -> tuple[float, float | None, int]:
    """One pass over (X, y) in shuffled mini-batches: forward, loss, backward, step. Returns
    ``(loss, accuracy, iterations)``: the mean loss over the epoch's examples (nan once the
    predictions stopped being finite), the fraction correct for classification (else None), and
    the iteration counter after the epoch (steps taken since training began).

    loss_fn: ``(y_hat, y) -> (loss, grad)``. rng: the NumPy Generator that orders the batches.
    iteration: steps taken before this epoch (``lr_schedule(iteration)`` sets the learning rate
    of each step). forward, backward: called instead of ``model.forward`` (a widget recording
    activations) and of ``training_backward(model)`` (``fit`` makes it once, not per epoch).
    threshold: where one output counts as class 1 for the accuracy (0 when the model gives logits).
    A model holding batch norm never gets a last batch of one: it joins the batch before. The
    summed loss stays on the device until the epoch ends. Non-finite predictions that the loss
    refuses end the epoch with a nan loss. (``fit`` checks the data once and pauses the layers'
    per-batch value checks around all its epochs: ``_validate.values_checked_by_caller``.)"""
    xp = numpy if type(X) is numpy.ndarray else get_array_module(X)
    forward, backward = forward or model.forward, backward or training_backward(model)
    total, correct, N = 0.0, 0, X.shape[0]
    min_last = 2 if batch_size < N and _has_batchnorm(model) else 1
    if not getattr(model, "training", False):
        model.train()
    for idx in batches(N, batch_size, rng, xp, min_last):
        Xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(iteration)
        optimizer.zero_grad()
        y_hat = forward(Xb)
        try:
            value, grad = loss_fn(y_hat, yb)
        except ValueError:
            if xp.isfinite(y_hat).all():
                raise
            total = math.nan
            break
        backward(grad)
        optimizer.step()
        total = total + value * Xb.shape[0]  # stays on the device until the epoch ends
        if classify:
            correct = correct + _correct(y_hat, yb, threshold)
        iteration += 1
    return float(total) / N, (float(correct) / N if classify else None), iteration


def _has_batchnorm(model) -> bool:
    return any(isinstance(layer, layers.BatchNorm1d) for layer in leaves(model))


# --- fit ------------------------------------------------------------------------------------

MODEL_INTERFACE = "forward(X), backward(dout), parameters(), train() and eval()"


def fit(model, loss, optimizer, X, y, num_epochs: int = 100, batch_size: int | None = 32,
        validation=None, callbacks=(), progress: bool = True, seed: int = 0,
        lr_schedule=None) -> History:
    """Train ``model`` with mini-batches; returns the History.

    model: any object with ``forward(X) -> y_hat``, ``backward(dout)`` (filling each parameter's
    ``.grad``), ``parameters()`` and ``train()`` / ``eval()``, as course_lib's layers have.
    loss: a function ``(y_hat, y) -> (loss, grad)`` or its name in ``course_lib.losses``.
    optimizer: ``zero_grad()``, ``step()`` and ``lr``. batch_size: None for full batch.
    validation: ``(X_val, y_val)``. lr_schedule: a function of the iteration number (from 0)
    giving the learning rate, e.g. ``optim.LinearDecay()``. Stops early, with one sentence, when
    the loss becomes nan or inf. Under the cupy backend the data (and the validation data) are
    moved to the GPU once, before the first epoch."""
    num_epochs = positive_int("num_epochs", num_epochs)
    X, y, validation, batch_size = _checked(model, X, y, validation, batch_size)
    loss_fn = resolve_loss(loss)
    classify = losses.is_classification(loss_fn)
    # a sigmoid output feeding BCE trains on the logits (exact, gradient p − y for any z); the
    # epoch's figures are still reported for the whole model by evaluate, which does the same
    logits = logits_form(model, loss_fn)
    if logits is not None:
        model.train()  # the sigmoid, which the training steps skip, follows its model's mode
        logits[0].training = True
    trained, step_fn, threshold = (model, loss_fn, 0.5) if logits is None else (*logits, 0.0)
    step_loss = fast_loss(step_fn, X)
    if backend.is_device_array(X):
        step_loss = _labels_checked_once(step_loss, y, *validation[1:])
    rng, history, bar = numpy.random.default_rng(seed), History(), _Progress(num_epochs, progress)
    backward = training_backward(trained)
    for cb in callbacks:
        cb.on_train_begin(model)
    started, iteration = time.perf_counter(), 0
    # The data were checked above and the loss is checked once per epoch, so the layers' per-batch
    # checks pause; a diverging run overflows on its way to nan and ends with one sentence, not
    # NumPy's warnings.
    with values_checked_by_caller(), numpy.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, num_epochs + 1):
            loss_value, accuracy, iteration = run_epoch(
                trained, step_loss, optimizer, X, y, batch_size, rng, backward=backward,
                iteration=iteration, lr_schedule=lr_schedule, classify=classify,
                threshold=threshold)
            logs = _logs(loss_value, accuracy, model, loss_fn, validation)
            history.record(epoch, logs)
            diverged = _diverged(logs)
            if diverged:
                history.stop(epoch, Stop.DIVERGED, f"{diverged} at epoch {epoch}; the learning "
                             f"rate {optimizer.lr:g} is probably too high.")
            elif callbacks and any([cb.on_epoch_end(epoch, logs, model) for cb in callbacks]):
                history.stop(epoch, Stop.EARLY, f"early stopping at epoch {epoch}")
            bar.update(epoch, logs, final=epoch == num_epochs or history.stopped is not None)
            if history.stopped is not None:
                if history.stopped is Stop.DIVERGED:
                    print(f"Training stopped: {history.stop_reason}")
                break
    for cb in callbacks:
        cb.on_train_end(model, history)
    history.seconds = time.perf_counter() - started
    return history


def _diverged(logs) -> str | None:
    """"loss became nan" (or the validation loss, or inf) when it did, else None."""
    loss, val_loss = logs["loss"], logs.get("val_loss", 0.0)
    if math.isfinite(loss) and math.isfinite(val_loss):
        return None
    return f"loss became {loss}" if not math.isfinite(loss) else f"validation loss became {val_loss}"


def _logs(loss, accuracy, model, loss_fn, validation) -> dict:
    """One epoch's figures: loss (and accuracy), then the validation ones when the loss is finite."""
    logs = {"loss": loss} if accuracy is None else {"loss": loss, "accuracy": accuracy}
    if validation and math.isfinite(loss):
        figures = evaluate(model, loss_fn, *validation, accuracy is not None)
        logs.update({f"val_{k}": v for k, v in figures.items()})
    return logs


def _checked(model, X, y, validation, batch_size):
    """fit's inputs checked once, each problem in one sentence; under the cupy backend the data
    moved to the GPU. Returns ``(X, y, validation or (), batch_size)``."""
    missing = [m for m in ("forward", "backward", "parameters", "train", "eval")
               if not callable(getattr(model, m, None))]
    if missing:
        raise TypeError(f"fit needs a model with {MODEL_INTERFACE}; this "
                        f"{type(model).__name__} has no {' or '.join(missing)}.")
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"X must be a 2-D array (N examples, D features), got shape {shape_of(X)}.")
    N = X.shape[0]
    if N == 0:
        raise ValueError(f"X has no examples (shape {shape_of(X)}): there is nothing to train on.")
    if shape_of(y)[:1] != (N,):
        raise ValueError(f"X has {N} examples (shape {shape_of(X)}) but y has shape {shape_of(y)}.")
    batch_size = N if batch_size is None else min(positive_int("batch_size", batch_size), N)
    require_finite("X", X)
    require_finite("y", y)
    if validation is not None:
        X_val, _ = validation
        require_finite("X_val", X_val)
        if shape_of(X_val)[1:] != shape_of(X)[1:]:
            raise ValueError(f"X_val has shape {shape_of(X_val)} but X has shape {shape_of(X)}; "
                             "they need the same number of features.")
    if backend.name() == "cupy":  # the data go to the GPU once; batches are then indexed there
        X, y = backend.to_device(X), backend.to_device(y)
        validation = validation and tuple(backend.to_device(a) for a in validation)
    return X, get_array_module(X).asarray(y), tuple(validation or ()), batch_size


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(early_stopping)
