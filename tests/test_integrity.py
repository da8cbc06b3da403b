"""What a class can slip past the grader, and what the instructor then sees: symlinks and crafted
names in an upload, formulas in the grade CSV, course_lib's own answer handed in as the learner's,
code that reaches into IPython or the import system, and answers left in the published copy.

Fast: in-process functions only, no nbgrader grading run. Every expected value is written by hand.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from grading_helpers import FIXTURE_REPO

from course_lib.grading.borrowing import graded_names, scan_borrowing
from course_lib.grading.collect import collect_files
from course_lib.grading.report import Submission
from course_lib.grading.uploads import read_source

FIXTURE_RELEASE = FIXTURE_REPO / "notebooks" / "00_fixture" / "fixture.ipynb"
HONEST = FIXTURE_RELEASE.read_bytes()


def _course(tmp_path: Path) -> Path:
    """A course folder that collect_files can fill: just the fixture's release."""
    course = tmp_path / "course"
    (course / "release" / "00_fixture").mkdir(parents=True)
    shutil.copy(FIXTURE_RELEASE, course / "release" / "00_fixture" / "fixture.ipynb")
    return course


def _collect(tmp_path: Path, src: Path) -> dict[str, Submission]:
    subs = collect_files(read_source(src), src, "00_fixture", _course(tmp_path))
    return {sub.student: sub for sub in subs}


# --- 1. symlinks in a folder source -------------------------------------------------------------


def test_a_symlinked_notebook_is_refused_and_the_honest_learner_is_collected(tmp_path):
    secret = tmp_path / "solutions" / "x.ipynb"
    secret.parent.mkdir()
    secret.write_text('{"cells": [], "secret": "LINK-TARGET-7f3a"}')
    src = tmp_path / "class"
    (src / "alice").mkdir(parents=True)
    (src / "alice" / "fixture.ipynb").write_bytes(HONEST)
    (src / "mallory").mkdir()
    os.symlink("../../solutions/x.ipynb", src / "mallory" / "notebook.ipynb")

    files = read_source(src)
    assert dict(files) == {"alice/fixture.ipynb": HONEST}, "the link is never read"
    assert files.dropped == {"mallory/notebook.ipynb": "symlink refused"}

    subs = _collect(tmp_path, src)
    assert set(subs) == {"alice", "mallory"}
    assert subs["alice"].status == "collected" and not subs["alice"].needs_review
    mallory = subs["mallory"]
    assert mallory.status == "invalid"
    assert mallory.flags == ["invalid file (symlink refused: mallory/notebook.ipynb)"]
    assert mallory.needs_review
    assert "symlink" in " ".join(mallory.review_reasons)
    course = tmp_path / "course"
    assert not (course / "submitted" / "mallory").exists(), "nothing of the target is graded"
    for stored in course.rglob("*"):
        assert not stored.is_symlink()
        if stored.is_file():
            assert b"LINK-TARGET-7f3a" not in stored.read_bytes(), f"{stored} holds the link's target"


def test_a_symlinked_folder_beside_a_real_notebook_sends_the_learner_to_review(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.ipynb").write_bytes(HONEST)
    src = tmp_path / "class"
    (src / "bob").mkdir(parents=True)
    (src / "bob" / "fixture.ipynb").write_bytes(HONEST)
    os.symlink(elsewhere, src / "bob" / "data")
    (src / "carol").mkdir()
    (src / "carol" / "fixture.ipynb").write_bytes(HONEST)

    files = read_source(src)
    assert sorted(files) == ["bob/fixture.ipynb", "carol/fixture.ipynb"]
    assert files.dropped == {"bob/data": "symlink refused"}
    subs = _collect(tmp_path, src)
    assert subs["bob"].status == "collected", "the real notebook is still graded"
    assert "symlink refused: bob/data" in subs["bob"].flags
    assert subs["bob"].needs_review
    assert subs["carol"].flags == [] and not subs["carol"].needs_review


def test_a_fifo_is_never_opened(tmp_path):
    src = tmp_path / "class"
    src.mkdir()
    (src / "alice.ipynb").write_bytes(HONEST)
    os.mkfifo(src / "pipe.ipynb")  # reading it would wait forever
    files = read_source(src)
    assert sorted(files) == ["alice.ipynb"]
    assert files.dropped == {"pipe.ipynb": "special file refused (not a regular file)"}


# --- 2. zip entries that are left out -----------------------------------------------------------


def test_dropped_zip_entries_are_listed_per_learner_and_for_the_batch(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice/fixture.ipynb", HONEST)
        zf.writestr("alice/notes.pdf", "pdf")
        zf.writestr("alice/more.zip", "zip")
        zf.writestr("alice/.ipynb_checkpoints/fixture-checkpoint.ipynb", "{}")
        zf.writestr("__MACOSX/alice/._fixture.ipynb", "junk")
        zf.writestr("bob/fixture.ipynb", HONEST)
        zf.writestr("../../evil.ipynb", "{}")
        zf.writestr("/etc/evil.ipynb", "{}")
        zf.writestr("bob/" + "x" * 300 + ".ipynb", "{}")
    files = read_source(archive)
    assert sorted(files) == ["alice/fixture.ipynb", "bob/fixture.ipynb"]
    unsafe = "unsafe path refused (it points outside the upload)"
    assert files.dropped == {
        "alice/notes.pdf": "not a notebook",
        "alice/more.zip": "a zip inside the zip (not opened)",
        "alice/.ipynb_checkpoints/fixture-checkpoint.ipynb": "hidden file or folder",
        "__MACOSX/alice/._fixture.ipynb": "macOS metadata (__MACOSX)",
        "../../evil.ipynb": unsafe,
        "/etc/evil.ipynb": unsafe,
        "bob/" + "x" * 300 + ".ipynb": "path refused (too long or with control characters)",
    }

    subs = _collect(tmp_path, archive)
    assert set(subs) == {"alice", "bob"}
    assert subs["alice"].findings["dropped"] == [
        "a zip inside the zip (not opened): alice/more.zip", "not a notebook: alice/notes.pdf"]
    assert "not collected: a zip inside the zip (not opened): alice/more.zip; "\
        "not a notebook: alice/notes.pdf" in subs["alice"].flags
    assert not subs["alice"].needs_review, "a PDF beside the notebook is only listed"
    assert subs["bob"].findings["refused"] == [
        "path refused (too long or with control characters): bob/" + "x" * 300 + ".ipynb"]
    assert subs["bob"].needs_review

    course = tmp_path / "course"
    batch = (course / "reports" / "00_fixture" / "not_collected.md").read_text()
    assert f"- `'../../evil.ipynb'`: {unsafe}" in batch
    assert f"- `'/etc/evil.ipynb'`: {unsafe}" in batch
    assert "- `'alice/notes.pdf'` (alice): not a notebook" in batch
    assert "- `'__MACOSX/alice/._fixture.ipynb'`: macOS metadata (__MACOSX)" in batch
    assert not (tmp_path / "evil.ipynb").exists() and not (course.parent.parent / "evil.ipynb").exists()
    written = {p.name for p in course.rglob("*evil*")}
    assert written == set(), f"a crafted name was written: {written}"


def test_a_zip_that_lies_about_a_size_is_cut_at_the_limit(tmp_path, monkeypatch):
    from course_lib.grading import uploads

    monkeypatch.setattr(uploads, "MAX_BYTES", 10)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("alice.ipynb", "{}")
        zf.writestr("bob.ipynb", "0" * 1000)
    with zipfile.ZipFile(archive) as zf:
        assert zf.getinfo("bob.ipynb").file_size == 1000
    files = read_source(archive)
    assert dict(files) == {"alice.ipynb": b"{}"}
    assert list(files.dropped) == ["bob.ipynb"]


def test_reports_keep_the_new_findings_as_json(tmp_path):
    src = tmp_path / "class"
    (src / "alice").mkdir(parents=True)
    (src / "alice" / "fixture.ipynb").write_bytes(HONEST)
    (src / "alice" / "notes.txt").write_text("hi")
    _collect(tmp_path, src)
    report = json.loads((tmp_path / "course" / "reports" / "00_fixture" / "alice.json").read_text())
    assert report["findings"]["dropped"] == ["not a notebook: alice/notes.txt"]
    assert report["findings"]["refused"] == []
    assert report["needs_review"] is False


# --- 3. formulas in grades.csv --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("alice", "alice"),
    ("José = Müller", "José = Müller"),
    ("", ""),
])
def test_text_cells_that_start_like_a_formula_are_quoted(tmp_path, text, written):
    from course_lib.grading.export import write_csv

    columns = ["student", "original_name", "01", "01_max", "total", "max_total", "flags"]
    row = {"student": text, "original_name": text, "01": 7.5, "01_max": 10.0, "total": -1.0,
           "max_total": 0.0, "flags": text}
    path = write_csv(tmp_path / "grades.csv", columns, [row])
    with open(path, newline="", encoding="utf-8") as handle:
        header, line = list(csv.reader(handle))
    assert header == columns
    assert line == [written, written, "7.5", "10", "-1", "0", written], \
        "text quoted, scores (even a negative one) written as plain numbers"


def test_export_quotes_a_learner_folder_named_like_a_formula(tmp_path):
    """The whole export: students.json and a report, an empty gradebook, one CSV row."""
    from course_lib.grading.export import export

    course = tmp_path / "course"
    (course / "reports" / "00_fixture").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n")
    name = '=HYPERLINK("http://x","y")'
    (course / "students.json").write_text(json.dumps(
        {"hyperlink_http_x_y": {"original_name": name, "assignments": {}}}))
    (course / "reports" / "00_fixture" / "hyperlink_http_x_y.json").write_text(json.dumps(
        {"status": "invalid", "flags": ["+ flagged"], "needs_review": True}))
    with open(export(course), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{
        "student": "hyperlink_http_x_y", "original_name": "'" + name,
        "00_fixture": "0", "00_fixture_max": "0", "total": "0", "max_total": "0",
        "needs_manual_grading": "no", "needs_review": "yes", "flags": "00_fixture: + flagged"}]


# --- 4. course_lib's own answer handed in ---------------------------------------------------------


REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "solutions").glob("*/*.ipynb"))


def _release(assignment: str):
    return nbformat.read(next((REPO / "notebooks" / assignment).glob("*.ipynb")), as_version=4)


def _solution(assignment: str):
    return nbformat.read(next((REPO / "solutions" / assignment).glob("*.ipynb")), as_version=4)


def _answer(source: str, grade_id: str = "linear_forward", assignment="01_forward_propagation",
            extra: str | None = None):
    """Notebook 01's release with ``source`` as the learner's answer cell (and ``extra`` as the
    try-it cell after it); returns (notebook, release, index of the answer cell)."""
    release = _release(assignment)
    nb = copy.deepcopy(release)
    index = next(i for i, c in enumerate(nb.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells[index].source = source
    if extra is not None:
        nb.cells.insert(index + 1, nbformat.v4.new_code_cell(extra))
    return nb, release, index


BORROWED = [  # (answer cell, line of the finding, what it says)
    ("linear_forward = F.linear_forward", 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward"),
    ("from course_lib.functional import linear_forward", 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward (imported)"),
    ("import course_lib.functional\nlinear_forward = course_lib.functional.linear_forward", 2,
     "linear_forward is course_lib's course_lib.functional.linear_forward"),
    ('globals()["linear_forward"] = F.linear_forward', 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward"),
    ("globals().update(linear_forward=F.linear_forward)", 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward"),
    ("from course_lib.functional import *", 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward (imported)"),
    ("def linear_forward(X, W, b):\n    return F.linear_forward(X, W, b)", 2,
     "linear_forward uses course_lib.functional.linear_forward"),
    ("import course_lib.functional as G\n\ndef linear_forward(X, W, b):\n"
     "    return G.linear_forward(X, W, b)", 4,
     "linear_forward uses course_lib.functional.linear_forward"),
    ("from course_lib import functional\ndef linear_forward(X, W, b):\n"
     "    Z, cache = functional.linear_forward(X, W, b)\n    return Z, cache", 3,
     "linear_forward uses course_lib.functional.linear_forward"),
    ('def linear_forward(X, W, b):\n    return getattr(F, "linear_" + "forward")(X, W, b)', 2,
     "linear_forward uses course_lib.functional.linear_forward"),
    ('def linear_forward(X, W, b):\n    return vars(F)["linear_forward"](X, W, b)', 2,
     "linear_forward uses course_lib.functional.linear_forward"),
    ('def linear_forward(X, W, b):\n    name = "linear_forward"\n'
     "    return getattr(F, name)(X, W, b)", 3,
     "linear_forward looks up course_lib by a computed name"),
    ("ref = F.linear_forward\n\ndef linear_forward(X, W, b):\n    return ref(X, W, b)", 4,
     "linear_forward uses course_lib.functional.linear_forward"),
    ("def helper(*args):\n    return F.linear_forward(*args)\n\n"
     "def linear_forward(X, W, b):\n    return helper(X, W, b)", 2,
     "linear_forward uses course_lib.functional.linear_forward through helper"),
    ("linear_forward = lambda X, W, b: F.linear_forward(X, W, b)", 1,
     "linear_forward uses course_lib.functional.linear_forward"),
    ('def linear_forward(X, W, b):\n    return course_lib.overrides.reference("linear_forward")'
     "(X, W, b)", 2, "linear_forward uses course_lib.overrides.linear_forward"),
    ("import importlib\ndef linear_forward(X, W, b):\n"
     '    return importlib.import_module("course_lib.functional").linear_forward(X, W, b)', 3,
     "linear_forward uses course_lib.functional.linear_forward"),
    ('exec("def linear_forward(X, W, b):\\n    return F.linear_forward(X, W, b)")', 2,
     "linear_forward uses course_lib.functional.linear_forward"),
    ("linear_forward = fallback(None, F.linear_forward)", 1,
     "linear_forward is course_lib's course_lib.functional.linear_forward"),
]


@pytest.mark.parametrize(("source", "line", "what"), BORROWED)
def test_course_libs_own_answer_is_found(source, line, what):
    nb, release, index = _answer(source)
    found = scan_borrowing(nb, release)
    mine = [f for f in found if f["function"] == "linear_forward"]  # * binds the others too
    assert mine, f"not flagged: {source!r}"
    assert (mine[0]["cell"], mine[0]["line"], mine[0]["what"]) == (index, line, what)
    assert mine[0]["code"] and "\n" not in mine[0]["code"]


def test_a_later_try_it_cell_that_aliases_the_reference_is_found():
    nb, release, index = _answer("def linear_forward(X, W, b):\n    return ref(X, W, b)",
                                 extra="ref = F.linear_forward")
    assert [(f["cell"], f["line"]) for f in scan_borrowing(nb, release)] == [(index, 2)]


INNOCENT_USE = [  # (grade id, answer cell, try-it cell after it)
    ("linear_forward", "def linear_forward(X, W, b):\n    return X @ W + b, (X, W)",
     "Z, _ = linear_forward(X, W, b)\nassert np.allclose(Z, F.linear_forward(X, W, b)[0])"),
    ("sigmoid_forward", "def sigmoid_forward(z):\n    s = 1 / (1 + np.exp(-z))\n    return s, s",
     "s = F.sigmoid_forward  # a name the answer also uses, for its own local value"),
    ("tanh_forward",  # the official answer builds tanh on course_lib's sigmoid
     "def tanh_forward(z):\n    s, _ = F.sigmoid_forward(2 * z)\n    return 2 * s - 1, 2 * s - 1",
     None),
    ("relu_forward",  # another reference function as a building block: allowed
     "def relu_forward(z):\n    return F.leaky_relu_forward(z, 0.0)[0], z", None),
    ("linear_forward", "def linear_forward(X, W, b, F=None):\n    return F.linear_forward(X)",
     None),  # a parameter called F is not course_lib's F
]


@pytest.mark.parametrize(("grade_id", "source", "extra"), INNOCENT_USE)
def test_other_uses_of_course_lib_are_not_flagged(grade_id, source, extra):
    nb, release, _ = _answer(source, grade_id, extra=extra)
    assert scan_borrowing(nb, release) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_official_solution_borrows(assignment):
    release = _release(assignment)
    assert graded_names(release), "the release's answer cells define the graded functions"
    assert scan_borrowing(_solution(assignment), release) == []


def test_graded_names_of_notebook_01():
    assert graded_names(_release("01_forward_propagation")) == {
        "linear_forward", "sigmoid_forward", "relu_forward", "leaky_relu_forward",
        "tanh_forward", "softmax", "forward"}


def test_borrowing_goes_to_review_with_the_score_unchanged():
    sub = Submission(student="a", assignment="01", original_name="a", original_files=[],
                     score=3.0, findings={"borrowing": [
                         {"cell": 15, "line": 2, "code": "return F.linear_forward(X, W, b)",
                          "function": "linear_forward",
                          "what": "linear_forward uses course_lib.functional.linear_forward"}]})
    assert sub.flags == ["course_lib's reference implementation: linear_forward"]
    assert sub.review_reasons == ["linear_forward uses course_lib's reference implementation"]
    assert sub.needs_review and sub.score == 3.0


# --- 5. reaching around the checks inside the kernel ---------------------------------------------


BYPASSES = [  # (learner cell, what the finding says)
    ("get_ipython().input_transformers_cleanup.append(f)",
     "changes how IPython runs cells (input_transformers_cleanup)"),
    ("ip = get_ipython()\nip.input_transformers_post.append(f)",
     "changes how IPython runs cells (input_transformers_post)"),
    ("get_ipython().input_transformer_manager.cleanup_transforms.insert(0, f)",
     "changes how IPython runs cells (input_transformer_manager)"),
    ("get_ipython().ast_transformers.append(T())", "changes how IPython runs cells (ast_transformers)"),
    ("get_ipython().register_magic_function(f, 'cell', 'x')",
     "changes how IPython runs cells (register_magic_function)"),
    ("get_ipython().events.register('pre_run_cell', f)",
     "registers an IPython event callback (events.register)"),
    ("import sys\nsys.modules['course_lib.' + 'checks'] = fake",
     "replaces module 'course_lib.checks' in sys.modules"),
    ("import sys\nsys.modules[name] = fake", "replaces module '(computed name)' in sys.modules"),
    ("import sys\nsys.modules.update({'numpy': fake})", "changes sys.modules (update)"),
    ("import sys\ndel sys.modules['course_lib.checks']",
     "replaces module 'course_lib.checks' in sys.modules"),
    ("import sys\nvars(sys.modules['course_lib.' + 'checks'])['check_close'] = f",
     "rebinds course_lib.checks.check_close"),
    ("import sys\nvars(sys.modules[name]).update(check_close=f)",
     "changes the namespace of a module"),
    ("vars(checks).update(check_close=f)", "changes the namespace of course_lib.checks"),
    ("checks.__dict__.update(check_close=f)", "changes the namespace of course_lib.checks"),
    ("import sys\nsetattr(sys.modules[name], 'check_close', f)",
     "setattr on a module from sys.modules"),
    ("import sys\nsys.settrace(tracer)", "installs a tracer or hook (sys.settrace)"),
    ("import sys as s\ns.setprofile(p)", "installs a tracer or hook (sys.setprofile)"),
    ("import importlib, course_lib\nimportlib.reload(course_lib.checks)",
     "reloads course_lib.checks"),
    ("from importlib import reload\nreload(checks)", "reloads course_lib.checks"),
    ("import builtins\nbuiltins.__dict__.update(abs=f)", "changes the namespace of builtins"),
    ("__builtins__.update(abs=f)", "changes builtins (update)"),
    ("import sys\nsys.meta_path.insert(0, Finder())", "changes the import system (sys.meta_path)"),
]


@pytest.mark.parametrize(("source", "what"), BYPASSES)
def test_bypasses_inside_the_kernel_are_found(source, what):
    from course_lib.grading.monkeypatching import scan_monkeypatching

    nb, _, index = _answer("def linear_forward(X, W, b):\n    return X @ W + b, (X, W)",
                           extra=source)
    found = scan_monkeypatching(nb)
    assert what in [f["what"] for f in found], f"{source!r}: {found}"
    assert all(f["cell"] == index + 1 and f["line"] >= 1 for f in found)


def test_get_ipython_in_an_answer_cell_is_found_but_a_magic_in_a_try_it_cell_is_not():
    from course_lib.grading.monkeypatching import scan_monkeypatching

    nb, _, index = _answer("def linear_forward(X, W, b):\n    ip = get_ipython()\n"
                           "    return X @ W + b, (X, W)", extra="%timeit linear_forward(X, W, b)")
    assert scan_monkeypatching(nb) == [{
        "cell": index, "line": 2, "code": "ip = get_ipython()",
        "what": "uses get_ipython/IPython in an answer cell"}]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_official_solution_reaches_around_the_checks(assignment):
    from course_lib.grading.monkeypatching import scan_monkeypatching

    assert scan_monkeypatching(_solution(assignment)) == []
    assert scan_monkeypatching(_release(assignment)) == []


# --- 6. the published student repository ---------------------------------------------------------


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from course_lib.grading import publish

    dest = tmp_path_factory.mktemp("public") / "course"
    written = publish(dest)
    return dest, written


def test_publish_writes_the_notebooks_and_course_lib_and_no_answers(published):
    dest, written = published
    top = sorted(p.name for p in dest.iterdir())
    assert top == ["CONVENTIONS.md", "LICENSE", "Makefile", "README.md", "binder",
                   "course_lib", "environment.yml", "notebooks", "pyproject.toml", "tools"]
    assert sorted(p.parent.name for p in (dest / "notebooks").glob("*/*.ipynb")) == ASSIGNMENTS
    for path in ["course_lib/functional.py", "course_lib/lessons/checks.py", "tools/lab.py",
                 "binder/postBuild"]:
        assert (dest / path).is_file(), path
    assert not (dest / "solutions").exists() and not (dest / "tests").exists()
    assert not (dest / "course_lib" / "grading").exists()
    assert not (dest / "nbgrader_config.py").exists() and not (dest / ".git").exists()
    assert not list(dest.rglob("__pycache__")) and not list(dest.rglob("*.egg-info"))
    assert sorted(written) == sorted(p for p in dest.rglob("*") if p.is_file())


def test_no_hidden_test_line_is_anywhere_in_the_published_tree(published):
    from course_lib.grading.hidden import hidden_code_lines

    dest, _ = published
    secret = set()
    for assignment in ASSIGNMENTS:
        secret |= hidden_code_lines(_solution(assignment))
    shown_elsewhere = {line.strip() for a in ASSIGNMENTS for cell in _release(a).cells
                       for line in cell.source.split("\n")}
    secret -= shown_elsewhere  # a line hidden in one notebook may be an ordinary line in another
    assert len(secret) > 50, "the grep below looks for the real hidden tests"
    for path in dest.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            lines = {line.strip() for line in text.split("\n")}
            assert not secret & lines, f"{path} shows {sorted(secret & lines)[:1]}"
            assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path


def test_the_published_course_lib_has_every_module_the_notebooks_import(published):
    import ast
    import subprocess
    import sys

    dest, _ = published
    modules = set()
    for notebook in (dest / "notebooks").glob("*/*.ipynb"):
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse("\n".join(line for line in cell.source.split("\n")
                                           if not line.lstrip().startswith(("%", "!"))))
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_lib"):
                    modules.add(node.module)
                    modules |= {f"{node.module}.{a.name}" for a in node.names}
                elif isinstance(node, ast.Import):
                    modules |= {a.name for a in node.names if a.name.startswith("course_lib")}
    packages = [m for m in modules
                if (dest / m.replace(".", "/")).is_dir()
                or (dest / (m.replace(".", "/") + ".py")).is_file()]
    assert "course_lib.functional" in packages and "course_lib.lessons" in packages
    code = "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]; " \
           "import course_lib; assert course_lib.__file__.startswith(sys.path[0])"
    run = subprocess.run([sys.executable, "-c", code, *sorted(packages)], cwd=dest,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(dest), "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stderr[-2000:]
    pyproject = (dest / "pyproject.toml").read_text()
    assert 'readme = "README.md"' in pyproject and (dest / "README.md").is_file()
    assert "tools/lab.py" in (dest / "Makefile").read_text() and (dest / "tools/lab.py").is_file()


def test_publish_refuses_a_folder_that_is_not_empty_or_inside_the_repository(tmp_path, capsys):
    from course_lib import grading

    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    with pytest.raises(grading.GradingError, match="exists and is not empty"):
        grading.publish(full)
    assert (full / "keep.txt").read_text() == "mine" and len(list(full.iterdir())) == 1
    with pytest.raises(grading.GradingError, match="inside the repository"):
        grading.publish(REPO / "public")
    assert not (REPO / "public").exists()
    assert grading.main(["publish", str(full)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "exists and is not empty" in err and err.count("\n") == 1


def test_publish_refuses_a_copy_that_would_show_a_hidden_test(tmp_path):
    from course_lib import grading

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE_REPO / "solutions", repo / "solutions")
    shutil.copytree(FIXTURE_REPO / "solutions", repo / "notebooks")  # answers left in: refused
    (repo / "course_lib").mkdir()
    (repo / "course_lib" / "__init__.py").write_text("")
    with pytest.raises(grading.GradingError, match="would show answers"):
        grading.publish(tmp_path / "out", repo=repo)
    assert not (tmp_path / "out").exists(), "a refused copy is removed"
