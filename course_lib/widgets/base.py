"""Machinery shared by the live widgets of ``course_lib.widgets``.

- ``headless()``: true under ``COURSE_HEADLESS=1`` or nbgrader's ``NBGRADER_EXECUTION``.
- ``LiveFigure``: a matplotlib figure on an ipympl canvas whose moving parts are redrawn in place
  (restore the cached background, draw the animated artists, send the changed pixels), with a
  full redraw only when axes limits change.
- ``LiveWidget``: the play / pause / step / reset clock, the pace control (units a second), the
  status line, and the ``course_lib.using`` scope that runs the learner's functions
  (``functions=`` or an enclosing ``using``), with every failure reported in one sentence
  instead of an exception inside a callback.
- ``loss_warning``: the one sentence a training view shows when its loss diverges or stalls.
- ``Trainer``: a network, its optimizer (and L2) trained one epoch at a time by
  ``course_lib.train.run_epoch``, the loop ``fit`` runs.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import sys
import time
import warnings

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from .. import layers, optim, overrides, regularization, train


def headless() -> bool:
    """True when notebooks run without a browser: ``COURSE_HEADLESS`` set to anything but
    ``0``/``false``, or ``NBGRADER_EXECUTION`` set (nbgrader's autograde and validate)."""
    flag = os.environ.get("COURSE_HEADLESS", "").strip().lower()
    return flag not in ("", "0", "false", "no") or "NBGRADER_EXECUTION" in os.environ


# --- the learner's functions ----------------------------------------------------------------


def learner_functions(functions: dict | None) -> dict:
    """``{name: the learner's function, checked}``: by default (``functions=None``) the learner's own
    (saved in my_nn.py, or defined in the notebook; ``overrides.default_functions``), then the
    overrides active now (an enclosing
    ``course_lib.using``) and ``functions``. Names and values are checked by ``using`` itself
    (a typo is a KeyError); each function is wrapped by ``overrides.fallback`` once for the
    widget's whole life, so a failing one is reported once and the reference takes over."""
    defaults = overrides.default_functions() if functions is None else {}
    merged = {**defaults, **overrides.active(),
              **{k: v for k, v in (functions or {}).items() if v is not None}}
    with overrides.using(**merged):
        pass
    return {name: overrides.fallback(fn, overrides.reference(name), name)
            for name, fn in merged.items()}


# --- a figure redrawn in place --------------------------------------------------------------


def new_canvas_figure(figsize, dpi: int = 80) -> Figure:
    """A Figure on its own ipympl canvas (not registered with pyplot, so it is shown once, where
    the widget is displayed, whatever ``%matplotlib`` backend the notebook uses)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    try:
        _import_ipympl_quietly()
        from ipympl.backend_nbagg import Canvas, FigureManager
    except ImportError:  # ipympl is a course dependency; plain Agg keeps tests and scripts working
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
        return fig
    canvas = Canvas(fig)
    with warnings.catch_warnings():
        # ipympl 0.10's toolbar passes its canvas on to traitlets, which warns on every figure
        warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
        FigureManager(canvas, 0)
    canvas.toolbar_visible = False
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.resizable = False
    return fig


def _import_ipympl_quietly():
    """Import ipympl without switching the notebook's matplotlib backend.

    ``ipympl/__init__.py`` calls ``matplotlib.use("module://ipympl...")`` when matplotlib is
    already imported, which would turn every later ``plt.plot`` of the notebook into an ipympl
    widget (and close open pyplot figures). The package's ``__init__`` needs nothing else from
    matplotlib, so it is imported with matplotlib hidden for that moment."""
    if "ipympl" in sys.modules:
        return
    hidden = sys.modules.pop("matplotlib", None)
    try:
        import ipympl  # noqa: F401
    finally:
        if hidden is not None:
            sys.modules["matplotlib"] = hidden


class LiveFigure:
    """A figure whose ``animated`` artists are redrawn over a cached background.

    ``refresh()`` restores the background, draws the animated artists and sends only that
    (``canvas.blit``); ``refresh(full=True)`` asks for a whole redraw, needed after axes limits
    or ticks change. Every full draw re-caches the background (``draw_event``)."""

    def __init__(self, figsize, dpi: int = 80):
        self.figure = new_canvas_figure(figsize, dpi)
        self.canvas = self.figure.canvas
        self.animated: list = []
        self._background = None
        self.full_draws = 0
        self.blits = 0
        self.canvas.mpl_connect("draw_event", self._on_draw)

    def animate(self, artist):
        """Mark ``artist`` as moving: it is drawn over the background on every refresh."""
        artist.set_animated(True)
        self.animated.append(artist)
        return artist

    _saving = False

    def _on_draw(self, event):
        if self._saving:
            return
        self.full_draws += 1
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()

    def _draw_animated(self):
        for artist in self.animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)

    def refresh(self, full: bool = False):
        """Show the artists' new data: in place when possible, else a full redraw."""
        if full or self._background is None:
            self._background = None
            self.canvas.draw_idle()  # the browser asks for the frame when it is ready
            return
        self.canvas.restore_region(self._background)
        self._draw_animated()
        self.blits += 1
        self.canvas.blit(self.figure.bbox)

    def render(self):
        """Draw the whole figure now with Agg (what the browser's first frame costs)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg.draw(self.canvas)

    def png(self) -> bytes:
        """The figure with every artist, as PNG bytes (for saving a snapshot)."""
        import io

        self._saving = True
        for artist in self.animated:
            artist.set_animated(False)
        try:
            with io.BytesIO() as buffer:
                self.figure.savefig(buffer, format="png")
                return buffer.getvalue()
        finally:
            for artist in self.animated:
                artist.set_animated(True)
            self._saving = False


def log_limits(values, current, floor=1e-4):
    """Log-axis limits that contain ``values``, changed only in whole steps of ×√10 so the
    axes (and the full redraw they need) change rarely."""
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if not finite:
        return current
    lo, hi = max(min(finite), floor), max(finite)
    new_lo, new_hi = current
    if lo < new_lo * 1.05:
        new_lo = 10 ** (math.floor(math.log10(lo) * 2 - 0.5) / 2)
    if hi > new_hi / 1.05:
        new_hi = 10 ** (math.ceil(math.log10(hi) * 2 + 0.5) / 2)
    return new_lo, new_hi


def epoch_limit(epochs: int, current: float, minimum: int = 50) -> float:
    """An x limit for curves against epochs that doubles when the curve reaches it."""
    limit = max(current, minimum)
    while epochs >= limit:
        limit *= 2
    return limit


def thin(x, max_points: int = 600):
    """Every k-th point of a long curve (a line of 10⁴ points costs more to draw than it shows)."""
    x = np.asarray(x)
    step = max(1, math.ceil(len(x) / max_points))
    return x[::step] if step > 1 else x


# --- the widget skeleton --------------------------------------------------------------------

PACES = (1, 3, 10, 30, 100, 300, 1000, "max")  # units (epochs, steps) a second: the pace control
RISE_AFTER = 20    # a loss 1.5 times its first value after this many units: diverging
STALL_AFTER = 300  # a loss no lower than 0.99 of its first value after this many units: stalled

_STATUS_COLOURS = {"info": "#444", "warning": "#8a5a00", "error": "#b00020"}


class LiveWidget:
    """Play / pause / step / reset, a status line, and guarded calls into the learner's code.

    Subclasses implement ``_one_epoch()`` (one unit of training; False stops), or instead
    ``_advance(n)`` (``n`` units) and ``_frame()`` (one clock tick: ``_paced(one unit)``, then a
    redraw), and ``_redraw(full)`` and ``_reset()``, and put their layout in ``self.ui``. ``warning`` holds the one sentence
    said when the learner's code makes training diverge or stall (None while all is well).

    The pace control (``controls["pace"]``, one of ``PACES``) sets how many units a second the
    clock runs: each tick owes ``pace × interval / 1000`` units, the fractions carried to the
    next tick; "max" runs as many as ``frame_budget`` allows. Either way a tick does at most
    ``max_units_per_frame`` units and stops when its ``frame_budget`` is spent (the units left
    are dropped, not owed: a slow machine shows a slower pace, never a burst). The clock is an ipywidgets ``Play``: it ticks in the browser,
    so pausing stops the next tick at once, and it never ticks without a browser (headless).
    The browser sends at most one tick while the kernel is still busy with the previous one
    (ipywidgets keeps one message in flight per widget), so slow frames never pile up."""

    unit = "step"
    frame_budget = 0.035  # seconds of work per clock tick, so the kernel keeps answering
    max_units_per_frame = 200

    def __init__(self, functions: dict | None = None, interval: int = 100, pace="max"):
        pace = self._check_pace(pace)
        self.functions = learner_functions(functions)  # run inside the widget's using scope
        # functions course_lib has no name for (a notebook's gradient_descent_step): the widget
        # calls these itself, checked by overrides.fallback like the others
        self.own_functions: dict = {}
        self.headless = headless()
        self.notes: list[str] = []  # one sentence per problem met (overrides, errors)
        self.error: str | None = None
        self.warning: str | None = None  # training diverges or stalls: one sentence
        self._pace_credit = 0  # thousandths of a unit owed to the next tick
        self.clock = W.Play(value=0, min=0, max=10**9, step=1, interval=int(interval),
                            show_repeat=False, description="",
                            layout=W.Layout(width="auto"), tooltip="play / pause")
        self.clock.observe(self._on_tick, names="value")
        self.clock.observe(self._on_playing, names="playing")
        self.step_button = W.Button(description="Step", tooltip=f"one {self.unit}",
                                    layout=W.Layout(width="70px"))
        self.reset_button = W.Button(description="Reset", layout=W.Layout(width="70px"))
        self.step_button.on_click(lambda _: self.step(self.step_size))
        self.reset_button.on_click(lambda _: self.reset())
        self.counter = W.HTML(layout=W.Layout(min_width="150px", margin="0 16px 0 4px"))
        self.status_line = W.HTML(layout=W.Layout(width="100%"))
        self.controls: dict[str, W.Widget] = {}
        self.controls["pace"] = W.SelectionSlider(
            options=[(str(p), p) for p in PACES], value=pace, description=f"{self.unit}s/s",
            tooltip=f"{self.unit}s a second while playing", **slider_style("230px", "60px"))
        self.step_size = 1
        self.ui: W.Box | None = None

    # -- what notebooks and tests call ------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)

    @property
    def playing(self) -> bool:
        return bool(self.clock.playing)

    def play(self):
        """Start the clock (in a browser it ticks every ``interval`` ms; headless it never does)."""
        self.clock.playing = True
        return self

    def pause(self):
        self.clock.playing = False
        return self

    def tick(self):
        """What one tick of the clock does: one frame of work, only while playing."""
        if self.playing:
            self.clock.value = self.clock.value + 1
        return self

    def step(self, n: int = 1):
        """Advance ``n`` units (epochs or optimizer steps) from Python, then redraw once."""
        n = int(n)
        if n < 1:
            raise ValueError(f"step needs a whole number of at least 1, got {n}.")
        self._guarded(self._advance, n)
        self._guarded(self._redraw)
        return self

    def reset(self):
        """Back to the start (new initial state, empty curves); keeps the settings."""
        self.error = None
        self.warning = None
        self._guarded(self._reset)
        self._guarded(self._redraw, True)
        return self

    def set(self, **values):
        """Set controls by name, exactly as if moved in the browser: ``w.set(lr=0.1)``."""
        unknown = [k for k in values if k not in self.controls]
        if unknown:
            raise KeyError(f"no control called {', '.join(map(repr, unknown))}; "
                           f"the controls are {', '.join(self.controls)}.")
        if "pace" in values:
            self._check_pace(values["pace"])
        for name, value in values.items():
            self._set_control(self.controls[name], value)
        return self

    @classmethod
    def _check_pace(cls, pace):
        if isinstance(pace, bool) or pace not in PACES:
            raise ValueError(f"pace must be one of {', '.join(map(str, PACES))} ({cls.unit}s a "
                             f"second), got {pace!r}.")
        return pace

    @property
    def pace(self):
        """Units a second while playing (``"max"``: as many as each tick's budget allows)."""
        return self.controls["pace"].value

    @staticmethod
    def _set_control(control, value):
        if isinstance(control, W.SelectionSlider | W.Dropdown | W.ToggleButtons):
            labels = [o[1] if isinstance(o, tuple) else o for o in control.options]
            if value not in labels and isinstance(control, W.SelectionSlider):
                options = sorted({*labels, float(value)})
                control.options = [(f"{o:g}", o) for o in options]
        control.value = value

    def _add_own_function(self, fn, reference, default_name):
        """Check a learner's function that only this widget calls; returns the checked one."""
        name = getattr(fn, "__name__", default_name)
        if name == "<lambda>":
            name = default_name
        self.own_functions[name] = overrides.fallback(fn, reference, name)
        return self.own_functions[name]

    @property
    def status(self) -> str:
        """The status line as plain text."""
        return self._status_text

    # -- machinery --------------------------------------------------------------------------

    def _on_tick(self, change):
        if change["new"] <= change["old"] or not self.clock.playing or self.error:
            return  # the stop button rewinds the clock: that is a pause, not a frame
        self._guarded(self._frame)

    def _on_playing(self, change):
        if change["new"] and self.error:  # pressing play again is a retry
            self.error = None
            self._show_status()

    def _guarded(self, fn, *args):
        """Run ``fn`` inside the learner's scope; a failure becomes one sentence in the status
        line (and pauses the clock), never an exception inside a widget callback."""
        seen = len(overrides.messages)
        # no scope without functions: the library keeps its fast path (overrides.scopes)
        scope = overrides.using(**self.functions) if self.functions else contextlib.nullcontext()
        try:
            with scope:
                return fn(*args)
        except Exception as err:  # the learner's code can fail in any way: say so plainly
            self.pause()
            self.error = sentence(err)
            return None
        finally:
            for message in overrides.messages[seen:]:
                if message not in self.notes:
                    self.notes.append(message)
            self._show_status()

    def yours(self) -> str:
        """The learner's functions in use, as words ('train_network and sigmoid_forward');
        '' when only course_lib's reference runs."""
        everyone = {**self.functions, **self.own_functions}
        return as_words([n for n, f in everyone.items() if not f.failed])

    def _units_due(self) -> int | None:
        """How many units this tick owes at the chosen pace (fractions carried over to the
        next tick); None at "max"."""
        pace = self.controls["pace"].value
        if pace == "max":
            return None
        self._pace_credit += pace * self.clock.interval  # in thousandths of a unit
        due = min(self._pace_credit // 1000, self.max_units_per_frame)
        self._pace_credit = min(self._pace_credit - 1000 * due, 999)  # never a backlog
        return int(due)

    def _paced(self, work) -> int:
        """This tick's share of ``work`` (one unit a call; returning False stops early):
        the units due at the chosen pace, or at "max" as many as the frame budget allows.
        Returns how many ran."""
        due = self._units_due()
        if due is None:
            return timed_chunk(work, self.frame_budget, self.max_units_per_frame)
        return timed_chunk(work, self.frame_budget, due) if due else 0

    def _show_status(self):
        parts, kind = [], "info"
        if self.error:
            parts.append(f"Stopped: {self.error}")
            kind = "error"
        warning = getattr(self, "warning", None)
        if warning:
            parts.append(warning)
            kind = "error" if self.error else "warning"
        if self.notes:
            parts.extend(self.notes)
            kind = "error" if self.error else "warning"
        running = self._running()
        if running:
            parts.append(running)
        elif not parts:
            parts.append(self.reference_only)
        self._status_text = " ".join(parts)
        colour = _STATUS_COLOURS[kind]
        self.status_line.value = (f'<span class="course-status" style="color:{colour}">'
                                  f"{html.escape(self._status_text)}</span>")

    _status_text = ""
    reference_only = "Running course_lib's reference functions."

    def _running(self) -> str | None:
        """What of the learner's runs, as the status line's last sentence (None: nothing)."""
        everyone = {**self.functions, **self.own_functions}
        mine = [n for n, f in everyone.items() if not f.failed]
        if not mine:
            return None
        return "Running your " + as_words(mine) + "; course_lib's reference for the rest."

    def _transport(self):
        return W.HBox([self.clock, self.step_button, self.reset_button, self.counter,
                       self.controls["pace"]],
                      layout=W.Layout(align_items="center", flex_flow="row wrap"))

    def _settings(self) -> list:
        """The controls other than the pace (which sits beside the clock)."""
        return [w for name, w in self.controls.items() if name != "pace"]

    def _new_figure(self, figsize, **axes):
        """A fresh ``LiveFigure`` (``self.live``, ``self.figure``) with one axes per keyword,
        ``name=(left, bottom, width, height)`` in figure fractions (``self.axes``)."""
        self.live = LiveFigure(figsize)
        self.figure = self.live.figure
        self.axes = {name: self.figure.add_axes(rect) for name, rect in axes.items()}
        return self.axes.values()

    def _box(self, children, name: str, **layout):
        """The widget's layout: ``children`` stacked, with the CSS classes the browser test finds."""
        self.ui = W.VBox(children, layout=W.Layout(**layout))
        self.ui.add_class("course-widget")
        self.ui.add_class(f"course-{name}")

    # subclass hooks
    def _one_epoch(self) -> bool | None:  # pragma: no cover - abstract
        """One unit of training; False stops the run (the widget paused itself)."""
        raise NotImplementedError

    def _advance(self, n: int):
        for _ in range(n):
            if self._one_epoch() is False:
                break

    def _frame(self):
        self._paced(self._one_epoch)
        self._redraw()

    def _redraw(self, full: bool = False):  # pragma: no cover - abstract
        raise NotImplementedError

    def _reset(self):  # pragma: no cover - abstract
        raise NotImplementedError


def as_words(names) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    names = list(names)
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def loss_warning(losses, unit: str, yours: str = "", lr: float | None = None,
                 what: str = "Training") -> str | None:
    """One sentence when ``losses`` (one per ``unit``, oldest first) show training diverging
    (not finite, or above 1.5 times the first value after ``RISE_AFTER`` units) or stalled (no
    lower than 0.99 of the first value after ``STALL_AFTER`` units); None otherwise.
    ``yours``: the learner's functions in use, as words (the hint names them); ``lr``: the
    learning rate, named in the hint when only the reference runs."""
    n = len(losses)
    if n == 0:
        return None
    first, last = float(losses[0]), float(losses[-1])
    units = f"{n} {unit}" + ("s" if n != 1 else "")
    rate = f" ({lr:g})" if lr is not None else ""
    if not math.isfinite(last) or (n >= RISE_AFTER and last > 1.5 * first):
        hint = (f"check your {yours}: a gradient or an update with the wrong sign climbs like "
                f"this, and so does a learning rate{rate} that is too large"
                if yours else f"the learning rate{rate} is too large: lower it and press Reset")
        verb = "rose" if math.isfinite(last) else "went"
        return (f"{what} is diverging: the loss {verb} from {first:.3g} to {last:.3g} in "
                f"{units}; {hint}.")
    if n >= STALL_AFTER and last > 0.99 * first:
        hint = (f"check your {yours}: an update that leaves the weights as they were, or an "
                "output or gradient of all zeros, stops training like this"
                if yours else "try a larger learning rate or another network")
        return (f"{what} has stalled: the loss is {last:.3g} after {units}, no lower than at the "
                f"start ({first:.3g}); {hint}.")
    return None


def sentence(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return text if text.endswith(".") else text + "."


def nice_values(low: float, high: float, include=()) -> list[float]:
    """1, 2, 3, 5 × powers of ten from ``low`` to ``high`` (plus ``include``): the stops of a
    logarithmic slider whose values stay exactly what they say (0.5, not 0.501)."""
    values = {float(f"{m}e{e}") for e in range(math.floor(math.log10(low)) - 1,
                                               math.ceil(math.log10(high)) + 1)
              for m in (1, 2, 3, 5)}
    values = {v for v in values if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)}
    return sorted(values | {float(v) for v in include})


def log_slider(value: float, low: float, high: float, description: str, width="280px",
               description_width="90px", include=()):
    """A slider over ``nice_values(low, high)`` (a browser never rounds its value)."""
    options = nice_values(low, high, (value, *include))
    return W.SelectionSlider(options=[(f"{v:g}", v) for v in options], value=float(value),
                             description=description,
                             **slider_style(width, description_width))


def slider_style(width="220px", description_width="90px"):
    return dict(layout=W.Layout(width=width), style={"description_width": description_width})


# --- a network and one epoch ---------------------------------------------------------------


def network(sizes, activation="tanh", batchnorm=False, dropout=0.0, seed=0):
    """``layers.mlp`` with a sigmoid output (one probability per point): LeCun initialisation, N(0, 1/fan_in), for
    sigmoid/tanh, He for the ReLU family. Its dropout layers are always there so the rate can
    change while it trains: built with a placeholder rate, then set (rate 0 is the identity)."""
    init = "lecun" if activation in ("sigmoid", "tanh") else "he"
    model = layers.mlp(sizes, activation, init=init, rng=seed, batchnorm=batchnorm, dropout=0.5,
                       output_activation="sigmoid")
    set_dropout(model, dropout)
    return model


def set_dropout(model, rate: float):
    """Set the rate of every Dropout layer of ``model``."""
    for layer in train.leaves(model):
        if isinstance(layer, layers.Dropout):
            layer.rate = rate


class Trainer:
    """A model, its optimizer (by name, ``optim.OPTIMIZERS``) and the generator that orders the
    mini-batches: ``epoch(X, y)`` is one ``train.run_epoch`` of binary cross-entropy, with L2 of
    strength ``l2`` through ``regularization.L2`` (the ``l2_penalty`` in scope)."""

    def __init__(self, model, optimizer="SGD", lr=0.1, batch_size=16, l2=0.0, seed=0):
        self.model, self.batch_size, self.l2 = model, batch_size, l2
        self.rng = np.random.default_rng(seed)
        self.set_optimizer(optimizer, lr)

    def set_optimizer(self, name, lr):
        if name not in optim.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(optim.OPTIMIZERS)}, got {name!r}.")
        self.optimizer = optim.OPTIMIZERS[name](self.model.parameters(), lr=lr)

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = float(value)

    def epoch(self, X, y, forward=None) -> float:
        """One epoch; returns the mean training loss (the data loss, without the L2 term).
        ``forward``: called instead of ``model.forward`` (to record activations)."""
        step = regularization.L2(self.optimizer, self.model, self.l2) if self.l2 else self.optimizer
        loss_fn = train.resolve_loss("binary_cross_entropy")
        return train.run_epoch(self.model, loss_fn, step, X, y, self.batch_size, self.rng,
                               forward=forward)[0]


def timed_chunk(work, budget: float, max_units: int):
    """Call ``work()`` (one unit) until ``budget`` seconds pass or ``max_units`` are done, at least
    once; returns how many ran. ``work`` returns False to stop early."""
    start, done = time.perf_counter(), 0
    while done < max_units:
        done += 1
        if work() is False or time.perf_counter() - start >= budget:
            break
    return done
