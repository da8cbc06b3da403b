"""The learning-rate explorer (notebook 04) and the optimizer race (notebook 06).

Both step a point down a small 2-D (or 1-D) cost with the update rules in scope, so the
learner's ``sgd_update`` / ``momentum_update`` / ... (or a ``gradient_descent_step`` of their
own) draw the paths.
"""

from __future__ import annotations

import math

import ipywidgets as W
import numpy as np

from .. import overrides
from ..lessons import surfaces
from .base import LiveWidget, epoch_limit, headless, log_slider, slider_style

# --- learning-rate explorer -----------------------------------------------------------------

# J(w) = (w − 2)²/20 in 1-D and f(x, y) = x²/40 + y²/20 in 2-D: gradient descent multiplies the
# distance to the minimum by |1 − α c| per step (c = 1/10; 1/20 and 1/10), so Khan's
# α = 0.5 is slow, 5 is fast, 5·10⁻¹⁰ barely moves and 50 diverges; 15 oscillates.
COSTS = {
    1: dict(cost=lambda w: (w[0] - 2.0) ** 2 / 20, grad=lambda w: np.array([(w[0] - 2.0) / 10]),
            minimum=np.array([2.0]), start=np.array([-8.0]), xlim=(-14.0, 18.0), ylim=(0.0, 13.0),
            formula="J(w) = (w − 2)² / 20"),
    2: dict(cost=lambda w: w[0] ** 2 / 40 + w[1] ** 2 / 20,
            grad=lambda w: np.array([w[0] / 20, w[1] / 10]),
            minimum=np.array([0.0, 0.0]), start=np.array([-8.0, 4.0]), xlim=(-10.0, 10.0),
            ylim=(-6.0, 6.0), formula="f(x, y) = x² / 40 + y² / 20"),
}
PRESETS = {"0.5": 0.5, "5": 5.0, "5e-10": 5e-10, "50": 50.0, "15": 15.0}
PRESET_NOTES = {"0.5": "slow", "5": "fast", "5e-10": "crawls", "50": "diverges",
                "15": "oscillates"}
JUDGE_AFTER = 5       # steps before the explorer says "diverging" or "stalled" in its status
STALLED = 1 - 1e-3    # the distance to the minimum shrank by less than 0.1 %: stalled


def _gd_step_reference(w, dw, lr):
    return w - lr * dw


def descend(update, cost, lr: float, steps: int):
    """The points gradient descent visits on ``cost`` (``COSTS[dims]``) with ``update(w, dw,
    lr) -> new w``: (≤ steps + 1, dims), the start first; it stops early once the point is
    further than 10¹² (it has diverged; more steps would overflow)."""
    w = cost["start"].copy()
    path = [w]
    for _ in range(steps):
        w = update(w, cost["grad"](w), lr)
        path.append(w)
        if not np.all(np.isfinite(w)) or np.abs(w).max() > 1e12:
            break
    return np.array(path)


def describe_path(path, minimum) -> tuple[str, float]:
    """Classify a descent path: ``("slow" | "fast" | "oscillating" | "diverging", rate)`` where
    rate is the mean factor by which the distance to the minimum changes per step."""
    path = np.asarray(path, dtype=float)
    if len(path) < 2:
        return "not started", 1.0
    d = np.linalg.norm(path - minimum, axis=1)
    if not np.isfinite(d[-1]) or d[-1] > d[0] * (1 + 1e-12):
        last = d[np.isfinite(d)]
        rate = (last[-1] / last[0]) ** (1 / (len(last) - 1)) if len(last) > 1 else math.inf
        return "diverging", float(rate)
    rate = float((d[-1] / d[0]) ** (1 / (len(d) - 1))) if d[0] > 0 else 0.0
    offsets = path - minimum
    flips = (np.sign(offsets[1:]) * np.sign(offsets[:-1]) < 0).sum(axis=0)
    if flips.max() >= 2:
        return "oscillating", rate
    return ("fast" if rate < 0.8 else "slow"), rate


class LearningRateExplorer(LiveWidget):
    """Gradient descent on a 1-D or 2-D quadratic cost with a learning-rate slider.

    ``LearningRateExplorer(lr=0.5, dims=1, steps=20, step_fn=gradient_descent_step)``: the
    preset buttons set Khan's α = 0.5 (slow), 5 (fast), 5·10⁻¹⁰ (crawls) and 50 (diverges),
    and 15 (oscillates). ``step_fn(w, dw, lr) -> new w`` is the learner's update (checked on its
    first call; by default the notebook's own ``gradient_descent_step`` when it has one, else
    ``sgd_update`` in scope). ``step(n)`` takes n more steps; ``path``, ``costs`` and
    ``verdict`` describe what is drawn; ``set(lr=50, dims=2)``. ``pace``: steps a second while
    playing. After a few steps the status says in one sentence when the point diverges or
    stalls, and whether the learner's step or the learning rate is the cause (the reference
    step is run beside theirs to tell)."""

    unit = "step"
    max_steps = 100
    max_units_per_frame = 100

    def __init__(self, lr: float = 0.5, *, dims: int = 1, steps: int = 20, step_fn=None,
                 functions: dict | None = None, interval: int = 100, pace=10,
                 figsize=(8.4, 3.4)):
        if dims not in COSTS:
            raise ValueError(f"dims must be 1 or 2, got {dims!r}.")
        super().__init__(functions, interval, pace)
        if step_fn is None and functions is None and not headless():
            # the notebook's own gradient_descent_step (notebook 04), when there is one
            step_fn = overrides.notebook_functions().get("gradient_descent_step")
        self.step_fn = None
        if step_fn is not None:
            self.step_fn = self._add_own_function(step_fn, _gd_step_reference, "step_fn")
        s = slider_style
        c = self.controls
        c["lr"] = log_slider(lr, 1e-10, 100, "learning rate α", "420px", "110px",
                             include=PRESETS.values())
        c["dims"] = W.ToggleButtons(options=[("1-D", 1), ("2-D", 2)], value=dims,
                                    description="cost", style={"button_width": "50px",
                                                               "description_width": "40px"})
        c["steps"] = W.IntSlider(value=min(int(steps), self.max_steps), min=0, max=self.max_steps,
                                 description="steps", **s("300px", "50px"))
        self.preset_buttons = []
        for label, value in PRESETS.items():
            button = W.Button(description=f"α = {label}", tooltip=PRESET_NOTES[label],
                              layout=W.Layout(width="90px"))
            button.on_click(lambda _, v=value: self.set(lr=v))
            self.preset_buttons.append(button)
        c["lr"].observe(lambda _: self._guarded(self._redraw), names="value")
        c["steps"].observe(lambda _: self._guarded(self._redraw), names="value")
        c["dims"].observe(lambda _: self._guarded(self._redraw, True), names="value")
        self._make_figure(figsize)
        self._guarded(self._redraw, True)
        self._box([
            W.HBox([c["lr"], c["dims"]], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([W.Label("Khan (2019):"), *self.preset_buttons],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            W.HBox([self._transport(), c["steps"]], layout=W.Layout(flex_flow="row wrap",
                                                                    align_items="center")),
            self.live.canvas, self.status_line], "lr-explorer")

    # -- figure -----------------------------------------------------------------------------

    def _make_figure(self, figsize):
        ax, ax_c = self._new_figure(figsize, cost=(0.07, 0.14, 0.42, 0.76),
                                    curve=(0.61, 0.14, 0.37, 0.76))
        one = COSTS[1]
        w = np.linspace(*one["xlim"], 300)
        (self._curve_1d,) = ax.plot(w, [one["cost"]([v]) for v in w], color="0.3", lw=1.2)
        two = COSTS[2]
        xs, ys = np.linspace(*two["xlim"], 120), np.linspace(*two["ylim"], 120)
        xx, yy = np.meshgrid(xs, ys)
        zz = two["cost"]([xx, yy])
        self._contour_2d = ax.contour(xx, yy, zz, levels=np.geomspace(0.01, 3, 9), colors="0.6",
                                      linewidths=0.8)
        (path,) = ax.plot([], [], "o-", color="C3", ms=4, lw=1.2)
        (head,) = ax.plot([], [], "o", color="C3", ms=8, mec="k")
        (costs,) = ax_c.plot([], [], "o-", color="C3", ms=3, lw=1.2)
        ax_c.set_yscale("log")
        ax_c.set_xlabel("step", labelpad=1)
        ax_c.set_ylabel("cost", labelpad=1)
        self.artists = {"path": path, "head": head, "costs": costs}
        for artist in self.artists.values():
            self.live.animate(artist)
        self._limits = None

    # -- the descent ------------------------------------------------------------------------

    @property
    def dims(self) -> int:
        return self.controls["dims"].value

    def _update(self, w, g, lr):
        if self.step_fn is not None:
            return np.asarray(self.step_fn(w, g, lr), dtype=float).reshape(w.shape)
        new_w, _ = overrides.get("sgd_update")(w, g, {}, lr)
        return np.asarray(new_w, dtype=float)

    def _theirs(self) -> str | None:
        """The name of the learner's update drawing the path, None for the reference."""
        if self.step_fn is not None and not self.step_fn.failed:
            return self.step_fn.name
        rule = self.functions.get("sgd_update")
        return "sgd_update" if rule is not None and not rule.failed else None

    def _compute(self):
        cost = COSTS[self.dims]
        lr, steps = float(self.controls["lr"].value), self.controls["steps"].value
        self.path = descend(self._update, cost, lr, steps)
        self.costs = np.array([cost["cost"](p) for p in self.path])
        self.verdict, self.rate = describe_path(self.path, cost["minimum"])
        self.warning = self._judge(cost, lr, steps)

    def _judge(self, cost, lr, steps) -> str | None:
        """One sentence when the point diverges or stalls: the learner's step is blamed only
        where the reference step, run from the same start, does not do the same."""
        n = len(self.path) - 1
        if n < JUDGE_AFTER:
            return None
        distance = np.linalg.norm(self.path - cost["minimum"], axis=1)
        distance = distance[np.isfinite(distance)]
        start, end = distance[0], distance[-1]
        diverging = self.verdict == "diverging"
        stalled = not diverging and end >= STALLED * start
        if not (diverging or stalled):
            return None
        theirs = self._theirs()
        ref_end = None
        if theirs:
            ref = descend(_gd_step_reference, cost, lr, steps)
            ref_end = float(np.linalg.norm(ref[-1] - cost["minimum"]))
        if diverging:
            if theirs and ref_end < start:
                return (f"Your {theirs} is diverging: the distance to the minimum grew from "
                        f"{start:.3g} to {end:.3g} in {n} steps at α = {lr:g}, where the "
                        f"reference step brings it down to {ref_end:.3g}; check the direction "
                        "of its step (downhill is against the gradient).")
            return (f"Gradient descent is diverging: the distance to the minimum grew from "
                    f"{start:.3g} to {end:.3g} in {n} steps; α = {lr:g} is too large for this "
                    "cost, so each step overshoots the minimum further than the last.")
        if theirs and abs(ref_end - start) > (1 - STALLED) * start:  # the reference moves
            return (f"Your {theirs} has stalled: the point is still {end:.3g} from the minimum "
                    f"after {n} steps, where the reference step's point is {ref_end:.3g} from "
                    "it; check that the point it returns has moved.")
        if self.verdict == "oscillating":  # |1 − α c| = 1: it jumps to a point as far away
            return (f"Gradient descent is stuck: the point jumps across the minimum and is still "
                    f"{end:.3g} from it after {n} steps; α = {lr:g} is too large to settle.")
        return (f"Gradient descent has stalled: the point is still {end:.3g} from the minimum "
                f"after {n} steps; α = {lr:g} is too small to move it visibly.")

    def _redraw(self, full: bool = False):
        self._compute()
        cost = COSTS[self.dims]
        ax, ax_c = self.axes["cost"], self.axes["curve"]
        one = self.dims == 1
        limits = (self.dims, epoch_limit(len(self.path) - 1, 10, 10))
        if full or limits != self._limits:
            self._curve_1d.set_visible(one)
            self._contour_2d.set_visible(not one)
            ax.set_xlim(*cost["xlim"])
            ax.set_ylim(*cost["ylim"])
            ax.set_xlabel("w" if one else "x", labelpad=1)
            ax.set_ylabel("J(w)" if one else "y", labelpad=1)
            ax.set_title(cost["formula"], fontsize=10)
            ax_c.set_xlim(0, limits[1])
            ax_c.set_ylim(1e-8, 1e4)
            self._limits = limits
            full = True
        if one:
            xy = (self.path[:, 0], self.costs)
        else:
            xy = (self.path[:, 0], self.path[:, 1])
        self.artists["path"].set_data(*xy)
        self.artists["head"].set_data(xy[0][-1:], xy[1][-1:])
        shown = np.clip(self.costs, 1e-12, 1e12)
        self.artists["costs"].set_data(np.arange(len(shown)), shown)
        self.counter.value = (f'<span class="course-epoch"><b>Step {len(self.path) - 1}</b>'
                              f"</span> &nbsp; α = {self.controls['lr'].value:.3g}: "
                              f"<b>{self.verdict}</b>{self._explain()}")
        self.live.refresh(full)

    def _explain(self):
        if self.verdict == "not started":
            return ""
        if self.verdict == "diverging":
            return " (each step overshoots further: the distance to the minimum grows)"
        if self.verdict == "oscillating":
            return f" (it jumps across the minimum; distance × {self.rate:.2g} per step)"
        return f" (distance to the minimum × {self.rate:.4g} per step)"

    def _advance(self, n):
        c = self.controls["steps"]
        c.value = min(c.value + n, self.max_steps)

    def _frame(self):
        if self.controls["steps"].value >= self.max_steps:
            self.pause()
            return
        due = self._units_due()  # the steps owed at the chosen pace; "max": all that are left
        due = self.max_units_per_frame if due is None else due
        if due:
            self._advance(due)

    def _reset(self):
        self.controls["steps"].value = 0

    def state(self) -> dict:
        return {"lr": self.controls["lr"].value, "dims": self.dims, "steps": len(self.path) - 1,
                "path": self.path.copy(), "costs": self.costs.copy(), "verdict": self.verdict,
                "rate": self.rate, "status": self.status, "playing": self.playing}


# --- optimizer race -------------------------------------------------------------------------

# The surfaces, starts, update rules and learning rates are course_lib.lessons.surfaces' (notebook 06
# races on the same ones); only how each surface is drawn lives here.
_DRAWING = {
    "ravine": dict(log=True, flim=(1e-8, 30.0), formula="f(x, y) = x²/20 + y²"),
    "saddle": dict(log=False, flim=(-0.3, 2.2), formula="f(x, y) = x²/2 + y⁴/4 − y²/2"),
}
SURFACES = {
    name: dict(f=sf.value, grad=sf.gradient, start=sf.start, xlim=sf.xlim, ylim=sf.ylim,
               **_DRAWING[name])
    for name, sf in (("ravine", surfaces.RAVINE), ("saddle", surfaces.SADDLE))
}
RULES = surfaces.RULES
DEFAULT_LR = surfaces.DEFAULT_LR
HYPER = {"gamma": ("momentum", 0.9, "γ (momentum)"), "rho": ("RMSProp", 0.9, "ρ (RMSProp)"),
         "beta1": ("Adam", 0.9, "β₁ (Adam)"), "beta2": ("Adam", 0.999, "β₂ (Adam)")}


class OptimizerRace(LiveWidget):
    """SGD, momentum, AdaGrad, RMSProp and Adam stepping together on a ravine or a saddle.

    ``OptimizerRace(surface="ravine", functions=dict(adam_update=my_adam))``: every optimizer
    uses the update rule in scope, so the learner's own rules race. Sliders: one learning rate
    per optimizer (``lr_SGD``, ``lr_Adam``, ...), ``gamma``, ``rho``, ``beta1``, ``beta2``;
    changing one replays the race to the current step. Choosing a surface restores its default
    learning rates. ``step(n)``; ``paths[name]`` lists the points visited; ``state()``.
    ``pace``: steps a second while playing.

    Each of the learner's rules races beside a shadow run of course_lib's rule with the same
    settings: when theirs diverges or stalls where course_lib's does not, the status line names
    it in one sentence ("Your adam_update stalled: ..."); a rule that diverges because its
    learning rate is too large is named too."""

    unit = "step"
    max_steps = 400
    max_units_per_frame = 400
    judge_after = 10  # steps before a rule is called stalled

    def __init__(self, surface: str = "ravine", *, optimizers=tuple(RULES), lr=None,
                 functions: dict | None = None, interval: int = 100, pace=30,
                 figsize=(8.4, 3.6), **hyper):
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)}, got {surface!r}.")
        unknown = [o for o in optimizers if o not in RULES]
        if unknown:
            raise ValueError(f"unknown optimizer {unknown[0]!r}; choose from {', '.join(RULES)}.")
        super().__init__(functions, interval, pace)
        self.names = list(optimizers)
        s = slider_style
        c = self.controls
        c["surface"] = W.ToggleButtons(options=list(SURFACES), value=surface,
                                       description="surface",
                                       style={"button_width": "70px", "description_width": "55px"})
        lrs = {**DEFAULT_LR[surface], **(lr or {})}
        for name in self.names:
            c[f"lr_{name}"] = log_slider(lrs[name], 1e-4, 10, f"η {name}", "270px", "95px",
                                         include=[v[name] for v in DEFAULT_LR.values()])
        for key, (owner, default, label) in HYPER.items():
            if owner in self.names:
                top = 0.9999 if key == "beta2" else 0.99
                c[key] = W.FloatSlider(value=hyper.get(key, default), min=0.0, max=top,
                                       step=0.0001 if key == "beta2" else 0.01,
                                       readout_format=".4f" if key == "beta2" else ".2f",
                                       description=label, **s("270px", "95px"))
        self._quiet = False
        for key, widget in c.items():
            if key == "surface":
                widget.observe(self._on_surface, names="value")
            elif key != "pace":
                widget.observe(self._on_hyper, names="value")
        self._make_figure(figsize)
        self._guarded(self._reset)
        self._guarded(self._redraw, True)
        sliders = [w for k, w in c.items() if k not in ("surface", "pace")]
        self._box([c["surface"], W.HBox(sliders, layout=W.Layout(flex_flow="row wrap")),
                   self._transport(), self.live.canvas, self.status_line], "optimizer-race")

    # -- figure -----------------------------------------------------------------------------

    def _make_figure(self, figsize):
        ax, ax_f = self._new_figure(figsize, surface=(0.06, 0.13, 0.5, 0.78),
                                    value=(0.65, 0.13, 0.33, 0.78))
        self.artists = {}
        for i, name in enumerate(self.names):
            colour = f"C{i}"
            (path,) = ax.plot([], [], "-", color=colour, lw=1.4)
            (head,) = ax.plot([], [], "o", color=colour, ms=6, mec="k", label=name)
            (curve,) = ax_f.plot([], [], "-", color=colour, lw=1.4)
            self.artists[name] = {"path": path, "head": head, "value": curve}
            for artist in (path, head, curve):
                self.live.animate(artist)
        ax_f.set_xlabel("step", labelpad=1)
        ax_f.set_ylabel("f(x, y)", labelpad=1)
        self._static = []
        self._limits = None

    def _draw_surface(self):
        for artist in self._static:
            artist.remove()
        sf = SURFACES[self.surface]
        ax = self.axes["surface"]
        xs, ys = np.linspace(*sf["xlim"], 150), np.linspace(*sf["ylim"], 150)
        xx, yy = np.meshgrid(xs, ys)
        zz = sf["f"](xx, yy)
        levels = (np.geomspace(0.005, zz.max(), 12) if sf["log"]
                  else np.linspace(zz.min(), zz.max(), 16))
        contour = ax.contour(xx, yy, zz, levels=levels, colors="0.65", linewidths=0.7)
        (start,) = ax.plot(*sf["start"], "k*", ms=9)
        self._static = [contour, start]
        ax.set_xlim(*sf["xlim"])
        ax.set_ylim(*sf["ylim"])
        ax.set_title(sf["formula"], fontsize=10)
        ax_f = self.axes["value"]
        ax_f.set_yscale("log" if sf["log"] else "linear")
        ax_f.set_ylim(*sf["flim"])
        ax.legend(loc="lower right", fontsize=7, frameon=True, ncol=len(self.names))

    # -- the race ---------------------------------------------------------------------------

    @property
    def surface(self) -> str:
        return self.controls["surface"].value

    def _hyper(self, name):
        c = self.controls
        hyper = {"lr": float(c[f"lr_{name}"].value)}
        for key, (owner, _, _) in HYPER.items():
            if owner == name:
                hyper[key] = float(c[key].value)
        return hyper

    def _reset(self):
        start = np.array(SURFACES[self.surface]["start"], dtype=float)
        self.paths = {name: [start.copy()] for name in self.names}
        self.states = {name: {} for name in self.names}
        self.diverged = {name: False for name in self.names}
        # course_lib's rule beside each of the learner's, to tell their bug from a bad setting
        shadowed = [n for n in self.names if RULES[n] in self.functions]
        self.reference = {name: {"path": [start.copy()], "states": {}, "diverged": False}
                          for name in shadowed}
        self.steps = 0
        self.warning = None

    def _step_all(self):
        for name in self.names:
            if not self.diverged[name]:
                self.diverged[name] = self._step_one(name, overrides.get(RULES[name]),
                                                     self.paths[name], self.states)
            ref = self.reference.get(name)
            if ref is not None and not ref["diverged"]:
                ref["diverged"] = self._step_one(name, overrides.reference(RULES[name]),
                                                 ref["path"], ref["states"])
        self.steps += 1

    def _step_one(self, name, rule, path, states) -> bool:
        """One step of ``rule`` appended to ``path`` (its state in ``states[name]``); True once
        the point is gone (not finite, or beyond 10⁶)."""
        w = path[-1]
        grad = SURFACES[self.surface]["grad"](w)
        new_w, states[name] = rule(w.copy(), grad, states.get(name, {}), **self._hyper(name))
        new_w = np.asarray(new_w, dtype=float).reshape(2)
        path.append(new_w)
        return not np.all(np.isfinite(new_w)) or np.abs(new_w).max() > 1e6

    def _advance(self, n):
        for _ in range(min(n, self.max_steps - self.steps)):
            self._step_all()
        self.warning = self._judge()

    def _judge(self) -> str | None:
        """One sentence per rule that diverged or stalled: the learner's rule is blamed where
        course_lib's, with the same settings, did not do the same."""
        f = SURFACES[self.surface]["f"]
        sentences = []
        for name in self.names:
            rule, path = RULES[name], self.paths[name]
            k = len(path) - 1
            f0, fk = float(f(*path[0])), float(f(*path[-1]))
            checked = self.functions.get(rule)
            ref = self.reference.get(name)
            if checked is not None and not checked.failed and ref is not None:
                ref_w = ref["path"][min(k, len(ref["path"]) - 1)]
                ref_f = float(f(*ref_w))
                if not ref["diverged"] and ref_f <= f0:  # course_lib's rule goes downhill here
                    if self.diverged[name] or (k >= self.judge_after and fk > f0 + 0.5 * abs(f0)):
                        sentences.append(
                            f"Your {rule} diverged: f rose from {f0:.3g} to {fk:.3g} in {k} "
                            f"steps, where course_lib's {rule} brings it down to {ref_f:.3g}; "
                            "check the direction of its step (downhill is against the gradient).")
                        continue
                    moved = float(np.linalg.norm(path[-1] - path[0]))
                    ref_moved = float(np.linalg.norm(ref_w - path[0]))
                    if k >= self.judge_after and ref_moved > 0 and moved <= 1e-3 * ref_moved:
                        sentences.append(
                            f"Your {rule} stalled: f is still {fk:.3g} after {k} steps (the point "
                            f"moved {moved:.2g}), where course_lib's {rule} brings it down to "
                            f"{ref_f:.3g}; check that the w it returns has taken the step.")
                        continue
            if self.diverged[name]:
                lr = self.controls[f"lr_{name}"].value
                sentences.append(f"{name} diverged at step {k}: η = {lr:g} is too large for the "
                                 f"{self.surface} (its steps overshoot further each time).")
        return " ".join(sentences) or None

    def _frame(self):
        if self.steps >= self.max_steps:
            self.pause()
            return
        due = self._units_due()  # the steps owed at the chosen pace; "max": all that are left
        self._advance(self.max_units_per_frame if due is None else due)
        self._redraw()

    def _replay(self):
        steps = self.steps
        self._reset()
        self._advance(steps)
        self._redraw(True)

    def _on_surface(self, change):
        self._quiet = True
        try:  # each surface has learning rates that tell its story
            for name in self.names:
                self.controls[f"lr_{name}"].value = DEFAULT_LR[change["new"]][name]
        finally:
            self._quiet = False
        self._limits = None
        self.reset()

    def _on_hyper(self, change):
        if not self._quiet:
            self._guarded(self._replay)

    def _redraw(self, full: bool = False):
        sf = SURFACES[self.surface]
        limits = (self.surface, epoch_limit(self.steps, 50, 50))
        if full or limits != self._limits:
            if self._limits is None or limits[0] != self._limits[0]:
                self._draw_surface()
            self.axes["value"].set_xlim(0, limits[1])
            self._limits = limits
            full = True
        for name in self.names:
            path = np.array(self.paths[name])
            a = self.artists[name]
            a["path"].set_data(path[:, 0], path[:, 1])
            a["head"].set_data(path[-1:, 0], path[-1:, 1])
            values = sf["f"](path[:, 0], path[:, 1])
            a["value"].set_data(np.arange(len(values)), values)
        gone = [n for n in self.names if self.diverged[n]]
        extra = f" &nbsp; diverged: {', '.join(gone)}" if gone else ""
        self.counter.value = f'<span class="course-epoch"><b>Step {self.steps}</b></span>{extra}'
        self.live.refresh(full)

    def state(self) -> dict:
        sf = SURFACES[self.surface]
        return {"surface": self.surface, "steps": self.steps,
                "positions": {n: np.array(p[-1]) for n, p in self.paths.items()},
                "values": {n: float(sf["f"](*p[-1])) for n, p in self.paths.items()},
                "diverged": dict(self.diverged), "status": self.status, "playing": self.playing}
