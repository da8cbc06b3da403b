"""Layers: thin classes over ``course_lib.functional``.

``forward(x)`` returns the output and keeps what backward needs; ``backward(dout)`` returns
``dx`` and fills each parameter's ``.grad``. Weights are never changed here: that is the
optimizer's job, so every backward can be gradient-checked. The functional building blocks are
looked up through ``course_lib.using`` so a notebook can run these layers on the learner's code.
"""

from __future__ import annotations

import numpy

from . import _fast, backend, functional, overrides
from ._validate import fraction, positive_int, require_ndim
from .backend import Array


def _f(name, *arrays):
    """The function to call for ``name``: the learner's inside a ``course_lib.using`` scope, else
    the reference in ``functional`` (read directly: this runs on every forward and backward), or
    its fast twin (``course_lib._fast``) when ``arrays`` are given and suit one: on the GPU one
    fused kernel instead of several launches. A learner's function always runs as written."""
    if overrides.scopes:
        fn = overrides.get(name)
        if fn is not overrides.reference(name):
            return fn
    else:
        fn = getattr(functional, name)
    if not arrays or (type(arrays[0]) is numpy.ndarray and name not in _fast.ON_THE_HOST):
        return fn  # the common case, decided without a call: this runs for every layer and step
    return _fast.twin(name, *arrays) or fn


def as_generator(rng):
    """``None`` / an int seed / a Generator -> a NumPy Generator (initial weights are drawn on the
    host, then moved to the backend, so one seed gives the same network on CPU and GPU)."""
    if isinstance(rng, numpy.random.Generator):
        return rng
    return numpy.random.default_rng(rng)


class Parameter:
    """A trainable (or frozen) array with its gradient: ``.data`` and ``.grad``."""

    def __init__(self, data: Array, name: str = "", trainable: bool = True):
        self.data, self.name, self.trainable = data, name, trainable
        self.grad = None

    def zero_grad(self):
        self.grad = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def size(self):
        return int(self.data.size)

    def __repr__(self):
        return f"Parameter({self.name or 'unnamed'}, shape={tuple(self.data.shape)})"


class Module:
    """Base class: train/eval mode, parameters, ``__call__ = forward``."""

    training = True

    def forward(self, x: Array) -> Array:
        raise NotImplementedError

    def backward(self, dout: Array) -> Array:
        raise NotImplementedError

    def __call__(self, x: Array) -> Array:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        """Trainable parameters (what an optimizer updates)."""
        return []

    def buffers(self) -> dict:
        """Non-trainable state saved with the model (batch-norm running statistics)."""
        return {}

    def train(self, mode: bool = True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def output_shape(self, input_shape):
        return input_shape

    def __repr__(self):
        return f"{type(self).__name__}()"


INITS = {
    # name: standard deviation from fan-in and fan-out (CONVENTIONS.md)
    "plain": lambda fan_in, fan_out: 0.01,
    "lecun": lambda fan_in, fan_out: (1.0 / fan_in) ** 0.5,  # LeCun et al. 1998
    "xavier": lambda fan_in, fan_out: (2.0 / (fan_in + fan_out)) ** 0.5,  # Glorot & Bengio 2010
    "he": lambda fan_in, fan_out: (2.0 / fan_in) ** 0.5,  # He et al. 2015
}


class Linear(Module):
    """``Z = X @ W + b``.   X: (N, in_features) -> (N, out_features).

    ``init``: ``"plain"`` N(0, 0.01²), ``"lecun"`` N(0, 1/fan_in), ``"xavier"`` (Glorot)
    N(0, 2/(fan_in + fan_out)), ``"he"`` N(0, 2/fan_in); biases start at 0. ``rng``: a seed (default 0) or a NumPy Generator."""

    def __init__(self, in_features: int, out_features: int, init: str = "he", rng=0,
                 dtype=numpy.float64):
        self.in_features = positive_int("in_features", in_features)
        self.out_features = positive_int("out_features", out_features)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}.")
        self.init = init
        std = INITS[init](in_features, out_features)
        W = as_generator(rng).normal(0.0, std, size=(in_features, out_features)).astype(dtype)
        self.W = Parameter(backend.to_device(W), "W")
        self.b = Parameter(backend.xp().zeros(out_features, dtype=dtype), "b")
        self.cache = None

    def forward(self, x):
        out, self.cache = _f("linear_forward")(x, self.W.data, self.b.data)
        return out

    def backward(self, dout, input_grad: bool = True):
        """dx, filling ``W.grad`` and ``b.grad``. With ``input_grad=False`` (the layer sees the
        data, whose gradient nobody needs) the reference skips the product ``dout @ Wᵀ`` and
        returns None; a learner's ``linear_backward`` is always called in full."""
        backward = _f("linear_backward")
        if not input_grad and backward is functional.linear_backward:
            self.W.grad, self.b.grad = functional.linear_param_grads(dout, self.cache)
            return None
        dx, self.W.grad, self.b.grad = backward(dout, self.cache)
        return dx

    def parameters(self):
        return [self.W, self.b]

    def output_shape(self, input_shape):
        return (*input_shape[:-1], self.out_features)

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, init={self.init!r})"


class _Activation(Module):
    name = ""

    def __init_subclass__(cls):
        cls.forward_name, cls.backward_name = f"{cls.name}_forward", f"{cls.name}_backward"

    def forward(self, x):
        out, self.cache = _f(self.forward_name, x)(x)
        return out

    def backward(self, dout):
        return _f(self.backward_name, dout, self.cache)(dout, self.cache)


class Sigmoid(_Activation):
    name = "sigmoid"


class Tanh(_Activation):
    name = "tanh"


class ReLU(_Activation):
    name = "relu"


class LeakyReLU(_Activation):
    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01):
        self.alpha = alpha

    def forward(self, x):
        out, self.cache = _f("leaky_relu_forward")(x, self.alpha)
        return out

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"


class Identity(Module):
    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU,
               "identity": Identity, "linear": Identity}


class Dropout(Module):
    """Inverted dropout; ``rate`` is the probability of dropping a unit. Identity in eval mode."""

    def __init__(self, rate: float, rng=0):
        self.rate = fraction("The dropout rate", rate)
        self.rng = rng if hasattr(rng, "random") else numpy.random.default_rng(rng)
        self.cache = None

    def forward(self, x):
        if self.training and self.rate > 0 and backend.is_device_array(x) \
                and isinstance(self.rng, numpy.random.Generator):
            # keep the masks on the GPU: a CuPy generator seeded from this one
            import cupy

            self.rng = cupy.random.default_rng(int(self.rng.integers(2**63)))
        out, self.cache = _f("dropout_forward")(x, self.rate, self.rng, self.training)
        return out

    def backward(self, dout):
        return _f("dropout_backward")(dout, self.cache)

    def __repr__(self):
        return f"Dropout(rate={self.rate})"


class BatchNorm1d(Module):
    """Batch normalisation over the batch, per feature: trainable γ (ones) and β (zeros),
    non-trainable running mean and variance (``momentum`` 0.9, ε = 1e-5)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9,
                 dtype=numpy.float64):
        self.num_features = positive_int("num_features", num_features)
        self.eps, self.momentum = eps, fraction("momentum", momentum)
        xp = backend.xp()
        self.gamma = Parameter(xp.ones(num_features, dtype=dtype), "gamma")
        self.beta = Parameter(xp.zeros(num_features, dtype=dtype), "beta")
        self.state = {"running_mean": xp.zeros(num_features, dtype=dtype),
                      "running_var": xp.ones(num_features, dtype=dtype)}
        self.cache = None

    def forward(self, x):
        require_ndim("x", x, 2, "(N examples, D features)")
        out, self.cache = _f("batchnorm_forward")(x, self.gamma.data, self.beta.data, self.state,
                                                  self.training, self.eps, self.momentum)
        return out

    def backward(self, dout):
        dx, self.gamma.grad, self.beta.grad = _f("batchnorm_backward")(dout, self.cache)
        return dx

    def parameters(self):
        return [self.gamma, self.beta]

    def buffers(self):
        return self.state

    def __repr__(self):
        return f"BatchNorm1d({self.num_features})"


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, *layers: Module):
        if len(layers) == 1 and isinstance(layers[0], list | tuple):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential item {i} is a {type(layer).__name__}, not a layer.")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, input_grad: bool = True):
        """Backward through every layer, last first; returns dx. ``input_grad=False`` (a training
        step: the input is data) lets a first Linear skip dL/dx, and then None is returned."""
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        first = self.layers[0] if self.layers else Identity()
        if not input_grad and isinstance(first, (Linear, Sequential)):
            return first.backward(dout, input_grad=False)
        return first.backward(dout)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def buffers(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.buffers().items()}

    def train(self, mode: bool = True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def output_shape(self, input_shape):
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def state_dict(self) -> dict:
        """Copies of every parameter and buffer (used to restore the best weights)."""
        state = {f"param{i}": p.data.copy() for i, p in enumerate(self.parameters())}
        state.update({f"buffer.{k}": v.copy() for k, v in self.buffers().items()})
        return state

    def load_state_dict(self, state: dict):
        for i, p in enumerate(self.parameters()):
            p.data = state[f"param{i}"].copy()
        for i, layer in enumerate(self.layers):
            for k in layer.buffers():
                owner, key = layer, k
                while isinstance(owner, Sequential):  # its buffers() is a fresh dict: go inside
                    index, key = key.split(".", 1)
                    owner = owner.layers[int(index)]
                owner.buffers()[key] = state[f"buffer.{i}.{k}"].copy()

    def summary(self, input_features: int | None = None, print_fn=print):
        """Print a Keras-style table (layer, output shape, parameters) and return the counts
        ``{"total", "trainable", "non_trainable"}``. Running statistics are non-trainable."""
        if input_features is None:
            first = next((l for l in self.layers if isinstance(l, Linear)), None)
            input_features = first.in_features if first else None
        shape = (None, input_features)
        rows, trainable, frozen = [], 0, 0
        counts: dict[str, int] = {}
        for layer in self.layers:
            kind = type(layer).__name__
            counts[kind] = counts.get(kind, 0) + 1
            shape = layer.output_shape(shape)
            n_train = sum(p.size for p in layer.parameters())
            n_frozen = sum(int(v.size) for v in layer.buffers().values())
            trainable, frozen = trainable + n_train, frozen + n_frozen
            label = f"{kind.lower()}_{counts[kind]} ({kind})"
            rows.append((label, str(shape), f"{n_train + n_frozen:,}"))
        width = max([len(r[0]) for r in rows] + [12]) + 2
        line = "─" * (width + 32)
        print_fn(line)
        print_fn(f"{'Layer (type)':<{width}}{'Output Shape':<20}{'Param #':>12}")
        print_fn(line)
        for label, out_shape, n in rows:
            print_fn(f"{label:<{width}}{out_shape:<20}{n:>12}")
        print_fn(line)
        print_fn(f"Total params: {trainable + frozen:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {frozen:,}")
        print_fn(line)
        return {"total": trainable + frozen, "trainable": trainable, "non_trainable": frozen}

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def mlp(sizes, activation: str = "relu", init: str = "he", rng=None, batchnorm=False,
        dropout: float = 0.0, output_activation: str | None = None, dtype=numpy.float64):
    """A multi-layer perceptron: ``mlp([2, 16, 16, 1], "tanh")`` is Linear-tanh-Linear-tanh-Linear.

    Optional batch norm after each hidden Linear, dropout after each hidden activation, and an
    output activation (e.g. ``"sigmoid"`` for binary cross-entropy)."""
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {list(sizes)}.")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}.")
    rng = as_generator(rng)
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(BatchNorm1d(fan_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
    if output_activation:
        layers.append(ACTIVATIONS[output_activation]())
    return Sequential(*layers)
