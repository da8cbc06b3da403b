"""Plausible wrong submissions for 09_capstone. Each replaces one solution cell and must lose
exactly the points of the test cells in ``loses``; ``message`` is part of what the first of them
prints, so the check names the mistake."""

_INIT = '''def init_params(layer_sizes, scheme="he", rng=0, batchnorm=False):
    rng = np.random.default_rng(rng)
    params = []
    L = len(layer_sizes) - 1
    for l in range(L):
        fan_in, fan_out = layer_sizes[l], layer_sizes[l + 1]
        std = {STD}
        layer = {"W": std * rng.standard_normal((fan_in, fan_out)), "b": np.zeros(fan_out)}
        if batchnorm and l < L - 1:
            layer.update(gamma=np.ones(fan_out), beta=np.zeros(fan_out), state={})
        params.append(layer)
    return params'''

_RIGHT = ('{"plain": 0.01, "lecun": np.sqrt(1 / fan_in), "xavier": np.sqrt(2 / (fan_in + fan_out)), '
          '"he": np.sqrt(2 / fan_in)}[scheme]')


def _init(std=_RIGHT):
    return _INIT.replace("{STD}", std)


def _init_edit(old, new, std=_RIGHT):
    source = _INIT.replace("{STD}", std)
    assert old in source, old
    return source.replace(old, new)


_FORWARD = '''def model_forward(X, params, activation="relu", dropout=0.0, rng=None, training=True):
    act_forward = getattr(nn, activation + "_forward")
    caches = []
    out = X
    for layer in params[:-1]:
        out, linear_cache = nn.linear_forward(out, layer["W"], layer["b"])
        bn_cache = None
        if "gamma" in layer:
            out, bn_cache = nn.batchnorm_forward(out, layer["gamma"], layer["beta"],
                                                 layer["state"], training=training)
        out, act_cache = act_forward(out)
        drop_cache = None
        if dropout > 0 and training:
            out, drop_cache = nn.dropout_forward(out, dropout, rng, training=True)
        caches.append((linear_cache, bn_cache, act_cache, drop_cache))
    scores, linear_cache = nn.linear_forward(out, params[-1]["W"], params[-1]["b"])
    caches.append(linear_cache)
    return scores, (activation, caches)'''


def _forward(old, new):
    assert old in _FORWARD, old
    return _FORWARD.replace(old, new)


_BACKWARD = '''def model_backward(dscores, caches):
    activation, layer_caches = caches
    act_backward = getattr(nn, activation + "_backward")
    L = len(layer_caches)
    grads = [None] * L
    dout, dW, db = nn.linear_backward(dscores, layer_caches[-1])
    grads[L - 1] = {"W": dW, "b": db}
    for l in reversed(range(L - 1)):
        linear_cache, bn_cache, act_cache, drop_cache = layer_caches[l]
        if drop_cache is not None:
            dout = nn.dropout_backward(dout, drop_cache)
        dout = act_backward(dout, act_cache)
        grad = {}
        if bn_cache is not None:
            dout, grad["gamma"], grad["beta"] = nn.batchnorm_backward(dout, bn_cache)
        dout, grad["W"], grad["b"] = nn.linear_backward(dout, linear_cache)
        grads[l] = grad
    return grads'''


def _backward(old, new):
    assert old in _BACKWARD, old
    return _BACKWARD.replace(old, new)


_TRAIN = '''def train(params, X, y, activation="relu", optimizer="adam", lr=1e-3, num_epochs=10,
          batch_size=64, l2=0.0, dropout=0.0, rng=0):
    rng = np.random.default_rng(rng)
    update = getattr(nn, optimizer + "_update")
    states = [{name: {} for name in layer if name != "state"} for layer in params]
    history = {"loss": []}
    N = len(X)
    for epoch in range(num_epochs):
        order = rng.permutation(N)
        total = 0.0
        for start in range(0, N, batch_size):
            index = order[start:start + batch_size]
            scores, caches = model_forward(X[index], params, activation, dropout=dropout,
                                           rng=rng, training=True)
            loss, dscores = nn.softmax_cross_entropy(scores, y[index])
            grads = model_backward(dscores, caches)
            for layer, grad, state in zip(params, grads, states):
                if l2 > 0:
                    grad["W"] = grad["W"] + nn.l2_penalty(layer["W"], l2)[1]
                for name in grad:
                    layer[name], state[name] = update(layer[name], grad[name], state[name], lr=lr)
            total += float(loss) * len(index)
        history["loss"].append(total / N)
    return params, history'''


def _train(old, new):
    assert old in _TRAIN, old
    return _TRAIN.replace(old, new)


_EVALUATE = '''def evaluate(params, X, y, activation="relu"):
    scores, _ = model_forward(X, params, activation, training=False)
    loss, _ = nn.softmax_cross_entropy(scores, y)
    accuracy = np.mean(np.argmax(scores, axis=1) == y)
    return float(loss), float(accuracy)'''


def _evaluate(old, new):
    assert old in _EVALUATE, old
    return _EVALUATE.replace(old, new)


_LAYOUT, _VAR = "test_init_params_layout", "test_init_params_variances"
_FWD, _BWD, _DEPTHS = "test_model_forward", "test_model_backward", "test_model_backward_depths"
_BATCHES, _LEARNS, _EVAL = "test_train_minibatches", "test_train_learns", "test_evaluate"

MUTANTS = [
    # --- init_params ----------------------------------------------------------------------------
    dict(name="init_params: He with LeCun's 1/fan_in", cell="init_params",
         source=_init('{"plain": 0.01, "lecun": np.sqrt(1 / fan_in), "xavier": np.sqrt(2 / (fan_in + fan_out)), "he": np.sqrt(1 / fan_in)}[scheme]'),
         loses=[_VAR], message="that is LeCun's 1/fan_in"),
    dict(name="init_params: the variance 2/fan_in used as the standard deviation", cell="init_params",
         source=_init('{"plain": 0.01, "lecun": 1 / fan_in, "xavier": 2 / (fan_in + fan_out), "he": 2 / fan_in}[scheme]'),
         loses=[_VAR], message="is its square root"),
    dict(name="init_params: plain with variance 0.01 (std 0.1)", cell="init_params",
         source=_init('{"plain": 0.1, "lecun": np.sqrt(1 / fan_in), "xavier": np.sqrt(2 / (fan_in + fan_out)), "he": np.sqrt(2 / fan_in)}[scheme]'),
         loses=[_VAR], message="a variance of 0.01"),
    dict(name="init_params: Glorot without the factor 2 (hidden check)", cell="init_params",
         source=_init('{"plain": 0.01, "lecun": np.sqrt(1 / fan_in), "xavier": np.sqrt(1 / (fan_in + fan_out)), "he": np.sqrt(2 / fan_in)}[scheme]'),
         loses=[_VAR], message="a factor 2 is missing"),
    dict(name="init_params: Glorot taken as LeCun's 1/fan_in (hidden check)", cell="init_params",
         source=_init('{"plain": 0.01, "lecun": np.sqrt(1 / fan_in), "xavier": np.sqrt(1 / fan_in), "he": np.sqrt(2 / fan_in)}[scheme]'),
         loses=[_VAR], message="Glorot and Bengio's rule"),
    dict(name="init_params: LeCun with He's 2/fan_in (hidden check)", cell="init_params",
         source=_init('{"plain": 0.01, "lecun": np.sqrt(2 / fan_in), "xavier": np.sqrt(2 / (fan_in + fan_out)), "he": np.sqrt(2 / fan_in)}[scheme]'),
         loses=[_VAR], message="that is He's 2/fan_in"),
    dict(name="init_params: random biases", cell="init_params",
         source=_init_edit('"b": np.zeros(fan_out)', '"b": std * rng.standard_normal(fan_out)'),
         loses=[_LAYOUT], message="is not all zeros"),
    dict(name="init_params: the seed ignored", cell="init_params",
         source=_init_edit("rng = np.random.default_rng(rng)", "rng = np.random.default_rng()"),
         loses=[_LAYOUT], message="the same seed must give the same weights"),
    dict(name="init_params: W drawn (fan_out, fan_in)", cell="init_params",
         source=_init_edit("rng.standard_normal((fan_in, fan_out))", "rng.standard_normal((fan_out, fan_in))"),
         loses=[_LAYOUT, _VAR], message="transposed"),
    dict(name="init_params: batch norm on the output layer too (hidden check)", cell="init_params",
         source=_init_edit("if batchnorm and l < L - 1:", "if batchnorm:"),
         loses=[_LAYOUT], message="belongs to the hidden layers only"),
    # --- model_forward --------------------------------------------------------------------------
    dict(name="model_forward: the activation applied to the scores", cell="model_forward",
         source=_forward("    caches.append(linear_cache)\n", "    scores, _ = act_forward(scores)\n    caches.append(linear_cache)\n"),
         loses=[_FWD, _BWD, _DEPTHS, _LEARNS, _EVAL], message="the scores went through the activation"),
    dict(name="model_forward: no activation", cell="model_forward",
         source=_forward("        out, act_cache = act_forward(out)\n", "        act_cache = out\n"),
         loses=[_FWD, _BWD, _DEPTHS, _LEARNS, _EVAL], message="no activation was applied"),
    dict(name="model_forward: the last layer skipped", cell="model_forward",
         source=_forward('scores, linear_cache = nn.linear_forward(out, params[-1]["W"], params[-1]["b"])',
                         'scores, linear_cache = out, None'),
         loses=[_FWD, _BWD, _DEPTHS, _BATCHES, _LEARNS, _EVAL], message="model_forward"),
    dict(name="model_forward: dropout also at inference (hidden check)", cell="model_forward",
         source=_forward("if dropout > 0 and training:", "if dropout > 0:"),
         loses=[_FWD], message="dropout acts only in training"),
    dict(name="model_forward: batch norm always in training mode (hidden check)", cell="model_forward",
         source=_forward("layer[\"state\"], training=training)", "layer[\"state\"], training=True)"),
         loses=[_FWD, _EVAL], message="batch norm"),
    # --- model_backward -------------------------------------------------------------------------
    dict(name="model_backward: the activation's backward skipped", cell="model_backward",
         source=_backward("        dout = act_backward(dout, act_cache)\n", ""),
         loses=[_BWD, _DEPTHS], message="relative error"),
    dict(name="model_backward: gradients in reversed order", cell="model_backward",
         source=_backward("    return grads", "    return grads[::-1]"),
         loses=[_BWD, _DEPTHS, _BATCHES, _LEARNS], message="model_backward"),
    dict(name="model_backward: every layer given the last layer's cache", cell="model_backward",
         source=_backward("dout, grad[\"W\"], grad[\"b\"] = nn.linear_backward(dout, linear_cache)",
                          "dout, grad[\"W\"], grad[\"b\"] = nn.linear_backward(dout, layer_caches[l][0] if l == 0 else layer_caches[l - 1][0])"),
         loses=[_BWD, _DEPTHS], message="model_backward"),
    dict(name="model_backward: dropout's mask not applied (hidden check)", cell="model_backward",
         source=_backward("            dout = nn.dropout_backward(dout, drop_cache)\n", "            pass\n"),
         loses=[_DEPTHS], message="dropout"),
    dict(name="model_backward: batch norm skipped (hidden check)", cell="model_backward",
         source=_backward('dout, grad["gamma"], grad["beta"] = nn.batchnorm_backward(dout, bn_cache)',
                          'grad["gamma"], grad["beta"] = np.zeros(dout.shape[1]), np.zeros(dout.shape[1])'),
         loses=[_DEPTHS], message="batch norm"),
    # --- train ----------------------------------------------------------------------------------
    dict(name="train: batches drawn with replacement", cell="train",
         source=_train("            index = order[start:start + batch_size]",
                       "            index = rng.integers(0, N, min(batch_size, N - start))"),
         loses=[_BATCHES], message="did not see every example exactly once"),
    dict(name="train: one shuffle for all epochs", cell="train",
         source=_train("    for epoch in range(num_epochs):\n        order = rng.permutation(N)\n",
                       "    order = rng.permutation(N)\n    for epoch in range(num_epochs):\n"),
         loses=[_BATCHES], message="draw a new permutation"),
    dict(name="train: no shuffling", cell="train",
         source=_train("order = rng.permutation(N)", "order = np.arange(N)"),
         loses=[_BATCHES], message="stored order"),
    dict(name="train: the last small batch dropped", cell="train",
         source=_train("for start in range(0, N, batch_size):", "for start in range(0, N - batch_size + 1, batch_size):"),
         loses=[_BATCHES], message="a last one of 2"),
    dict(name="train: the update stored nowhere", cell="train",
         source=_train("layer[name], state[name] = update(", "_, state[name] = update("),
         loses=[_LEARNS], message="should at least halve"),
    dict(name="train: L2 gradient forgotten (hidden check)", cell="train",
         source=_train('grad["W"] = grad["W"] + nn.l2_penalty(layer["W"], l2)[1]', 'pass'),
         loses=[_LEARNS], message="l2"),
    dict(name="train: one optimizer state shared by every parameter", cell="train",
         source=_train("layer[name], state[name] = update(layer[name], grad[name], state[name], lr=lr)",
                       "layer[name], states[0][\"W\"] = update(layer[name], grad[name], states[0][\"W\"], lr=lr)"),
         loses=[_LEARNS], message="train raised"),
    # --- evaluate -------------------------------------------------------------------------------
    dict(name="evaluate: the number of correct predictions", cell="evaluate",
         source=_evaluate("np.mean(np.argmax(scores, axis=1) == y)", "np.sum(np.argmax(scores, axis=1) == y)"),
         loses=[_EVAL], message="the number of correct predictions"),
    dict(name="evaluate: the error rate", cell="evaluate",
         source=_evaluate("np.mean(np.argmax(scores, axis=1) == y)", "np.mean(np.argmax(scores, axis=1) != y)"),
         loses=[_EVAL], message="the error rate"),
    dict(name="evaluate: in training mode (hidden check)", cell="evaluate",
         source=_evaluate("training=False", "training=True"),
         loses=[_EVAL], message="inference mode"),
]
