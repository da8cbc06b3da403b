"""Correct answers to 09_capstone written another way: each must earn full marks
(tests/test_fairness.py)."""

EQUIVALENTS = [
    # --- init_params ----------------------------------------------------------------------------
    dict(name="init_params with rng.normal(0, std, size) and a dict of variances", cell="init_params",
         source='''
def init_params(layer_sizes, scheme="he", rng=0, batchnorm=False):
    rng = np.random.default_rng(rng)
    params = []
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    for l, (n_in, n_out) in enumerate(pairs):
        variance = {"plain": 0.01 ** 2, "lecun": 1.0 / n_in, "xavier": 2.0 / (n_in + n_out),
                    "he": 2.0 / n_in}[scheme]
        layer = dict(W=rng.normal(0.0, variance ** 0.5, size=(n_in, n_out)), b=np.zeros((n_out,)))
        if batchnorm and l != len(pairs) - 1:
            layer["gamma"], layer["beta"], layer["state"] = np.ones(n_out), np.zeros(n_out), {}
        params.append(layer)
    return params'''),
    dict(name="init_params scaling by the gain over √fan_in", cell="init_params", source='''
def init_params(layer_sizes, scheme="he", rng=0, batchnorm=False):
    g = np.random.default_rng(rng)
    out = []
    for l in range(1, len(layer_sizes)):
        a, b = layer_sizes[l - 1], layer_sizes[l]
        if scheme == "plain":
            W = g.standard_normal((a, b)) / 100
        else:
            gain = {"lecun": 1.0, "he": 2.0, "xavier": 2 * a / (a + b)}[scheme]
            W = g.standard_normal((a, b)) * np.sqrt(gain) / np.sqrt(a)
        layer = {"W": W, "b": 0.0 * np.ones(b)}
        if batchnorm and l < len(layer_sizes) - 1:
            layer.update({"gamma": np.ones(b), "beta": np.zeros(b), "state": dict()})
        out.append(layer)
    return out'''),
    # --- model_forward --------------------------------------------------------------------------
    dict(name="model_forward with an index loop and f-string lookup", cell="model_forward",
         source='''
def model_forward(X, params, activation="relu", dropout=0.0, rng=None, training=True):
    L = len(params)
    caches = []
    a = X
    for l in range(L - 1):
        p = params[l]
        z, lin = nn.linear_forward(a, p["W"], p["b"])
        bn = None
        if p.get("gamma") is not None:
            z, bn = nn.batchnorm_forward(z, p["gamma"], p["beta"], p["state"], training=training)
        a, act = getattr(nn, f"{activation}_forward")(z)
        drop = None
        if training and dropout:
            a, drop = nn.dropout_forward(a, dropout, rng, training=training)
        caches.append((lin, bn, act, drop))
    z, lin = nn.linear_forward(a, params[L - 1]["W"], params[L - 1]["b"])
    return z, (activation, caches + [lin])'''),
    # --- model_backward -------------------------------------------------------------------------
    dict(name="model_backward building the list from the top with insert(0, ...)",
         cell="model_backward", source='''
def model_backward(dscores, caches):
    activation, layer_caches = caches
    *hidden, last = layer_caches
    d, dW, db = nn.linear_backward(dscores, last)
    grads = [{"W": dW, "b": db}]
    for lin, bn, act, drop in hidden[::-1]:
        if drop is not None:
            d = nn.dropout_backward(d, drop)
        d = getattr(nn, activation + "_backward")(d, act)
        g = {}
        if bn is not None:
            d, dgamma, dbeta = nn.batchnorm_backward(d, bn)
            g["gamma"], g["beta"] = dgamma, dbeta
        d, g["W"], g["b"] = nn.linear_backward(d, lin)
        grads.insert(0, g)
    return grads'''),
    # --- train ----------------------------------------------------------------------------------
    dict(name="train with rng.shuffle, X[order] and a list of batch losses", cell="train", source='''
def train(params, X, y, activation="relu", optimizer="adam", lr=1e-3, num_epochs=10,
          batch_size=64, l2=0.0, dropout=0.0, rng=0):
    rng = np.random.default_rng(rng)
    step = getattr(nn, f"{optimizer}_update")
    opt_state = {}
    history = {"loss": []}
    idx = np.arange(len(X))
    for _ in range(num_epochs):
        rng.shuffle(idx)
        Xs, ys = X[idx], y[idx]
        losses_, sizes = [], []
        for i in range(0, len(X), batch_size):
            Xb, yb = Xs[i:i + batch_size], ys[i:i + batch_size]
            scores, caches = model_forward(Xb, params, activation, dropout, rng, True)
            loss, dscores = nn.softmax_cross_entropy(scores, yb)
            grads = model_backward(dscores, caches)
            for l, (layer, grad) in enumerate(zip(params, grads)):
                for k, g in grad.items():
                    if k == "W" and l2:
                        g = g + 2 * l2 * layer["W"]
                    layer[k], opt_state[l, k] = step(layer[k], g, opt_state.get((l, k), {}), lr=lr)
            losses_.append(loss)
            sizes.append(len(Xb))
        history["loss"].append(float(np.average(losses_, weights=sizes)))
    return params, history'''),
    # --- evaluate -------------------------------------------------------------------------------
    dict(name="evaluate with a log-softmax by hand and sum / N", cell="evaluate", source='''
def evaluate(params, X, y, activation="relu"):
    s, _ = model_forward(X, params, activation, training=False)
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    N = len(y)
    return -log_p[np.arange(N), y].sum() / N, (s.argmax(axis=1) == y).sum() / N'''),
]
