"""The instructor's tools (course_lib.grading): collecting, pre-cleaning, monkeypatch detection,
feedback scrubbing, clear errors, and the adversarial class run through the ``grade`` command.

The adversarial class (built by ``grading_helpers.adversarial_submissions`` from the release and
the solution, so it follows the notebook when it changes) runs against the fixture assignment and
against every real assignment named in ``ADVERSARIAL`` that exists in solutions/.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from grading_helpers import (
    FIXTURE_REPO,
    Case,
    adversarial_submissions,
    grade_id,
    is_autograded_test,
    load_mutants,
    manual_cells,
    secret_lines,
)

from course_lib import grading
from course_lib.grading.integrity import preclean, read_submission
from course_lib.grading.monkeypatching import scan_monkeypatching
from course_lib.grading.uploads import CollectError, group_by_student, read_source, slug

FIXTURE = Case(FIXTURE_REPO, "00_fixture")
ADVERSARIAL = ["01_forward_propagation"]  # real notebooks the adversarial class also runs on
JOBS = max(2, os.cpu_count() or 2)


def fixture_notebooks():
    release = nbformat.read(FIXTURE.notebooks / "fixture.ipynb", as_version=4)
    return release, FIXTURE.solution("fixture")


# --- collecting -------------------------------------------------------------------------------


def ids(paths):
    return {u.student: (u.original_name, sorted(u.files)) for u in group_by_student(
        {p: b"{}" for p in paths})}


def test_plain_files_and_folders_name_the_learner():
    assert ids(["alice.ipynb", "Bob Smith.ipynb"]) == {
        "alice": ("alice.ipynb", ["alice.ipynb"]),
        "bob_smith": ("Bob Smith.ipynb", ["Bob Smith.ipynb"])}
    assert set(ids(["alice/fp.ipynb", "bob/fp.ipynb"])) == {"alice", "bob"}
    assert set(ids(["class/alice.ipynb", "class/bob.ipynb"])) == {"alice", "bob"}


def test_lms_names_give_stable_ids_and_keep_the_original():
    found = ids(["smithjohn_12345_67890_forward_propagation.ipynb",
                 "doejane_late_222_333_forward_propagation-1.ipynb",
                 "Student Name_12345_assignsubmission_file_/x.ipynb",
                 "José Müller_777_assignsubmission_file_/forward_propagation.ipynb"])
    assert found["smithjohn"][0] == "smithjohn"
    assert found["doejane"][0] == "doejane"
    assert found["student_name"] == ("Student Name",
                                     ["Student Name_12345_assignsubmission_file_/x.ipynb"])
    assert "jose_muller" in found
    # two different people whose names give the same id are told apart by their LMS number
    twins = ids(["smithjohn_1_5_a.ipynb", "smithjohn_2_6_a.ipynb"])
    assert set(twins) == {"smithjohn_1", "smithjohn_2"}
    assert slug("李雷") == ""
    assert set(ids(["李雷_12_assignsubmission_file_/x.ipynb"])) == {"student_12"}


def test_a_zip_is_read_in_memory_skipping_mac_and_hidden_files(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("__MACOSX/._alice.ipynb", "junk")
        zf.writestr(".ipynb_checkpoints/alice-checkpoint.ipynb", "{}")
        zf.writestr("../../evil.ipynb", "{}")  # a crafted path: skipped, never written
        zf.writestr("alice.ipynb", "{}")
    assert sorted(read_source(archive)) == ["alice.ipynb"]
    assert not (tmp_path.parent / "evil.ipynb").exists()


@pytest.mark.parametrize(("make", "words"), [
    (lambda d: d / "missing", "does not exist"),
    (lambda d: _zip(d, {"readme.txt": "hi"}), "contains no .ipynb files"),
    (lambda d: (d / "notes.txt").write_text("x") and d / "notes.txt", "neither a folder"),
])
def test_bad_sources_are_one_clear_sentence(tmp_path, make, words):
    with pytest.raises(CollectError) as caught:
        read_source(make(tmp_path))
    assert words in str(caught.value) and "\n" not in str(caught.value)


def _zip(folder, files):
    path = folder / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


# --- reading and pre-cleaning -----------------------------------------------------------------


@pytest.mark.parametrize(("data", "words"), [
    (b'{"cells": [', "not valid JSON"),
    (b'{"name": "x"}', "not a Jupyter notebook"),
    (b"\xff\xfe\x00garbage", "not text"),
])
def test_unreadable_files_are_named(data, words):
    notebook, problem = read_submission(data)
    assert notebook is None and words in problem


def test_preclean_repairs_and_reports_every_cell_change():
    release, _ = fixture_notebooks()
    sub = copy.deepcopy(release)
    cells = {grade_id(c): c for c in sub.cells if grade_id(c)}
    cells["double"].source = "def double(x):\n    return 2 * x"
    test = cells["test_double"]
    test.source = "pass"  # tampered
    dup = copy.deepcopy(test)
    sub.cells.insert(sub.cells.index(test) + 1, dup)  # duplicated (same grade and cell id)
    sub.cells.remove(cells["test_softmax_rows_hidden"])  # deleted
    visible = cells["test_softmax_rows_visible"]
    retyped = nbformat.v4.new_markdown_cell(visible.source, metadata=visible.metadata)
    sub.cells[sub.cells.index(visible)] = retyped  # retyped
    cells["written_softmax_shift"].metadata.nbgrader["points"] = 100  # metadata edited
    stray = nbformat.v4.new_code_cell("x = 1")
    stray.metadata.nbgrader = {"grade_id": "made_up", "grade": True, "points": 5}
    sub.cells.append(stray)

    cleaned, found = preclean(json.loads(json.dumps(sub)), release)
    nbformat.validate(cleaned)
    assert found.tampered == ["test_double"]
    assert found.duplicated == ["test_double"]
    assert found.deleted == ["test_softmax_rows_hidden"]
    assert found.retyped == ["test_softmax_rows_visible"]
    assert found.metadata_changed == ["written_softmax_shift"]
    assert found.unknown_cells == ["made_up"]
    order = [grade_id(c) for c in cleaned.cells if grade_id(c)]
    assert order == [grade_id(c) for c in release.cells if grade_id(c)], "one copy each, in order"
    assert len({c.id for c in cleaned.cells}) == len(cleaned.cells), "cell ids are unique again"
    restored = next(c for c in cleaned.cells if grade_id(c) == "test_softmax_rows_hidden")
    assert restored.cell_type == "code"
    assert cleaned.cells[-1].source == "x = 1" and "nbgrader" not in cleaned.cells[-1].metadata


def test_a_duplicated_answer_keeps_the_copy_the_learner_wrote_in():
    release, _ = fixture_notebooks()
    sub = copy.deepcopy(release)
    answer = next(c for c in sub.cells if grade_id(c) == "double")
    copy_ = copy.deepcopy(answer)
    copy_.source = "def double(x):\n    return 2.0 * x"
    sub.cells.insert(sub.cells.index(answer) + 1, copy_)
    cleaned, found = preclean(json.loads(json.dumps(sub)), release)
    kept = next(c for c in cleaned.cells if grade_id(c) == "double")
    assert found.duplicated == ["double"] and "2.0 * x" in kept.source


# --- monkeypatching ---------------------------------------------------------------------------


REBINDS = [
    "np.allclose = lambda *a, **k: True",
    "numpy.isclose = lambda *a, **k: True",
    "setattr(np, 'allclose', f)",
    "np.testing.assert_allclose = f",
    "t = np.testing\nt.assert_allclose = f",
    "import numpy.testing as nt\nnt.assert_allclose = f",
    "checks.check_close = f",
    "import course_lib.checks as cc\ncc.check_close = f",
    "from course_lib import checks as c2\nc2.call = f",
    "import builtins\nbuiltins.print = f",
    "__builtins__.print = f",
    "__builtins__['abs'] = f",
    "np = FakeNumpy()",
    "import cupy as np",
    "def f():\n    np.allclose = g",
    "vars(np)['allclose'] = f",
    "np.__dict__['isclose'] = f",
    "import sys\nsys.modules['numpy'].allclose = f",
    "import sys\nsys.modules['course_lib.checks'] = f",
    "from unittest import mock\nmock.patch('numpy.allclose', f).start()",
    "exec('np.allclose = f')",
    "exec(code)",
    "%matplotlib inline\nnp.isclose = f",
    "np.isclose = f\ndef broken(:",  # does not parse: the text fallback still sees it
    "globals()['np'] = f",
    "def g():\n    global np\n    np = f",
]
INNOCENT = [
    "import numpy as np\nx = np.allclose(a, b)\nif np.isclose(1, 1):\n    pass",
    "W = np.zeros(3)\nW[0] = 1\nsum = 0",
    "np.random.seed(0)\nrng = np.random.default_rng(0)",
    "from course_lib import checks\nchecks.try_it(f, 1)",
]


def _notebook_with(source: str):
    setup = nbformat.v4.new_code_cell("import numpy as np\nfrom course_lib import checks")
    setup.metadata.nbgrader = {"grade_id": "setup", "locked": True, "grade": False,
                               "solution": False}
    return nbformat.v4.new_notebook(cells=[setup, nbformat.v4.new_code_cell(source)])


@pytest.mark.parametrize("source", REBINDS)
def test_rebinding_checking_functions_is_found(source):
    found = scan_monkeypatching(_notebook_with(source))
    assert found, f"not flagged: {source!r}"
    assert found[0]["cell"] == 1 and found[0]["line"] >= 1


@pytest.mark.parametrize("source", INNOCENT)
def test_ordinary_code_is_not_flagged(source):
    assert scan_monkeypatching(_notebook_with(source)) == []


def test_checks_resist_rebound_numpy(monkeypatch):
    """Hidden checks built on course_lib.checks still fail a wrong answer after np.allclose,
    np.isclose and np.testing are rebound (the checks captured what they need at import)."""
    from course_lib import checks

    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isclose", lambda *a, **k: np.ones(np.shape(a[0]), dtype=bool))
    monkeypatch.setattr(np.testing, "assert_allclose", lambda *a, **k: None)
    with pytest.raises(checks.CheckFailed):
        checks.check_close("answer", np.array([1.0, 2.0]), np.array([1.0, 3.0]))


# --- feedback scrubbing -----------------------------------------------------------------------


def test_scrubbing_removes_hidden_tests_and_the_tracebacks_that_quote_them():
    from course_lib.grading.autograde import ScrubHiddenTests

    _, solution = fixture_notebooks()
    nb = copy.deepcopy(solution)
    cell = next(c for c in nb.cells if grade_id(c) == "test_softmax_rows_hidden")
    secret = sorted(secret_lines(solution))
    cell.outputs = [nbformat.v4.new_output(
        "error", ename="CheckFailed", evalue="softmax_rows on large values: not finite",
        traceback=["----> 3 " + secret[0], "CheckFailed: softmax_rows on large values"])]
    scrubbed, _ = ScrubHiddenTests().preprocess(nb, {})
    text = json.dumps(scrubbed)
    assert not [line for line in secret if line in text]
    assert "softmax_rows on large values: not finite" in text, "the check's message stays"


# --- command line: one clear sentence for bad input --------------------------------------------


def run_cli(capsys, *argv):
    code = grading.main(["--repo", str(FIXTURE_REPO), *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_assignment_is_one_sentence(tmp_path, capsys):
    code, _, err = run_cli(capsys, "grade", tmp_path, "-a", "99_nope", "--course", tmp_path / "c")
    assert code == 2
    assert err.strip() == "error: unknown assignment '99_nope'; the course has: 00_fixture."
    assert not (tmp_path / "c").exists(), "nothing is created for bad input"


def test_a_zip_without_notebooks_is_one_sentence(tmp_path, capsys):
    archive = _zip(tmp_path, {"notes/readme.md": "no notebooks here"})
    code, _, err = run_cli(capsys, "collect", archive, "-a", "00_fixture",
                           "--course", tmp_path / "c")
    assert code == 2 and "contains no .ipynb files" in err and err.count("\n") == 1


def test_the_course_folder_cannot_be_inside_solutions(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text("{}")
    code, _, err = run_cli(capsys, "grade", tmp_path, "-a", "00_fixture", "--course",
                           FIXTURE_REPO / "solutions" / "grading")
    assert code == 2 and "must not be the repository" in err
    assert not (FIXTURE_REPO / "solutions" / "grading").exists()


def test_export_of_a_missing_course_folder_is_one_sentence(tmp_path, capsys):
    code, _, err = run_cli(capsys, "export", "--course", tmp_path / "none")
    assert code == 2 and "is not a course folder yet" in err


# --- the adversarial class through the grade command --------------------------------------------


def _adversarial_cases():
    real = [Case(grading.REPO, a) for a in ADVERSARIAL
            if a in grading.discover_assignments(grading.REPO)]
    return [FIXTURE, *real]


@pytest.fixture(scope="module", params=_adversarial_cases(), ids=lambda c: c.id)
def adversarial(request, tmp_path_factory):
    """The adversarial class, uploaded as a Canvas zip, graded once per case by ``grade``."""
    case = request.param
    folder = tmp_path_factory.mktemp(f"adversarial-{case.id}")
    name = case.notebook_names[0]
    release_file = case.notebooks / f"{name}.ipynb"
    if not release_file.exists():  # a notebook not released yet: release it in a scratch copy
        from grading_helpers import scratch_repo

        grading.release([case.assignment], repo=scratch_repo(case, folder))
        release_file = folder / "repo" / "notebooks" / case.assignment / f"{name}.ipynb"
    release = nbformat.read(release_file, as_version=4)
    files = adversarial_submissions(release, case.solution(name), load_mutants(case))
    archive = folder / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for number, (stem, data) in enumerate(sorted(files.items()), start=1):
            zf.writestr(f"{stem.replace('_', '')}_{100 + number}_{900 + number}_{name}.ipynb", data)
    course = folder / "grading"
    timeout = 5 if case.is_fixture else 10  # 01's slowest cell takes under a second
    out = io.StringIO()
    grading.grade(archive, case.assignment, course=course, repo=case.repo, timeout=timeout,
                  jobs=JOBS, figures=False, echo=lambda *a: print(*a, file=out))
    reports = {p.stem: json.loads(p.read_text())
               for p in (course / "reports" / case.assignment).glob("*.json")}
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return case, files, course, reports, rows, out.getvalue()


def _student(stem):
    return stem.replace("_", "")


@pytest.mark.slow
def test_the_batch_finishes_with_a_row_and_a_report_for_everyone(adversarial):
    case, files, course, reports, rows, printed = adversarial
    assert {_student(s) for s in files} == set(rows) == set(reports)
    assert "student" in printed and "to review by hand" in printed, "the summary table is printed"
    assert (course / "reports" / case.assignment / "summary.md").exists()


@pytest.mark.slow
def test_the_correct_answer_gets_full_marks(adversarial):
    case, _, _, reports, rows, _ = adversarial
    report = reports["correct"]
    manual = manual_cells(case.solution(case.notebook_names[0]))
    short = {c: g for c, g in report["grades"].items()
             if c not in manual and g["score"] != g["max_score"]}
    assert report["status"] == "graded" and not short, (short, report["flags"])
    assert not report["needs_review"] and rows["correct"]["needs_review"] == "no"


@pytest.mark.slow
@pytest.mark.parametrize(("student", "flag"), [
    ("invalidjson", "invalid file"), ("notanotebook", "invalid file"),
    ("kernelcrash", "kernel crash"), ("infiniteloop", "timeout"),
    ("deletedtestcell", "deleted"), ("duplicatedcell", "duplicated"),
    ("retypedcell", "retyped"), ("tamperedtests", "tampered"),
    ("monkeypatched", "monkeypatching"),
])
def test_each_oddity_is_flagged(adversarial, student, flag):
    _, _, _, reports, rows, _ = adversarial
    assert any(f.startswith(flag) for f in reports[student]["flags"]), reports[student]["flags"]
    assert flag in rows[student]["flags"]


@pytest.mark.slow
def test_broken_files_score_zero_and_go_to_review(adversarial):
    case, _, _, reports, rows, _ = adversarial
    for student in ("invalidjson", "notanotebook", "kernelcrash"):
        assert rows[student][case.assignment] == "0", rows[student]
        assert reports[student]["needs_review"], reports[student]["flags"]


@pytest.mark.slow
def test_a_learner_whose_file_could_not_be_graded_gets_a_feedback_page(adversarial):
    import html

    _, _, course, reports, _, _ = adversarial
    for student in ("invalidjson", "notanotebook"):
        report = reports[student]
        assert report["feedback"], report
        text = (course / report["feedback"]).read_text(encoding="utf-8")
        assert "could not be graded" in text
        assert html.escape(report["findings"]["invalid"]) in text


@pytest.mark.slow
def test_repaired_submissions_are_graded_as_if_intact(adversarial):
    """A deleted, duplicated or retyped test cell is put back: the correct answers keep full
    marks; tampered test cells are restored, so tampering earns nothing."""
    case, _, _, reports, _, _ = adversarial
    full = reports["correct"]["score"]
    for student in ("deletedtestcell", "duplicatedcell", "retypedcell", "infiniteloop",
                    "outputflood"):
        assert reports[student]["status"] == "graded", reports[student]["flags"]
        assert reports[student]["score"] == full, (student, reports[student]["grades"])
    assert reports["tamperedtests"]["score"] == 0


@pytest.mark.slow
def test_an_output_flood_is_cut_short(adversarial):
    """A loop that prints forever keeps 1 MB of output (the grader's memory stays bounded)."""
    case, _, course, _, _, _ = adversarial
    notebook = next((course / "autograded" / "outputflood").rglob("*.ipynb"))
    assert notebook.stat().st_size < 3_000_000


@pytest.mark.slow
def test_monkeypatching_never_gets_full_marks_silently(adversarial):
    case, _, _, reports, rows, _ = adversarial
    report = reports["monkeypatched"]
    assert report["needs_review"] and rows["monkeypatched"]["needs_review"] == "yes"
    assert any("numpy.allclose" in f for f in report["flags"]), report["flags"]
    if load_mutants(case):  # its answers are wrong: checks built on course_lib.checks see it
        assert report["score"] < reports["correct"]["score"], report["grades"]


@pytest.mark.slow
def test_no_feedback_file_shows_hidden_tests(adversarial):
    case, _, course, reports, _, _ = adversarial
    secret = secret_lines(case.solution(case.notebook_names[0]))
    assert secret, "the notebook has hidden tests to protect"
    files = sorted((course / "feedback").rglob("*.html"))
    # Graded learners get nbgrader's page; one whose file could not be graded gets a page
    # saying why (test_a_learner_whose_file_could_not_be_graded_gets_a_feedback_page).
    assert {f.parts[-3] for f in files} == set(reports), "every learner gets feedback"
    for path in files:
        assert grading.feedback_leaks(path, secret) == [], path
    withheld = [s for s, r in reports.items() if any("withheld" in f for f in r["flags"])]
    assert not withheld, "the scrubber let hidden tests through"


@pytest.mark.slow
def test_uploads_are_kept_as_received(adversarial):
    case, files, course, _, _, _ = adversarial
    originals = sorted((course / "originals" / case.assignment).rglob("*.ipynb"))
    assert len(originals) == len(files), "every upload is kept as received"
    assert (course / ".gitignore").read_text().strip().endswith("*")


def test_autograded_test_cells_are_recognised():
    _, solution = fixture_notebooks()
    assert [grade_id(c) for c in solution.cells if is_autograded_test(c)] == [
        "test_double", "test_softmax_rows_visible", "test_softmax_rows_hidden"]


@pytest.mark.slow
def test_a_hang_past_every_timeout_is_stopped_and_regrading_keeps_manual_grades(tmp_path):
    """A learner whose kernel ignores interrupts is stopped at the per-submission limit and the
    next learner is graded by a fresh worker; grading again keeps manual grades and every
    learner collected before.

    The limits leave the correct learner ten times its usual 2 s, so a busy machine cannot make
    it time out: the hang is told apart by never finishing, not by the others finishing fast.
    After the cell timeout nbgrader interrupts (ignored here), waits 4 s for output and shuts
    the kernel down, about 7 s in all: the pool must stop the hang before that, so the cell
    timeout sits 4 s under the submission limit (the limit counts from the submission's start,
    the cell timeout from the cell's).
    """
    from nbgrader.api import Gradebook

    release, solution = fixture_notebooks()
    correct = json.loads(adversarial_submissions(release, solution, [])["correct"])
    hang = copy.deepcopy(correct)
    answer = next(c for c in hang["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    answer["source"] += ("\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                         "while True:\n    pass\n")
    first = tmp_path / "first"
    first.mkdir()
    (first / "a_hang.ipynb").write_text(json.dumps(hang))
    (first / "b_correct.ipynb").write_text(json.dumps(correct))
    course = tmp_path / "grading"
    run = grading.grade(first, "00_fixture", course=course, repo=FIXTURE_REPO, timeout=16,
                        jobs=1, submission_limit=20, figures=False, echo=lambda *a: None)
    result = {s.student: s for s in run.submissions}
    assert result["a_hang"].status == "failed" and result["a_hang"].needs_review
    assert "stopped after 20 s" in result["a_hang"].grading_error, result["a_hang"].grading_error
    auto_full = result["b_correct"].score
    assert result["b_correct"].status == "graded" and auto_full == 5

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # the formgrader's work
        grade = gb.find_grade("written_softmax_shift", "fixture", "00_fixture", "b_correct")
        grade.manual_score = 1.0
        gb.db.commit()
    second = tmp_path / "second"
    second.mkdir()
    (second / "b_correct.ipynb").write_text(json.dumps(correct))
    for force in (False, True):  # the same notebook: kept as graded, then regraded anyway
        again = grading.grade(second, "00_fixture", course=course, repo=FIXTURE_REPO,
                              timeout=10, jobs=1, figures=False, force=force,
                              echo=lambda *a: None)
        assert [s.reused for s in again.submissions] == [not force]
        with open(course / "grades.csv", newline="") as handle:
            rows = {row["student"]: row for row in csv.DictReader(handle)}
        assert rows["b_correct"]["00_fixture"] == "6", "the manual grade survives regrading"
        assert rows["a_hang"]["needs_review"] == "yes", "a learner collected earlier keeps a row"
    assert len(list((course / "originals" / "00_fixture" / "b_correct").iterdir())) == 1
    grading.write_feedback("00_fixture", course, ["b_correct"])  # the README's next step
    html = next((course / "feedback" / "b_correct").rglob("*.html")).read_text()
    assert "Score: 6.0 / 6.0" in html or "6.0 / 6.0" in html


class _FlakyKernelAPI:
    """nbgrader's API as the worker sees it, whose kernels fail to start ``failures`` times."""

    def __init__(self, failures, error="RuntimeError: Kernel didn't respond in 60 seconds"):
        self.failures, self.error, self.calls = failures, error, 0

    def autograde(self, assignment, student, force, create):
        self.calls += 1
        if self.calls <= self.failures:
            return {"success": False, "log": "[AutogradeApp | ERROR] ...", "error": self.error}
        return {"success": True, "log": "graded", "error": ""}


def test_a_kernel_that_did_not_start_is_graded_once_more():
    """A kernel that never came up (no learner code ran) is the machine's fault: the worker tries
    that learner once more; a second failure, or any other failure, is reported as it is."""
    from course_lib.grading.learner import autograde

    once = _FlakyKernelAPI(failures=1)
    assert autograde(once, "a", "s")["success"] and once.calls == 2
    twice = _FlakyKernelAPI(failures=2)
    assert not autograde(twice, "a", "s")["success"] and twice.calls == 2
    other = _FlakyKernelAPI(failures=1, error="CellTimeoutError: a cell timed out")
    assert not autograde(other, "a", "s")["success"] and other.calls == 1



def test_after_a_timeout_every_later_cell_gets_a_short_limit_within_the_notebooks():
    """The limits the README states: 60 s a cell; after a first timeout, a twentieth (at least
    3 s); never past the notebook's own limit of five cell timeouts."""
    import time

    from nbformat.v4 import new_code_cell

    from course_lib.grading.autograde import CappedExecute

    ex = CappedExecute(timeout=60)
    cell = new_code_cell("f()")
    ex._end, ex._timed_out = time.monotonic() + 5 * 60, False
    assert ex._get_timeout(cell) == 60
    ex._timed_out = True
    assert ex.short_timeout() == 3 and ex._get_timeout(cell) == 3
    ex._end = time.monotonic() + 1.5
    assert ex._get_timeout(cell) == 2  # what is left of the notebook's 300 s, rounded up
    assert CappedExecute(timeout=20).short_timeout() == 3
    assert CappedExecute(timeout=100).short_timeout() == 5
    assert CappedExecute(timeout=20, timeout_after_timeout=2).short_timeout() == 2


def _small_class(folder: Path, learners=("ann", "ben", "cat")) -> Path:
    source = FIXTURE_REPO / "solutions" / "00_fixture" / "fixture.ipynb"
    for name in learners:
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "fixture.ipynb").write_bytes(source.read_bytes())
    return folder


def _grade_fixture(src, course, **kwargs):
    lines = []
    kwargs.setdefault("echo", lines.append)
    run = grading.grade(src, "00_fixture", course, repo=FIXTURE_REPO, jobs=2, figures=False,
                        timeout=20, **kwargs)
    return run, lines


class _NoPool:
    def run(self, students, on_result):
        raise AssertionError(f"{students} were sent to a worker")

    def close(self):
        pass


@pytest.mark.slow
def test_a_regrade_redoes_only_what_changed(tmp_path, monkeypatch):
    from course_lib.grading import pool as pool_module

    src, course = _small_class(tmp_path / "class"), tmp_path / "grading"
    first, _ = _grade_fixture(src, course)
    autograded = course / "autograded" / "ann" / "00_fixture" / "fixture.ipynb"
    stamp = autograded.stat().st_mtime_ns
    release = course / "release" / "00_fixture" / "fixture.ipynb"
    released = release.stat().st_mtime_ns
    started = []
    monkeypatch.setattr(pool_module, "_Pool", lambda *a: started.append(a) or _NoPool())
    second, lines = _grade_fixture(src, course)
    assert "Grading 0 of 3" in lines[0] and "3 unchanged" in lines[0]
    assert all(s.reused and s.status == "graded" for s in second.submissions)
    assert ({s.student: s.score for s in second.submissions}
            == {s.student: s.score for s in first.submissions})
    assert ({s.student: s.findings for s in second.submissions}
            == {s.student: s.findings for s in first.submissions}), "kept, not scanned again"
    assert autograded.stat().st_mtime_ns == stamp, "an unchanged learner is not run again"
    assert release.stat().st_mtime_ns == released, "the same source is not generated again"
    assert not started, "no grading worker starts when no learner needs grading"
    monkeypatch.undo()
    # One learner changes their answer: only they are graded again.
    notebook = src / "ben" / "fixture.ipynb"
    notebook.write_text(notebook.read_text().replace("2.0 * np.asarray", "3.0 * np.asarray"))
    third, lines = _grade_fixture(src, course)
    assert "Grading 1 of 3" in lines[0]
    scores = {s.student: s.score for s in third.submissions}
    assert scores["ben"] < scores["ann"] == scores["cat"]
    fourth, lines = _grade_fixture(src, course, force=True)
    assert "Grading 3 of 3" in lines[0] and not any(s.reused for s in fourth.submissions)
    assert autograded.stat().st_mtime_ns != stamp


def test_the_release_is_generated_again_only_when_its_source_settings_or_gradebook_change(
        tmp_path, monkeypatch):
    from course_lib.grading import autograde
    from course_lib.grading.common import init_course_folder

    course = init_course_folder(tmp_path / "grading", "00_fixture", FIXTURE_REPO)
    runs = []

    def generate(api, assignment):  # what nbgrader leaves: the release and the gradebook
        runs.append(assignment)
        (course / "release" / assignment).mkdir(parents=True, exist_ok=True)
        (course / "release" / assignment / "fixture.ipynb").write_text(f"run {len(runs)}")
        (course / "gradebook.db").write_text("db")

    monkeypatch.setattr(autograde, "generate_assignment", generate)
    monkeypatch.setattr(autograde, "make_api", lambda config: None)

    def again():
        return autograde.generate_if_changed(course, "00_fixture", config=None)

    assert again() and not again() and len(runs) == 1
    source = course / "source" / "00_fixture" / "fixture.ipynb"
    source.write_bytes(source.read_bytes() + b" ")
    assert again() and not again() and len(runs) == 2
    (course / "gradebook.db").unlink()
    assert again() and len(runs) == 3
    (course / "release" / "00_fixture" / "fixture.ipynb").write_text("edited by hand")
    assert again() and len(runs) == 4
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text() + "\nc.ExecutePreprocessor.timeout = 5\n")
    assert again() and not again() and len(runs) == 5


class _Interrupted(Exception):
    pass


@pytest.mark.slow
def test_an_interrupted_batch_resumes_where_it_stopped(tmp_path):
    src, course = _small_class(tmp_path / "class"), tmp_path / "grading"
    seen = []

    def stop_after_first(line):
        if line.startswith("  "):  # a learner's line: they are graded and recorded
            seen.append(line.split(":")[0].strip())
            raise _Interrupted  # as Ctrl-C would, in the middle of the batch

    with pytest.raises(_Interrupted):
        _grade_fixture(src, course, echo=stop_after_first)
    assert len(seen) == 1
    assert not (course / "grades.csv").exists(), "no CSV from a batch that did not finish"
    run, lines = _grade_fixture(src, course)
    assert "Grading 2 of 3" in lines[0] and "1 unchanged" in lines[0]
    reused = [s.student for s in run.submissions if s.reused]
    assert reused == seen
    assert all(s.status == "graded" and s.score == 5 for s in run.submissions)
    with open(run.csv, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 3


def test_the_progress_bar_says_done_total_rate_and_time_left():
    import io

    from course_lib.grading.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    bar = Progress(4, print, stream=screen)
    bar.started -= 10.0  # as if two learners took 10 s
    bar.done("ann", "graded", 4.0)
    bar.done("ben", "FAILED", 6.0)
    line = bar.line()
    assert "2/4" in line and "0.20/s" in line and "10 s left" in line and "1 failed" in line
    assert "ben: FAILED" in screen.getvalue()
    plain = []
    quiet = Progress(2, plain.append)  # not print, or not a terminal: a line per learner
    quiet.done("ann", "graded", 4.0)
    assert plain == ["  ann: graded (4.0 s)"]


def test_feedback_without_images_keeps_the_text_and_drops_the_figures():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from course_lib.grading.autograde import DropImages

    figure = new_output("display_data", data={"image/png": "iVBORw0KGgo=",
                                              "text/plain": "<Figure size 640x480>"})
    only_image = new_output("display_data", data={"image/svg+xml": "<svg/>"})
    text = new_output("stream", name="stdout", text="loss 0.25\n")
    nb = new_notebook(cells=[new_code_cell("plot()", outputs=[figure, only_image, text])])
    nb, _ = DropImages().preprocess(nb, {})
    outputs = nb.cells[0].outputs
    assert outputs[0].data == {"text/plain": "<Figure size 640x480>"}
    assert outputs[1].data == {"text/plain": "[figure left out of this feedback]"}
    assert outputs[2].text == "loss 0.25\n"
