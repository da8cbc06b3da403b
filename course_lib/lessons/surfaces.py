"""Notebook 06's helpers: cost surfaces of two weights for racing optimizers, the same network
trained with each optimizer, and a network's cost as a function of one flat vector of weights
(what ``scipy.optimize.minimize`` wants).

    >>> path = trajectory("adam_update", RAVINE, steps=100, lr=0.3)   # (101, 2), start first
    >>> theta = flat_parameters(params)                             # every weight in one vector
    >>> cost, grad = cost_and_gradient(theta, model, X, y, params)

``trajectory`` looks an update rule up by name through ``course_lib.using``, so inside
``with course_lib.using(adam_update=my_adam):`` it runs the learner's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import layers, losses, optim, overrides, train
from . import xor


@dataclass(frozen=True)
class Surface:
    """A cost of two weights: ``value(x, y)`` (works on grids), ``gradient(w)`` for w = (x, y),
    a suggested ``start``, the plotting window and the minima (for a marker)."""

    name: str
    value: Callable
    grad: Callable
    start: tuple
    xlim: tuple
    ylim: tuple
    minima: tuple = ()

    def __call__(self, w):
        return self.value(w[0], w[1])

    def gradient(self, w):
        return np.asarray(self.grad(np.asarray(w, dtype=np.float64)), dtype=np.float64)


RAVINE = Surface(
    name="ravine  f = x²/20 + y²",
    value=lambda x, y: x**2 / 20 + y**2,
    grad=lambda w: np.array([w[0] / 10, 2 * w[1]]),
    start=(-8.0, 1.5),
    xlim=(-9.0, 9.0),
    ylim=(-2.5, 2.5),
    minima=((0.0, 0.0),),
)
"""Twenty times steeper across (y) than along (x): one learning rate cannot suit both."""

SADDLE = Surface(
    name="saddle  f = x²/2 + y⁴/4 − y²/2",
    value=lambda x, y: x**2 / 2 + y**4 / 4 - y**2 / 2,
    grad=lambda w: np.array([w[0], w[1] ** 3 - w[1]]),
    start=(-2.0, 0.01),
    xlim=(-2.5, 2.5),
    ylim=(-1.6, 1.6),
    minima=((0.0, 1.0), (0.0, -1.0)),
)
"""A saddle point at the origin (a minimum along x, a maximum along y) between two minima at
(0, ±1), f = −1/4. Starting almost on the ridge y = 0, the gradient across it is tiny."""

# ``widgets.OptimizerRace`` races on these surfaces, from these starts, with these rates.
DEFAULT_LR = {
    "ravine": {"SGD": 0.9, "momentum": 0.1, "AdaGrad": 1.0, "RMSProp": 0.1, "Adam": 0.3},
    "saddle": {"SGD": 0.05, "momentum": 0.05, "AdaGrad": 0.5, "RMSProp": 0.05, "Adam": 0.05},
}
RULES = {"SGD": "sgd_update", "momentum": "momentum_update", "AdaGrad": "adagrad_update",
         "RMSProp": "rmsprop_update", "Adam": "adam_update"}


def trajectory(rule, surface: Surface, start=None, steps: int = 50, lr=0.1, **hyper):
    """The points an update rule visits on ``surface``: (steps + 1, 2), the start first.

    rule: a function ``(w, dw, state, lr, **hyper) -> (new_w, state)`` or its name in
    ``course_lib.optim`` (then looked up through ``course_lib.using``). lr: a number, or a
    schedule ``k -> lr`` such as ``optim.LinearDecay(...)`` (k counts steps from 0). A run that
    leaves the finite numbers is cut there (the rest of the path repeats its last point)."""
    if isinstance(rule, str):
        rule = overrides.get(rule)
    w = np.array(surface.start if start is None else start, dtype=np.float64)
    state: dict = {}
    path = [w.copy()]
    for k in range(steps):
        eta = lr(k) if callable(lr) else lr
        w, state = rule(w, surface.gradient(w), state, eta, **hyper)
        w = np.array(w, dtype=np.float64)
        if not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 1e6:
            path.extend([path[-1]] * (steps - k))
            break
        path.append(w.copy())
    return np.array(path)


def race(surface: Surface, steps: int = 60, lr: dict | None = None, **hyper) -> dict:
    """Every optimizer of ``RULES`` on ``surface`` from its start: ``{name: path}``. ``lr``
    overrides the default learning rates by name; ``hyper`` (gamma, rho, beta1, beta2) goes to
    the rules that take it."""
    key = "ravine" if surface is RAVINE else "saddle" if surface is SADDLE else None
    rates = {**(DEFAULT_LR.get(key, {}) if key else {}), **(lr or {})}
    takes = {"momentum": ("gamma",), "RMSProp": ("rho",), "Adam": ("beta1", "beta2")}
    paths = {}
    for name, rule in RULES.items():
        extra = {k: v for k, v in hyper.items() if k in takes.get(name, ())}
        paths[name] = trajectory(rule, surface, steps=steps, lr=rates[name], **extra)
    return paths


def step_lengths(rule, grad, steps: int = 100, lr=0.1, **hyper) -> np.ndarray:
    """The length of every step a rule takes when the gradient never changes: (steps,).

    With a constant gradient g in D coordinates (none of them 0), AdaGrad moves each coordinate
    by η/√k at step k, so its step length is η√D/√k (it shrinks for ever); RMSProp's settles at
    η per coordinate and Adam's stays near η per coordinate."""
    if isinstance(rule, str):
        rule = overrides.get(rule)
    g = np.asarray(grad, dtype=np.float64)
    w, state, lengths = np.zeros_like(g), {}, []
    for k in range(steps):
        eta = lr(k) if callable(lr) else lr
        new_w, state = rule(w, g, state, eta, **hyper)
        new_w = np.array(new_w, dtype=np.float64)
        lengths.append(float(np.linalg.norm(new_w - w)))
        w = new_w
    return np.array(lengths)


# --- the same network, trained with each optimizer -------------------------------------------

def compare_optimizers(sizes, train_data, val_data, lr: dict, num_epochs: int = 10,
                       batch_size: int = 64, activation: str = "tanh", seed: int = 0) -> dict:
    """Train ``layers.mlp(sizes, activation)`` once per optimizer named in ``lr`` (learning rates
    by name, e.g. ``{"SGD": 0.3, "Adam": 0.01}``), every run from the same initial weights and
    the same mini-batch order, with softmax cross-entropy. Returns ``{name: History}`` (loss,
    accuracy, val_loss, val_accuracy per epoch). The update rules are looked up through
    ``course_lib.using``, so a learner's rules train inside a ``using`` block."""
    X, y = train_data
    histories = {}
    for name, rate in lr.items():
        model = layers.mlp(sizes, activation, rng=seed)
        optimizer = optim.OPTIMIZERS[name](model.parameters(), lr=rate)
        histories[name] = train.fit(model, "softmax_cross_entropy", optimizer, X, y,
                                    num_epochs=num_epochs, batch_size=batch_size,
                                    validation=val_data, progress=False, seed=seed)
    return histories


# --- a network's cost as a function of one flat vector ----------------------------------------


def flat_parameters(params) -> np.ndarray:
    """Every array of ``params`` (a list of Parameters) flattened and joined: θ, shape (P,)."""
    return np.concatenate([np.ravel(p.data) for p in params]).astype(np.float64)


def set_flat_parameters(params, theta) -> None:
    """Write θ back into ``params``, in the order of ``flat_parameters``."""
    theta = np.asarray(theta, dtype=np.float64)
    sizes = [p.size for p in params]
    if theta.shape != (sum(sizes),):
        raise ValueError(f"θ has shape {theta.shape} but the parameters hold {sum(sizes)} numbers.")
    start = 0
    for p, size in zip(params, sizes, strict=True):
        p.data = theta[start:start + size].reshape(p.shape).copy()
        start += size


def flat_gradient(params) -> np.ndarray:
    """The ``.grad`` of every parameter, flattened and joined in the order of ``flat_parameters``
    (zeros for a parameter that got no gradient)."""
    return np.concatenate([
        np.zeros(p.size) if p.grad is None else np.ravel(p.grad) for p in params
    ]).astype(np.float64)


def cost_and_gradient(theta, model, X, y, params=None):
    """The half-squared-error cost of ``model`` on (X, y) with its weights set to θ, and the
    gradient of that cost with respect to θ: ``(float, (P,))``. ``params``: the Parameters θ
    covers (default: all of them)."""
    params = model.parameters() if params is None else params
    set_flat_parameters(params, theta)
    for p in model.parameters():
        p.zero_grad()
    cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
    model.backward(d_y_hat)
    return float(cost), flat_gradient(params)


def test_score_network(rng=0):
    """The Artificial Neural Network (ANN) tutorial's network for the test scores: 2 inputs, 3 sigmoid hidden units, 1 sigmoid
    output, LeCun initial weights, N(0, 1/fan_in) (``xor.sigmoid_network``, the same 2-3-1 layout as Khan's).
    The Artificial Neural Network (ANN) tutorial has no biases: train only ``weights_of(net)``."""
    return xor.sigmoid_network(2, 3, init="lecun", rng=rng)


test_score_network.__test__ = False  # the name starts with "test": keep pytest from collecting it


def weights_of(model) -> list:
    """The weight matrices of a model's Linear layers (not the biases): the Artificial Neural Network (ANN) tutorial's nine weights."""
    return [layer.W for layer in getattr(model, "layers", [model]) if isinstance(layer, layers.Linear)]
