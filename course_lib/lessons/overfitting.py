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
