"""Static figures for the notebooks (matplotlib is imported here, never by ``import course_lib``).

Every function takes an optional ``ax`` and returns it, converts arrays with ``to_numpy`` at the
edge (so CuPy data plot too), and keeps styling minimal so the figure shows the idea.
"""

from __future__ import annotations

import numpy as np

from .backend import to_device, to_numpy


def _axes(ax, figsize=(4.5, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, dpi=90)
    return ax


def grid_for(X, resolution: int = 200, margin: float = 0.5):
    """A ``resolution``² grid covering the 2-D points X and ``margin`` around them (one number,
    or one per feature): ``(xx, yy, points (resolution², 2))``."""
    X = to_numpy(X)
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def class_scores(predict, points):
    """``predict(points)`` as a NumPy vector of scores: class index for several outputs,
    probability/score of class 1 for one output."""
    out = to_numpy(predict(to_device(points)))
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1).astype(float)
    return out.reshape(-1)


def decision_boundary(predict, X, y, ax=None, resolution: int = 200, title: str | None = None,
                      threshold: float = 0.5):
    """Shade the plane by the prediction of ``predict`` (a model or a function of (M, 2) points)
    and draw the labelled points on top."""
    ax = _axes(ax)
    predict = getattr(predict, "forward", predict)
    xx, yy, points = grid_for(X, resolution)
    scores = class_scores(predict, points).reshape(xx.shape)
    X, y = to_numpy(X), to_numpy(y).reshape(len(X), -1)
    labels = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]
    if np.unique(labels).size <= 2 and scores.max() <= 1 and scores.min() >= 0:
        ax.contourf(xx, yy, scores, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(xx, yy, scores, levels=[threshold], colors="k", linewidths=1)
    else:
        ax.contourf(xx, yy, scores, levels=np.arange(scores.max() + 2) - 0.5, cmap="tab10",
                    alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="RdBu_r" if np.unique(labels).size <= 2
               else "tab10", edgecolors="k", s=25)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def history(hist, keys=("loss", "val_loss"), ax=None, title: str | None = None, log: bool = False):
    """Curves of a ``History`` (or a dict of lists) against the epoch."""
    ax = _axes(ax)
    data = getattr(hist, "history", hist)
    for key in keys:
        if key in data:
            ax.plot(np.arange(1, len(data[key]) + 1), data[key], label=key)
    ax.set_xlabel("epoch")
    if log:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def activations(pairs, z=None, axes=None):
    """Each activation and its derivative. ``pairs``: ``{name: (forward, backward)}`` in the
    functional contract (``forward(z) -> (out, cache)``, ``backward(dout, cache) -> dz``)."""
    import matplotlib.pyplot as plt

    z = np.linspace(-5, 5, 401) if z is None else z
    if axes is None:
        _, axes = plt.subplots(1, len(pairs), figsize=(3.2 * len(pairs), 2.8), dpi=90,
                               squeeze=False)
        axes = axes[0]
    for ax, (name, (forward, backward)) in zip(axes, pairs.items(), strict=False):
        out, cache = forward(z)
        ax.plot(z, to_numpy(out), label=name)
        ax.plot(z, to_numpy(backward(np.ones_like(z), cache)), "--", label="derivative")
        ax.axhline(0, color="0.8", lw=0.8)
        ax.set_title(name)
        ax.legend(fontsize=8)
    return axes


def softmax_temperatures(softmax, z, temperatures=(0.2, 1.0, 5.0), labels=None, ax=None):
    """Bars of ``softmax(z, T)`` for each temperature, side by side: low T sharpens the
    distribution towards one-hot, high T flattens it towards uniform.   z: (K,) scores."""
    ax = _axes(ax, figsize=(5.5, 3.2))
    z = np.asarray(to_numpy(z), dtype=float).reshape(-1)
    labels = [f"class {k}" for k in range(z.size)] if labels is None else list(labels)
    width = 0.8 / len(temperatures)
    for i, T in enumerate(temperatures):
        p = to_numpy(softmax(z, T)).reshape(-1)
        ax.bar(np.arange(z.size) + (i - (len(temperatures) - 1) / 2) * width, p, width,
               label=f"T = {T:g}")
    ax.set_xticks(np.arange(z.size), labels)
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.legend(fontsize=8)
    return ax


def cost_curve(cost, values, ax=None, label=None, xlabel: str = "w", ylabel: str = "cost",
               mark_min: bool = True):
    """``cost(v)`` for every ``v`` of ``values``, drawn as one curve: the cost as a function of one
    weight (a U for squared error), −log p against p, a learning-rate schedule. The lowest point
    gets a dot when ``mark_min``."""
    ax = _axes(ax)
    values = np.asarray(to_numpy(values), dtype=float).reshape(-1)
    costs = np.array([float(to_numpy(cost(v))) for v in values])
    (line,) = ax.plot(values, costs, label=label)
    if mark_min and np.isfinite(costs).any():
        i = int(np.nanargmin(np.where(np.isfinite(costs), costs, np.nan)))
        ax.plot(values[i], costs[i], "o", color=line.get_color(), ms=5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if label:
        ax.legend(fontsize=8)
    return ax


def descent_path(cost, path, ax=None, values=None, title: str | None = None,
                 xlabel: str = "w", ylabel: str = "cost"):
    """Gradient descent on a cost of one weight: the curve ``cost(w)`` and the weights the run
    visited (``path``, starting point first), joined in order by arrows. The curve spans the path
    with a margin, or ``values`` when given."""
    ax = _axes(ax)
    path = np.asarray(to_numpy(path), dtype=float).reshape(-1)
    shown = path[np.isfinite(path)]
    if values is None:
        low, high = shown.min(), shown.max()
        pad = 0.15 * (high - low) if high > low else 1.0
        values = np.linspace(low - pad, high + pad, 200)
    cost_curve(cost, values, ax=ax, xlabel=xlabel, ylabel=ylabel, mark_min=False)
    heights = np.array([float(to_numpy(cost(w))) for w in shown])
    ax.plot(shown, heights, "o", color="C3", ms=4)
    for i in range(len(shown) - 1):
        ax.annotate("", xy=(shown[i + 1], heights[i + 1]), xytext=(shown[i], heights[i]),
                    arrowprops=dict(arrowstyle="->", color="C3", lw=1))
    if title:
        ax.set_title(title)
    return ax


def shaded_decision(predict, X, y, ax=None, threshold: float = 0.5, resolution: int = 200,
                    title: str | None = None, margin: float = 0.5):
    """The plane shaded by the decision of ``predict`` (a model or a function of (M, 2) points
    returning one score per point): red where the score is at most ``threshold`` (class 0),
    green above it (class 1), with the labelled points on top (Khan's shaded boundary)."""
    from matplotlib.colors import ListedColormap

    ax = _axes(ax)
    predict = getattr(predict, "forward", predict)
    xx, yy, points = grid_for(X, resolution, margin)
    decision = (class_scores(predict, points) > threshold).astype(float).reshape(xx.shape)
    red_green = ListedColormap(["#f4a6a6", "#a6dba0"])
    ax.contourf(xx, yy, decision, levels=[-0.5, 0.5, 1.5], cmap=red_green)
    X, y = to_numpy(X), to_numpy(y).reshape(len(X), -1)
    labels = (y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]) > threshold
    ax.scatter(X[~labels, 0], X[~labels, 1], c="#c0392b", edgecolors="k", s=40, label="y = 0")
    ax.scatter(X[labels, 0], X[labels, 1], c="#27ae60", edgecolors="k", s=40, label="y = 1")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def trajectories(surface, paths, ax=None, title: str | None = None, levels: int = 30,
                 resolution: int = 200, markers: bool = True):
    """Optimizer paths on the contour plot of a cost of two weights.

    surface: an object with ``value(x, y)`` (vectorised), ``xlim``, ``ylim`` and optionally
    ``minima`` and ``name`` (``course_lib.lessons.surfaces``); paths: ``{label: (steps + 1, 2) array}``."""
    ax = _axes(ax, figsize=(5.5, 3.6))
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    xx, yy = np.meshgrid(xs, ys)
    zz = surface.value(xx, yy)
    ax.contour(xx, yy, zz, levels=levels, cmap="Greys", linewidths=0.6, alpha=0.7)
    for i, (label, path) in enumerate(paths.items()):
        path = np.asarray(to_numpy(path), dtype=float)
        ax.plot(path[:, 0], path[:, 1], "-", color=f"C{i}", lw=1.3, label=label,
                marker="." if markers else None, ms=3)
    for point in getattr(surface, "minima", ()):
        ax.plot(*point, "*", color="k", ms=9)
    if len(paths):
        first = np.asarray(to_numpy(next(iter(paths.values()))), dtype=float)[0]
        ax.plot(*first, "o", color="k", ms=5)
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title if title is not None else getattr(surface, "name", ""))
    return ax


def compare_histories(histories, key: str = "loss", ax=None, title: str | None = None,
                      log: bool = False):
    """One curve per run: ``histories`` is ``{label: History (or dict of lists)}``, ``key`` the
    recorded quantity (``"loss"``, ``"val_loss"``, ``"val_accuracy"``...) against the epoch."""
    ax = _axes(ax)
    for label, hist in histories.items():
        values = getattr(hist, "history", hist)[key]
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
