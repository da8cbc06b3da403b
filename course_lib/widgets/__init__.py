"""Live widgets for the notebooks, driven by course_lib or by the learner's own functions.

One line embeds each in its notebook (the last line of a cell displays it)::

    04  from course_lib.widgets import LearningRateExplorer; LearningRateExplorer(lr=0.5, step_fn=gradient_descent_step)
    05  from course_lib.widgets import Playground; Playground("XOR", functions=dict(sigmoid_forward=sigmoid_forward))
    06  from course_lib.widgets import OptimizerRace; OptimizerRace("ravine", functions=dict(adam_update=adam_update))
    07  from course_lib.widgets import RegularizationView; RegularizationView(functions=dict(dropout_forward=dropout_forward, dropout_backward=dropout_backward))
    08  from course_lib.widgets import BatchNormView; BatchNormView(functions=dict(batchnorm_forward=batchnorm_forward, batchnorm_backward=batchnorm_backward))
    09  from course_lib.widgets import CapstoneView; CapstoneView(functions=dict(init_params=init_params, model_forward=model_forward, model_backward=model_backward, evaluate=evaluate))

``functions=`` takes any name ``course_lib.using`` knows (``sigmoid_forward``, ``linear_backward``,
``adam_update``, ``binary_cross_entropy``, ``l2_penalty`` for the playground and the regularization
view, ...) and runs them inside a ``using`` scope, exactly as ``fit`` would; a widget built inside
``with course_lib.using(...):`` keeps using those functions after the block ends. Each learner function is checked on its first
call: one that is not implemented yet, raises, or returns the wrong shape is named in one
sentence in the widget's status line and the reference takes over; an error later in training
pauses the widget with one sentence, never a traceback from a callback.

Every widget: ``step(n)`` advances from Python and redraws; ``set(name=value)`` moves a control
exactly as the browser would (``controls`` lists them); ``play()``, ``pause()``, ``reset()``;
``state()`` returns what is shown as plain values; ``artists`` holds the matplotlib artists;
``status`` is the status line's text.

Pace: every widget takes ``pace=`` (``controls["pace"]``, the slider beside the clock): units a
second while playing, one of 1, 3, 10, 30, 100, 300, 1000 or "max" (epochs for 05, 07, 08 and
09, optimizer steps for 04 and 06); any other value is refused with one sentence. Each tick owes
``pace × interval / 1000`` units, the fractions carried over to the next tick; "max" does as
many as a tick's budget allows. Defaults: 10 steps/s for 04, 30 for 06, "max" for the others.

Status line: it names the learner's functions in use ("Running your adam_update; course_lib's
reference for the rest.") and, when their code makes training diverge or stall, says so first
in one sentence with the figures seen (``warning``): the loss for 05, 07, 08 (the network with
batch norm) and 09; the distance to the minimum for 04 and the value of f per optimizer for 06,
where course_lib's rule runs beside the learner's so that a learning rate that is too large or
too small is named as the cause instead of their code ("Your adam_update stalled: ...").

Drawing: each widget owns a figure on an ipympl canvas (whatever the notebook's ``%matplotlib``
backend); moving artists are redrawn over a cached background and only the changed pixels are
sent. Training runs in chunks of about 35 ms per tick of an ipywidgets ``Play`` clock, which
ticks in the browser: pause takes effect at the next tick.

Headless (``COURSE_HEADLESS=1`` or ``NBGRADER_EXECUTION`` set, as under nbgrader's autograde
and validate; set ``COURSE_HEADLESS=1`` for nbval and nbclient runs): building a widget trains
nothing (``pretrain=`` epochs are skipped) and draws nothing (one evaluation of the boundary grid
at most), and without a browser the ``Play`` clock never ticks, so a cell that displays a widget
costs a fraction of a second. ``step(n)`` still does exactly n units when a cell asks for it
(the pace is for the clock only).
"""

from .base import headless
from .batchnorm import BatchNormView
from .capstone import CapstoneView
from .explorers import LearningRateExplorer, OptimizerRace, describe_path
from .playground import DATASETS, Playground, RegularizationView

__all__ = [
    "Playground",
    "RegularizationView",
    "LearningRateExplorer",
    "OptimizerRace",
    "BatchNormView",
    "CapstoneView",
    "DATASETS",
    "describe_path",
    "headless",
]
