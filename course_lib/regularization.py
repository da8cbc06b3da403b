"""L2 regularization for ``fit`` (notebook 07).

The penalty is ``λ Σ W²`` over the weight matrices only, never the biases, and its gradient is
``2λW`` (CONVENTIONS.md, as Keras' ``regularizers.l2(λ)``). ``fit`` stays as it is: the ``L2``
wrapper goes around any optimizer and adds the penalty's gradient to every weight matrix just
before each step.

    >>> opt = L2(Adam(net.parameters(), lr=0.01), net, lam=1e-3)
    >>> fit(net, "binary_cross_entropy", opt, X, y)   # the recorded loss is the data loss alone
    >>> opt.penalty()                                 # λ Σ W² of the weights now

``penalty=`` takes a function ``(W, lam) -> (λ Σ W², 2λW)``, for example a learner's own
``l2_penalty``, which is then called once per weight matrix and step; without it the
``l2_penalty`` in scope is used (the learner's inside ``course_lib.using(l2_penalty=...)``).
"""

from __future__ import annotations

import math
import numbers

from . import overrides
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
    (default: the ``l2_penalty`` in scope at each step). ``lr`` reads and sets the wrapped optimizer's learning rate, so
    ``fit``'s learning-rate schedules work unchanged."""

    def __init__(self, optimizer, model, lam: float, penalty=None):
        if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not 0 <= lam < math.inf:
            raise ValueError(f"The L2 strength lam must be a finite number ≥ 0, got {lam!r}.")
        self.optimizer, self.lam = optimizer, lam
        self.weights = weight_matrices(model)
        if not self.weights:
            raise ValueError("L2 found no weight matrix in the model: it penalises the W of "
                             "Linear layers.")
        self.penalty_fn = penalty

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def zero_grad(self):
        self.optimizer.zero_grad()

    def _penalty_fn(self):
        return overrides.get("l2_penalty") if self.penalty_fn is None else self.penalty_fn

    def step(self):
        if self.lam:
            penalty = self._penalty_fn()
            for W in self.weights:
                if W.grad is not None:
                    W.grad = W.grad + penalty(W.data, self.lam)[1]
        self.optimizer.step()

    def penalty(self) -> float:
        """``λ Σ W²`` summed over the weight matrices, as they are now."""
        penalty = self._penalty_fn()
        return float(sum(float(penalty(W.data, self.lam)[0]) for W in self.weights))

    def __repr__(self):
        return f"L2({self.optimizer!r}, lam={self.lam:g})"


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(l2_penalty)
