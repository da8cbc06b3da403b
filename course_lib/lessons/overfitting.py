"""Notebook 07's experiment: a network that overfits a small noisy data set on purpose, so that
L2, dropout and early stopping have something to cure."""

from __future__ import annotations

from .. import datasets
from ..layers import mlp
from ..optim import Adam
from ..regularization import L2
from ..train import fit

# data set -> (generator, noise): noisy enough that a 2-32-32-1 network overfits 60 points
NOISY = {"moons": ("moons", 0.35), "circles": ("circles", 0.2)}


def noisy_data(dataset: str = "moons", seed: int = 0, n_train: int = 60, n_val: int = 150):
    """A small noisy training set and a larger validation set from the same distribution:
    ``((X_train, y_train), (X_val, y_val))``, X: (N, 2), y: (N, 1) floats in {0, 1}.
    ``dataset``: ``"moons"`` (noise 0.35) or ``"circles"`` (noise 0.2)."""
    if dataset not in NOISY:
        raise ValueError(f"dataset must be one of {', '.join(NOISY)}, got {dataset!r}.")
    name, noise = NOISY[dataset]
    X, y = getattr(datasets, name)(n=n_train + n_val, noise=noise, seed=seed)  # rows shuffled
    y = y.reshape(-1, 1).astype(X.dtype)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def overfit_run(dataset: str = "moons", *, l2: float = 0.0, dropout: float = 0.0, seed: int = 0,
                num_epochs: int = 500, lr: float = 0.01, callbacks=(), penalty=None):
    """Notebook 07's experiment: a 2-32-32-1 ReLU network with a sigmoid output (He init, seed
    ``seed``), dropout ``dropout`` after each hidden layer, trained full batch with Adam (``lr``)
    and binary cross-entropy on ``noisy_data(dataset, seed)``, with the L2 strength ``l2``.
    Returns ``(model, history)``; the history has ``loss`` and ``val_loss`` per epoch."""
    (X, y), validation = noisy_data(dataset, seed)
    model = mlp([2, 32, 32, 1], "relu", rng=seed, dropout=dropout, output_activation="sigmoid")
    optimizer = L2(Adam(model.parameters(), lr=lr), model, l2, penalty)
    history = fit(model, "binary_cross_entropy", optimizer, X, y, num_epochs=num_epochs,
                  batch_size=None, validation=validation, callbacks=callbacks, progress=False)
    return model, history


# the unregularized runs judge_settings compares against, one per draw (they never change)
_PLAIN: dict = {}


def judge_settings(l2: float, dropout: float, seed: int, *, factor: float = 1.15,
                   min_accuracy: float = 0.75):
    """Notebook 07 Exercise 5's rule on one draw of the noisy circles: ``(passed, message)``.

    The setting passes when, after all 500 epochs, its validation loss is at most ``factor``
    times the best validation loss the unregularized network reaches at any epoch (what ideal
    early stopping would keep) and its validation accuracy is at least ``min_accuracy``.
    Measured on draws 0, 1 and 3 (float64, CPU): no setting gets measurably below that best
    (the closest, λ = 0.003 to 0.005, reach 0.98 to 1.09 of it), λ from 0.003 to 0.01 come within
    1.1 on draws 0 and 1 (within 1.26 on the harder draw 3), while λ = 0.0001 stays at 3.0 and
    λ = 0.1 underfits (46 % accuracy). The message of a failing setting says which way to move:
    too strong when the accuracy is under the bar or the training loss is above the unregularized
    best (the network cannot even fit its training points), too weak otherwise."""
    if seed not in _PLAIN:
        _PLAIN[seed] = overfit_run("circles", seed=seed)[1]
    plain = _PLAIN[seed]
    _, yours = overfit_run("circles", l2=l2, dropout=dropout, seed=seed)
    val = list(plain["val_loss"])
    best = min(val)
    best_epoch = val.index(best) + 1
    final, train, accuracy = yours["val_loss"][-1], yours["loss"][-1], yours["val_accuracy"][-1]
    setting = f"with l2={l2:g} and dropout={dropout:g}, draw {seed}"
    if final <= factor * best and accuracy >= min_accuracy:
        return True, (f"{setting}: validation loss {final:.3f}, {final / best:.2f} times the "
                      f"unregularized best {best:.3f} (epoch {best_epoch}); accuracy {accuracy:.0%}")
    if accuracy < min_accuracy or train > best:
        return False, (f"{setting}: the validation accuracy is {accuracy:.0%} and the training loss "
                       f"{train:.3f}, above the {best:.3f} the unregularized network reaches on the "
                       "validation set: the network underfits, so λ or the dropout rate is too "
                       "large; make it smaller.")
    return False, (f"{setting}: after 500 epochs the validation loss is {final:.3f}, {final / best:.2f} "
                   f"times the unregularized network's best ({best:.3f} at epoch {best_epoch}, what "
                   f"early stopping would keep), with a training loss of {train:.3f}: the network "
                   f"still overfits; regularize more, with a larger λ or rate (at most {factor:g} "
                   "times that best passes).")
