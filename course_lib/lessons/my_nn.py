"""The learner's own functions, kept from notebook to notebook in ``<course folder>/my_nn.py``.

The last cell of every notebook is ``my_nn.save(globals())``: it writes each exercise function
of the notebook whose checks passed in this session (plain Python, from the cell the learner
wrote, one function per exercise) into ``my_nn.py``, keeping what earlier notebooks saved.
Later notebooks and the widgets use them through ``load()`` where present and course_lib's
reference otherwise. Grading never depends on this file: under grading (nbgrader sets
``NBGRADER_EXECUTION``) ``save`` does nothing and ``load`` returns None.

API (stable, other notebooks rely on it):

- ``save(namespace) -> list[str]``: the names written (``[]`` under grading or when none passed).
- ``load() -> module | None``: ``my_nn.py`` imported as a module, None when there is none (or it
  does not import: one sentence is printed).
- ``path() -> pathlib.Path``: where ``my_nn.py`` lives (the course folder: the folder that holds
  the notebook folders ``01_…`` to ``09_…``; ``MY_NN_PATH`` overrides it).
- ``functions() -> dict``: name -> function of ``load()``, only those course_lib can take in
  (``course_lib.using(**functions())``); ``{}`` when there is no file.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import os
import re
import sys
import textwrap
from pathlib import Path

from .. import overrides
from . import mistakes

HEADER = '''"""My neural network: the functions I wrote in the course notebooks whose checks passed.

Written by the last cell of each notebook (course_lib.lessons.my_nn.save); each function is
replaced when a later run of its notebook passes its checks again. Plain Python: read it, import
it (import my_nn), and use it outside the notebooks.
"""

import numpy as np

from course_lib import functional as F
'''

# Names a saved function may use besides numpy, F and the other saved functions.
_AVAILABLE = {"np", "F"} | set(vars(builtins))


# function name -> {check cell id: (the function object checked, whether the cell passed)};
# filled by checks.after_cell (IPython's post_run_cell) for the functions a check cell called.
_results: dict = {}


def record(name: str, cell: str, fn, ok: bool) -> None:
    """Remember that check cell ``cell`` called the learner's ``fn`` (``name``) and passed or not."""
    _results.setdefault(name, {})[cell] = (fn, ok)


def passed_all(name: str, fn) -> bool:
    """Whether ``fn`` (the learner's ``name``) passed every check cell that tests it, in this
    session (mistakes.CHECK_CELLS lists them; at least one must have run)."""
    runs = _results.get(name, {})
    needed = [cell for cell, (names, _) in mistakes.CHECK_CELLS.items() if name in names]
    needed = needed or list(runs)
    if not needed:
        return False
    return all(cell in runs and runs[cell][1] and runs[cell][0] is fn for cell in needed)


def grading() -> bool:
    """True while nbgrader grades or validates (it sets NBGRADER_EXECUTION)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def path() -> Path:
    """``<course folder>/my_nn.py``: the parent of a notebook folder named ``NN_…``, else the
    current folder; the environment variable ``MY_NN_PATH`` overrides it."""
    override = os.environ.get("MY_NN_PATH")
    if override:
        return Path(override)
    here = Path.cwd()
    if re.match(r"^\d\d_", here.name):
        return here.parent / "my_nn.py"
    return here / "my_nn.py"


def _existing(text: str) -> dict[str, str]:
    """name -> source block (with its comment line) of each top-level function in ``text``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    lines = text.splitlines()
    blocks = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            start = node.lineno - 1
            if node.decorator_list:
                start = node.decorator_list[0].lineno - 1
            while start > 0 and lines[start - 1].startswith("# from notebook"):
                start -= 1
            blocks[node.name] = "\n".join(lines[start:node.end_lineno])
    return blocks


def _source(fn) -> str | None:
    try:
        return textwrap.dedent(inspect.getsource(fn)).rstrip()
    except (OSError, TypeError):
        return None


def _usable(fn, saved_names) -> bool:
    """Whether ``fn`` needs only numpy, F, builtins and other saved functions."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    names = set(code.co_names)
    for const in code.co_consts:  # nested functions and comprehensions
        if inspect.iscode(const):
            names |= set(const.co_names)
    unknown = {n for n in names if n in fn.__globals__ and n not in _AVAILABLE
               and n not in saved_names and not inspect.ismodule(fn.__globals__[n])}
    # attribute names (np.exp's "exp") sit in co_names too; they are not globals, so they pass
    return not unknown


def save(namespace: dict, notebook: str | None = None) -> list[str]:
    """Write the exercise functions of ``namespace`` whose checks passed into ``my_nn.py``.

    Returns the names written. Does nothing under grading."""
    if grading():
        return []
    candidates = {}
    for name, fn in namespace.items():
        if inspect.isfunction(fn) and passed_all(name, fn):
            source = _source(fn)
            if source is not None and "NotImplementedError" not in source:
                candidates[name] = (fn, source)
    target = path()
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    blocks = _existing(text)
    saved_names = set(blocks) | set(candidates)
    label = notebook or Path.cwd().name
    written = []
    for name, (fn, source) in candidates.items():
        if not _usable(fn, saved_names):
            continue
        blocks[name] = f"# from notebook {label}, checks passed\n{source}"
        written.append(name)
    if written:
        body = "\n\n\n".join(blocks[n] for n in blocks)
        target.write_text(HEADER + "\n\n" + body + "\n", encoding="utf-8")
        print(f"Saved to {target}: {', '.join(sorted(written))} (your functions whose checks "
              "passed; later notebooks use them).")
    else:
        print("Nothing saved to my_nn.py yet: it keeps the functions whose checks pass in this "
              "session (run their check cells first).")
    return written


def load():
    """``my_nn.py`` as a module, or None (no file, or under grading)."""
    if grading():
        return None
    target = path()
    if not target.exists():
        return None
    spec = importlib.util.spec_from_file_location("my_nn", target)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # the learner's file: say so in one sentence, use the reference
        print(f"{target} could not be imported ({type(err).__name__}: {err}); course_lib's "
              "reference functions are used instead.")
        return None
    sys.modules.setdefault("my_nn", module)
    return module


def functions() -> dict:
    """name -> the learner's saved function, for the names course_lib lets a learner replace."""
    module = load()
    if module is None:
        return {}
    out = {}
    for name, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            try:
                overrides.reference(name)
            except KeyError:
                continue
            out[name] = fn
    return out


def _saved_functions() -> dict:
    """For widgets (overrides.default_functions): the saved functions, all of them, by name."""
    module = load()
    if module is None:
        return {}
    return {name: fn for name, fn in vars(module).items()
            if inspect.isfunction(fn) and fn.__module__ == module.__name__}


overrides.add_default_provider(_saved_functions)
