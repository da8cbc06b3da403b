"""Fairness of the checks: a correct answer written another way earns full marks.

``tests/equivalents/<assignment_id>.py`` defines ``EQUIVALENTS = [dict(name, cell, source), ...]``:
formulas that are right to within float64 rounding on the inputs the notebook states (another
order of operations, a library function, a stable form other than the solution's), each replacing
the solution cell ``cell``. The mutants (``tests/mutants/``) say which mistakes must lose points;
the equivalents say which answers must not.

The harness is cheap on purpose (nbgrader's round trip takes minutes; this takes seconds): each
solution notebook runs once, in-process, in one namespace (IPython magics dropped, matplotlib on
Agg). Right after each test cell ran for the solution, every equivalent whose function that cell
uses (or whose exercise it belongs to) is put in place of the solution, the test cell runs again,
hidden tests included, and the solution is put back. An equivalent passes when no test cell
raises.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import tempfile
import warnings
from functools import cache
from pathlib import Path

import matplotlib
import pytest
from grading_helpers import TESTS, cases, grade_id, is_autograded_test, load_mutants, nbgrader

pytestmark = pytest.mark.slow  # it executes the notebooks (about 50 s for all eight)
CASES = [c for c in cases() if not c.is_fixture]
EQUIVALENT_KEYS = {"name", "cell", "source"}
MAGIC = re.compile(r"^\s*[%!]")


def load_equivalents(assignment: str) -> list[dict]:
    """The EQUIVALENTS list of tests/equivalents/<assignment>.py ([] when there is no such file)."""
    path = TESTS / "equivalents" / f"{assignment}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"equivalents_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = module.EQUIVALENTS
    for entry in found:
        missing = EQUIVALENT_KEYS - set(entry)
        assert not missing, f"{path}: {entry.get('name')!r} lacks {sorted(missing)}"
    return found


def _code(source: str) -> str:
    return "\n".join("" if MAGIC.match(line) else line for line in source.splitlines())


def _defined_names(source: str) -> set[str]:
    return set(re.findall(r"^def\s+(\w+)", source, flags=re.M))


@cache
def _run(assignment: str, kind: str = "equivalents") -> dict[str, dict[str, str]]:
    """name of each equivalent (or mutant) -> {grade id of each test cell it ran: its failure,
    or None when it passed}. The notebook runs in a scratch copy of its folder, headless."""
    case = next(c for c in CASES if c.assignment == assignment)
    headless = os.environ.get("COURSE_HEADLESS")
    os.environ["COURSE_HEADLESS"] = "1"
    try:
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder) / assignment
            shutil.copytree(case.solutions, scratch,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            with contextlib.chdir(scratch):
                return _run_in_place(case, kind)
    finally:
        if headless is None:
            del os.environ["COURSE_HEADLESS"]
        else:
            os.environ["COURSE_HEADLESS"] = headless


def _run_in_place(case, kind: str) -> dict[str, dict[str, str]]:
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    assignment = case.assignment
    nb = case.solution(case.notebook_names[0])
    equivalents = (load_equivalents(assignment) if kind == "equivalents"
                   else load_mutants(case))
    solutions = {grade_id(c): c.source for c in nb.cells
                 if c.cell_type == "code" and nbgrader(c).get("solution")}
    results: dict[str, dict[str, str]] = {e["name"]: {} for e in equivalents}
    namespace: dict = {"__name__": "__main__"}
    exercise = None  # the grade id of the last solution cell seen
    last_test = max(i for i, c in enumerate(nb.cells) if is_autograded_test(c))

    def execute(source: str, label: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the checks turn the warnings they care about into failures
            exec(compile(_code(source), f"<{assignment}:{label}>", "exec"), namespace)
        plt.close("all")

    for index, cell in enumerate(nb.cells[:last_test + 1]):
        if cell.cell_type != "code":
            continue
        if nbgrader(cell).get("solution"):
            exercise = grade_id(cell)
        execute(cell.source, grade_id(cell) or f"cell {index}")
        if not is_autograded_test(cell):
            continue
        for entry in equivalents:
            own = entry["cell"] == exercise
            uses = _defined_names(solutions[entry["cell"]]) & set(re.findall(r"\w+", cell.source))
            if not (own or uses) or entry["cell"] not in solutions:
                continue
            outcome = None
            try:
                execute(entry["source"], entry["name"])
                execute(cell.source, grade_id(cell))
            except Exception as exc:  # what nbgrader would score 0
                outcome = f"{type(exc).__name__}: {exc}"
            finally:
                execute(solutions[entry["cell"]], entry["cell"])
            results[entry["name"]][grade_id(cell)] = outcome
    return results


def _params():
    return [pytest.param(case.assignment, entry["name"], id=f"{case.assignment}-{entry['name']}")
            for case in CASES for entry in load_equivalents(case.assignment)]


@pytest.mark.parametrize(("assignment", "name"), _params())
def test_equivalent_earns_full_marks(assignment, name):
    outcomes = _run(assignment)[name]
    assert outcomes, f"{assignment}: no test cell ran {name!r}: is its cell a tested solution cell?"
    failures = [f"{cell}: {failure}" for cell, failure in outcomes.items() if failure]
    assert not failures, (f"{assignment}: the equivalent {name!r} loses points:\n"
                          + "\n".join(failures))


def _mutant_params():
    return [pytest.param(case.assignment, m["name"], id=f"{case.assignment}-{m['name']}")
            for case in CASES for m in load_mutants(case)]


@pytest.mark.parametrize(("assignment", "name"), _mutant_params())
def test_mutant_still_loses_its_points(assignment, name):
    """The same harness on the mutants: a loosened check must still catch every known mistake
    (a quick in-process twin of test_roundtrip's nbgrader run)."""
    case = next(c for c in CASES if c.assignment == assignment)
    mutant = next(m for m in load_mutants(case) if m["name"] == name)
    outcomes = _run(assignment, "mutants")[name]
    unrun = [cell for cell in mutant["loses"] if cell not in outcomes]
    assert not unrun, f"{assignment}: the harness never ran {unrun} for the mutant {name!r}"
    kept = [cell for cell in mutant["loses"] if outcomes[cell] is None]
    assert not kept, f"{assignment}: the mutant {name!r} still passes {kept}"
    lost = [f"{cell}: {failure}" for cell, failure in outcomes.items()
            if failure and cell not in mutant["loses"]]
    assert not lost, f"{assignment}: the mutant {name!r} also fails {lost}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.assignment)
def test_every_exercise_has_an_equivalent(case):
    nb = case.solution(case.notebook_names[0])
    graded = [grade_id(c) for c in nb.cells if c.cell_type == "code"
              and nbgrader(c).get("solution") and not nbgrader(c).get("grade")]
    covered = {e["cell"] for e in load_equivalents(case.assignment)}
    tested = {grade_id(c) for c in nb.cells}
    missing = [g for g in graded if g not in covered and g in tested]
    assert not missing, f"no equivalent in tests/equivalents/{case.assignment}.py for {missing}"
