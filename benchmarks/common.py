"""What the CPU and GPU benchmarks share: the MLP under test, its training step in course_lib and
in PyTorch, the GEMM floor, interleaved timing and the PASS/MISS lines.

Everything takes an array namespace (``numpy`` or ``cupy``) or a torch device, so a GPU benchmark
can reuse it: ``course_lib.backend.use("cupy")`` before ``course_lib_mlp``, ``batch(N, xp=cupy)``,
``gemm_floor(weights, X, xp=cupy)``, ``torch_mlp(weights, device="cuda")``, and
``interleaved(..., sync=...)`` with a function that waits for both devices' queues
(wall time there: CPU time would miss the GPU's work).
"""

from __future__ import annotations

import statistics
import time

import numpy

MLP_SIZES = (784, 256, 128, 10)
NUM_CLASSES = MLP_SIZES[-1]
LR = 0.01


# --- the model and its data ------------------------------------------------------------------


def initial_weights(seed: int = 0, dtype=numpy.float32):
    """He-initialised ``[(W, b), ...]`` for MLP_SIZES as NumPy arrays, so every contender starts
    from the same network."""
    rng = numpy.random.default_rng(seed)
    return [(rng.normal(0.0, (2.0 / fan_in) ** 0.5, size=(fan_in, fan_out)).astype(dtype),
             numpy.zeros(fan_out, dtype=dtype))
            for fan_in, fan_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:], strict=True)]


def batch(N: int, seed: int = 1, dtype=numpy.float32, xp=numpy):
    """A fixed batch: X (N, 784) standard normal, y (N,) class indices, resident on ``xp``."""
    rng = numpy.random.default_rng(seed)
    X = rng.standard_normal((N, MLP_SIZES[0])).astype(dtype)
    y = rng.integers(0, NUM_CLASSES, size=N)
    return xp.asarray(X), xp.asarray(y)


def course_lib_mlp(weights, lr: float = LR):
    """course_lib's Linear-ReLU-Linear-ReLU-Linear with ``weights`` and an SGD optimizer, and the
    training step ``fit`` takes on each batch (``train.fit`` also tells backward that the input
    is data)."""
    from course_lib import backend, layers, losses, optim

    dtype = weights[0][0].dtype
    model = layers.mlp(list(MLP_SIZES), "relu", init="he", rng=0, dtype=dtype)
    linears = [layer for layer in model.layers if isinstance(layer, layers.Linear)]
    for layer, (W, b) in zip(linears, weights, strict=True):
        layer.W.data = backend.to_device(W.copy())
        layer.b.data = backend.to_device(b.copy())
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(X, y):
        opt.zero_grad()
        logits = model.forward(X)
        loss, grad = losses.softmax_cross_entropy(logits, y)
        model.backward(grad, input_grad=False)  # X is data: no dL/dX (as fit does)
        opt.step()
        return loss

    return model, step


def torch_mlp(weights, lr: float = LR, device: str = "cpu"):
    """The same network and step in PyTorch eager: nn.Linear, ReLU, cross_entropy, SGD."""
    import torch
    from torch import nn

    sizes = list(MLP_SIZES)
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(),
                          nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                          nn.Linear(sizes[2], sizes[3])).to(device)
    with torch.no_grad():
        for layer, (W, b) in zip(model[::2], weights, strict=True):
            layer.weight.copy_(torch.from_numpy(W.T.copy()))  # torch stores W as (out, in)
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    cross_entropy = torch.nn.functional.cross_entropy

    def step(X, y):
        opt.zero_grad()
        loss = cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def gemm_floor(weights, X, xp=numpy):
    """The step's eight matrix products alone (3 forward, 3 dW, 2 dX; the input needs no
    gradient), on operands of the right shapes. Returns a function of no arguments."""
    (W1, _), (W2, _), (W3, _) = [(xp.asarray(W), b) for W, b in weights]
    N = X.shape[0]
    rng = numpy.random.default_rng(2)

    def operand(*shape):
        return xp.asarray(rng.standard_normal(shape).astype(W1.dtype))

    H1, H2 = operand(N, W1.shape[1]), operand(N, W2.shape[1])
    dZ1, dZ2, dZ3 = operand(N, W1.shape[1]), operand(N, W2.shape[1]), operand(N, W3.shape[1])

    def products():
        X @ W1, H1 @ W2, H2 @ W3          # forward
        X.T @ dZ1, H1.T @ dZ2, H2.T @ dZ3  # dW
        dZ3 @ W3.T, dZ2 @ W2.T             # dX of layers 3 and 2

    return products


# --- timing ----------------------------------------------------------------------------------


def interleaved(contenders: dict, rounds: int, inner: int = 1, warmup: int = 2, sync=None,
                clock=time.perf_counter) -> dict:
    """Seconds per call of each contender (name -> function of no arguments), one sample per
    round, measured ABAB…: each round times ``inner`` calls of every contender in turn (the
    order rotating from round to round), so drifts in clock speed, load or cache state hit all
    of them alike. ``sync`` (e.g. a CUDA synchronize) runs before each clock read; ``clock`` is
    wall time by default (``time.process_time`` counts only this process's CPU time, which other
    processes on a shared machine cannot inflate as much). Returns name -> list of samples."""
    sync = sync or (lambda: None)
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    sync()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = contenders[name]
            start = clock()
            for _ in range(inner):
                fn()
            sync()
            samples[name].append((clock() - start) / inner)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def paired_ratio(samples: dict, a: str, b: str) -> float:
    """Median over rounds of ``a``'s time divided by ``b``'s in the same round: the samples of one
    round were taken moments apart, so a change in load between rounds cancels out."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def ratio_cell(ratio: float, target: float | None) -> str:
    """``1.08 (≤ 1.10) PASS``, or the bare ratio when there is no target."""
    if target is None:
        return f"{ratio:.2f}"
    return f"{ratio:.2f} (≤ {target:.2f}) {verdict(ratio, target)}"
