"""``fit``: mini-batch training with validation, early stopping, a progress bar and a clear stop
when the loss stops being a number.

One iteration is one update from one mini-batch; one epoch is one pass over all N examples, i.e.
⌈N / batch_size⌉ iterations, reshuffled every epoch from a seeded generator (CONVENTIONS.md).
On a GPU the data stay on the device: batches are indexed there and the loss is read back once
per epoch, not once per step.
"""

from __future__ import annotations

import math
import sys
import time

import numpy

from . import backend, losses, overrides
from ._validate import positive_int, require_finite, shape_of, values_checked_by_caller
from .backend import get_array_module


class History:
    """What ``fit`` recorded: ``history["loss"]``, ``history["val_loss"]`` (and accuracies for
    classification losses), one value per epoch; epochs are numbered from 1."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stop_reason: str | None = None
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.seconds = 0.0

    def record(self, epoch: int, logs: dict):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

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
            [{k: v.copy() for k, v in layer.buffers().items()} for layer in _leaves(model)])


def restore(model, state):
    params, buffers = state
    for p, data in zip(model.parameters(), params, strict=True):
        p.data = data.copy()
    for layer, saved in zip(_leaves(model), buffers, strict=True):
        for k, v in saved.items():
            layer.buffers()[k] = v.copy()


def _leaves(model):
    """The innermost layers, in order: a Sequential nested in a Sequential is opened up, since
    its ``buffers()`` is a fresh dict and writing into it would restore nothing."""
    inner = getattr(model, "layers", None)
    if inner is None:
        return [model]
    return [leaf for layer in inner for leaf in _leaves(layer)]


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


# --- evaluation helpers ---------------------------------------------------------------------


def _resolve_loss(loss):
    if isinstance(loss, str):
        return overrides.get(loss)
    name = getattr(loss, "__name__", "")
    if getattr(loss, "__module__", "") == losses.__name__:
        return overrides.get(name)  # a reference loss: let course_lib.using swap it
    if not callable(loss):
        raise TypeError(f"loss must be a function (y_hat, y) -> (loss, grad) or its name, "
                        f"got {type(loss).__name__}.")
    return loss


def _correct(y_hat, y, xp):
    """Number of correct predictions: argmax for several outputs, threshold 0.5 for one."""
    if y_hat.ndim == 2 and y_hat.shape[1] > 1:
        pred = y_hat.argmax(axis=1)
        target = y.argmax(axis=1) if y.ndim == 2 else y
    else:
        pred = (y_hat.reshape(-1) > 0.5)
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
    """``{"loss": ..., "accuracy": ...}`` on (X, y) in eval mode (accuracy for classification)."""
    loss_fn = _resolve_loss(loss)
    y_hat = predict(model, X)
    value, _ = loss_fn(y_hat, y)
    out = {"loss": float(value)}
    if losses.is_classification(loss_fn) if classification is None else classification:
        xp = get_array_module(y_hat)
        out["accuracy"] = float(_correct(y_hat, xp.asarray(y), xp)) / X.shape[0]
    return out


def _evaluate_or_nan(model, loss_fn, X, y, classify):
    """``evaluate``, with a nan loss instead of the loss's ValueError when the predictions are
    not finite (diverged weights), so that ``fit`` stops with its one sentence."""
    try:
        return evaluate(model, loss_fn, X, y, classify)
    except ValueError:
        if bool(get_array_module(X).isfinite(predict(model, X)).all()):
            raise
        return {"loss": math.nan}


def accuracy(model, X, y) -> float:
    """Fraction of examples classified correctly (argmax, or threshold 0.5 for one output)."""
    y_hat = predict(model, X)
    xp = get_array_module(y_hat)
    return float(_correct(y_hat, xp.asarray(y), xp)) / X.shape[0]


def _backward_without_input_grad(model):
    """``model.backward``, told that its input is data (nobody needs dL/dX) when it accepts
    ``input_grad`` (Sequential, Linear): the first layer then skips one matrix product."""
    import inspect

    try:
        accepts = "input_grad" in inspect.signature(model.backward).parameters
    except (TypeError, ValueError):  # a callable inspect cannot read: call it plainly
        accepts = False
    if not accepts:
        return model.backward
    return lambda grad: model.backward(grad, input_grad=False)


def _step_loss(loss_fn, X):
    """The loss ``fit`` calls on each mini-batch: on the GPU, course_lib's own softmax
    cross-entropy becomes its fused kernels (``course_lib._fast.cuda``: the same maths in fewer
    launches); any other loss, a learner's included, runs as given."""
    if type(X) is numpy.ndarray or not backend.is_device_array(X):
        return loss_fn
    from ._fast import cuda as _cuda

    return _cuda.fused(loss_fn)


def _check_device_labels(y_hat, *label_arrays):
    """Class indices for an (N, K) prediction must lie in [0, K − 1]. The losses check that only
    on host arrays (reading the range back from a GPU stops it), so on the GPU ``fit`` checks all
    of y, and y_val, once: at its first step, when K is known."""
    if y_hat.ndim != 2 or y_hat.shape[1] < 2:
        return
    for labels in label_arrays:
        if getattr(labels, "ndim", None) == 1 and labels.dtype.kind in "iu":
            losses._check_class_indices(labels, y_hat.shape[1])


# --- fit ------------------------------------------------------------------------------------


def fit(model, loss, optimizer, X, y, num_epochs: int = 100, batch_size: int | None = 32,
        validation=None, callbacks=(), progress: bool = True, seed: int = 0,
        lr_schedule=None) -> History:
    """Train ``model`` with mini-batches; returns the History.

    loss: a function ``(y_hat, y) -> (loss, grad)`` or its name in ``course_lib.losses``.
    batch_size: None for full batch. validation: ``(X_val, y_val)``. lr_schedule: a function of
    the iteration number (from 0) giving the learning rate, e.g. ``optim.LinearDecay()``.
    Stops early, with one sentence, when the loss becomes nan or inf. Under the cupy backend the
    data (and the validation data) are moved to the GPU once, before the first epoch."""
    num_epochs = positive_int("num_epochs", num_epochs)
    N = X.shape[0] if hasattr(X, "shape") and X.ndim >= 1 else 0
    if getattr(X, "ndim", None) != 2:
        raise ValueError(f"X must be a 2-D array (N examples, D features), got shape {shape_of(X)}.")
    if N == 0:
        raise ValueError(f"X has no examples (shape {shape_of(X)}): there is nothing to train on.")
    if shape_of(y)[:1] != (N,):
        raise ValueError(f"X has {N} examples (shape {shape_of(X)}) but y has shape {shape_of(y)}.")
    batch_size = N if batch_size is None else min(positive_int("batch_size", batch_size), N)
    require_finite("X", X)
    require_finite("y", y)
    loss_fn = _resolve_loss(loss)
    classify = losses.is_classification(loss_fn)
    backward = _backward_without_input_grad(model)
    on_gpu = backend.name() == "cupy"
    if on_gpu:  # the data go to the GPU once; batches are then indexed there
        X, y = backend.to_device(X), backend.to_device(y)
    xp = get_array_module(X)
    y = xp.asarray(y)
    if validation is not None:
        X_val, y_val = validation
        require_finite("X_val", X_val)
        if shape_of(X_val)[1:] != shape_of(X)[1:]:
            raise ValueError(f"X_val has shape {shape_of(X_val)} but X has shape {shape_of(X)}; "
                             "they need the same number of features.")
        if on_gpu:
            X_val, y_val = backend.to_device(X_val), backend.to_device(y_val)
    step_loss = _step_loss(loss_fn, X)
    check_labels = backend.is_device_array(X)
    labels = (y,) if validation is None else (y, y_val)
    rng = numpy.random.default_rng(seed)
    history, bar = History(), _Progress(num_epochs, progress)
    # The data were checked above and the loss is checked once per epoch: the per-batch value
    # checks are paused, and so are overflow warnings of a diverging run, which ends with
    # one sentence instead.
    with values_checked_by_caller(), numpy.errstate(over="ignore", invalid="ignore"):
        for cb in callbacks:
            cb.on_train_begin(model)
        model.train()
        started, iteration, logs = time.perf_counter(), 0, {}
        for epoch in range(1, num_epochs + 1):
            order = xp.asarray(rng.permutation(N)) if batch_size < N else None
            total, correct = 0.0, 0
            for start in range(0, N, batch_size):
                if order is None:
                    Xb, yb = X, y
                else:
                    idx = order[start:start + batch_size]
                    Xb, yb = X[idx], y[idx]
                if lr_schedule is not None:
                    optimizer.lr = lr_schedule(iteration)
                optimizer.zero_grad()
                y_hat = model.forward(Xb)
                if check_labels:  # once per fit, not per step: it waits for the GPU
                    _check_device_labels(y_hat, *labels)
                    check_labels = False
                try:
                    value, grad = step_loss(y_hat, yb)
                except ValueError:
                    if xp.isfinite(y_hat).all():
                        raise
                    value = xp.asarray(math.nan)
                    total = total + value
                    break
                backward(grad)
                optimizer.step()
                total = total + value * Xb.shape[0]  # stays on the device until the epoch ends
                if classify:
                    correct = correct + _correct(y_hat, yb, xp)
                iteration += 1
            epoch_loss = float(total) / N
            logs = {"loss": epoch_loss}
            if classify:
                logs["accuracy"] = float(correct) / N
            if validation is not None and math.isfinite(epoch_loss):
                logs.update({f"val_{k}": v for k, v in
                             _evaluate_or_nan(model, loss_fn, X_val, y_val, classify).items()})
            # the epoch's last step can leave non-finite weights that only validation sees
            bad = "loss" if not math.isfinite(epoch_loss) else "val_loss"
            if bad == "loss" or math.isnan(logs.get("val_loss", 0.0)):
                history.record(epoch, logs)
                history.stopped_epoch = epoch
                which = "loss" if bad == "loss" else "validation loss"
                history.stop_reason = (f"{which} became {logs[bad]} at epoch {epoch}; the learning "
                                       f"rate {optimizer.lr:g} is probably too high.")
                bar.update(epoch, logs, final=True)
                print(f"Training stopped: {history.stop_reason}")
                break
            history.record(epoch, logs)
            stop = False
            for cb in callbacks:
                stop = cb.on_epoch_end(epoch, logs, model) or stop
            if stop:
                history.stopped_epoch = epoch
                history.stop_reason = f"early stopping at epoch {epoch}"
                break
            bar.update(epoch, logs, final=epoch == num_epochs)
        else:
            epoch = num_epochs
    if history.stop_reason and not history.stop_reason.startswith("loss became"):
        bar.update(epoch, logs, final=True)
    for cb in callbacks:
        cb.on_train_end(model, history)
    history.seconds = time.perf_counter() - started
    return history


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(early_stopping)
