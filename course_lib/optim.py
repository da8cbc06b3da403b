"""Optimizers, in order of increasing complexity.

The pure update rules ``rule(w, dw, state, **hyper) -> (new_w, state)`` carry the maths; each
accepts an empty ``state`` dict on its first call and returns the state to pass next time. The
classes apply a rule to every parameter of a model: ``opt.zero_grad()``, backward, ``opt.step()``;
with course_lib's own rules they update ``p.data`` in place, as PyTorch does (keep
``p.data.copy()`` for a snapshot: the in-place twins live in ``course_lib._fast``), and with a
learner's rule they call it as written.
Conventions (CONVENTIONS.md): momentum ``v ← γv + ηg, w ← w − v``; Adam increments ``t`` before
the update, so its first step uses t = 1.
"""

from __future__ import annotations

import numpy

from . import _fast, overrides
from ._validate import fraction, positive, positive_int, require_same_shape
from .backend import Array, get_array_module


def _check(w, dw, lr):
    require_same_shape("w", w, "dw", dw)
    positive("The learning rate", lr)


def sgd_update(w: Array, dw: Array, state: dict, lr: float):
    """Gradient descent ``w ← w − η g``."""
    _check(w, dw, lr)
    return w - lr * dw, state


def momentum_update(w: Array, dw: Array, state: dict, lr: float, gamma: float = 0.9):
    """Momentum ``v ← γ v + η g``, ``w ← w − v``; ``v`` starts at 0 (state key ``"v"``).

    With a constant gradient the step grows to ``η g / (1 − γ)``: ten times the plain step."""
    _check(w, dw, lr)
    fraction("gamma", gamma)
    v = gamma * state["v"] + lr * dw if "v" in state else lr * dw
    return w - v, {**state, "v": v}


def adagrad_update(w: Array, dw: Array, state: dict, lr: float, eps: float = 1e-8):
    """AdaGrad ``r ← r + g⊙g``, ``w ← w − η g / (√r + δ)`` (state key ``"r"``).

    ``r`` only grows, so every coordinate's step shrinks over time."""
    _check(w, dw, lr)
    positive("eps", eps)
    xp = get_array_module(w)
    r = state["r"] + dw * dw if "r" in state else dw * dw
    return w - lr * dw / (xp.sqrt(r) + eps), {**state, "r": r}


def rmsprop_update(w: Array, dw: Array, state: dict, lr: float, rho: float = 0.9,
                   eps: float = 1e-8):
    """RMSProp ``r ← ρ r + (1 − ρ) g⊙g``, ``w ← w − η g / (√r + δ)`` (state key ``"r"``, from 0)."""
    _check(w, dw, lr)
    fraction("rho", rho)
    positive("eps", eps)
    xp = get_array_module(w)
    r = (rho * state["r"] if "r" in state else 0) + (1 - rho) * dw * dw
    return w - lr * dw / (xp.sqrt(r) + eps), {**state, "r": r}


def adam_update(w: Array, dw: Array, state: dict, lr: float = 1e-3, beta1: float = 0.9,
                beta2: float = 0.999, eps: float = 1e-8):
    """Adam: ``t ← t + 1``, ``m ← β₁m + (1 − β₁)g``, ``v ← β₂v + (1 − β₂)g²``,
    ``w ← w − η m̂ / (√v̂ + ε)`` with ``m̂ = m / (1 − β₁ᵗ)``, ``v̂ = v / (1 − β₂ᵗ)``.

    State keys ``"m"``, ``"v"`` and ``"t"`` (steps taken so far). The first step is ≈ η·sign(g)."""
    _check(w, dw, lr)
    fraction("beta1", beta1)
    fraction("beta2", beta2)
    positive("eps", eps)
    xp = get_array_module(w)
    t = state.get("t", 0) + 1
    m = (beta1 * state["m"] if "m" in state else 0) + (1 - beta1) * dw
    v = (beta2 * state["v"] if "v" in state else 0) + (1 - beta2) * dw * dw
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (xp.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}


# --- learning-rate schedules ----------------------------------------------------------------


def linear_decay(k: int, lr0: float = 0.1, lr_tau: float = 0.01, tau: int = 100) -> float:
    """Linear decay ``η_k = (1 − k/τ) η₀ + (k/τ) η_τ`` for k ≤ τ, then ``η_τ`` (the Deep Learning lecture notes)."""
    positive("lr0", lr0)
    positive("lr_tau", lr_tau)
    positive_int("tau", tau)
    if k < 0:
        raise ValueError(f"The iteration number k must be at least 0, got {k}.")
    if k >= tau:
        return float(lr_tau)
    a = k / tau
    return (1 - a) * lr0 + a * lr_tau


class LinearDecay:
    """Schedule object for ``fit(..., lr_schedule=LinearDecay(0.1, 0.01, 100))``: iteration -> lr."""

    def __init__(self, lr0: float = 0.1, lr_tau: float = 0.01, tau: int = 100):
        linear_decay(0, lr0, lr_tau, tau)  # validates the hyper-parameters now, not mid-training
        self.lr0, self.lr_tau, self.tau = lr0, lr_tau, tau

    def __call__(self, k: int) -> float:
        return overrides.get("linear_decay")(k, self.lr0, self.lr_tau, self.tau)

    def __repr__(self):
        return f"LinearDecay(lr0={self.lr0}, lr_tau={self.lr_tau}, tau={self.tau})"


# --- optimizer classes ----------------------------------------------------------------------


class Optimizer:
    """Applies the update rule ``rule_name`` to every parameter; one state dict per parameter."""

    rule_name = "sgd_update"

    def __init__(self, params, lr: float, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError("The optimizer got no parameters: pass model.parameters().")
        self.lr = self._lr_checked = positive("The learning rate", lr)
        self.hyper = hyper
        self.state = [{} for _ in self.params]
        self._owned = [None] * len(self.params)  # the arrays step() may write into
        # Validate the hyper-parameters once, on a one-element dummy, before any training.
        dummy = numpy.zeros(1)
        overrides.reference(self.rule_name)(dummy, dummy, {}, lr, **hyper)

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def step(self):
        name = self.rule_name
        rule = overrides.get(name) if overrides.scopes else None
        if rule is not None and rule is not overrides.reference(name):
            for i, p in enumerate(self.params):  # a learner's rule: pure, called as written
                if p.grad is not None:
                    p.data, self.state[i] = rule(p.data, p.grad, self.state[i], self.lr,
                                                 **self.hyper)
            return
        if self.lr != self._lr_checked:  # a schedule (or the learner) changed it
            self._lr_checked = positive("The learning rate", self.lr)
        lr, hyper, owned, twin = self.lr, self.hyper, self._owned, _fast.twin
        first = self.params[0]
        # on the host one look-up serves every parameter; on the GPU each one's dtype decides
        host_update = twin(name, first.data, first.grad) if type(first.data) is numpy.ndarray else None
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if p.data is not owned[i] or p.data.shape != p.grad.shape:
                self._take(i, p)
            # ours: its in-place twin (one fused kernel on the GPU) updates p.data and the state
            update = host_update or twin(name, p.data, p.grad)
            if update is None:  # arrays no twin was written for: the pure rule
                p.data, self.state[i] = overrides.reference(name)(p.data, p.grad, self.state[i],
                                                                  lr, **hyper)
            else:
                update(p.data, p.grad, self.state[i], lr, **hyper)

    def _take(self, i, p):
        """Make ``p.data`` an array this optimizer may update in place: checked against its
        gradient, then copied (in the dtype the pure rule would return) the first time the
        optimizer meets it, so an array the learner assigned to ``p.data`` is never changed."""
        require_same_shape("w", p.data, "dw", p.grad)
        if p.data is not self._owned[i]:
            xp = get_array_module(p.data)
            p.data = self._owned[i] = p.data.astype(xp.result_type(p.data, p.grad))

    def __repr__(self):
        extras = "".join(f", {k}={v}" for k, v in self.hyper.items())
        return f"{type(self).__name__}(lr={self.lr}{extras})"


class SGD(Optimizer):
    rule_name = "sgd_update"

    def __init__(self, params, lr: float = 0.01):
        super().__init__(params, lr)


class Momentum(Optimizer):
    rule_name = "momentum_update"

    def __init__(self, params, lr: float = 0.01, gamma: float = 0.9):
        super().__init__(params, lr, gamma=gamma)


class AdaGrad(Optimizer):
    rule_name = "adagrad_update"

    def __init__(self, params, lr: float = 0.01, eps: float = 1e-8):
        super().__init__(params, lr, eps=eps)


class RMSProp(Optimizer):
    rule_name = "rmsprop_update"

    def __init__(self, params, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8):
        super().__init__(params, lr, rho=rho, eps=eps)


class Adam(Optimizer):
    rule_name = "adam_update"

    def __init__(self, params, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(params, lr, beta1=beta1, beta2=beta2, eps=eps)


# The optimizers by the names the notebooks and widgets show, simplest first.
OPTIMIZERS = {"SGD": SGD, "momentum": Momentum, "AdaGrad": AdaGrad, "RMSProp": RMSProp,
              "Adam": Adam}


# Every function a learner may put in place of ours with course_lib.using(name=...).
overrides.register(sgd_update, momentum_update, adagrad_update, rmsprop_update, adam_update, linear_decay)
