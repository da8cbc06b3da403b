"""Correct answers to 06_optimizers written another way: each must earn full marks
(tests/test_fairness.py).

Updating w itself in place (w -= ..., then return w) is right for AdaGrad, RMSProp and Adam, whose
exercises say nothing against it; the hidden step-length checks hand each call a copy of w, since
surfaces.step_lengths measures new_w − w. Exercise 1 asks for a new array for momentum's w, so
that variant is not listed for momentum_update."""

EQUIVALENTS = [
    # --- momentum_update ------------------------------------------------------------------------
    dict(name="momentum_update with v starting as zeros_like(w), state updated in place",
         cell="momentum_update", source='''
def momentum_update(w, dw, state, lr, gamma=0.9):
    if "v" not in state:
        state["v"] = np.zeros_like(w, dtype=float)
    state["v"] = gamma * state["v"] + lr * dw
    return w - state["v"], state'''),
    dict(name="momentum_update updating the velocity in place (w new, as the notebook asks)",
         cell="momentum_update", source='''
def momentum_update(w, dw, state, lr, gamma=0.9):
    v = state.setdefault("v", np.zeros(np.shape(w)))
    v *= gamma
    v += lr * dw
    return w - v, state'''),
    # --- adagrad_update -------------------------------------------------------------------------
    dict(name="adagrad_update with np.square and an explicit zeros start", cell="adagrad_update",
         source='''
def adagrad_update(w, dw, state, lr, eps=1e-8):
    r = state["r"] if "r" in state else np.zeros_like(dw)
    r = r + np.square(dw)
    return w - lr * dw / (np.sqrt(r) + eps), {"r": r}'''),
    dict(name="adagrad_update accumulating r in place (r += g²)", cell="adagrad_update", source='''
def adagrad_update(w, dw, state, lr, eps=1e-8):
    r = state.setdefault("r", np.zeros(np.shape(w)))
    r += dw ** 2
    return w - lr * dw / (r ** 0.5 + eps), state'''),
    dict(name="adagrad_update changing w in place (CS231n style)", cell="adagrad_update", source='''
def adagrad_update(w, dw, state, lr, eps=1e-8):
    r = state.get("r", 0.0) + dw * dw
    w -= lr * dw / (np.sqrt(r) + eps)
    return w, {"r": r}'''),
    # --- rmsprop_update -------------------------------------------------------------------------
    dict(name="rmsprop_update with np.square and a step variable", cell="rmsprop_update", source='''
def rmsprop_update(w, dw, state, lr, rho=0.9, eps=1e-8):
    r = rho * state.get("r", np.zeros_like(dw)) + (1 - rho) * np.square(dw)
    step = lr / (np.sqrt(r) + eps) * dw
    return w - step, {"r": r}'''),
    dict(name="rmsprop_update averaging r in place", cell="rmsprop_update", source='''
def rmsprop_update(w, dw, state, lr, rho=0.9, eps=1e-8):
    r = state.setdefault("r", np.zeros(np.shape(w)))
    r *= rho
    r += (1 - rho) * dw * dw
    return w - lr * dw / (np.sqrt(r) + eps), state'''),
    dict(name="rmsprop_update changing w in place", cell="rmsprop_update", source='''
def rmsprop_update(w, dw, state, lr, rho=0.9, eps=1e-8):
    r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
    w -= lr * dw / (np.sqrt(r) + eps)
    return w, {"r": r}'''),
    # --- adam_update ----------------------------------------------------------------------------
    dict(name="adam_update in the paper's efficient form (step size α_t, ε̂ = ε√(1 − β₂ᵗ))",
         cell="adam_update", source='''
def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw ** 2
    lr_t = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return w - lr_t * m / (np.sqrt(v) + eps * np.sqrt(1 - beta2 ** t)), {"m": m, "v": v, "t": t}'''),
    dict(name="adam_update updating m, v and t in place in the state", cell="adam_update", source='''
def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    if not state:
        state.update(m=np.zeros(np.shape(w)), v=np.zeros(np.shape(w)), t=0)
    state["t"] += 1
    state["m"] *= beta1
    state["m"] += (1 - beta1) * dw
    state["v"] *= beta2
    state["v"] += (1 - beta2) * np.square(dw)
    m_hat = state["m"] / (1 - beta1 ** state["t"])
    v_hat = state["v"] / (1 - beta2 ** state["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), state'''),
    dict(name="adam_update changing w in place", cell="adam_update", source='''
def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
    w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w, {"m": m, "v": v, "t": t}'''),
    # --- cost_and_gradient ----------------------------------------------------------------------
    dict(name="cost_and_gradient setting and reading the parameters by hand", cell="cost_and_gradient",
         source='''
def cost_and_gradient(theta, model, X, y, params):
    start = 0
    for p in params:
        p.data = np.reshape(theta[start:start + p.data.size], p.data.shape).copy()
        start += p.data.size
    y_hat = model.forward(X)
    N = X.shape[0]
    cost = 0.5 * np.sum((y_hat - y) ** 2) / N
    model.backward((y_hat - y) / N)
    return float(cost), np.concatenate([p.grad.ravel() for p in params])'''),
]
