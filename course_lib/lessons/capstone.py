"""Notebook 09 (the capstone): the learner's own pieces, the oracles they are checked against, and
the experiments that put the learner's network to work.

- ``load_pieces()``: the learner's functions of notebooks 01–08 from ``my_nn.py`` in the course
  folder (the parent of the notebook's folder), each checked against course_lib's reference on a
  small input; a piece that is missing or disagrees is replaced by the reference, and one sentence
  says which pieces are stand-ins.
- References of the notebook's exercises (``init_params``, ``model_forward``, ``model_backward``,
  ``train``, ``evaluate``): the oracles of the checks and the stand-ins of the later cells.
- ``layer_statistics`` (the initialisation study), ``random_search``, ``confusion_matrix``,
  ``worst_mistakes`` and their plots.

Parameters are a list with one dict per layer: ``{"W": (fan_in, fan_out), "b": (fan_out,)}``,
plus ``"gamma"``, ``"beta"`` (fan_out,) and ``"state"`` (running statistics) for a hidden layer
with batch normalisation. Gradients have the same layout without ``"state"``.
"""

from __future__ import annotations

import importlib.util
import math
import types
from pathlib import Path

import numpy as np

from .. import functional, losses, optim, regularization

# name -> (where course_lib keeps it, the notebook that teaches it)
PIECES = {
    "linear_forward": (functional, "01"), "linear_backward": (functional, "03"),
    "sigmoid_forward": (functional, "01"), "sigmoid_backward": (functional, "03"),
    "tanh_forward": (functional, "01"), "tanh_backward": (functional, "03"),
    "relu_forward": (functional, "01"), "relu_backward": (functional, "03"),
    "softmax_cross_entropy": (losses, "02"),
    "sgd_update": (optim, "04"), "momentum_update": (optim, "06"), "adam_update": (optim, "06"),
    "l2_penalty": (regularization, "07"),
    "dropout_forward": (functional, "07"), "dropout_backward": (functional, "07"),
    "batchnorm_forward": (functional, "08"), "batchnorm_backward": (functional, "08"),
}
SCHEMES = ("plain", "lecun", "xavier", "he")


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Standard deviation of each initial weight (CONVENTIONS.md): ``plain`` 0.01, ``lecun``
    √(1/fan_in), ``xavier`` (Glorot & Bengio 2010) √(2/(fan_in + fan_out)), ``he`` (He et al.
    2015) √(2/fan_in)."""
    if scheme == "plain":
        return 0.01
    if scheme == "lecun":
        return math.sqrt(1.0 / fan_in)
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)
    raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}.")


# --- the learner's pieces ----------------------------------------------------------------------


def course_folder() -> Path:
    """The folder that holds the notebooks' folders (and ``my_nn.py``): the parent of the current
    one, as a notebook runs in its own folder."""
    return Path.cwd().parent


def _import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"_learner_my_nn_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _close(a, b, tol=1e-6) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=1e-9))


def _all_close(got, want) -> bool:
    got = got if isinstance(got, (tuple, list)) else (got,)
    want = want if isinstance(want, (tuple, list)) else (want,)
    return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want, strict=True))


def _pair_agrees(fwd, bwd, ref_fwd, ref_bwd, args, kwargs=None) -> bool:
    """A forward/backward pair agrees with the reference on ``args``: the same output, and the
    same gradients for the same upstream gradient, each from its own cache."""
    kwargs = kwargs or {}
    out, cache = fwd(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs)
    ref_out, ref_cache = ref_fwd(*args, **kwargs)
    if not _close(out, ref_out):
        return False
    dout = np.random.default_rng(7).normal(size=np.shape(ref_out))
    return _all_close(bwd(dout.copy(), cache), ref_bwd(dout, ref_cache))


def _agrees(name: str, fn, theirs: dict) -> bool:
    """Whether the learner's ``fn`` (with its partner from ``theirs``) gives the reference's
    results on a small example. Raises whatever their code raises."""
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    z = rng.normal(size=(4, 3)) * 3
    F = functional
    stem, _, kind = name.rpartition("_")
    if kind in ("forward", "backward"):  # a pair is checked, and used, together
        fwd, bwd = theirs[f"{stem}_forward"], theirs[f"{stem}_backward"]
        ref_f, ref_b = getattr(F, f"{stem}_forward"), getattr(F, f"{stem}_backward")
        if stem == "linear":
            return _pair_agrees(fwd, bwd, ref_f, ref_b, (X, W, b))
        if stem == "batchnorm":
            gamma, beta = rng.normal(size=3), rng.normal(size=3)
            for training in (True, False):
                out, cache = fwd(z.copy(), gamma, beta, {}, training=training)
                ref, ref_cache = ref_f(z, gamma, beta, {}, training=training)
                dout = rng.normal(size=z.shape)
                if not (_close(out, ref) and _all_close(bwd(dout.copy(), cache),
                                                        ref_b(dout, ref_cache))):
                    return False
            return True
        if stem == "dropout":
            x = np.abs(rng.normal(size=(50, 40))) + 0.1
            same, _ = fwd(x.copy(), 0.3, np.random.default_rng(1), training=False)
            out, cache = fwd(x.copy(), 0.3, np.random.default_rng(1), training=True)
            out = np.asarray(out, dtype=float)
            kept = out != 0
            dx = np.asarray(bwd(np.ones_like(x), cache), dtype=float)
            return (_close(same, x) and _close(out[kept], x[kept] / 0.7)
                    and abs(kept.mean() - 0.7) < 0.05 and _close(dx, out / x))
        return _pair_agrees(fwd, bwd, ref_f, ref_b, (z,))
    if name == "softmax_cross_entropy":
        y = np.array([0, 2, 1, 2])
        return _all_close(fn(z.copy(), y), losses.softmax_cross_entropy(z, y))
    if name == "l2_penalty":
        return _all_close(fn(W.copy(), 0.1), regularization.l2_penalty(W, 0.1))
    # update rules: three steps from an empty state
    w, w_ref, state, state_ref = W.copy(), W.copy(), {}, {}
    for _ in range(3):
        g = rng.normal(size=W.shape)
        w, state = fn(w, g.copy(), state, lr=0.1)
        w_ref, state_ref = getattr(optim, name)(w_ref, g, state_ref, lr=0.1)
        if not _close(w, w_ref):
            return False
    return True


def load_pieces(folder=None, verbose: bool = True):
    """The pieces of the learner's network: theirs from ``my_nn.py`` in ``folder`` (default: the
    course folder, the parent of the notebook's folder) where present and in agreement with
    course_lib's reference, the reference elsewhere.

    -> a namespace with one attribute per name of ``PIECES``, plus ``own`` (the names that are
    the learner's) and ``stand_ins`` ({name: why}). Prints one sentence saying which pieces are
    stand-ins (``verbose``)."""
    folder = Path(course_folder() if folder is None else folder)
    path = folder / "my_nn.py"
    module, why_all = None, "there is no my_nn.py in the course folder"
    if path.is_file():
        try:
            module = _import_file(path)
        except Exception as err:  # the learner's file may fail in any way: say so in one line
            why_all = f"my_nn.py could not be imported ({type(err).__name__})"
    theirs = {name: getattr(module, name) for name in PIECES
              if module is not None and callable(getattr(module, name, None))}
    pieces, own, stand_ins = {}, [], {}
    for name, (home, _) in PIECES.items():
        stem, _, kind = name.rpartition("_")
        pair = [f"{stem}_forward", f"{stem}_backward"] if kind in ("forward", "backward") else []
        missing = [n for n in pair or [name] if n not in theirs]
        if missing:
            stand_ins[name] = why_all if module is None else (
                f"{' and '.join(missing)} not in my_nn.py" if pair else "not in my_nn.py")
        else:
            try:
                ok = _agrees(name, theirs[name], theirs)
            except Exception as err:  # noqa: BLE001 - reported, then the reference takes over
                ok, stand_ins[name] = False, f"raised {type(err).__name__}"
            if ok:
                pieces[name] = theirs[name]
                own.append(name)
                continue
            stand_ins.setdefault(name, "disagrees with course_lib's reference")
        pieces[name] = getattr(home, name)
    namespace = types.SimpleNamespace(**pieces, own=own, stand_ins=stand_ins, path=path)
    if verbose:
        print(describe(namespace))
    return namespace


def describe(pieces) -> str:
    """One sentence: which pieces are the learner's and which are course_lib's stand-ins."""
    if not pieces.stand_ins:
        return f"All {len(pieces.own)} pieces are your own, from {pieces.path}."
    reasons = sorted(set(pieces.stand_ins.values()))
    if not pieces.own:
        return (f"Every piece is a stand-in from course_lib ({'; '.join(reasons)}): the network "
                "below runs on course_lib's reference functions.")
    return (f"Your own pieces: {', '.join(pieces.own)}; stand-ins from course_lib for "
            f"{', '.join(pieces.stand_ins)} ({'; '.join(reasons)}).")


def reference_pieces():
    """course_lib's references under the pieces' names (what the checks run the exercises on)."""
    return types.SimpleNamespace(**{n: getattr(home, n) for n, (home, _) in PIECES.items()},
                                 own=[], stand_ins={}, path=None)


# --- the exercises' references -----------------------------------------------------------------

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def init_params(layer_sizes, scheme: str = "he", rng=0, batchnorm: bool = False):
    """Weights N(0, std²) with ``init_std(scheme, fan_in, fan_out)``, biases 0.
    layer_sizes: [D, H1, …, K] -> list of L = len(layer_sizes) − 1 dicts {"W": (fan_in, fan_out),
    "b": (fan_out,)}; ``batchnorm``: hidden layers also get gamma = 1, beta = 0 and a state."""
    rng = np.random.default_rng(rng)
    params = []
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
    for index, (fan_in, fan_out) in enumerate(pairs):
        layer = {"W": rng.normal(0.0, init_std(scheme, fan_in, fan_out), (fan_in, fan_out)),
                 "b": np.zeros(fan_out)}
        if batchnorm and index < len(pairs) - 1:
            layer.update(gamma=np.ones(fan_out), beta=np.zeros(fan_out), state={})
        params.append(layer)
    return params


def model_forward(X, params, activation="relu", dropout=0.0, rng=None, training=True,
                  pieces=None):
    """L layers: (linear → [batch norm] → activation → [dropout]) × (L − 1), then linear.
    X: (N, D) -> (scores (N, K), caches)."""
    p = pieces or reference_pieces()
    act_f = getattr(p, f"{activation}_forward")
    caches, out = [], X
    for layer in params[:-1]:
        out, lin = p.linear_forward(out, layer["W"], layer["b"])
        bn = None
        if "gamma" in layer:
            out, bn = p.batchnorm_forward(out, layer["gamma"], layer["beta"], layer["state"],
                                          training=training)
        out, act = act_f(out)
        drop = None
        if dropout and training:
            out, drop = p.dropout_forward(out, dropout, rng, training=True)
        caches.append((lin, bn, act, drop))
    scores, lin = p.linear_forward(out, params[-1]["W"], params[-1]["b"])
    caches.append((lin, None, None, None))
    return scores, (activation, caches)


def model_backward(dscores, caches, pieces=None):
    """The gradients of every layer's parameters from dL/dscores (N, K) -> list of dicts."""
    p = pieces or reference_pieces()
    activation, layer_caches = caches
    act_b = getattr(p, f"{activation}_backward")
    grads = [None] * len(layer_caches)
    dout, dW, db = p.linear_backward(dscores, layer_caches[-1][0])
    grads[-1] = {"W": dW, "b": db}
    for index in range(len(layer_caches) - 2, -1, -1):
        lin, bn, act, drop = layer_caches[index]
        if drop is not None:
            dout = p.dropout_backward(dout, drop)
        dout = act_b(dout, act)
        grad = {}
        if bn is not None:
            dout, grad["gamma"], grad["beta"] = p.batchnorm_backward(dout, bn)
        dout, grad["W"], grad["b"] = p.linear_backward(dout, lin)
        grads[index] = grad
    return grads


def minibatches(N: int, batch_size: int, rng):
    """One epoch: index arrays that cover 0..N−1 once, in a fresh random order."""
    order = rng.permutation(N)
    return [order[i:i + batch_size] for i in range(0, N, batch_size)]


def train(params, X, y, activation="relu", optimizer="adam", lr=1e-3, num_epochs=10,
          batch_size=64, l2=0.0, dropout=0.0, rng=0, pieces=None, forward=None, backward=None):
    """Mini-batch training with softmax cross-entropy (+ λ ΣW² over the weight matrices).
    -> (params, {"loss": mean training data loss of each epoch, without the L2 penalty})."""
    p = pieces or reference_pieces()
    forward = forward or (lambda *a, **k: model_forward(*a, pieces=p, **k))
    backward = backward or (lambda d, c: model_backward(d, c, pieces=p))
    update = getattr(p, f"{optimizer}_update")
    rng = np.random.default_rng(rng)
    states = [{name: {} for name in layer if name != "state"} for layer in params]
    history = {"loss": []}
    for _ in range(num_epochs):
        total = 0.0
        for index in minibatches(len(X), batch_size, rng):
            scores, caches = forward(X[index], params, activation, dropout=dropout, rng=rng,
                                     training=True)
            loss, dscores = p.softmax_cross_entropy(scores, y[index])
            grads = backward(dscores, caches)
            for layer, grad, state in zip(params, grads, states, strict=True):
                if l2:
                    grad["W"] = grad["W"] + p.l2_penalty(layer["W"], l2)[1]
                for name in grad:
                    layer[name], state[name] = update(layer[name], grad[name], state[name], lr=lr)
            total += float(loss) * len(index)
        history["loss"].append(total / len(X))
    return params, history


def evaluate(params, X, y, activation="relu", pieces=None, forward=None):
    """-> (mean softmax cross-entropy, accuracy) in inference mode (no dropout, running stats)."""
    p = pieces or reference_pieces()
    forward = forward or (lambda *a, **k: model_forward(*a, pieces=p, **k))
    scores, _ = forward(X, params, activation, training=False)
    loss, _ = p.softmax_cross_entropy(scores, y)
    return float(loss), float(np.mean(np.argmax(scores, axis=1) == y))


def predict(params, X, activation="relu", forward=None):
    """Class indices (N,) from the scores of an inference-mode forward pass."""
    forward = forward or model_forward
    scores, _ = forward(X, params, activation, training=False)
    return np.argmax(scores, axis=1)


# --- the initialisation study ------------------------------------------------------------------


def layer_statistics(X, y, sizes, scheme, activation, forward=None, backward=None, rng=0):
    """One forward and backward pass of a fresh network: per hidden layer the standard deviation
    of its activations, and per layer the norm ‖dW‖ of its weight gradient.
    -> {"activation_std": [L − 1], "grad_norm": [L], "ratio": ‖dW₁‖ / ‖dW_L‖}."""
    forward, backward = forward or model_forward, backward or model_backward
    params = init_params(sizes, scheme, rng)
    stds, out = [], X
    p = reference_pieces()
    act_f = getattr(p, f"{activation}_forward")
    for layer in params[:-1]:  # the activations themselves, for the plot
        out, _ = act_f(out @ layer["W"] + layer["b"])
        stds.append(float(out.std()))
    scores, caches = forward(X, params, activation, training=True)
    _, dscores = losses.softmax_cross_entropy(scores, y)
    grads = backward(dscores, caches)
    norms = [float(np.linalg.norm(g["W"])) for g in grads]
    ratio = norms[0] / norms[-1] if norms[-1] > 0 else math.inf
    return {"activation_std": stds, "grad_norm": norms, "ratio": ratio}


# --- search, confusion matrix, mistakes --------------------------------------------------------


def sample_settings(rng, n: int):
    """``n`` random settings: learning rate log-uniform in [3e-4, 1e-2], width from
    {32, 64, 128, 256}, L2 λ log-uniform in [1e-5, 1e-2] (or 0), dropout from {0, 0.1, 0.2, 0.3}."""
    rng = np.random.default_rng(rng)
    settings = []
    for _ in range(n):
        settings.append({
            "lr": float(10 ** rng.uniform(math.log10(3e-4), -2)),
            "width": int(rng.choice([32, 64, 128, 256])),
            "l2": float(0.0 if rng.random() < 0.25 else 10 ** rng.uniform(-5, -2)),
            "dropout": float(rng.choice([0.0, 0.1, 0.2, 0.3])),
        })
    return settings


def confusion_matrix(y_true, y_pred, num_classes: int = 10):
    """counts[i, j] = how many examples of class i were predicted as j. -> (K, K) int."""
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return counts


def worst_mistakes(scores, y, k: int = 8):
    """Indices of the ``k`` wrong predictions with the lowest probability on the true class."""
    p = functional.softmax(np.asarray(scores, dtype=float))
    wrong = np.flatnonzero(np.argmax(p, axis=1) != y)
    return wrong[np.argsort(p[wrong, y[wrong]])][:k]


def plot_images(images, titles, side: int, columns: int = 8, size: float = 1.2):
    """A grid of grey images (rows of ``side × side`` pixels) with a title each."""
    import matplotlib.pyplot as plt

    n = len(images)
    rows = max(1, math.ceil(n / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * (size + 0.25)),
                             dpi=80, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, title in zip(axes.ravel(), images, titles, strict=False):
        ax.imshow(np.asarray(image).reshape(side, side), cmap="gray_r")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion(counts, ax=None):
    """The confusion matrix as an image with its counts written in."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.8), dpi=80)
    ax.imshow(np.log1p(counts), cmap="Blues")
    K = counts.shape[0]
    for i in range(K):
        for j in range(K):
            if counts[i, j]:
                colour = "white" if counts[i, j] > counts.max() / 2 else "black"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color=colour)
    ax.set_xticks(range(K))
    ax.set_yticks(range(K))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax



# --- the learner's network, checked once (the later cells and the live view run on it) -----------


def yours(init_params=None, model_forward=None, model_backward=None, train=None, evaluate=None,
          verbose: bool = True):
    """The learner's five functions where they work, course_lib's references where not: each
    problem is one printed sentence. -> a namespace ``init_params``, ``model_forward``,
    ``model_backward``, ``train``, ``evaluate`` and ``own`` (the names that are the learner's).

    ``model_forward`` and ``model_backward`` are a pair (the backward reads the forward's
    caches): they are tried together on a small network, scores and gradients compared with the
    reference, and used or replaced together. ``train`` runs the learner's code first and, if
    it fails, the reference on the parameters as they were (driven by the pair in use)."""
    from .. import overrides

    own, notes = [], []
    ref_init = globals()["init_params"]
    init = ref_init
    if init_params is not None:
        try:
            got = init_params([5, 4, 3], "he", 0)
            ok = (isinstance(got, (list, tuple)) and len(got) == 2
                  and np.shape(got[0]["W"]) == (5, 4) and np.shape(got[1]["b"]) == (3,))
            problem = None if ok else "init_params([5, 4, 3]) does not give the layers' shapes"
        except NotImplementedError:
            problem = "init_params is not implemented yet"
        except Exception as err:  # noqa: BLE001 - the learner's code may fail in any way
            problem = f"init_params raised {type(err).__name__}"
        if problem:
            notes.append(problem)
        else:
            init, _ = init_params, own.append("init_params")
    forward, backward = model_forward_ref, model_backward_ref
    if model_forward is not None and model_backward is not None:
        problem = _pair_problem(model_forward, model_backward)
        if problem:
            notes.append(problem)
        else:
            forward, backward = model_forward, model_backward
            own += ["model_forward", "model_backward"]
    ref_train = _bind(train_ref, forward=forward, backward=backward)
    ref_eval = _bind(evaluate_ref, forward=forward)
    train_fn = ref_train if train is None else overrides.fallback(train, ref_train, "train",
                                                                  in_place=True)
    eval_fn = ref_eval if evaluate is None else overrides.fallback(evaluate, ref_eval, "evaluate")
    own += [n for n, f in (("train", train), ("evaluate", evaluate)) if f is not None]
    notes = [f"{note}: course_lib's reference is used instead." for note in notes]
    if verbose:
        for note in notes:
            print(note)
    return types.SimpleNamespace(init_params=init, model_forward=forward,
                                 model_backward=backward, train=train_fn, evaluate=eval_fn,
                                 own=own, notes=notes)


def _bind(fn, **bound):
    def bound_fn(*args, **kwargs):
        return fn(*args, **{**bound, **kwargs})

    bound_fn.__name__ = fn.__name__
    return bound_fn


def _pair_problem(model_forward, model_backward):
    """None if the learner's pair gives the reference's scores and gradients on a small network."""
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(6, 5)), np.array([0, 1, 2, 0, 1, 2])
    for activation in ("relu", "tanh"):
        params = init_params([5, 4, 4, 3], "lecun", 1)
        try:
            scores, caches = model_forward(X.copy(), params, activation)
            _, dscores = losses.softmax_cross_entropy(np.asarray(scores, dtype=float), y)
            grads = model_backward(dscores, caches)
        except NotImplementedError:
            return "model_forward or model_backward is not implemented yet"
        except Exception as err:  # noqa: BLE001
            return f"model_forward / model_backward raised {type(err).__name__}"
        ref_scores, ref_caches = model_forward_ref(X, params, activation)
        if not _close(scores, ref_scores):
            return f"model_forward gives other scores than the reference ({activation})"
        ref_grads = model_backward_ref(losses.softmax_cross_entropy(ref_scores, y)[1], ref_caches)
        try:
            same = all(_close(g[k], r[k]) for g, r in zip(grads, ref_grads, strict=True)
                       for k in ("W", "b"))
        except Exception:  # noqa: BLE001 - a wrong layout is a wrong answer
            same = False
        if not same:
            return f"model_backward gives other gradients than the reference ({activation})"
    return None


model_forward_ref, model_backward_ref = model_forward, model_backward
train_ref, evaluate_ref = train, evaluate


# --- check helpers for the notebook's test cells -------------------------------------------------


def check_layout(name, params, sizes, batchnorm=False):
    """The parameters' layout: a list of one dict per layer, W (fan_in, fan_out), b (fan_out,) of
    zeros, and gamma = 1, beta = 0 on hidden layers only when ``batchnorm``."""
    from . import checks

    checks.check(isinstance(params, (list, tuple)),
                 f"{name} returned {type(params).__name__}: return a list with one dict per layer.")
    checks.check(len(params) == len(sizes) - 1,
                 f"{name} returned {len(params)} layers for layer_sizes {list(sizes)}: a network "
                 f"with {len(sizes)} sizes has {len(sizes) - 1} weight layers (one per pair of "
                 "neighbouring sizes).")
    for index, (layer, fan_in, fan_out) in enumerate(zip(params, sizes[:-1], sizes[1:],
                                                         strict=True)):
        where = f"layer {index + 1} of {name}"
        checks.check(isinstance(layer, dict) and "W" in layer and "b" in layer,
                     f"{where} is not a dict with keys 'W' and 'b'.")
        checks.check_shape(f"W of {where}", layer["W"], (fan_in, fan_out))
        checks.check_shape(f"b of {where}", layer["b"], (fan_out,))
        checks.check(not np.any(np.asarray(layer["b"]) != 0),
                     f"b of {where} is not all zeros: biases start at 0 (only W is random).")
        hidden = index < len(params) - 1
        if batchnorm and hidden:
            checks.check("gamma" in layer and "beta" in layer,
                         f"{where} has no 'gamma' and 'beta': with batchnorm=True every hidden "
                         "layer gets them (the output layer does not).")
            checks.check_close(f"gamma of {where}", layer["gamma"], np.ones(fan_out),
                               hint="γ starts at 1 and β at 0, so batch norm starts as x̂.")
            checks.check_close(f"beta of {where}", layer["beta"], np.zeros(fan_out),
                               hint="γ starts at 1 and β at 0, so batch norm starts as x̂.")
            checks.check(isinstance(layer.get("state"), dict),
                         f"{where} has no 'state' dict for the running statistics (start it "
                         "empty: {}).")
        elif not hidden:
            checks.check("gamma" not in layer,
                         f"the output layer of {name} has a 'gamma': batch norm belongs to the "
                         "hidden layers only; the scores stay a plain linear layer.")


_VARIANCE_MISTAKES = {
    "plain": [(lambda i, o: 0.01, "that is a variance of 0.01: the scheme draws with a standard "
               "deviation of 0.01 (multiply the normal draws by 0.01, not by its square root).")],
    "lecun": [(lambda i, o: 2 / i, "that is He's 2/fan_in: LeCun's rule is 1/fan_in."),
              (lambda i, o: 1 / i ** 2, "that is (1/fan_in)²: 1/fan_in is the variance, so the "
               "standard deviation is its square root."),
              (lambda i, o: 1 / o, "that uses fan_out: LeCun's rule divides by the inputs of "
               "the layer, fan_in.")],
    "xavier": [(lambda i, o: 1 / i, "that is LeCun's 1/fan_in: Glorot and Bengio's rule is "
                "2/(fan_in + fan_out)."),
               (lambda i, o: 1 / (i + o), "a factor 2 is missing: 2/(fan_in + fan_out)."),
               (lambda i, o: (2 / (i + o)) ** 2, "that is the square of 2/(fan_in + fan_out): "
                "that is the variance, take its square root for the standard deviation.")],
    "he": [(lambda i, o: 1 / i, "that is LeCun's 1/fan_in: He's rule doubles it, 2/fan_in, "
            "because ReLU zeroes half of its inputs."),
           (lambda i, o: (2 / i) ** 2, "that is (2/fan_in)²: 2/fan_in is the variance, so the "
            "standard deviation is its square root."),
           (lambda i, o: 2 / o, "that uses fan_out: He's rule divides by fan_in.")],
}


def check_init_variance(name, W, scheme, fan_in, fan_out, tol=0.1):
    """The sample variance of ``W`` is the scheme's within ``tol`` (relative), its mean near 0."""
    from . import checks

    W = checks.check_shape(name, W, (fan_in, fan_out))
    want = init_std(scheme, fan_in, fan_out) ** 2
    got = float(W.var())
    if abs(got / want - 1) <= tol:
        checks.check(abs(float(W.mean())) < 5 * math.sqrt(want / W.size),
                     f"{name}: the weights' mean is {float(W.mean()):.3g}, not near 0: draw "
                     "from a normal distribution centred at 0.")
        return got
    for wrong, hint in _VARIANCE_MISTAKES[scheme]:
        if abs(got / wrong(fan_in, fan_out) - 1) <= tol:
            checks.check(False, f"{name}: the variance of your weights is {got:.3g}; {hint}")
    checks.check(False, f"{name}: the variance of your weights is {got:.3g}, not the {scheme} "
                 "scheme's: compare your standard deviation with the table, for this layer's "
                 "fan_in and fan_out.")


def check_gradients(name, model_forward, model_backward, params, X, y, activation,
                    **forward_kwargs):
    """Every gradient of the learner's ``model_backward`` against a numerical gradient of the
    softmax cross-entropy of their ``model_forward`` (``forward_kwargs``: dropout with a
    generator made afresh each call, so every evaluation draws the same mask)."""
    from .. import gradcheck
    from . import checks

    def forward(P):
        kw = dict(forward_kwargs)
        if "seed" in kw:
            kw["rng"] = np.random.default_rng(kw.pop("seed"))
        return checks.call(model_forward, X, P, activation, **kw)

    out = forward(params)
    scores, caches = checks.check_tuple("model_forward", out, 2, "(scores, caches)")
    _, dscores = losses.softmax_cross_entropy(checks.check_finite("scores", scores), y)
    grads = checks.call(model_backward, dscores, caches)
    checks.check(isinstance(grads, (list, tuple)) and len(grads) == len(params),
                 f"model_backward returned {type(grads).__name__}"
                 f"{f' of {len(grads)}' if isinstance(grads, (list, tuple)) else ''} for a "
                 f"network of {len(params)} layers: return a list with one dict of gradients "
                 "per layer, in the order of params.")
    worst = 0.0
    for index, (layer, grad) in enumerate(zip(params, grads, strict=True)):
        for key in layer:
            if key == "state":
                continue
            checks.check(isinstance(grad, dict) and key in grad,
                         f"the gradients of layer {index + 1} have no {key!r}: give every "
                         "parameter of the layer its gradient, under the same name.")

            def cost(_, P=params):
                state_saved = [dict(layer.get("state", {})) for layer in P]
                s = forward(P)[0]
                for lay, saved in zip(P, state_saved, strict=True):
                    if "state" in lay:
                        lay["state"].clear()
                        lay["state"].update(saved)
                return losses.softmax_cross_entropy(s, y)[0]

            numeric = gradcheck.numerical_gradient(cost, layer[key])
            if key == "b" and "gamma" in layer:
                continue  # batch norm subtracts the mean: this bias has no effect on the loss
            error = checks.check_gradients(
                f"{name}: d{key} of layer {index + 1} (of {len(params)})", grad[key], numeric,
                hint=_layer_hint(index, len(params), key))
            worst = max(worst, error)
    return worst


def _layer_hint(index, L, key):
    if index == L - 1:
        return ("the last layer is linear (no activation): its gradient comes straight from "
                "dscores.")
    if key in ("gamma", "beta"):
        return "pass the gradient through batch norm's backward with the cache of its forward."
    return ("walk the layers backwards: dropout (if any), then the activation's backward with "
            "that layer's cache, then the linear backward; each layer needs its own caches.")
