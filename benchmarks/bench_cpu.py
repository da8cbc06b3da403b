"""CPU benchmark of course_lib (``make bench``): one BLAS thread, float32, interleaved medians.

1. The MLP 784-256-128-10 training step (ReLU, softmax cross-entropy, SGD; a fixed batch resident
   in memory) at batch 128, 1024 and 4096, against its GEMM floor (the step's eight matrix
   products alone) and against PyTorch CPU eager (skipped when torch is not installed).
2. XOR 2-3-1 trained for 5000 full-batch epochs with SGD and with Adam through
   ``course_lib.train.fit``.
3. ``import course_lib`` in a fresh interpreter.

Each figure is printed next to its target (issue 2) with PASS or MISS.
"""

from __future__ import annotations

import os

# One thread in every pool, set before numpy (or torch) loads its BLAS.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import functools  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy  # noqa: E402
from common import (  # noqa: E402
    MLP_SIZES,
    batch,
    course_lib_mlp,
    gemm_floor,
    initial_weights,
    interleaved,
    median,
    paired_ratio,
    ratio_cell,
    torch_mlp,
    verdict,
)
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

BATCHES = {  # batch size: (rounds, steps per round, target ×floor, target ×torch or None)
    128: (101, 10, 1.25, 1.0),
    1024: (61, 2, 1.12, None),
    4096: (41, 1, 1.10, None),
}
XOR_EPOCHS = 5000
XOR_TARGETS = {"SGD": 0.30, "Adam": 0.55}
IMPORT_TARGET = 0.25
# CPU time of this process: on a shared machine other processes' turns would inflate wall time.
CLOCK = time.process_time


def load_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    return torch


def blas_name():
    pools = [f"{p['internal_api']} {p['version']}" for p in threadpool_info()
             if p["user_api"] == "blas"]
    return ", ".join(pools) or "unknown BLAS"


# --- 1. MLP training step --------------------------------------------------------------------


def bench_mlp(torch):
    print(f"\n1. MLP {'-'.join(map(str, MLP_SIZES))} training step (ReLU, softmax cross-entropy, "
          "SGD; float32, fixed resident batch)")
    print("   floor = the step's 8 matrix products alone (3 forward, 3 dW, 2 dX); torch = "
          "PyTorch CPU eager;\n   CPU ms per step: medians of interleaved samples; ratios: medians of "
          "the ratios within each round")
    head = f"   {'batch':>5} {'floor ms':>9} {'course_lib ms':>14}"
    head += f" {'torch ms':>9}" if torch else ""
    head += f"  {'× floor (target)':<24}"
    head += f"{'× torch (target)':<24}" if torch else ""
    print(head)
    results = {}
    for N, (rounds, inner, floor_target, torch_target) in BATCHES.items():
        weights = initial_weights(seed=0)
        X, y = batch(N)
        _, cl_step = course_lib_mlp(weights)
        contenders = {"floor": gemm_floor(weights, X),
                      "course_lib": functools.partial(cl_step, X, y)}
        if torch:
            _, t_step = torch_mlp(weights)
            Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
            check_same_step(cl_step, t_step, X, y, Xt, yt)
            contenders["torch"] = functools.partial(t_step, Xt, yt)
        samples = interleaved(contenders, rounds=rounds, inner=inner, clock=CLOCK)
        t = {name: median(s) for name, s in samples.items()}
        line = f"   {N:>5} {t['floor'] * 1e3:>9.3f} {t['course_lib'] * 1e3:>14.3f}"
        line += f" {t['torch'] * 1e3:>9.3f}" if torch else ""
        vs_floor = paired_ratio(samples, "course_lib", "floor")
        line += f"  {ratio_cell(vs_floor, floor_target):<24}"
        results[N] = {"ms": {k: v * 1e3 for k, v in t.items()}, "x_floor": vs_floor}
        if torch:
            vs_torch = paired_ratio(samples, "course_lib", "torch")
            line += f"{ratio_cell(vs_torch, torch_target):<24}"
            results[N]["x_torch"] = vs_torch
        print(line, flush=True)
    if not torch:
        print("   (torch is not installed: the PyTorch column is skipped)")
    return results


def check_same_step(cl_step, t_step, X, y, Xt, yt):
    """Both contenders start from the same weights and data: their first losses must agree."""
    a, b = float(cl_step(X, y)), t_step(Xt, yt).item()
    if abs(a - b) > 1e-4 * max(1.0, abs(b)):
        raise SystemExit(f"course_lib and torch disagree on the first loss ({a} vs {b}): "
                         "the benchmark would compare different computations.")


# --- 2. XOR ----------------------------------------------------------------------------------


def bench_xor(rounds=5):
    """Notebook 05's XOR run (seed 003's network: 2-3-1 sigmoid, LeCun init N(0, 1/fan_in), half squared error,
    full batch), through ``course_lib.train.fit``, interleaved with the same maths in bare NumPy
    (no layers, no checks): the gap between the two is course_lib's own overhead."""
    from course_lib import datasets, layers, optim, train

    print(f"\n2. XOR 2-3-1 (sigmoid, half squared error, float64), {XOR_EPOCHS} full-batch epochs "
          "through course_lib.train.fit(batch_size=None, progress=False); CPU seconds, median of "
          f"{rounds} interleaved runs")
    X, y = datasets.xor()
    optimizers = {"SGD": (lambda p: optim.SGD(p, lr=1.0), _bare_sgd),
                  "Adam": (lambda p: optim.Adam(p, lr=0.01), _bare_adam)}
    results = {}
    for name, (make_opt, bare_update) in optimizers.items():
        accuracy = []

        def course_lib_run(make_opt=make_opt, accuracy=accuracy):
            net = layers.mlp([2, 3, 1], "sigmoid", init="lecun", rng=1,
                             output_activation="sigmoid")
            train.fit(net, "half_squared_error", make_opt(net.parameters()), X, y,
                      num_epochs=XOR_EPOCHS, batch_size=None, progress=False)
            accuracy.append(train.accuracy(net, X, y))

        def bare_run(bare_update=bare_update):
            net = layers.mlp([2, 3, 1], "sigmoid", init="lecun", rng=1,
                             output_activation="sigmoid")
            _bare_xor([p.data.copy() for p in net.parameters()], X, y, bare_update)

        samples = interleaved({"course_lib": course_lib_run, "bare": bare_run}, rounds=rounds,
                              warmup=1, clock=CLOCK)
        t = {name: median(s) for name, s in samples.items()}
        seconds, target = t["course_lib"], XOR_TARGETS[name]
        print(f"   {name:<5} {seconds:6.3f} s  (target ≤ {target:.2f} s) {verdict(seconds, target)}"
              f"   accuracy {min(accuracy):.2f};  bare NumPy {t['bare']:.3f} s, "
              f"course_lib ×{paired_ratio(samples, 'course_lib', 'bare'):.2f}", flush=True)
        results[name] = {"seconds": seconds, "bare_numpy_seconds": t["bare"],
                         "accuracy": min(accuracy)}
    return results


def _bare_xor(params, X, y, update):
    """The XOR training loop written out in NumPy: the reference for course_lib's overhead."""
    W1, b1, W2, b2 = params
    state = [{} for _ in params]
    N = X.shape[0]

    def sigmoid(z):
        e = numpy.exp(-numpy.abs(z))
        return numpy.where(z >= 0, 1.0, e) / (1 + e)

    for _ in range(XOR_EPOCHS):
        a1 = sigmoid(X @ W1 + b1)
        a2 = sigmoid(a1 @ W2 + b2)
        diff = a2 - y
        loss = 0.5 * (diff * diff).sum() / N  # noqa: F841 (computed as fit does)
        dz2 = diff / N * a2 * (1 - a2)
        dz1 = dz2 @ W2.T * a1 * (1 - a1)
        grads = (X.T @ dz1, dz1.sum(axis=0), a1.T @ dz2, dz2.sum(axis=0))
        for w, dw, s in zip(params, grads, state, strict=True):
            update(w, dw, s)


def _bare_sgd(w, dw, state, lr=1.0):
    w -= lr * dw


def _bare_adam(w, dw, state, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = beta1 * state.get("m", 0) + (1 - beta1) * dw
    v = state["v"] = beta2 * state.get("v", 0) + (1 - beta2) * dw * dw
    w -= lr * (m / (1 - beta1**t)) / (numpy.sqrt(v / (1 - beta2**t)) + eps)


# --- 3. import time --------------------------------------------------------------------------


def bench_import(repeats=9):
    """``import course_lib`` in a fresh interpreter each time: CPU seconds (and wall seconds)."""
    code = ("import time; c, w = time.process_time(), time.perf_counter(); import course_lib; "
            "print(time.process_time() - c, time.perf_counter() - w)")
    cpu, wall = [], []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=os.environ.copy())
        c, w = map(float, out.stdout.split())
        cpu.append(c)
        wall.append(w)
    seconds = statistics.median(cpu)
    print(f"\n3. import course_lib (fresh interpreter, median of {repeats}): {seconds:.3f} s CPU  "
          f"(target ≤ {IMPORT_TARGET:.2f} s) {verdict(seconds, IMPORT_TARGET)}   "
          f"wall {statistics.median(wall):.3f} s")
    return seconds


def main():
    torch = load_torch()
    with threadpool_limits(limits=1):
        print(f"course_lib CPU benchmark: {platform.machine()}, {os.cpu_count()} CPUs, "
              f"Python {platform.python_version()}, NumPy {numpy.__version__} ({blas_name()}), "
              f"torch {torch.__version__ if torch else 'not installed'}; 1 BLAS/torch thread")
        print(f"load average {os.getloadavg()[0]:.1f} at the start: every figure is CPU time of "
              "this process, which other processes' turns do not count")
        results = {"mlp": bench_mlp(torch), "xor": bench_xor(), "import_seconds": bench_import(),
                   "load_average": os.getloadavg()[0], "clock": "process CPU time",
                   "numpy": numpy.__version__, "torch": torch.__version__ if torch else None}
    out = pathlib.Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_cpu.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
