"""L2 regularization for ``fit`` (notebook 07).

The penalty is ``λ Σ W²`` over the weight matrices only, never the biases, and its gradient is
``2λW`` (CONVENTIONS.md, as Keras' ``regularizers.l2(λ)``). ``fit`` stays as it is: the ``L2``
wrapper goes around any optimizer and adds the penalty's gradient to every weight matrix just
before each step.

    >>> opt = L2(Adam(net.parameters(), lr=0.01), net, lam=1e-3)
    >>> fit(net, "binary_cross_entropy", opt, X, y)   # the recorded loss is the data loss alone
    >>> opt.penalty()                                 # λ Σ W² of the weights now

``penalty=`` takes a function ``(W, lam) -> (λ Σ W², 2λW)``, for example a learner's own
``l2_penalty``, which is then called once per weight matrix and step.
"""

from __future__ import annotations

from ._validate import _is_number
from .backend import Array


def l2_penalty(W: Array, lam: float):
    """``(λ Σ W², 2λW)`` for one weight matrix (or vector).   W: any shape -> (scalar, W's shape)."""
    return lam * (W * W).sum(), 2.0 * lam * W


def weight_matrices(model) -> list:
    """The ``W`` parameter of every ``Linear`` layer of ``model``, first layer first (nested
    ``Sequential`` blocks are opened up). Biases and batch-norm parameters are left out."""
    inner = getattr(model, "layers", None)
    if inner is None:
        W = getattr(model, "W", None)
        return [] if W is None else [W]
    return [W for layer in inner for W in weight_matrices(layer)]


class L2:
    """An optimizer that adds ``2λW`` to the gradient of every weight matrix, then steps.

    ``L2(optimizer, model, lam, penalty=None)``: ``optimizer`` is any course_lib optimizer built
    on ``model.parameters()``; ``lam`` ≥ 0; ``penalty`` a function ``(W, lam) -> (value, dW)``
    (default: ``l2_penalty``). ``lr`` reads and sets the wrapped optimizer's learning rate, so
    ``fit``'s learning-rate schedules work unchanged."""

    def __init__(self, optimizer, model, lam: float, penalty=None):
        if not (_is_number(lam) and lam >= 0 and lam < float("inf")):
            raise ValueError(f"The L2 strength lam must be a finite number ≥ 0, got {lam!r}.")
        self.optimizer, self.lam = optimizer, lam
        self.weights = weight_matrices(model)
        if not self.weights:
            raise ValueError("L2 found no weight matrix in the model: it penalises the W of "
                             "Linear layers.")
        self.penalty_fn = l2_penalty if penalty is None else penalty

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def zero_grad(self):
        self.optimizer.zero_grad()

    def step(self):
        if self.lam:
            for W in self.weights:
                if W.grad is not None:
                    W.grad = W.grad + self.penalty_fn(W.data, self.lam)[1]
        self.optimizer.step()

    def penalty(self) -> float:
        """``λ Σ W²`` summed over the weight matrices, as they are now."""
        return float(sum(float(self.penalty_fn(W.data, self.lam)[0]) for W in self.weights))

    def __repr__(self):
        return f"L2({self.optimizer!r}, lam={self.lam:g})"


# --- notebook 07's experiment -----------------------------------------------------------------

# data set -> (generator, noise): noisy enough that a 2-32-32-1 network overfits 60 points
NOISY = {"moons": ("moons", 0.35), "circles": ("circles", 0.2)}


def noisy_data(dataset: str = "moons", seed: int = 0, n_train: int = 60, n_val: int = 150):
    """A small noisy training set and a larger validation set from the same distribution:
    ``((X_train, y_train), (X_val, y_val))``, X: (N, 2), y: (N, 1) floats in {0, 1}.
    ``dataset``: ``"moons"`` (noise 0.35) or ``"circles"`` (noise 0.2)."""
    from . import datasets

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
    from .layers import mlp
    from .optim import Adam
    from .train import fit

    (X, y), validation = noisy_data(dataset, seed)
    model = mlp([2, 32, 32, 1], "relu", rng=seed, dropout=dropout, output_activation="sigmoid")
    optimizer = L2(Adam(model.parameters(), lr=lr), model, l2, penalty)
    history = fit(model, "binary_cross_entropy", optimizer, X, y, num_epochs=num_epochs,
                  batch_size=None, validation=validation, callbacks=callbacks, progress=False)
    return model, history
