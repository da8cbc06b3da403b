"""Bad input gets one clear sentence, never a NumPy traceback; extreme logits stay finite and
silent.

A "sentence" here: one line, one full stop at the end, naming the parameter at fault."""

import math
import warnings

import numpy as np
import pytest

from course_lib import functional as F
from course_lib import layers, optim, train
from course_lib import losses as L


def _message(excinfo):
    return str(excinfo.value)


# --- shapes ---------------------------------------------------------------------------------


def test_linear_forward_names_both_shapes(xp, one_sentence):
    with pytest.raises(ValueError) as err:
        F.linear_forward(xp.zeros((3, 2)), xp.zeros((3, 4)), xp.zeros(4))
    one_sentence(_message(err), "(3, 2)", "(3, 4)")


def test_more_shape_mismatches(xp, one_sentence):
    with pytest.raises(ValueError) as err:
        F.linear_forward(xp.zeros((3, 2)), xp.zeros((2, 4)), xp.zeros(3))
    one_sentence(_message(err), "b", "(3,)", "(2, 4)")
    with pytest.raises(ValueError) as err:
        F.linear_forward(xp.zeros(3), xp.zeros((3, 4)), xp.zeros(4))
    one_sentence(_message(err), "X", "(3,)")
    _, cache = F.linear_forward(xp.zeros((3, 2)), xp.zeros((2, 4)), xp.zeros(4))
    with pytest.raises(ValueError) as err:
        F.linear_backward(xp.zeros((3, 5)), cache)
    one_sentence(_message(err), "dout", "(3, 5)", "(3, 4)")
    with pytest.raises(ValueError) as err:
        F.batchnorm_forward(xp.zeros((4, 3)), xp.ones(2), xp.zeros(3), {})
    one_sentence(_message(err), "gamma", "(2,)", "(4, 3)")
    with pytest.raises(ValueError) as err:
        optim.sgd_update(xp.zeros((2, 3)), xp.zeros((3, 2)), {}, 0.1)
    one_sentence(_message(err), "(2, 3)", "(3, 2)")
    with pytest.raises(ValueError) as err:
        L.half_squared_error(xp.zeros((4, 2)), xp.zeros((4, 3)))
    one_sentence(_message(err), "(4, 2)", "(4, 3)")


def test_fit_shape_mismatch(xp, one_sentence):
    model = layers.Sequential(layers.Linear(2, 1))
    with pytest.raises(ValueError) as err:
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), xp.zeros((5, 2)),
                  xp.zeros((4, 1)), progress=False)
    one_sentence(_message(err), "(5, 2)", "(4, 1)")


def test_batchnorm_training_needs_two_examples(xp, one_sentence):
    with pytest.raises(ValueError) as err:
        F.batchnorm_forward(xp.zeros((1, 3)), xp.ones(3), xp.zeros(3), {})
    one_sentence(_message(err), "at least 2")


# --- values that are not numbers ------------------------------------------------------------


@pytest.mark.parametrize("loss,name", [
    (L.half_squared_error, "y_hat"), (L.mse, "y_hat"), (L.binary_cross_entropy, "p"),
    (L.categorical_cross_entropy, "p"), (L.softmax_cross_entropy, "logits"),
])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_losses_refuse_non_finite_predictions(loss, name, bad, one_sentence):
    """Checked on NumPy arrays only: on a GPU the check would cost a device sync per call."""
    y_hat = np.full((3, 2), 0.5)
    y_hat[1, 0] = bad
    with pytest.raises(ValueError) as err:
        loss(y_hat, np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    one_sentence(_message(err), name, "nan" if math.isnan(bad) else "inf")


def test_fit_refuses_nan_data(xp, one_sentence, backend_name):
    if backend_name != "numpy":
        pytest.skip("value checks read the data, so they run on NumPy arrays only")
    X = np.ones((4, 2))
    X[2, 1] = np.nan
    model = layers.Sequential(layers.Linear(2, 1))
    with pytest.raises(ValueError) as err:
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), X, np.ones((4, 1)),
                  progress=False)
    one_sentence(_message(err), "X", "nan")


# --- impossible hyper-parameters ------------------------------------------------------------


@pytest.mark.parametrize("lr", [0, 0.0, -0.1, math.inf, math.nan])
def test_learning_rate_must_be_positive(xp, lr, one_sentence):
    w = xp.ones(2)
    for rule in (optim.sgd_update, optim.momentum_update, optim.adagrad_update,
                 optim.rmsprop_update, optim.adam_update):
        with pytest.raises(ValueError) as err:
            rule(w, w, {}, lr)
        one_sentence(_message(err), "learning rate")
    for cls in (optim.SGD, optim.Momentum, optim.AdaGrad, optim.RMSProp, optim.Adam):
        with pytest.raises(ValueError) as err:
            cls(layers.Linear(2, 1).parameters(), lr=lr)
        one_sentence(_message(err), "learning rate")


@pytest.mark.parametrize("rate", [1, 1.0, 1.5, -0.1])
def test_dropout_rate_must_be_in_0_1(xp, rate, one_sentence):
    with pytest.raises(ValueError) as err:
        F.dropout_forward(xp.ones((2, 2)), rate, np.random.default_rng(0))
    one_sentence(_message(err), "dropout rate", "[0, 1)")
    with pytest.raises(ValueError) as err:
        layers.Dropout(rate)
    one_sentence(_message(err), "dropout rate")


@pytest.mark.parametrize("batch_size", [0, -4, 2.5])
def test_batch_size_must_be_at_least_1(xp, batch_size, one_sentence):
    model = layers.Sequential(layers.Linear(2, 1))
    with pytest.raises(ValueError) as err:
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), xp.ones((4, 2)),
                  xp.ones((4, 1)), batch_size=batch_size, progress=False)
    one_sentence(_message(err), "batch_size")


@pytest.mark.parametrize("gamma", [1, 1.0, 1.5, -0.5])
def test_momentum_gamma_must_be_below_1(xp, gamma, one_sentence):
    w = xp.ones(2)
    with pytest.raises(ValueError) as err:
        optim.momentum_update(w, w, {}, 0.1, gamma=gamma)
    one_sentence(_message(err), "gamma")
    with pytest.raises(ValueError) as err:
        optim.Momentum(layers.Linear(2, 1).parameters(), lr=0.1, gamma=gamma)
    one_sentence(_message(err), "gamma")


@pytest.mark.parametrize("T", [0, 0.0, -1.0])
def test_softmax_temperature_must_be_positive(xp, T, one_sentence):
    with pytest.raises(ValueError) as err:
        F.softmax(xp.ones(3), T=T)
    one_sentence(_message(err), "temperature")


def test_other_hyper_parameters(xp, one_sentence):
    w = xp.ones(2)
    cases = [
        (lambda: optim.rmsprop_update(w, w, {}, 0.1, rho=1.0), "rho"),
        (lambda: optim.adam_update(w, w, {}, 0.1, beta1=1.0), "beta1"),
        (lambda: optim.adam_update(w, w, {}, 0.1, beta2=-0.1), "beta2"),
        (lambda: optim.adagrad_update(w, w, {}, 0.1, eps=0), "eps"),
        (lambda: optim.linear_decay(-1), "k"),
        (lambda: optim.LinearDecay(0.1, 0.01, 0), "tau"),
        (lambda: train.early_stopping([1.0], 0), "patience"),
        (lambda: train.EarlyStopping(patience=3, min_delta=-1), "min_delta"),
        (lambda: layers.Linear(0, 3), "in_features"),
        (lambda: layers.BatchNorm1d(4, momentum=1.0), "momentum"),
    ]
    for make, name in cases:
        with pytest.raises(ValueError) as err:
            make()
        one_sentence(_message(err), name)
    model = layers.Sequential(layers.Linear(2, 1))
    with pytest.raises(ValueError) as err:
        train.fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), xp.ones((4, 2)),
                  xp.ones((4, 1)), num_epochs=0, progress=False)
    one_sentence(_message(err), "num_epochs")


# --- extreme logits -------------------------------------------------------------------------


def test_extreme_logits_stay_finite_and_silent(xp, host):
    z = xp.asarray([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    # Every warning is an error, and so is every floating-point event except underflow: e^-2000
    # rounding to exactly 0 is the right answer (NumPy ignores underflow by default).
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        sig, _ = F.sigmoid_forward(z)
        np.testing.assert_array_equal(host(sig), [[1.0, 0.0, 0.5], [0.0, 0.0, 1.0]])
        p = host(F.softmax(z))
        np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        for y in (xp.asarray([1, 2]), xp.asarray([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])):
            loss, grad = L.softmax_cross_entropy(z, y)
            assert math.isclose(float(loss), 1000.0)  # (2000 + 0) / 2
            assert np.isfinite(host(grad)).all()
        probs, _ = F.sigmoid_forward(xp.asarray([[1000.0], [-1000.0], [1000.0], [-1000.0]]))
        loss, grad = L.binary_cross_entropy(probs, xp.asarray([[1.0], [0.0], [0.0], [1.0]]))
        assert math.isfinite(float(loss)) and float(loss) > 10
        assert np.isfinite(host(grad)).all()
        sig_grad = F.sigmoid_backward(xp.ones((2, 3)), sig)
        assert np.isfinite(host(sig_grad)).all()
