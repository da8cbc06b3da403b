"""The grading round trip, for every assignment in solutions/ and for the fixture course.

Everything runs on a scratch copy of the course in a temporary folder: the checkout's
``notebooks/`` is only read, and no gradebook is ever written in it.

- Releasing again reproduces the committed ``notebooks/<id>`` byte for byte; no solution marker,
  hidden-test marker or hidden-test line leaks into it; ``solutions/`` is committed without outputs.
- One grading batch per assignment (``course_lib.grading.grade``, the instructor's command) holds
  the solution notebook, the untouched release and every mutant: the solution gets full marks;
  the untouched release gets 0, and every cell that is not an exercise or its checks runs without
  an error (reference fallbacks keep plots and experiments working).

Mutant runner
-------------
``tests/mutants/<assignment_id>.py`` (written by the notebook's author) defines::

    MUTANTS = [
        dict(name="linear_forward without the bias",      # shown in the test id
             cell="linear_forward",                        # grade id of the solution cell replaced
             source="def linear_forward(X, W, b):\\n    return X @ W, (X, W)",  # the wrong code
             loses=["test_linear_forward"],                # test cells that must score 0
             message="the bias is missing"),               # in the first `loses` cell's output
        ...
    ]

Each mutant is the solution notebook with that one cell's source replaced, graded as one learner of
the batch. Every cell in ``loses`` must score 0, every other autograded cell full marks, and the
output of the first cell in ``loses`` (the visible check the learner sees) must contain
``message``. Every autograded exercise needs at least one mutant. ``COURSE_MUTANTS=first`` runs
only the first mutant of each exercise (a quicker local run; CI runs all).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from grading_helpers import (
    Case,
    cases,
    correct_in_release,
    error_cells,
    grade_id,
    is_autograded_test,
    load_mutants,
    manual_cells,
    nbgrader,
    output_text,
    scratch_repo,
    secret_lines,
    selected,
    to_bytes,
    with_source,
    write_class,
)

from course_lib import grading
from course_lib.grading.hidden import quoted_lines

pytestmark = pytest.mark.slow
CASES = cases()
JOBS = max(2, os.cpu_count() or 2)  # learners graded at once; the kernels are the slow part
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _mutant_params():
    params = []
    for case in CASES:
        try:
            mutants = load_mutants(case)
        except Exception as exc:  # a broken mutants file fails its own test, not the collection
            params.append(pytest.param(case, -1, repr(exc), id=f"{case.id}-unreadable"))
            continue
        for index, mutant in enumerate(mutants):
            params.append(pytest.param(case, index, None, id=f"{case.id}-{mutant['name']}"))
    return params


@dataclass
class Batch:
    """One assignment graded once: the solution, the untouched release and every mutant."""

    case: Case
    repo: Path
    run: grading.GradeRun
    mutants: list[dict]
    seconds: float

    def submission(self, student: str) -> grading.Submission:
        return next(s for s in self.run.submissions if s.student == student)

    def autograded(self, student: str):
        sub = self.submission(student)
        path = self.run.course / "autograded" / student / sub.assignment / f"{sub.notebook}.ipynb"
        assert path.exists(), f"{student} has no autograded notebook: {sub.flags}"
        return nbformat.read(path, as_version=4)

    def submitted(self, student: str):
        sub = self.submission(student)
        path = self.run.course / "submitted" / student / sub.assignment / f"{sub.notebook}.ipynb"
        return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """graded(case) -> Batch, computed once per assignment for the whole session."""
    done: dict[Case, Batch] = {}

    def get(case: Case) -> Batch:
        if case not in done:
            done[case] = _grade_batch(case, tmp_path_factory.mktemp(case.id))
        return done[case]

    return get


def _grade_batch(case: Case, folder: Path) -> Batch:
    started = time.monotonic()
    names = case.notebook_names
    assert len(names) == 1, f"{case.id}: the round trip expects one notebook, found {names}"
    repo = scratch_repo(case, folder)
    grading.release(repo=repo)
    solution = case.solution(names[0])
    release_file = repo / "notebooks" / case.assignment / f"{names[0]}.ipynb"
    files = {"solution": (case.solutions / f"{names[0]}.ipynb").read_bytes(),
             "untouched": release_file.read_bytes()}
    mutants = load_mutants(case)
    for index, mutant in enumerate(mutants):
        if selected(mutants, index):
            mutated = with_source(solution, mutant["cell"], mutant["source"])
            files[f"mutant_{index:02d}"] = to_bytes(mutated)
    run = grading.grade(write_class(folder / "class", files), case.assignment,
                        course=folder / "grading", repo=repo,
                        timeout=10 if case.is_fixture else None, jobs=JOBS, figures=False,
                        feedback=False, echo=lambda *a: None)
    return Batch(case, repo, run, mutants, time.monotonic() - started)


# --- release ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_release_is_reproducible(case, graded):
    regenerated = graded(case).repo / "notebooks" / case.assignment
    assert case.notebooks.is_dir(), (
        f"{case.notebooks} is missing: run `make release` and commit notebooks/{case.assignment}")
    committed = {p.relative_to(case.notebooks) for p in case.notebooks.rglob("*") if p.is_file()}
    fresh = {p.relative_to(regenerated) for p in regenerated.rglob("*") if p.is_file()}
    assert committed == fresh, f"files differ: committed {sorted(committed)}, release {sorted(fresh)}"
    stale = [str(rel) for rel in sorted(fresh)
             if (regenerated / rel).read_bytes() != (case.notebooks / rel).read_bytes()]
    assert not stale, (f"notebooks/{case.assignment} is out of date ({stale}): run `make release` "
                       "and commit the result")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_release_leaks_nothing(case, graded):
    regenerated = graded(case).repo / "notebooks" / case.assignment
    for folder in (case.notebooks, regenerated):
        for path in sorted(folder.glob("*.ipynb")):
            text = path.read_text(encoding="utf-8")
            for marker in MARKERS:
                assert marker not in text, f"{path} contains {marker!r}"
            released = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            leaked = quoted_lines(released, secret_lines(case.solution(path.stem)))
            assert not leaked, f"{path} shows hidden-test lines: {leaked[:3]}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_solutions_are_committed_without_outputs(case):
    for path in sorted(case.solutions.glob("*.ipynb")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        dirty = [i for i, cell in enumerate(raw["cells"]) if cell["cell_type"] == "code"
                 and (cell.get("outputs") or cell.get("execution_count") is not None)]
        assert not dirty, (f"{path}: cells {dirty} have outputs or execution counts; clear them "
                           "(Edit > Clear Outputs of All Cells) before committing")


# --- grading the solution and the untouched release ---------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_solution_gets_full_marks(case, graded):
    batch = graded(case)
    sub = batch.submission("solution")
    assert sub.status == "graded", sub.flags
    manual = manual_cells(case.solution(sub.notebook))
    short = {cell: f"{g['score']:g}/{g['max_score']:g}" for cell, g in sub.grades.items()
             if cell not in manual and g["score"] != g["max_score"]}
    assert not short, f"the solution loses points in {short}; errors: {sub.errors}"
    assert sub.max_score > 0
    autograded = batch.autograded("solution")
    errors = error_cells(autograded)
    assert not errors, f"the solution notebook raised errors when graded: {errors}"
    numbers = [grade_id(c) for c in autograded.cells if is_autograded_test(c) and any(
        _is_number(o) for o in c.get("outputs", []) if o.get("output_type") == "execute_result")]
    assert not numbers, (f"test cells {numbers} end with an expression whose value is a number, "
                         "which nbgrader reads as partial credit: end them with a statement")


def _is_number(output) -> bool:
    try:
        float(output.get("data", {}).get("text/plain", ""))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_untouched_release_gets_zero_and_still_runs(case, graded):
    batch = graded(case)
    sub = batch.submission("untouched")
    assert sub.status == "graded", sub.flags
    assert sub.score == 0, f"an unanswered notebook scored {sub.score}: {sub.grades}"
    assert not sub.timeouts, f"cells timed out: {sub.timeouts}"
    submitted = batch.submitted("untouched")
    unexpected = {}
    for index, error in error_cells(batch.autograded("untouched")).items():
        cell = submitted.cells[index]
        allowed = (nbgrader(cell).get("solution") or is_autograded_test(cell)
                   or "raises-exception" in cell.metadata.get("tags", []))
        if not allowed:
            unexpected[f"cell {index} ({cell.source.strip().splitlines()[0][:60]!r})"] = error
    assert not unexpected, (
        "cells that are neither an exercise nor its checks fail while the exercises are "
        f"unanswered (use the reference implementation as a fallback there): {unexpected}")


# --- mutants ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_exercise_has_a_mutant(case):
    solution = case.solution(case.notebook_names[0])
    manual = manual_cells(solution)
    exercises = [grade_id(c) for c in solution.cells
                 if nbgrader(c).get("solution") and grade_id(c) not in manual and c.cell_type == "code"]
    covered = {m["cell"] for m in load_mutants(case)}
    missing = [e for e in exercises if e not in covered]
    assert not missing, (f"no mutant in {case.mutants_file.relative_to(grading.REPO)} for "
                         f"{missing}: add a plausible wrong implementation of each (CONTRIBUTING.md)")


@pytest.mark.parametrize(("case", "index", "problem"), _mutant_params())
def test_mutant_loses_exactly_its_points(case, index, problem, graded):
    assert problem is None, f"{case.mutants_file} cannot be read: {problem}"
    batch = graded(case)
    mutant = batch.mutants[index]
    if not selected(batch.mutants, index):
        pytest.skip("COURSE_MUTANTS=first: only the first mutant of each exercise runs")
    solution = case.solution(case.notebook_names[0])
    solution_cells = {grade_id(c) for c in solution.cells if nbgrader(c).get("solution")}
    tests = {grade_id(c) for c in solution.cells if is_autograded_test(c)}
    assert mutant["cell"] in solution_cells, (
        f"mutant {mutant['name']!r}: {mutant['cell']!r} is not a solution cell; those are "
        f"{sorted(solution_cells)}")
    unknown = [cell for cell in mutant["loses"] if cell not in tests]
    assert mutant["loses"] and not unknown, (
        f"mutant {mutant['name']!r}: loses must name test cells among {sorted(tests)}")

    student = f"mutant_{index:02d}"
    sub = batch.submission(student)
    assert sub.status == "graded", sub.flags
    should_lose = [c for c in mutant["loses"] if sub.grades[c]["score"] != 0]
    should_keep = [c for c in sorted(tests - set(mutant["loses"]))
                   if sub.grades[c]["score"] != sub.grades[c]["max_score"]]
    assert not should_lose, f"mutant {mutant['name']!r} still earns points in {should_lose}"
    assert not should_keep, (f"mutant {mutant['name']!r} also loses points in {should_keep}: "
                             f"{ {c: sub.errors.get(c) for c in should_keep} }")
    first = next(c for c in batch.autograded(student).cells if grade_id(c) == mutant["loses"][0])
    said = output_text(first)
    assert mutant["message"] in said, (
        f"mutant {mutant['name']!r}: the check {mutant['loses'][0]} said\n{said[-1500:]}\n"
        f"which does not contain {mutant['message']!r}")


def test_correct_answers_typed_into_the_release_match_the_solution():
    """The builder the adversarial tests rely on keeps every non-answer cell of the release."""
    case = next(c for c in CASES if c.is_fixture)
    name = case.notebook_names[0]
    release = nbformat.read(case.notebooks / f"{name}.ipynb", as_version=4)
    typed = correct_in_release(release, case.solution(name))
    assert [c.source for c in typed.cells if not nbgrader(c).get("solution")] == \
        [c.source for c in release.cells if not nbgrader(c).get("solution")]
    assert all("raise NotImplementedError" not in c.source for c in typed.cells)
