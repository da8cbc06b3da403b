"""course_lib.lessons.capstone: the learner's pieces from my_nn.py (checked, stand-ins named in
one sentence) and the references of notebook 09, checked against numerical gradients and the
initialisation formulas of CONVENTIONS.md."""

import numpy as np
import pytest

from course_lib import gradcheck, losses
from course_lib.lessons import capstone as C

GOOD = '''
import numpy as np
def relu_forward(z):
    return np.maximum(z, 0), z
def relu_backward(dout, cache):
    return dout * (cache > 0)
def sigmoid_forward(z):                 # wrong: tanh
    return np.tanh(z), z
def sigmoid_backward(dout, cache):
    return dout
def linear_forward(X, W, b):            # right, without its backward
    return X @ W + b, (X, W)
def l2_penalty(W, lam):
    return lam * np.sum(W * W), 2 * lam * W
def adam_update(w, dw, state, lr):
    raise NotImplementedError
'''


def test_without_my_nn_every_piece_is_a_stand_in(tmp_path, capsys):
    pieces = C.load_pieces(tmp_path)
    assert pieces.own == [] and set(pieces.stand_ins) == set(C.PIECES)
    said = capsys.readouterr().out.strip()
    assert "\n" not in said and "stand-in" in said and "no my_nn.py" in said
    assert pieces.relu_forward is C.functional.relu_forward


def test_own_pieces_are_used_where_they_agree_with_the_reference(tmp_path, capsys):
    (tmp_path / "my_nn.py").write_text(GOOD)
    pieces = C.load_pieces(tmp_path)
    assert sorted(pieces.own) == ["l2_penalty", "relu_backward", "relu_forward"]
    assert pieces.relu_forward.__module__.startswith("_learner_my_nn")
    assert pieces.stand_ins["sigmoid_forward"] == "disagrees with course_lib's reference"
    assert pieces.stand_ins["linear_forward"] == "linear_backward not in my_nn.py"
    assert pieces.stand_ins["adam_update"] == "raised NotImplementedError"
    assert pieces.sigmoid_forward is C.functional.sigmoid_forward
    said = capsys.readouterr().out.strip()
    assert "\n" not in said and said.startswith("Your own pieces: relu_forward, relu_backward")


def test_a_my_nn_that_cannot_be_imported_is_one_sentence(tmp_path, capsys):
    (tmp_path / "my_nn.py").write_text("import numpy as np\n1 / 0\n")
    pieces = C.load_pieces(tmp_path)
    assert pieces.own == []
    said = capsys.readouterr().out.strip()
    assert "\n" not in said and "could not be imported (ZeroDivisionError)" in said


def test_reference_pieces_all_agree_with_themselves():
    ref = C.reference_pieces()
    theirs = {name: getattr(ref, name) for name in C.PIECES}
    for name in C.PIECES:
        assert C._agrees(name, theirs[name], theirs), name


@pytest.mark.parametrize("scheme, variance", [
    ("plain", lambda i, o: 1e-4), ("lecun", lambda i, o: 1 / i),
    ("xavier", lambda i, o: 2 / (i + o)), ("he", lambda i, o: 2 / i)])
def test_init_params_variances(scheme, variance):
    params = C.init_params([300, 200, 100], scheme, rng=1)
    for layer, (i, o) in zip(params, [(300, 200), (200, 100)], strict=True):
        assert layer["W"].shape == (i, o) and not layer["b"].any()
        # the sample variance of n normal draws has relative standard error √(2/n) ≤ 1 %
        assert layer["W"].var() == pytest.approx(variance(i, o), rel=0.05)
        assert abs(layer["W"].mean()) < 4 * np.sqrt(variance(i, o) / layer["W"].size)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_model_backward_matches_numerical_gradients(activation, batchnorm):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 4)), np.array([0, 2, 1, 2, 0, 1])
    params = C.init_params([4, 5, 6, 3], "lecun", rng=2, batchnorm=batchnorm)

    def cost(_):
        return losses.softmax_cross_entropy(C.model_forward(X, params, activation)[0], y)[0]

    scores, caches = C.model_forward(X, params, activation)
    grads = C.model_backward(losses.softmax_cross_entropy(scores, y)[1], caches)
    for layer, grad in zip(params, grads, strict=True):
        for name in grad:
            numeric = gradcheck.numerical_gradient(cost, layer[name])
            if name == "b" and batchnorm and layer is not params[-1]:
                assert np.abs(grad[name]).max() < 1e-12 and np.abs(numeric).max() < 1e-9
                continue  # a bias before batch norm is cancelled by the mean: no gradient
            assert gradcheck.relative_error(grad[name], numeric) < 1e-7, (activation, name)


def test_train_covers_the_data_once_per_epoch_and_lowers_the_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    seen = []

    def spy(Xb, params, activation, **kw):
        seen.append(Xb[:, 0].copy())
        return C.model_forward(Xb, params, activation, **kw)

    params = C.init_params([3, 8, 2], "he", rng=0)
    _, history = C.train(params, X, y, num_epochs=3, batch_size=16, lr=0.01, forward=spy)
    assert [len(b) for b in seen] == [16, 16, 16, 2] * 3
    epochs = [np.sort(np.concatenate(seen[4 * e:4 * e + 4])) for e in range(3)]
    for e in epochs:
        np.testing.assert_array_equal(e, np.sort(X[:, 0]))
    assert not np.array_equal(seen[0], seen[4]), "reshuffled every epoch"
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]


def test_layer_statistics_show_vanishing_activations_with_plain_init():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 32)), rng.integers(0, 10, 100)
    plain = C.layer_statistics(X, y, [32] + [64] * 9 + [10], "plain", "tanh")
    lecun = C.layer_statistics(X, y, [32] + [64] * 9 + [10], "lecun", "tanh")
    assert plain["activation_std"][-1] < 1e-6 < 0.1 < lecun["activation_std"][-1]
    assert len(plain["grad_norm"]) == 10


def test_confusion_matrix_and_worst_mistakes():
    counts = C.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], 3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    scores = np.log(np.array([[0.7, 0.3], [0.2, 0.8], [0.45, 0.55], [0.9, 0.1]]))
    assert C.worst_mistakes(scores, np.array([0, 0, 0, 1])).tolist() == [3, 1, 2]
