"""Similarity by winnowing: a copy with renamed names and reordered functions is found, work
written independently is not, and the release's starter code never counts as shared."""

from __future__ import annotations

import copy

import nbformat
from grading_helpers import FIXTURE_REPO, grade_id

from course_lib.grading import similarity

RELEASE = nbformat.read(FIXTURE_REPO / "notebooks" / "00_fixture" / "fixture.ipynb", as_version=4)
SOLUTION = nbformat.read(FIXTURE_REPO / "solutions" / "00_fixture" / "fixture.ipynb", as_version=4)

ANN_DOUBLE = '''def double(x):
    """Twice x, elementwise."""
    arr = np.asarray(x, dtype=float)
    result = arr + arr  # adding is doubling
    return result
'''
ANN_SOFTMAX = '''def shift_rows(matrix):
    biggest = matrix.max(axis=1, keepdims=True)
    return matrix - biggest


def normalise_rows(weights):
    totals = weights.sum(axis=1, keepdims=True)
    return weights / totals


def softmax_rows(Z):
    """Row-wise softmax."""
    data = np.array(Z, dtype=float)
    for attempt in range(1):
        shifted = shift_rows(data)
    powered = np.exp(shifted)
    return normalise_rows(powered)
'''
# ben copied ann's work: every name renamed, comments changed, the helpers in another order.
BEN_DOUBLE = '''def double(values):
    # my own double
    a = np.asarray(values, dtype=float)
    out = a + a
    return out
'''
BEN_SOFTMAX = '''def softmax_rows(Z):
    m = np.array(Z, dtype=float)
    for k in range(1):
        s = subtract_max(m)
    e = np.exp(s)
    return divide_by_sum(e)


def divide_by_sum(w):
    # normalise
    t = w.sum(axis=1, keepdims=True)
    return w / t


def subtract_max(q):
    top = q.max(axis=1, keepdims=True)
    return q - top
'''
# cat wrote hers alone: the same task, another way.
CAT_DOUBLE = '''def double(x):
    return np.multiply(np.asarray(x, dtype=float), 2.0)
'''
CAT_SOFTMAX = '''def softmax_rows(Z):
    Z = np.asarray(Z, dtype=float)
    rows = []
    for row in Z:
        exps = [np.exp(v - max(row)) for v in row]
        total = sum(exps)
        rows.append([e / total for e in exps])
    return np.array(rows)
'''


def _notebook(double_source: str, softmax_source: str):
    nb = copy.deepcopy(RELEASE)
    for cell in nb.cells:
        if grade_id(cell) == "double":
            cell.source = double_source
        elif grade_id(cell) == "softmax_rows":
            cell.source = softmax_source
    return nb


def _codes() -> dict[str, str]:
    return {name: similarity.answer_code(_notebook(d, s)) for name, (d, s) in {
        "ann": (ANN_DOUBLE, ANN_SOFTMAX), "ben": (BEN_DOUBLE, BEN_SOFTMAX),
        "cat": (CAT_DOUBLE, CAT_SOFTMAX)}.items()}


STARTER = [similarity.answer_code(RELEASE), similarity.answer_code(SOLUTION)]


def test_renaming_every_name_and_reordering_functions_leaves_the_same_tokens():
    ann = similarity.fingerprint(ANN_SOFTMAX)
    ben = similarity.fingerprint(BEN_SOFTMAX)
    assert set(ann.prints) == set(ben.prints), "the copy is the same code, renamed and reordered"


def test_a_copied_pair_is_reported_with_the_shared_code_and_an_independent_pair_is_not():
    pairs = similarity.similar_pairs(_codes(), STARTER)
    assert [(p["a"], p["b"]) for p in pairs] == [("ann", "ben")]
    pair = pairs[0]
    assert pair["percent"] == 100.0
    assert any("np.exp(shifted)" in line for line in pair["code_a"])
    assert any("np.exp(s)" in line for line in pair["code_b"])
    codes = _codes()
    alone = similarity.compare(similarity.fingerprint(codes["ann"]),
                               similarity.fingerprint(codes["cat"]))
    assert alone["percent"] < 100 * similarity.THRESHOLD, alone


def test_the_starter_code_and_the_reference_answer_are_not_evidence():
    # Two learners who both typed the course's answer share only what everyone is expected to
    # write: nothing is left to compare once the release and the solution are left out.
    answer = similarity.answer_code(SOLUTION)
    assert similarity.similar_pairs({"dan": answer, "eve": answer}, STARTER) == []
    assert similarity.similar_pairs({"dan": answer, "eve": answer}, [])[0]["percent"] == 100


def test_winnowing_keeps_a_fingerprint_in_every_window():
    toks = similarity.tokens("a = b + c * d - e / f")
    assert [t for t, _ in toks] == ["V", "=", "b", "+", "c", "*", "d", "-", "e", "/", "f"]
    grams = len(toks) - similarity.K + 1
    prints = similarity.winnow(toks)
    assert 1 <= len(prints) <= grams - similarity.WINDOW + 1


def test_the_report_lists_the_pair_with_its_code_and_sends_both_to_review_only(tmp_path):
    import json
    import shutil

    from course_lib.grading.report import Submission, write_report

    course = tmp_path / "grading"
    for folder, source in (("release", "notebooks"), ("source", "solutions")):
        (course / folder / "00_fixture").mkdir(parents=True)
        shutil.copy(FIXTURE_REPO / source / "00_fixture" / "fixture.ipynb",
                    course / folder / "00_fixture" / "fixture.ipynb")
    for name, (d, s) in {"ann": (ANN_DOUBLE, ANN_SOFTMAX), "ben": (BEN_DOUBLE, BEN_SOFTMAX),
                         "cat": (CAT_DOUBLE, CAT_SOFTMAX)}.items():
        path = course / "submitted" / name / "00_fixture" / "fixture.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(_notebook(d, s), path)
        write_report(course, Submission(student=name, assignment="00_fixture", original_name=name,
                                        original_files=[], status="graded", score=5.0,
                                        max_score=6.0, final_score=5.0))
    text = similarity.report(course, "00_fixture").read_text()
    assert "## ann and ben: 100 %" in text and "cat" not in text.split("##", 1)[1]
    assert "    powered = np.exp(shifted)" in text and "    e = np.exp(s)" in text
    reports = {n: json.loads((course / "reports" / "00_fixture" / f"{n}.json").read_text())
               for n in ("ann", "ben", "cat")}
    assert reports["ann"]["needs_review"] and reports["ben"]["needs_review"]
    assert not reports["cat"]["needs_review"]
    assert reports["ann"]["similar"] == [{"other": "ben", "percent": 100.0, "shared": 16}]
    assert {n: (r["score"], r["final_score"]) for n, r in reports.items()} == {
        n: (5.0, 5.0) for n in reports}, "similarity never changes a score"
