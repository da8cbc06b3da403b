"""Small data sets for the course: logic gates, the Artificial Neural Network (ANN) tutorial's test scores, 2-D toy problems, digits.

Rows are examples: every ``X`` is ``(N, D)`` float64. The 2-D classification sets return class
indices ``y`` of shape ``(N,)`` and dtype int64, with the rows shuffled and every class given
``n // classes`` points (the first ``n % classes`` classes one more). Every random draw comes
from ``numpy.random.default_rng(seed)``, so a seed always gives the same data. ``noise`` is the
standard deviation of Gaussian noise added to each coordinate.

``device=True`` moves the arrays to the current backend (``course_lib.backend.to_device``), so
a CuPy session keeps its data on the GPU. scikit-learn is imported only by ``digits()``.

    >>> X, y = moons(n=100, noise=0.1, seed=0)
    >>> (X_train, y_train), (X_val, y_val) = train_val_split(X, y, val_fraction=0.2)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import backend

Array = backend.Array


# --- validation --------------------------------------------------------------------------------

def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_n(n, classes: int) -> None:
    _require(_is_int(n), f"n must be a whole number of points, got {n!r}.")
    _require(n >= 1, f"n must be at least 1, got {n}.")
    _require(
        n >= classes,
        f"n must be at least the number of classes ({classes}) so that every class gets a point, "
        f"got {n}.",
    )


def _check_noise(noise, name: str = "noise") -> None:
    ok = isinstance(noise, numbers.Real) and not isinstance(noise, bool) and math.isfinite(noise)
    _require(ok and noise >= 0, f"{name} is a standard deviation and must be >= 0, got {noise!r}.")


def _check_classes(classes) -> None:
    _require(
        _is_int(classes) and classes >= 2,
        f"classes must be a whole number of at least 2, got {classes!r}.",
    )


# --- helpers -----------------------------------------------------------------------------------

def _finish(X, y, device: bool):
    """Features as float64 (the course default), optionally moved to the backend."""
    X = np.asarray(X, dtype=np.float64)
    if device:
        return backend.to_device(X), backend.to_device(y)
    return X, y


def _class_sizes(n: int, classes: int) -> list[int]:
    """``n`` points shared out as evenly as possible: the first ``n % classes`` get one more."""
    return [n // classes + (1 if k < n % classes else 0) for k in range(classes)]


def _shuffle_and_noise(rng, X, y, noise: float, device: bool):
    """Add N(0, noise²) to each coordinate, then shuffle the rows (one permutation for X and y)."""
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return _finish(X[order], y[order], device)


def _labels(sizes: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


# --- logic gates and the test scores of the Artificial Neural Network (ANN) tutorial ---------

_GATE_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]


def _gate(targets, device: bool):
    return _finish(np.array(_GATE_INPUTS), np.array(targets, dtype=np.float64).reshape(4, 1), device)


def or_gate(*, device: bool = False):
    """The OR truth table. -> X: (4, 2) rows (0,0), (0,1), (1,0), (1,1);  y: (4, 1) = 0, 1, 1, 1."""
    return _gate([0, 1, 1, 1], device)


def and_gate(*, device: bool = False):
    """The AND truth table. -> X: (4, 2) rows (0,0), (0,1), (1,0), (1,1);  y: (4, 1) = 0, 0, 0, 1."""
    return _gate([0, 0, 0, 1], device)


def xor(*, device: bool = False):
    """The XOR truth table. -> X: (4, 2) rows (0,0), (0,1), (1,0), (1,1);  y: (4, 1) = 0, 1, 1, 0."""
    return _gate([0, 1, 1, 0], device)


def test_scores(scaled: bool = True, *, device: bool = False):
    """The Artificial Neural Network (ANN) tutorial's regression data: (hours of sleep, hours of study) -> test score.

    -> X: (3, 2), y: (3, 1). Scaled: X divided by its column maximum (10 and 5), y by 100."""
    X = np.array([[3, 5], [5, 1], [10, 2]], dtype=np.float64)
    y = np.array([[75], [82], [93]], dtype=np.float64)
    if scaled:
        X = X / X.max(axis=0)
        y = y / 100
    return _finish(X, y, device)


test_scores.__test__ = False  # the name starts with "test": keep pytest from collecting it


# --- 2-D classification sets -------------------------------------------------------------------

def moons(n: int = 200, noise: float = 0.1, seed=0, *, device: bool = False):
    """Two interleaving half-circles of radius 1. -> X: (n, 2), y: (n,) in {0, 1}.

    Class 0 lies on the upper half of the unit circle around (0, 0); class 1 on the lower half
    of the unit circle around (1, 0.5). Points are evenly spaced in angle before the noise."""
    _check_n(n, 2)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    upper, lower = _class_sizes(n, 2)
    t_up, t_low = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    X = np.concatenate([
        np.column_stack([np.cos(t_up), np.sin(t_up)]),
        np.column_stack([1 - np.cos(t_low), 0.5 - np.sin(t_low)]),
    ])
    return _shuffle_and_noise(rng, X, _labels([upper, lower]), noise, device)


def circles(n: int = 200, noise: float = 0.05, seed=0, *, factor: float = 0.5,
            device: bool = False):
    """Two concentric circles. -> X: (n, 2), y: (n,) in {0, 1}.

    Class 0 on the circle of radius 1, class 1 on the circle of radius ``factor`` (0 < factor < 1),
    evenly spaced in angle before the noise."""
    _check_n(n, 2)
    _check_noise(noise)
    ok = isinstance(factor, numbers.Real) and not isinstance(factor, bool) and 0 < factor < 1
    _require(ok, f"factor is the inner radius and must lie strictly between 0 and 1, got {factor!r}.")
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, 2)
    rings = []
    for radius, m in zip((1.0, factor), sizes, strict=True):
        t = np.linspace(0, 2 * np.pi, m, endpoint=False)
        rings.append(radius * np.column_stack([np.cos(t), np.sin(t)]))
    return _shuffle_and_noise(rng, np.concatenate(rings), _labels(sizes), noise, device)


def spirals(n: int = 200, noise: float = 0.05, seed=0, *, classes: int = 2,
            device: bool = False):
    """Interleaved spiral arms, one per class. -> X: (n, 2), y: (n,) in {0, …, classes−1}.

    Arm k has points r·(cos θ, sin θ) with radius r evenly spaced in (0, 1] and angle
    θ = 2πk/classes + 3πr (each arm turns one and a half times)."""
    _check_classes(classes)
    _check_n(n, classes)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, classes)
    arms = []
    for k, m in enumerate(sizes):
        r = np.arange(1, m + 1) / m
        theta = 2 * np.pi * k / classes + 3 * np.pi * r
        arms.append(r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)]))
    return _shuffle_and_noise(rng, np.concatenate(arms), _labels(sizes), noise, device)


def _blob_centers(centers) -> np.ndarray:
    if _is_int(centers):
        _require(centers >= 2, f"centers must be at least 2 blobs, got {centers}.")
        angles = 2 * np.pi * np.arange(centers) / centers
        return 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    try:
        array = np.asarray(centers, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    ok = array is not None and array.ndim == 2 and array.shape[1] == 2 and len(array) >= 2
    _require(
        ok and bool(np.isfinite(array).all()),
        f"centers must be a number of blobs (at least 2) or an array of shape (K, 2) with K >= 2 "
        f"finite rows, got {centers!r}.",
    )
    return array


def blobs(n: int = 200, std: float | None = None, seed=0, *, centers=2,
          noise: float | None = None, device: bool = False):
    """Gaussian blobs, one per class. -> X: (n, 2), y: (n,) in {0, …, K−1}.

    ``centers``: a number K of blobs, placed evenly on the circle of radius 2 (two blobs sit at
    (2, 0) and (−2, 0)), or an array (K, 2) of blob centres. ``std`` (default 0.5) is each
    blob's standard deviation per coordinate; ``noise`` is accepted as another name for it, so
    that blobs can be called like the other generators."""
    _require(
        std is None or noise is None,
        f"give the spread of the blobs once, as std or as noise, not both ({std} and {noise}).",
    )
    if std is None:
        std = 0.5 if noise is None else noise
    _check_noise(std, "std")
    means = _blob_centers(centers)
    _check_n(n, len(means))
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, len(means))
    X = np.repeat(means, sizes, axis=0)
    return _shuffle_and_noise(rng, X, _labels(sizes), std, device)


def xor_points(n: int = 200, noise: float = 0.1, seed=0, *, device: bool = False):
    """A four-quadrant XOR cloud. -> X: (n, 2), y: (n,) in {0, 1}.

    Before the noise each coordinate has a magnitude drawn uniformly from [0.1, 1]; class 0 fills
    the quadrants where both signs agree, class 1 those where they differ (like the XOR gate with
    0 read as negative). Noise can carry points across an axis: that is the "noisy" part."""
    _check_n(n, 2)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    magnitude = rng.uniform(0.1, 1.0, size=(n, 2))
    # within each class the first half goes to one quadrant, the rest to the opposite one
    first_sign = np.concatenate([np.where(np.arange(m) < (m + 1) // 2, 1.0, -1.0) for m in sizes])
    second_sign = np.where(y == 0, first_sign, -first_sign)
    X = magnitude * np.column_stack([first_sign, second_sign])
    return _shuffle_and_noise(rng, X, y, noise, device)


# --- splitting and encoding --------------------------------------------------------------------

def train_val_split(X, y, val_fraction: float = 0.2, seed=0):
    """Shuffle the rows and split them. X: (N, …), y: (N, …) -> ((X_train, y_train), (X_val, y_val)).

    The validation part has round(N · val_fraction) rows, at least 1 and at most N − 1. The arrays
    stay on the backend they came from."""
    ok = isinstance(val_fraction, numbers.Real) and not isinstance(val_fraction, bool)
    _require(
        ok and 0 < val_fraction < 1,
        f"val_fraction must lie strictly between 0 and 1, got {val_fraction!r}.",
    )
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if not hasattr(y, "shape"):
        y = np.asarray(y)
    _require(X.ndim >= 1 and y.ndim >= 1, "X and y must be arrays with one row per example.")
    _require(
        len(X) == len(y),
        f"X and y must have one row per example each, but X has {len(X)} rows and y {len(y)}.",
    )
    _require(len(X) >= 2, f"splitting needs at least 2 examples, got {len(X)}.")
    n = len(X)
    n_val = min(max(round(n * val_fraction), 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return (_rows(X, train), _rows(y, train)), (_rows(X, val), _rows(y, val))


def _rows(a, index):
    """``a[index]`` with the index on the array's own backend (CuPy wants a CuPy index)."""
    return a[backend.get_array_module(a).asarray(index)]


def one_hot(y, num_classes: int | None = None):
    """Class indices to one-hot rows. y: (N,) integers in [0, K) -> (N, K) float64.

    ``num_classes`` defaults to max(y) + 1. The result lives on the same backend as ``y``."""
    xp = backend.get_array_module(y)
    y = xp.asarray(y)
    _require(y.ndim == 1, f"one_hot needs class indices of shape (N,), got shape {tuple(y.shape)}.")
    if y.size and y.dtype.kind not in "iu":
        whole = bool((y == xp.round(y)).all()) if y.dtype.kind == "f" else False
        _require(whole, f"one_hot needs whole-number class indices, got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    _require(
        _is_int(num_classes) and num_classes >= 1,
        f"num_classes must be a whole number >= 1, got {num_classes!r}.",
    )
    if y.size:
        low, high = int(y.min()), int(y.max())
        _require(
            low >= 0 and high < num_classes,
            f"class indices must lie in [0, {num_classes}), got values from {low} to {high}.",
        )
    out = xp.zeros((len(y), num_classes), dtype=np.float64)
    out[xp.arange(len(y)), y] = 1.0
    return out


# --- scikit-learn's digits ---------------------------------------------------------------------

def digits(scaled: bool = True, *, device: bool = False):
    """The 8×8 handwritten digits that scikit-learn ships (no download).

    -> X: (1797, 64) float64 pixel intensities (0..16, or divided by 16 into [0, 1] when scaled),
    y: (1797,) int64 digit labels 0..9."""
    from sklearn.datasets import load_digits  # heavy: imported only when the digits are wanted

    data = load_digits()
    X = np.asarray(data.data, dtype=np.float64)
    if scaled:
        X = X / 16.0
    return _finish(X, np.asarray(data.target, dtype=np.int64), device)


def standardise(X_train, *others):
    """Subtract the training set's mean and divide by its standard deviation, per feature
    (a feature that is constant in training, such as a blank corner pixel, is only centred).
    -> the standardised X_train, then each of ``others`` with the training statistics."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return tuple((X - mean) / std for X in (X_train, *others))


def split_three(X, y, val_fraction: float = 0.2, test_fraction: float = 0.2, seed=0,
                standardised: bool = True):
    """Shuffle and split into training, validation and test sets (standardised with the
    training set's statistics). -> ((X_train, y_train), (X_val, y_val), (X_test, y_test)).

    The test part has round(N · test_fraction) rows, the validation part round(N · val_fraction)."""
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        ok = isinstance(f, numbers.Real) and not isinstance(f, bool) and 0 < f < 1
        _require(ok, f"{name} must lie strictly between 0 and 1, got {f!r}.")
    _require(val_fraction + test_fraction < 1,
             "val_fraction + test_fraction must leave some examples for training.")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    parts = [X[train], X[val], X[test]]
    if standardised:
        parts = standardise(*parts)
    return (parts[0], y[train]), (parts[1], y[val]), (parts[2], y[test])


def digits_split(val_fraction: float = 0.2, test_fraction: float = 0.2, seed=0):
    """scikit-learn's 8×8 digits, split and standardised: 1,079 training, 359 validation and
    359 test images by default. -> ((X_train, y_train), (X_val, y_val), (X_test, y_test)),
    X: (N, 64) float64, y: (N,) int64."""
    X, y = digits(scaled=False)
    return split_three(X, y, val_fraction, test_fraction, seed)


# --- MNIST (downloaded once, when online) ------------------------------------------------------

# The 28×28 MNIST digits in one NumPy file (x_train 60,000 × 28 × 28 uint8, y_train, x_test
# 10,000 × 28 × 28, y_test), on Google's storage for TensorFlow's data sets: 11,490,434 bytes.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def cache_folder():
    """Where downloaded data is kept: the user's cache folder (platformdirs; else
    ``$XDG_CACHE_HOME`` or ``~/.cache``) under ``course_lib``."""
    from pathlib import Path

    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("course_lib"))
    except ImportError:
        import os

        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "course_lib"


def _sha256(path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url, target, sha256, opener, timeout):
    """Fetch ``url`` to ``target`` through a temporary file; keep it only if its SHA-256 is
    ``sha256``. Raises OSError (or ValueError for a wrong checksum)."""
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with opener(url, timeout=timeout) as response, open(partial, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
        got = _sha256(partial)
        if got != sha256:
            raise ValueError(f"the file from {url} has SHA-256 {got[:12]}…, not {sha256[:12]}…")
        partial.replace(target)
    finally:
        if partial.exists():
            partial.unlink()


def mnist(*, download: bool = True, cache_dir=None, url: str = MNIST_URL,
          sha256: str = MNIST_SHA256, opener=None, timeout: float = 20.0, dtype=np.float32,
          verbose: bool = True):
    """MNIST's 28×28 digits: downloaded once from ``url``, checked against ``sha256`` and kept in
    the cache folder (``cache_folder()``); later calls read the cached file.

    -> (name, (X_train, y_train), (X_test, y_test)) with name ``"mnist"``: X (N, 784) in [0, 1]
    (``dtype``, float32 by default: 60,000 images take 188 MB), y (N,) int64. Offline (or
    ``download=False`` with nothing cached, or a file whose checksum is wrong) it says so in one
    sentence and returns ``"digits"`` with scikit-learn's 8×8 digits (X (N, 64) in [0, 1]),
    split 80 / 20."""
    from pathlib import Path

    if opener is None:
        import urllib.request

        opener = urllib.request.urlopen
    target = Path(cache_dir or cache_folder()) / "mnist.npz"
    problem = None
    if target.is_file() and _sha256(target) != sha256:
        target.unlink()  # a damaged or partial file: fetch it again
    if not target.is_file():
        if not download:
            problem = f"MNIST is not in the cache ({target}) and download=False"
        else:
            try:
                _download(url, target, sha256, opener, timeout)
            except (OSError, ValueError) as err:  # urllib's URLError is an OSError
                reason = getattr(err, "reason", None) or err
                problem = f"MNIST could not be downloaded ({reason})"
    if problem is None:
        with np.load(target, allow_pickle=False) as f:
            parts = [(f[f"x_{s}"].reshape(len(f[f"x_{s}"]), -1).astype(dtype) / dtype(255),
                      f[f"y_{s}"].astype(np.int64)) for s in ("train", "test")]
        return "mnist", parts[0], parts[1]
    if verbose:
        print(f"{problem}, so scikit-learn's 8×8 digits stand in for it.")
    X, y = digits()
    (X_train, y_train), (X_test, y_test) = train_val_split(X, y, val_fraction=0.2, seed=0)
    return "digits", (X_train.astype(dtype), y_train), (X_test.astype(dtype), y_test)
