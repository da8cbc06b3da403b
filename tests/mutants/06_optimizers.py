"""Plausible wrong submissions for notebook 06 (optimizers).

Each mutant replaces one solution cell; it must lose that exercise's test cell (and only it), and
the visible check's message must name the mistake (``message`` is a substring of it). The
conventions checked are CONVENTIONS.md's: momentum v ← γv + ηg, w ← w − v; δ / ε outside the
square root; r, m, v start at 0; Adam's t incremented before the update.
"""


def _rule(name, signature, body, doc):
    return f'def {name}({signature}):\n    """{doc}"""\n' + "".join(
        f"    {line}\n" for line in body.strip("\n").splitlines())


_MOMENTUM = "w, dw, state, lr, gamma=0.9"
_ADAGRAD = "w, dw, state, lr, eps=1e-8"
_RMSPROP = "w, dw, state, lr, rho=0.9, eps=1e-8"
_ADAM = "w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8"

MUTANTS = [
    # --- momentum -----------------------------------------------------------------------------
    dict(name="momentum_sign_flipped", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
v = gamma * state.get("v", 0.0) + lr * dw
return w + v, {"v": v}
''', "Adds the velocity."),
         loses=["test_momentum_update"], message="the step seems to go uphill"),
    dict(name="momentum_torch_form", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
b = gamma * state.get("v", 0.0) + dw
return w - lr * b, {"v": b}
''', "PyTorch's form: the velocity does not include the learning rate."),
         loses=["test_momentum_update"], message="your v matches PyTorch's"),
    dict(name="momentum_cs231n_form", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
v = gamma * state.get("v", 0.0) - lr * dw
return w + v, {"v": v}
''', "CS231n's / Keras's form: stores −v."),
         loses=["test_momentum_update"], message="your v matches CS231n's"),
    dict(name="momentum_exponential_average", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
v = gamma * state.get("v", 0.0) + (1 - gamma) * lr * dw
return w - v, {"v": v}
''', "An exponential average instead of momentum."),
         loses=["test_momentum_update"], message="exponential average"),
    dict(name="momentum_forgets_state", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
v = lr * dw
return w - v, {"v": v}
''', "Never reads the old velocity."),
         loses=["test_momentum_update"], message="seems to ignore the velocity of the first"),
    dict(name="momentum_gamma_on_gradient", cell="momentum_update",
         source=_rule("momentum_update", _MOMENTUM, '''
v = state.get("v", 0.0) + (gamma if "v" in state else 1.0) * lr * dw
return w - v, {"v": v}
''', "Puts γ on the new gradient instead of the old velocity."),
         loses=["test_momentum_update"], message="γ seems to multiply the new gradient"),
    # --- AdaGrad ------------------------------------------------------------------------------
    dict(name="adagrad_no_sqrt", cell="adagrad_update",
         source=_rule("adagrad_update", _ADAGRAD, '''
r = state.get("r", 0.0) + dw * dw
return w - lr * dw / (r + eps), {"r": r}
''', "Divides by r instead of its square root."),
         loses=["test_adagrad_update"], message="the square root seems to be missing"),
    dict(name="adagrad_eps_inside_sqrt", cell="adagrad_update",
         source=_rule("adagrad_update", _ADAGRAD, '''
r = state.get("r", 0.0) + dw * dw
return w - lr * dw / np.sqrt(r + eps), {"r": r}
''', "δ inside the square root."),
         loses=["test_adagrad_update"], message="δ seems to be inside the square root"),
    dict(name="adagrad_old_r", cell="adagrad_update",
         source=_rule("adagrad_update", _ADAGRAD, '''
r = state.get("r", 0.0)
new_w = w - lr * dw / (np.sqrt(r) + eps)
return new_w, {"r": r + dw * dw}
''', "Steps with r before adding the new g⊙g."),
         loses=["test_adagrad_update"], message="seems to use r before"),
    dict(name="adagrad_forgets_state", cell="adagrad_update",
         source=_rule("adagrad_update", _ADAGRAD, '''
r = dw * dw
return w - lr * dw / (np.sqrt(r) + eps), {"r": r}
''', "Never accumulates."),
         loses=["test_adagrad_update"], message="r accumulates"),
    # --- RMSProp ------------------------------------------------------------------------------
    dict(name="rmsprop_rho_on_wrong_term", cell="rmsprop_update",
         source=_rule("rmsprop_update", _RMSPROP, '''
r = (1 - rho) * state.get("r", 0.0) + rho * dw * dw
return w - lr * dw / (np.sqrt(r) + eps), {"r": r}
''', "ρ and 1 − ρ swapped."),
         loses=["test_rmsprop_update"], message="ρ seems to be on the wrong term"),
    dict(name="rmsprop_r_starts_at_g2", cell="rmsprop_update",
         source=_rule("rmsprop_update", _RMSPROP, '''
r = rho * state.get("r", dw * dw) + (1 - rho) * dw * dw
return w - lr * dw / (np.sqrt(r) + eps), {"r": r}
''', "Starts the average at g⊙g."),
         loses=["test_rmsprop_update"], message="r starts at 0"),
    dict(name="rmsprop_eps_inside_sqrt", cell="rmsprop_update",
         source=_rule("rmsprop_update", _RMSPROP, '''
r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
return w - lr * dw / np.sqrt(r + eps), {"r": r}
''', "δ inside the square root."),
         loses=["test_rmsprop_update"], message="δ seems to be inside the square root"),
    dict(name="rmsprop_no_sqrt", cell="rmsprop_update",
         source=_rule("rmsprop_update", _RMSPROP, '''
r = rho * state.get("r", 0.0) + (1 - rho) * dw * dw
return w - lr * dw / (r + eps), {"r": r}
''', "Divides by r instead of its square root."),
         loses=["test_rmsprop_update"], message="the square root seems to be missing"),
    dict(name="rmsprop_forgets_state", cell="rmsprop_update",
         source=_rule("rmsprop_update", _RMSPROP, '''
r = (1 - rho) * dw * dw
return w - lr * dw / (np.sqrt(r) + eps), {"r": r}
''', "Never reads the old average."),
         loses=["test_rmsprop_update"], message="the second step forgot the first gradient"),
    # --- Adam ---------------------------------------------------------------------------------
    dict(name="adam_no_bias_correction", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 0) + 1
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
return w - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": t}
''', "Forgets the bias correction."),
         loses=["test_adam_update"], message="the bias correction seems to be missing"),
    dict(name="adam_t_after_update", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 0)
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t + 1}
''', "Increments t after the update (the first step uses t = 0)."),
         loses=["test_adam_update"], message="the first step seems to use t = 0"),
    dict(name="adam_t_counts_from_one", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 1)
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t + 1}
''', "Right steps, but the stored t is one ahead."),
         loses=["test_adam_update"], message="counts the steps taken"),
    dict(name="adam_eps_inside_sqrt", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 0) + 1
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / np.sqrt(v_hat + eps), {"m": m, "v": v, "t": t}
''', "ε inside the square root."),
         loses=["test_adam_update"], message="ε seems to be inside the square root"),
    dict(name="adam_no_sqrt", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 0) + 1
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / (v_hat + eps), {"m": m, "v": v, "t": t}
''', "Divides by v̂ instead of its square root."),
         loses=["test_adam_update"], message="the square root seems to be missing"),
    dict(name="adam_only_m_corrected", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = state.get("t", 0) + 1
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
return w - lr * m_hat / (np.sqrt(v) + eps), {"m": m, "v": v, "t": t}
''', "Corrects m but not v."),
         loses=["test_adam_update"], message="only m seems to be bias-corrected"),
    dict(name="adam_t_never_advances", cell="adam_update",
         source=_rule("adam_update", _ADAM, '''
t = 1
m = beta1 * state.get("m", 0.0) + (1 - beta1) * dw
v = beta2 * state.get("v", 0.0) + (1 - beta2) * dw * dw
m_hat = m / (1 - beta1**t)
v_hat = v / (1 - beta2**t)
return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"m": m, "v": v, "t": t}
''', "Always corrects as if it were the first step."),
         loses=["test_adam_update"], message="still used t = 1"),
    # --- cost_and_gradient --------------------------------------------------------------------
    dict(name="cost_and_gradient_theta_ignored", cell="cost_and_gradient",
         source='''def cost_and_gradient(theta, model, X, y, params):
    """Forgets to write θ into the network."""
    cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
    model.backward(d_y_hat)
    return float(cost), surfaces.flat_gradient(params)
''',
         loses=["test_cost_and_gradient"], message="θ seems not to reach the parameters"),
    dict(name="cost_and_gradient_mse", cell="cost_and_gradient",
         source='''def cost_and_gradient(theta, model, X, y, params):
    """Uses the MSE (no ½)."""
    surfaces.set_flat_parameters(params, theta)
    cost, d_y_hat = losses.mse(model.forward(X), y)
    model.backward(d_y_hat)
    return float(cost), surfaces.flat_gradient(params)
''',
         loses=["test_cost_and_gradient"], message="without the ½"),
    dict(name="cost_and_gradient_all_parameters", cell="cost_and_gradient",
         source='''def cost_and_gradient(theta, model, X, y, params):
    """Returns the gradient of every parameter of the model, biases included."""
    surfaces.set_flat_parameters(params, theta)
    cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
    model.backward(d_y_hat)
    return float(cost), surfaces.flat_gradient(model.parameters())
''',
         loses=["test_cost_and_gradient"], message="one flat vector with an entry per number of θ"),
    dict(name="cost_and_gradient_sum_over_examples", cell="cost_and_gradient",
         source='''def cost_and_gradient(theta, model, X, y, params):
    """Sums over the examples instead of averaging."""
    surfaces.set_flat_parameters(params, theta)
    cost, d_y_hat = losses.half_squared_error(model.forward(X), y)
    model.backward(d_y_hat * len(X))
    return float(cost) * len(X), surfaces.flat_gradient(params)
''',
         loses=["test_cost_and_gradient"], message="a sum over the examples"),
]
