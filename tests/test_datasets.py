"""course_lib.datasets: shapes, dtypes, seeding, noise-free geometry, splitting, bad input.

Expected values are written out by hand (the truth tables, seed 001's table divided by 10, 5
and 100, circle radii), never produced by the code under test."""

import math
import subprocess
import sys

import numpy as np
import pytest

from course_lib import datasets
from course_lib.datasets import (
    and_gate,
    blobs,
    circles,
    digits,
    moons,
    one_hot,
    or_gate,
    spirals,
    train_val_split,
    xor,
    xor_points,
)

GENERATORS = [moons, circles, spirals, blobs, xor_points]

# --- logic gates and seed 001 ------------------------------------------------------------------

GATE_X = [[0, 0], [0, 1], [1, 0], [1, 1]]


@pytest.mark.parametrize(
    "gate, targets",
    [(or_gate, [0, 1, 1, 1]), (and_gate, [0, 0, 0, 1]), (xor, [0, 1, 1, 0])],
)
def test_gates_are_truth_tables(gate, targets):
    X, y = gate()
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert X.shape == (4, 2) and y.shape == (4, 1)
    assert X.tolist() == GATE_X
    assert y[:, 0].tolist() == targets


def test_test_scores_scaled_by_column_maximum_and_100():
    X, y = datasets.test_scores()
    # sleep hours 3, 5, 10 over 10; study hours 5, 1, 2 over 5; scores over 100
    np.testing.assert_allclose(X, [[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(y, [[0.75], [0.82], [0.93]], rtol=0, atol=1e-15)
    assert X.dtype == np.float64 and y.shape == (3, 1)


def test_test_scores_raw():
    X, y = datasets.test_scores(scaled=False)
    assert X.tolist() == [[3, 5], [5, 1], [10, 2]]
    assert y.tolist() == [[75], [82], [93]]
    assert X.dtype == np.float64 and y.dtype == np.float64


# --- 2-D classification sets: shapes, balance, seeding -----------------------------------------

@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [2, 7, 200])
def test_shapes_dtypes_and_balance(make, n):
    X, y = make(n=n)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y).tolist()
    assert counts == [n - n // 2, n // 2]  # 7 points -> 4 and 3
    assert np.isfinite(X).all()


def test_three_spirals_share_ten_points_four_three_three():
    X, y = spirals(n=10, classes=3)
    assert X.shape == (10, 2)
    assert np.bincount(y).tolist() == [4, 3, 3]


def test_blobs_with_an_array_of_centres():
    X, y = blobs(n=9, centers=[[0, 0], [5, 5], [-5, 5]])
    assert np.bincount(y).tolist() == [3, 3, 3]


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(make):
    X1, y1 = make(n=50, seed=3)
    X2, y2 = make(n=50, seed=3)
    X3, _ = make(n=50, seed=4)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS)
def test_rows_are_shuffled(make):
    _, y = make(n=100)
    assert y[:50].tolist() != [0] * 50  # not all of class 0 first


# --- noise-free geometry -----------------------------------------------------------------------

def test_moons_without_noise_lie_on_unit_half_circles():
    X, y = moons(n=41, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert (upper[:, 1] >= -1e-12).all()
    # second moon: unit circle around (1, 0.5), lower half
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    # both ends of each half-circle are included
    assert {(-1.0, 0.0), (1.0, 0.0)} <= {tuple(np.round(p, 12) + 0.0) for p in upper}


@pytest.mark.parametrize("factor", [0.5, 0.3])
def test_circles_without_noise_have_radii_one_and_factor(factor):
    X, y = circles(n=30, noise=0.0, factor=factor)
    radii = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radii[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radii[y == 1], factor, atol=1e-12)


@pytest.mark.parametrize("classes", [2, 3])
def test_spirals_without_noise_follow_the_documented_arms(classes):
    n = 12 * classes
    X, y = spirals(n=n, noise=0.0, classes=classes)
    for k in range(classes):
        arm = X[y == k]
        r = np.hypot(arm[:, 0], arm[:, 1])
        # radii 1/12, 2/12, ..., 1
        np.testing.assert_allclose(np.sort(r), np.arange(1, 13) / 12, atol=1e-12)
        theta = 2 * math.pi * k / classes + 3 * math.pi * r
        np.testing.assert_allclose(arm[:, 0], r * np.cos(theta), atol=1e-12)
        np.testing.assert_allclose(arm[:, 1], r * np.sin(theta), atol=1e-12)


def test_two_blobs_without_noise_sit_on_their_centres():
    X, y = blobs(n=6, std=0.0)
    assert X[y == 0].tolist() == [[2.0, 0.0]] * 3
    np.testing.assert_allclose(X[y == 1], [[-2.0, 0.0]] * 3, atol=1e-12)


def test_blobs_accept_noise_as_the_name_of_the_spread():
    X, y = blobs(n=6, noise=0.0, centers=[[1, 2], [3, 4]])
    assert X[y == 0].tolist() == [[1.0, 2.0]] * 3
    assert X[y == 1].tolist() == [[3.0, 4.0]] * 3


def test_blob_spread_is_the_documented_standard_deviation():
    X, y = blobs(n=40_000, std=0.3, centers=[[0, 0], [10, 10]])
    for k, centre in enumerate([[0, 0], [10, 10]]):
        points = X[y == k]
        np.testing.assert_allclose(points.mean(axis=0), centre, atol=0.01)
        np.testing.assert_allclose(points.std(axis=0), 0.3, rtol=0.03)


def test_circle_noise_is_the_documented_standard_deviation():
    # isotropic noise of std s moves a point of the unit circle radially by about N(0, s²)
    X, y = circles(n=40_000, noise=0.01)
    radii = np.hypot(X[y == 0, 0], X[y == 0, 1])
    assert abs(radii.mean() - 1.0) < 0.001
    assert abs(radii.std() - 0.01) < 0.0005


def test_xor_points_without_noise_fill_the_four_quadrants():
    X, y = xor_points(n=201, noise=0.0)
    assert ((np.abs(X) >= 0.1) & (np.abs(X) <= 1.0)).all()
    signs_differ = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    assert np.array_equal(y, signs_differ)
    quadrants = {(bool(a > 0), bool(b > 0)) for a, b in X}
    assert quadrants == {(True, True), (False, False), (True, False), (False, True)}


# --- train / validation split ------------------------------------------------------------------

def _numbered(n):
    X = np.arange(n, dtype=np.float64).reshape(n, 1) * np.ones((1, 3))
    y = np.arange(n) * 10
    return X, y


@pytest.mark.parametrize(
    "n, fraction, n_val",
    [(10, 0.2, 2), (10, 0.25, 2), (2, 0.5, 1), (3, 0.01, 1), (3, 0.99, 2), (200, 0.3, 60)],
)
def test_split_sizes(n, fraction, n_val):
    X, y = _numbered(n)
    (X_tr, y_tr), (X_val, y_val) = train_val_split(X, y, val_fraction=fraction)
    assert len(X_val) == len(y_val) == n_val
    assert len(X_tr) == len(y_tr) == n - n_val


def test_split_is_disjoint_complete_aligned_and_seeded():
    X, y = _numbered(50)
    (X_tr, y_tr), (X_val, y_val) = train_val_split(X, y, val_fraction=0.2, seed=5)
    ids_tr, ids_val = X_tr[:, 0].astype(int), X_val[:, 0].astype(int)
    assert set(ids_tr).isdisjoint(ids_val)
    assert sorted([*ids_tr, *ids_val]) == list(range(50))
    assert np.array_equal(y_tr, ids_tr * 10) and np.array_equal(y_val, ids_val * 10)
    assert ids_tr.tolist() != sorted(ids_tr.tolist())  # shuffled
    (X_tr2, _), _ = train_val_split(X, y, val_fraction=0.2, seed=5)
    (X_tr3, _), _ = train_val_split(X, y, val_fraction=0.2, seed=6)
    assert np.array_equal(X_tr, X_tr2) and not np.array_equal(X_tr, X_tr3)


def test_split_keeps_one_hot_targets():
    X, y = _numbered(10)
    Y = np.eye(10)
    (_, Y_tr), (_, Y_val) = train_val_split(X, Y)
    assert Y_tr.shape == (8, 10) and Y_val.shape == (2, 10)


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, True])
def test_split_rejects_fractions_outside_zero_one(fraction):
    X, y = _numbered(10)
    with pytest.raises(ValueError, match="val_fraction must lie strictly between 0 and 1"):
        train_val_split(X, y, val_fraction=fraction)


def test_split_rejects_fewer_than_two_examples_and_mismatched_lengths():
    X, y = _numbered(1)
    with pytest.raises(ValueError, match="at least 2 examples, got 1"):
        train_val_split(X, y)
    X, y = _numbered(5)
    with pytest.raises(ValueError, match="X has 5 rows and y 4"):
        train_val_split(X, y[:4])


# --- one-hot -----------------------------------------------------------------------------------

def test_one_hot_by_hand():
    Y = one_hot(np.array([0, 2, 1]))
    assert Y.dtype == np.float64
    assert Y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert one_hot([1, 1], num_classes=4).tolist() == [[0, 1, 0, 0], [0, 1, 0, 0]]


def test_one_hot_accepts_whole_floats():
    assert one_hot(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize(
    "labels, num_classes, message",
    [
        ([0, -1], None, r"lie in \[0, 1\), got values from -1 to 0"),
        ([0, 3], 3, r"lie in \[0, 3\), got values from 0 to 3"),
        ([[0, 1]], None, r"shape \(N,\), got shape \(1, 2\)"),
        ([0.5, 1.0], None, "whole-number class indices"),
        ([0, 1], 0, "num_classes must be a whole number >= 1"),
    ],
)
def test_one_hot_bad_input(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels, num_classes=num_classes)


# --- digits ------------------------------------------------------------------------------------

def test_digits_shape_range_and_labels():
    X, y = digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_digits_unscaled_are_intensities_up_to_16():
    X, _ = digits(scaled=False)
    assert X.max() == 16.0 and X.min() == 0.0
    assert np.array_equal(X, np.round(X))


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", GENERATORS)
def test_generators_reject_bad_n_and_noise(make):
    with pytest.raises(ValueError, match="n must be at least 1, got 0"):
        make(n=0)
    with pytest.raises(ValueError, match="at least the number of classes"):
        make(n=1)
    with pytest.raises(ValueError, match="whole number of points"):
        make(n=2.5)
    spread = {"std": -0.1} if make is blobs else {"noise": -0.1}
    with pytest.raises(ValueError, match="standard deviation and must be >= 0"):
        make(n=10, **spread)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: spirals(classes=1), "classes must be a whole number of at least 2, got 1"),
        (lambda: circles(factor=1.0), "strictly between 0 and 1, got 1.0"),
        (lambda: circles(factor=0), "strictly between 0 and 1, got 0"),
        (lambda: blobs(centers=1), "at least 2 blobs, got 1"),
        (lambda: blobs(centers=[[0, 0, 0], [1, 1, 1]]), r"array of shape \(K, 2\)"),
        (lambda: blobs(centers=[[0, 0]]), r"array of shape \(K, 2\)"),
        (lambda: blobs(std=0.1, noise=0.2), "as std or as noise, not both"),
        (lambda: moons(noise=float("nan")), "standard deviation"),
    ],
)
def test_bad_options_are_one_clear_sentence(call, message):
    with pytest.raises(ValueError, match=message) as info:
        call()
    assert str(info.value).endswith(".")


# --- backends and import weight ----------------------------------------------------------------

def test_device_true_gives_backend_arrays():
    X, y = moons(n=10, device=True)
    Xn, yn = moons(n=10)
    # NumPy is the default backend, so the data are the same NumPy arrays
    assert type(X) is np.ndarray and np.array_equal(X, Xn) and np.array_equal(y, yn)
    Xg, yg = xor(device=True)
    assert Xg.dtype == np.float64 and yg.shape == (4, 1)


def test_importing_datasets_does_not_load_sklearn_or_matplotlib():
    code = (
        "import sys, course_lib.datasets; "
        "print(sorted(m for m in ('sklearn', 'matplotlib', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.gpu
def test_device_true_keeps_data_on_the_gpu():
    cupy = pytest.importorskip("cupy")
    from course_lib import backend

    try:
        backend.use("cupy")
    except RuntimeError as err:
        pytest.skip(str(err))
    try:
        X, y = spirals(n=20, device=True)
        assert isinstance(X, cupy.ndarray) and isinstance(y, cupy.ndarray)
        (X_tr, _), (X_val, _) = train_val_split(X, y)
        assert isinstance(X_tr, cupy.ndarray) and len(X_val) == 4
        assert isinstance(one_hot(y), cupy.ndarray)
    finally:
        backend.use("numpy")


# --- standardised three-way split and MNIST (offline) --------------------------------------------


def test_digits_split_sizes_and_training_statistics():
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = datasets.digits_split()
    assert (len(X_tr), len(X_va), len(X_te)) == (1079, 359, 359)  # 1797 = 1079 + 2 · 359
    assert X_tr.shape[1] == 64 and y_tr.dtype == np.int64
    # standardised with the training set's own statistics: mean 0, std 1 (or 0 for blank pixels)
    np.testing.assert_allclose(X_tr.mean(axis=0), 0, atol=1e-12)
    assert set(np.round(X_tr.std(axis=0), 9)) <= {0.0, 1.0}
    assert abs(X_va.mean()) > 1e-6, "the validation set is not standardised on its own"
    # the three parts are disjoint: every image of the digits appears exactly once
    raw, _ = digits(scaled=False)
    assert len(X_tr) + len(X_va) + len(X_te) == len(raw)


def _tiny_mnist(path, n_train=6, n_test=4):
    """A small file with MNIST's layout (uint8 images 28×28, uint8 labels)."""
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=np.arange(n_train, dtype=np.uint8) % 10,
             x_test=np.full((n_test, 28, 28), 255, dtype=np.uint8),
             y_test=np.arange(n_test, dtype=np.uint8))
    return path


class _FakeResponse:
    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, n=-1):
        chunk = self.data[self.at:] if n < 0 else self.data[self.at:self.at + n]
        self.at += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_mnist_downloads_once_verifies_and_reads_the_cache(tmp_path):
    import hashlib

    data = _tiny_mnist(tmp_path / "source.npz").read_bytes()
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return _FakeResponse(data)

    digest = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "cache"
    name, (X_tr, y_tr), (X_te, y_te) = datasets.mnist(cache_dir=cache, opener=opener,
                                                      sha256=digest, url="https://example/m.npz")
    assert name == "mnist" and calls == ["https://example/m.npz"]
    assert X_tr.shape == (6, 784) and X_te.shape == (4, 784) and X_tr.dtype == np.float32
    assert float(X_te.min()) == 1.0 and 0 <= float(X_tr.min()) and float(X_tr.max()) <= 1
    assert y_tr.tolist() == [0, 1, 2, 3, 4, 5] and y_te.dtype == np.int64
    assert (cache / "mnist.npz").read_bytes() == data
    name, *_ = datasets.mnist(cache_dir=cache, opener=opener, sha256=digest)
    assert name == "mnist" and len(calls) == 1, "the second call reads the cache"


def test_mnist_with_a_wrong_checksum_keeps_nothing_and_falls_back(tmp_path, capsys):
    data = _tiny_mnist(tmp_path / "source.npz").read_bytes()
    name, (X_tr, _), (X_te, _) = datasets.mnist(
        cache_dir=tmp_path / "cache", opener=lambda url, timeout: _FakeResponse(data),
        sha256="0" * 64)
    assert name == "digits" and X_tr.shape[1] == 64 and len(X_tr) + len(X_te) == 1797
    assert not list((tmp_path / "cache").glob("*")), "no file (or partial file) is kept"
    said = capsys.readouterr().out.strip()
    assert said.count("\n") == 0 and "SHA-256" in said and "digits stand in" in said


def test_mnist_with_the_network_unreachable_says_so_in_one_sentence(tmp_path, capsys):
    import urllib.error

    def unreachable(url, timeout):
        raise urllib.error.URLError("Network is unreachable")

    name, train, test = datasets.mnist(cache_dir=tmp_path, opener=unreachable)
    assert name == "digits" and train[0].shape[1] == 64
    said = capsys.readouterr().out.strip()
    assert said == ("MNIST could not be downloaded (Network is unreachable), so scikit-learn's "
                    "8×8 digits stand in for it.")
    name, *_ = datasets.mnist(cache_dir=tmp_path, download=False)
    assert name == "digits" and "download=False" in capsys.readouterr().out


def test_mnist_cache_folder_follows_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets.cache_folder() == tmp_path / "course_lib"
