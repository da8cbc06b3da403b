"""Correct answers to 01_forward_propagation written another way: each must earn full marks
(tests/test_fairness.py)."""


EQUIVALENTS = [
    # --- linear_forward -------------------------------------------------------------------------
    dict(name="linear_forward with einsum", cell="linear_forward", source='''
def linear_forward(X, W, b):
    return np.einsum("nd,dm->nm", X, W) + b, (X, W)'''),
    dict(name="linear_forward with np.dot and b[None, :]", cell="linear_forward", source='''
def linear_forward(X, W, b):
    return np.dot(X, W) + b[None, :], (X, W)'''),
    dict(name="linear_forward as (Wᵀ Xᵀ)ᵀ + b", cell="linear_forward", source='''
def linear_forward(X, W, b):
    Z = (W.T @ X.T).T + b
    return Z, (X, W)'''),
    # --- sigmoid_forward ------------------------------------------------------------------------
    dict(name="sigmoid_forward with z clipped to ±500", cell="sigmoid_forward", source='''
def sigmoid_forward(z):
    out = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    return out, out'''),
    dict(name="sigmoid_forward as ½(1 + tanh(z/2))", cell="sigmoid_forward", source='''
def sigmoid_forward(z):
    out = 0.5 * (1 + np.tanh(z / 2))
    return out, out'''),
    dict(name="sigmoid_forward with scipy.special.expit", cell="sigmoid_forward", source='''
from scipy.special import expit

def sigmoid_forward(z):
    out = expit(z)
    return out, out'''),
    dict(name="sigmoid_forward as exp(−logaddexp(0, −z))", cell="sigmoid_forward", source='''
def sigmoid_forward(z):
    out = np.exp(-np.logaddexp(0, -z))
    return out, out'''),
    dict(name="sigmoid_forward with np.where over exp(−|z|) in both branches", cell="sigmoid_forward",
         source='''
def sigmoid_forward(z):
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1 / (1 + e), 1 - 1 / (1 + e))
    return out, out'''),
    dict(name="sigmoid_forward with boolean masks, each branch on its own half", cell="sigmoid_forward",
         source='''
def sigmoid_forward(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out, out'''),
    # --- relu_forward ---------------------------------------------------------------------------
    dict(name="relu_forward as z * (z > 0)", cell="relu_forward", source='''
def relu_forward(z):
    return z * (z > 0), z'''),
    dict(name="relu_forward as np.clip(z, 0, None)", cell="relu_forward", source='''
def relu_forward(z):
    return np.clip(z, 0, None), z'''),
    dict(name="relu_forward as np.where(z > 0, z, 0)", cell="relu_forward", source='''
def relu_forward(z):
    return np.where(z > 0, z, 0), z'''),
    # --- leaky_relu_forward ---------------------------------------------------------------------
    dict(name="leaky_relu_forward as max(z, 0) + alpha min(z, 0)", cell="leaky_relu_forward",
         source='''
def leaky_relu_forward(z, alpha=0.01):
    return np.maximum(z, 0) + alpha * np.minimum(z, 0), (z, alpha)'''),
    dict(name="leaky_relu_forward as z times a slope array", cell="leaky_relu_forward", source='''
def leaky_relu_forward(z, alpha=0.01):
    return z * np.where(z > 0, 1.0, alpha), (z, alpha)'''),
    dict(name="leaky_relu_forward as np.maximum(z, alpha z) (the test's slopes are in [0, 1])",
         cell="leaky_relu_forward", source='''
def leaky_relu_forward(z, alpha=0.01):
    return np.maximum(z, alpha * z), (z, alpha)'''),
    # --- tanh_forward ---------------------------------------------------------------------------
    dict(name="tanh_forward with np.tanh (the notebook allows it)", cell="tanh_forward", source='''
def tanh_forward(z):
    out = np.tanh(z)
    return out, out'''),
    dict(name="tanh_forward as 2σ(2z) − 1 with the sigmoid written inline (exp(−|2z|))",
         cell="tanh_forward", source='''
def tanh_forward(z):
    e = np.exp(-np.abs(2 * z))
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    out = 2 * s - 1
    return out, out'''),
    dict(name="tanh_forward as sign(z)(1 − e^(−2|z|)) / (1 + e^(−2|z|))", cell="tanh_forward",
         source='''
def tanh_forward(z):
    e = np.exp(-2 * np.abs(z))
    out = np.sign(z) * (1 - e) / (1 + e)
    return out, out'''),
    dict(name="tanh_forward as 2σ(2z) − 1 with a sigmoid that clips its input to ±500",
         cell="tanh_forward", source='''
def tanh_forward(z):
    out = 2 / (1 + np.exp(-np.clip(2 * z, -500, 500))) - 1
    return out, out'''),
    # --- softmax --------------------------------------------------------------------------------
    dict(name="softmax via scipy.special.logsumexp (no explicit max subtraction)", cell="softmax",
         source='''
from scipy.special import logsumexp

def softmax(z, T=1.0):
    s = z / T
    return np.exp(s - logsumexp(s, axis=-1, keepdims=True))'''),
    dict(name="softmax via a hand-written log-sum-exp", cell="softmax", source='''
def softmax(z, T=1.0):
    s = np.asarray(z) / T
    m = np.max(s, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(s - m), axis=-1, keepdims=True))
    return np.exp(s - lse)'''),
    dict(name="softmax with scipy.special.softmax", cell="softmax", source='''
import scipy.special

def softmax(z, T=1.0):
    return scipy.special.softmax(z / T, axis=-1)'''),
    dict(name="softmax subtracting the max of z before dividing by T", cell="softmax", source='''
def softmax(z, T=1.0):
    e = np.exp((z - np.max(z, axis=-1, keepdims=True)) / T)
    return e / np.sum(e, axis=-1, keepdims=True)'''),
    # --- forward --------------------------------------------------------------------------------
    dict(name="forward with its own affine step and an index loop", cell="forward", source='''
def forward(X, params, activations):
    A, caches = X, []
    for l in range(len(params)):
        W, b = params[l]
        Z = A @ W + b
        linear_cache = (A, W)
        A, activation_cache = ACTIVATIONS[activations[l]](Z)
        caches.append((linear_cache, activation_cache))
    return A, caches'''),
]
