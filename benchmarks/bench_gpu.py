"""GPU benchmark of course_lib (``make bench``): the MLP 784-256-128-10 training step on CuPy
against PyTorch CUDA eager and against course_lib on NumPy (one CPU thread).

The step is the one ``train.fit`` takes on each mini-batch (ReLU, softmax cross-entropy, SGD with
lr 0.01; backward told that the input is data), on a fixed float32 batch resident on the device,
at batch 1024, 4096 and 16384. TF32 is off on both sides: ``CUPY_TF32=0`` (CuPy's default, set
here explicitly), ``torch.backends.cuda.matmul.allow_tf32 = False`` and
``torch.backends.cudnn.allow_tf32 = False``. GPU times come from CUDA events around a run of
steps, after warm-up, in interleaved rounds (the order rotating each round); figures are medians,
ratios the median of the per-round ratios. Contenders, all from the same He-initialised weights
(their first losses are checked to agree):

- ``cupy``: course_lib on CuPy as ``fit`` runs it, with the fused twins ``course_lib._fast.twin`` finds;
- ``cupy graph``: that step captured once into a CUDA graph (``cupy.cuda.Stream.begin_capture``)
  and replayed, one launch a step (valid for SGD at a constant learning rate: nothing in its step
  is decided on the host);
- ``cupy unfused``: the straight port, one kernel per array operation (``_cuda.enabled = False``);
- ``torch``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, ``F.cross_entropy``, ``optim.SGD``;
- ``numpy``: course_lib on NumPy, one BLAS thread (CPU time of the process, as bench_cpu.py).

Target (issue 9): course_lib on CuPy ≤ 1.2 × PyTorch CUDA eager at batch 4096, PASS or MISS, for
the eager step and for the graph replay.

Without CuPy or a CUDA GPU it prints one sentence and exits 0. ``--write-results`` puts this run's
table into the GPU section of RESULTS.md; the figures also go to ``out/bench_gpu.json``.
"""

from __future__ import annotations

import os

os.environ["CUPY_TF32"] = "0"  # before CuPy loads: float32 products in full float32, as torch's
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # the NumPy contender's one thread, set before NumPy loads its BLAS

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy  # noqa: E402
from common import (  # noqa: E402
    LR,
    MLP_SIZES,
    batch,
    initial_weights,
    interleaved,
    median,
    paired_ratio,
    ratio_cell,
    torch_mlp,
)

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # course_lib from this checkout, installed or not

BATCHES = {1024: 50, 4096: 25, 16384: 10}  # batch size: steps timed between two CUDA events
ROUNDS = 21
WARMUP = 10
NUMPY_ROUNDS = 3
TARGET_BATCH, TARGET = 4096, 1.2
BEGIN, END = "<!-- bench_gpu: begin -->", "<!-- bench_gpu: end -->"


def gpu_missing() -> str | None:
    """Why there is nothing to time here, in one sentence, or None."""
    if importlib.util.find_spec("cupy") is None:
        return ("GPU benchmark skipped: CuPy is not installed (pip install -e '.[gpu]'), so there "
                "is no GPU to time.")
    from course_lib import backend

    if not backend.gpu_available():
        return "GPU benchmark skipped: CuPy is installed but sees no usable CUDA GPU."
    return None


def load_torch():
    """PyTorch with CUDA and TF32 off, or None (its column is then left out)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    return torch


# --- the contenders --------------------------------------------------------------------------


def course_lib_step(weights, X, fused=True):
    """course_lib's MLP with ``weights`` and the step ``fit`` takes on each batch: forward, the
    loss ``fit`` calls (its fused twin on the GPU), backward without the input's gradient, SGD in
    place. Built on the current backend. ``fused=False``: the straight port, every fused kernel
    off (``course_lib._fast.cuda.enabled``)."""
    from course_lib import _fast, backend, layers, losses, optim
    from course_lib._fast import cuda as _cuda

    model = layers.mlp(list(MLP_SIZES), "relu", init="he", rng=0, dtype=numpy.float32)
    linears = [layer for layer in model.layers if isinstance(layer, layers.Linear)]
    for layer, (W, b) in zip(linears, weights, strict=True):
        layer.W.data = backend.to_device(W.copy())
        layer.b.data = backend.to_device(b.copy())
    opt = optim.SGD(model.parameters(), lr=LR)

    def step(X, y):
        opt.zero_grad()
        logits = model.forward(X)
        loss_fn = _fast.twin("softmax_cross_entropy", logits, y) or losses.softmax_cross_entropy
        loss, grad = loss_fn(logits, y)
        model.backward(grad, input_grad=False)
        opt.step()
        return loss

    if fused:
        return step

    def straight_port(X, y):  # layers, loss and optimizer ask course_lib._fast on every call
        _cuda.enabled = False
        try:
            return step(X, y)
        finally:
            _cuda.enabled = True

    return straight_port


def captured(step, X, y, warmup=3):
    """``step(X, y)`` captured into a CUDA graph on a stream of its own: ``(replay, loss, stream)``.

    The warm-up steps on that stream compile the kernels, fill the stream's share of CuPy's memory
    pool (so capture allocates nothing new) and make the optimizer's own copies of the weights; the
    arrays the captured step writes (activations, gradients, weights, the loss) stay referenced by
    the model, so a replay rewrites them in place. The warm-up and capture advance the weights by
    ``warmup`` steps; the first replay is step ``warmup + 1``."""
    import cupy

    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        for _ in range(warmup):
            step(X, y)
        stream.synchronize()
        stream.begin_capture()
        loss = step(X, y)
        graph = stream.end_capture()
    return (lambda: graph.launch(stream)), loss, stream


# --- timing ----------------------------------------------------------------------------------


def cupy_ms(fn, steps, stream):
    """GPU milliseconds per call of ``fn``: CUDA events on ``stream`` around ``steps`` calls."""
    import cupy

    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    start.record(stream)
    for _ in range(steps):
        fn()
    stop.record(stream)
    stop.synchronize()
    return cupy.cuda.get_elapsed_time(start, stop) / steps


def torch_ms(torch, fn, steps):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(steps):
        fn()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / steps


def rounds_of(timers: dict, rounds: int) -> dict:
    """Milliseconds per step of each contender (name -> timer of no arguments), one sample a round,
    the order rotating from round to round; the device is idle before each sample."""
    import cupy

    samples = {name: [] for name in timers}
    names = list(timers)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            cupy.cuda.Device().synchronize()
            samples[name].append(timers[name]())
    return samples


def check_agreement(losses: dict, reference: str):
    """The first losses of contenders that start from the same weights must agree."""
    want = losses[reference]
    for name, value in losses.items():
        if abs(value - want) > 1e-4 * max(1.0, abs(want)):
            raise SystemExit(f"{name} and {reference} disagree on the first loss ({value} vs "
                             f"{want}): the benchmark would compare different computations.")


def bench_batch(N, steps, torch, cupy):
    """Every contender at batch ``N``: ms per step (GPU: CUDA events; NumPy: CPU time)."""
    from course_lib import backend

    weights = initial_weights(seed=0)
    X_host, y_host = batch(N)
    X, y = cupy.asarray(X_host), cupy.asarray(y_host)
    backend.use("cupy")
    first, timers, notes = {}, {}, []
    null = cupy.cuda.get_current_stream()

    fused = course_lib_step(weights, X)
    first["cupy"] = float(fused(X, y))
    straight = course_lib_step(weights, X, fused=False)
    first["cupy unfused"] = float(straight(X, y))
    for _ in range(WARMUP):
        fused(X, y)
        straight(X, y)
    timers["cupy"] = lambda: cupy_ms(lambda: fused(X, y), steps, null)
    timers["cupy unfused"] = lambda: cupy_ms(lambda: straight(X, y), steps, null)

    try:
        replay, graph_loss, stream = captured(course_lib_step(weights, X), X, y)
        twin = course_lib_step(weights, X)  # the same steps eagerly: the replay must match it
        for _ in range(3):
            twin(X, y)
        expected = float(twin(X, y))
        replay()
        stream.synchronize()
        if abs(float(graph_loss) - expected) > 1e-5 * max(1.0, abs(expected)):
            raise RuntimeError(f"its first replay gave loss {float(graph_loss)}, the same step "
                               f"run eagerly {expected}")
        for _ in range(WARMUP):
            replay()
        timers["cupy graph"] = lambda: cupy_ms(replay, steps, stream)
    except Exception as err:  # a capture CuPy or the driver refuses: report it, time the rest
        notes.append(f"CUDA graph capture failed at batch {N}: {type(err).__name__}: {err}")

    if torch is not None:
        _, t_step = torch_mlp(weights, device="cuda")
        Xt = torch.from_numpy(X_host).cuda()
        yt = torch.from_numpy(y_host).cuda()
        first["torch"] = t_step(Xt, yt).item()
        for _ in range(WARMUP):
            t_step(Xt, yt)
        torch.cuda.synchronize()
        timers["torch"] = lambda: torch_ms(torch, lambda: t_step(Xt, yt), steps)

    check_agreement(first, "cupy")
    samples = rounds_of(timers, ROUNDS)

    backend.use("numpy")
    np_step = course_lib_step(weights, X_host)
    first_np = float(np_step(X_host, y_host))
    check_agreement({"numpy": first_np, "cupy": first["cupy"]}, "cupy")
    np_samples = interleaved({"numpy": lambda: np_step(X_host, y_host)}, rounds=NUMPY_ROUNDS,
                             warmup=1, clock=time.process_time)["numpy"]
    backend.use("cupy")

    result = {"ms": {name: median(s) for name, s in samples.items()},
              "numpy_ms": median(np_samples) * 1e3, "notes": notes}
    if "torch" in samples:
        result["x_torch"] = {name: paired_ratio(samples, name, "torch")
                             for name in samples if name != "torch"}
    return result


# --- report ----------------------------------------------------------------------------------


def machine(cupy, torch) -> str:
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    runtime = cupy.cuda.runtime.runtimeGetVersion()
    return (f"{name}; CUDA runtime {runtime // 1000}.{runtime % 1000 // 10}, driver "
            f"{cupy.cuda.runtime.driverGetVersion()}; CuPy {cupy.__version__}, "
            f"PyTorch {torch.__version__ if torch else 'not installed'}, NumPy {numpy.__version__}, "
            f"Python {platform.python_version()}; host {platform.processor() or platform.machine()},"
            f" {os.cpu_count()} CPUs")


def cell(value, fmt="{:.3f}"):
    return "—" if value is None else fmt.format(value)


def table(results: dict) -> list[str]:
    """Markdown rows: ms per step of each contender, and the ratios to PyTorch."""
    lines = ["| batch | CuPy ms | CuPy graph ms | CuPy unfused ms | PyTorch CUDA ms | "
             "NumPy 1 thread ms | CuPy ÷ PyTorch | graph ÷ PyTorch |",
             "|---|---|---|---|---|---|---|---|"]
    for N, r in results.items():
        ms, ratios = r["ms"], r.get("x_torch", {})
        target = TARGET if int(N) == TARGET_BATCH else None
        ratio = {k: ratio_cell(v, target) for k, v in ratios.items()}
        lines.append(f"| {N} | {cell(ms.get('cupy'))} | {cell(ms.get('cupy graph'))} | "
                     f"{cell(ms.get('cupy unfused'))} | {cell(ms.get('torch'))} | "
                     f"{cell(r['numpy_ms'], '{:.1f}')} | {ratio.get('cupy', '—')} | "
                     f"{ratio.get('cupy graph', '—')} |")
    return lines


def section(results: dict, about: str) -> str:
    """The GPU section of RESULTS.md for this run."""
    notes = [n for r in results.values() for n in r["notes"]]
    return "\n".join([
        f"Measured {datetime.date.today().isoformat()} on {about}, with "
        "`python3 benchmarks/bench_gpu.py --write-results`.", "",
        *table(results), "",
        f"GPU figures: medians of {ROUNDS} interleaved rounds, each timing a run of steps "
        f"({', '.join(f'{s} at batch {n}' for n, s in BATCHES.items())}) between two CUDA "
        "events after warm-up; ratios: medians of the per-round ratios. NumPy: CPU time of one "
        f"step on one thread, median of {NUMPY_ROUNDS}. Target: CuPy ≤ {TARGET:.1f} × PyTorch "
        f"CUDA eager at batch {TARGET_BATCH}.",
        *(f"- {n}" for n in notes),
    ])


def write_results(path: pathlib.Path, text: str):
    """Replace what stands between the GPU markers of RESULTS.md with ``text``."""
    content = path.read_text(encoding="utf-8")
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{path} has no {BEGIN} … {END} section to fill.")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-results", action="store_true",
                        help="put this run's table into the GPU section of RESULTS.md")
    args = parser.parse_args(argv)
    reason = gpu_missing()
    if reason:
        print(reason)
        return 0
    import cupy
    from threadpoolctl import threadpool_limits

    torch = load_torch()
    about = machine(cupy, torch)
    print(f"course_lib GPU benchmark: {about}")
    print(f"MLP {'-'.join(map(str, MLP_SIZES))} training step, float32, TF32 off "
          f"(CUPY_TF32={os.environ['CUPY_TF32']}"
          + (f", torch allow_tf32={torch.backends.cuda.matmul.allow_tf32}" if torch else "")
          + "), data resident on the device")
    if torch is None:
        print("PyTorch with CUDA is not available: its column and the target are left out.")
    print("\n".join(table({})), flush=True)
    results = {}
    with threadpool_limits(limits=1):
        for N, steps in BATCHES.items():
            results[N] = bench_batch(N, steps, torch, cupy)
            print(table({N: results[N]})[-1], flush=True)
    for r in results.values():
        for note in r["notes"]:
            print(note)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_gpu.json").write_text(json.dumps({"machine": about, "results": results},
                                                   indent=1) + "\n")
    if args.write_results:
        write_results(HERE / "RESULTS.md", section(results, about))
        print(f"Wrote the GPU section of {HERE / 'RESULTS.md'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
