"""Shared helpers for the grading tests: which assignments exist, scratch copies of the course,
and builders that turn a release and its solution into submissions (correct, mutant, adversarial).

Every test works on a scratch copy in a temporary folder: nothing here writes to ``notebooks/``,
``solutions/`` or a gradebook in the checkout.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib import grading
from course_lib.grading.hidden import hidden_code_lines

TESTS = Path(__file__).resolve().parent
FIXTURE_REPO = TESTS / "fixtures" / "course"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MUTANT_KEYS = {"name", "cell", "source", "loses", "message"}


@dataclass(frozen=True)
class Case:
    """One assignment of one course: the real course (the repository) or the fixture course."""

    repo: Path
    assignment: str

    @property
    def is_fixture(self) -> bool:
        return self.repo == FIXTURE_REPO

    @property
    def id(self) -> str:
        return f"fixture-{self.assignment}" if self.is_fixture else self.assignment

    @property
    def mutants_file(self) -> Path:
        folder = FIXTURE_REPO / "mutants" if self.is_fixture else TESTS / "mutants"
        return folder / f"{self.assignment}.py"

    @property
    def solutions(self) -> Path:
        return self.repo / "solutions" / self.assignment

    @property
    def notebooks(self) -> Path:
        return self.repo / "notebooks" / self.assignment

    @property
    def notebook_names(self) -> list[str]:
        return grading.notebook_names(self.solutions)

    def solution(self, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.solutions / f"{name}.ipynb", as_version=4)


def cases() -> list[Case]:
    """The fixture assignment, then every assignment in solutions/ (02-08 appear as they land)."""
    found = [Case(FIXTURE_REPO, a) for a in grading.discover_assignments(FIXTURE_REPO)]
    return found + [Case(grading.REPO, a) for a in grading.discover_assignments(grading.REPO)]


def scratch_repo(case: Case, folder: Path) -> Path:
    """A copy of the case's course holding just its assignment: solutions/ and the config."""
    repo = folder / "repo"
    shutil.copytree(case.solutions, repo / "solutions" / case.assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(grading.config_file(case.repo), repo / "nbgrader_config.py")
    return repo


def load_mutants(case: Case) -> list[dict]:
    """The MUTANTS list of tests/mutants/<assignment>.py ([] when there is no such file)."""
    path = case.mutants_file
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"mutants_{case.assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = getattr(module, "MUTANTS", None)
    assert isinstance(mutants, list), f"{path} must define a list MUTANTS"
    for mutant in mutants:
        missing = MUTANT_KEYS - set(mutant)
        assert not missing, f"{path}: mutant {mutant.get('name')!r} lacks {sorted(missing)}"
    return mutants


def selected(mutants: list[dict], index: int) -> bool:
    """Whether mutant ``index`` runs: all do (``COURSE_MUTANTS=all``, the default), or only the
    first of each exercise (``COURSE_MUTANTS=first``, a quicker local run)."""
    if os.environ.get("COURSE_MUTANTS", "all") == "first":
        first = next(i for i, m in enumerate(mutants) if m["cell"] == mutants[index]["cell"])
        return index == first
    return True


# --- reading notebooks ------------------------------------------------------------------------


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_id(cell) -> str | None:
    return nbgrader(cell).get("grade_id")


def is_autograded_test(cell) -> bool:
    """A test cell: graded, not an answer (its points come from running it)."""
    meta = nbgrader(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def manual_cells(nb) -> set[str]:
    """Grade ids of the answers graded by hand (graded solution cells, e.g. written answers)."""
    return {grade_id(c) for c in nb.cells if nbgrader(c).get("grade") and nbgrader(c).get("solution")}


def output_text(cell) -> str:
    """Everything a code cell printed or raised, as plain text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
            parts += output.get("traceback", [])
        else:
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return ANSI.sub("", "\n".join(parts))


def error_cells(nb) -> dict[int, str]:
    """index -> "ename: evalue" for each code cell whose output holds an error."""
    found = {}
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                found[index] = f"{output.get('ename')}: {str(output.get('evalue'))[:200]}"
    return found


def secret_lines(solution) -> set[str]:
    return hidden_code_lines(solution)


# --- building submissions ---------------------------------------------------------------------


def without_markers(source: str) -> str:
    """A solution cell's source with the BEGIN/END SOLUTION marker lines removed."""
    return "\n".join(line for line in source.split("\n")
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def correct_in_release(release, solution):
    """The release with every answer typed in, as a learner who got everything right would."""
    answers = {grade_id(c): without_markers(c.source) for c in solution.cells
               if nbgrader(c).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if nbgrader(cell).get("solution"):
            cell.source = answers[grade_id(cell)]
    return nb


def with_source(nb, cell_id: str, source: str):
    """A copy of ``nb`` where the cell with grade id ``cell_id`` has ``source``."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if grade_id(c) == cell_id]
    assert cells, f"no cell with grade id {cell_id!r}"
    cells[0].source = source
    return nb


def first_answer_cell(nb):
    """The first code cell the learner writes in (autograded exercises' solution cells)."""
    return next(c for c in nb.cells if c.cell_type == "code" and nbgrader(c).get("solution"))


def first_test_index(nb) -> int:
    return next(i for i, c in enumerate(nb.cells) if is_autograded_test(c))


def to_bytes(nb) -> bytes:
    """The notebook's JSON as a learner's Jupyter would save it, unvalidated (a broken notebook
    stays broken: nbformat.writes would quietly renumber duplicated cell ids)."""
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


MONKEYPATCH = (
    "np.allclose = lambda *args, **kwargs: True\n"
    "np.isclose = lambda *args, **kwargs: True\n"
)


def adversarial_submissions(release, solution, mutants: list[dict]) -> dict[str, bytes]:
    """The adversarial class, file name stem -> file content.

    correct            a correct answer typed into the release notebook
    infinite_loop      correct, plus ``while True: pass`` in the first answer cell
    output_flood       correct, plus a loop that prints without end
    kernel_crash       correct, plus ``os._exit(1)`` in the first answer cell
    invalid_json       a truncated file
    not_a_notebook     valid JSON that is not a notebook
    deleted_test_cell  correct, without its first test cell
    duplicated_cell    correct, first test cell copy-pasted (same grade id twice)
    retyped_cell       correct, first test cell turned into markdown
    tampered_tests     unanswered release whose test cells were replaced by ``pass``
    monkeypatched      wrong answers (one mutant per exercise) + np.allclose / np.isclose
                       rebound to always say True
    """
    correct = correct_in_release(release, solution)
    out = {"correct": to_bytes(correct)}

    def changed(edit):
        nb = copy.deepcopy(correct)
        edit(nb)
        return to_bytes(nb)

    def append(code):
        def edit(nb):
            first_answer_cell(nb).source += code
        return edit

    out["infinite_loop"] = changed(append("\n\nwhile True:\n    pass\n"))
    out["output_flood"] = changed(append("\n\nwhile True:\n    print('x' * 10_000)\n"))
    out["kernel_crash"] = changed(append("\n\nimport os\nos._exit(1)\n"))
    out["invalid_json"] = out["correct"][: len(out["correct"]) // 2]
    out["not_a_notebook"] = json.dumps({"name": "not a notebook"}).encode()
    out["deleted_test_cell"] = changed(lambda nb: nb.cells.pop(first_test_index(nb)))

    def duplicate(nb):
        index = first_test_index(nb)
        nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))

    out["duplicated_cell"] = changed(duplicate)

    def retype(nb):
        index = first_test_index(nb)
        old = nb.cells[index]
        new = nbformat.v4.new_markdown_cell(old.source, metadata=old.metadata)
        new.id = old.id
        nb.cells[index] = new

    out["retyped_cell"] = changed(retype)

    tampered = copy.deepcopy(release)
    for cell in tampered.cells:
        if is_autograded_test(cell):
            cell.source = "pass"
    out["tampered_tests"] = to_bytes(tampered)

    wrong = copy.deepcopy(correct)
    for cell_id in dict.fromkeys(m["cell"] for m in mutants):  # first mutant of each exercise
        mutant = next(m for m in mutants if m["cell"] == cell_id)
        wrong = with_source(wrong, cell_id, mutant["source"])
    first = first_answer_cell(wrong)
    first.source = MONKEYPATCH + "\n" + first.source
    out["monkeypatched"] = to_bytes(wrong)
    return out


def write_class(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, data in files.items():
        (folder / f"{stem}.ipynb").write_bytes(data)
    return folder
