"""The instructor's term on an LMS: a Canvas-style zip, then late uploads and resubmissions,
graded with a due date and a late penalty; the Canvas and Moodle import files; and the original
zip run again, which changes nothing and says so.

Due 2026-03-01 23:59 UTC, 10 % of the points per day or part of a day, 15 minutes' grace. The
fixture assignment has 6 points: 5 autograded, 1 written (manual). A correct notebook earns the
5 autograded points; the release as handed out earns 0.

    learner  first zip (on time unless said)      late zip                        graded  penalty
    ann      correct, 20:00                        -                               5       0
    ben      the release unanswered, 22:00         correct, 03-02 10:00 (10 h)     5       0.6
    cat      correct, 03-02 00:10 (in the grace)   -                               5       0
    dan      not a notebook, 12:00                 correct, 03-03 12:00 (36 h)     5       1.2
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import nbformat
import pytest
from grading_helpers import FIXTURE_REPO, correct_in_release, to_bytes

from course_lib import grading
from course_lib.grading import lms

RELEASE = nbformat.read(FIXTURE_REPO / "notebooks" / "00_fixture" / "fixture.ipynb", as_version=4)
SOLUTION = nbformat.read(FIXTURE_REPO / "solutions" / "00_fixture" / "fixture.ipynb", as_version=4)
CORRECT = to_bytes(correct_in_release(RELEASE, SOLUTION))
UNANSWERED = to_bytes(RELEASE)
POLICY = {"due": "2026-03-01T23:59+00:00", "late_penalty": "10%/day", "grace": "15m"}
IDS = {"ann": "101", "ben": "102", "cat": "103", "dan": "104"}


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, when, data in entries:
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _grade(src, course, **kwargs):
    lines = []
    run = grading.grade(src, "00_fixture", course, repo=FIXTURE_REPO, jobs=2, figures=False,
                        timeout=20, echo=lines.append, **POLICY, **kwargs)
    return run, "\n".join(lines)


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    folder = tmp_path_factory.mktemp("term")
    first = _zip(folder / "submissions.zip", [
        ("annsmith_101_9001_fixture.ipynb", (2026, 3, 1, 20, 0, 0), CORRECT),
        ("bensmith_102_9002_fixture.ipynb", (2026, 3, 1, 22, 0, 0), UNANSWERED),
        ("catsmith_late_103_9003_fixture.ipynb", (2026, 3, 2, 0, 10, 0), CORRECT),
        ("dansmith_104_9004_fixture.ipynb", (2026, 3, 1, 12, 0, 0), b"not a notebook"),
    ])
    late = _zip(folder / "late.zip", [
        ("bensmith_late_102_9102_fixture-1.ipynb", (2026, 3, 2, 10, 0, 0), CORRECT),
        ("dansmith_late_104_9104_fixture-1.ipynb", (2026, 3, 3, 12, 0, 0), CORRECT),
    ])
    course = folder / "grading"
    runs = [_grade(first, course), _grade(late, course), _grade(first, course)]
    canvas = lms.export_lms(course, "00_fixture", "canvas", lms_assignment_id="4242")
    after_third = {"reports": _reports(course), "csv": (course / "grades.csv").read_text()}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # the formgrader's work
        grade = gb.find_grade("written_softmax_shift", "fixture", "00_fixture", "annsmith")
        grade.manual_score = 1.0
        gb.db.commit()
    runs.append(_grade(first, course, force=True))  # everyone regraded by nbgrader again
    return {"course": course, "runs": runs, "canvas": canvas, "after_third": after_third}


def _reports(course):
    return {p.stem: json.loads(p.read_text()) for p in
            (course / "reports" / "00_fixture").glob("*.json")}


@pytest.mark.slow
def test_the_first_zip_is_graded_with_the_grace_period(term):
    run, printed = term["runs"][0]
    scores = {s.student: (s.score, s.final_score, s.late) for s in run.submissions}
    assert scores == {"annsmith": (5, 5, False), "bensmith": (0, 0, False),
                      "catsmith": (5, 5, False), "dansmith": (0, 0, False)}
    assert "5/5 auto, 1 manual pending" in printed


@pytest.mark.slow
def test_the_late_uploads_replace_the_older_ones_with_the_penalty_as_stated(term):
    run, printed = term["runs"][1]
    graded = {s.student: s for s in run.submissions}
    assert sorted(graded) == ["bensmith", "dansmith"], "only the late zip's learners are graded"
    assert (graded["bensmith"].late_days, graded["bensmith"].penalty) == (1, pytest.approx(0.6))
    assert (graded["dansmith"].late_days, graded["dansmith"].penalty) == (2, pytest.approx(1.2))
    assert graded["bensmith"].final_score == pytest.approx(4.4)
    assert graded["dansmith"].final_score == pytest.approx(3.8)
    # The summary covers the whole class, not only this zip's two learners.
    for student in ("annsmith", "bensmith", "catsmith", "dansmith"):
        assert student in printed
    assert "4 submissions" in printed and "2 late" in printed
    assert "bensmith: upload of 2026-03-02T10:00:00+00:00 graded instead of the one of " \
           "2026-03-01T22:00:00+00:00; 0 -> 4.4 points" in printed
    summary = (term["course"] / "reports" / "00_fixture" / "summary.md").read_text()
    assert "| annsmith |" in summary and "| dansmith |" in summary and "-1.2" in summary


@pytest.mark.slow
def test_the_original_zip_again_changes_nothing_and_says_so(term):
    run, printed = term["runs"][2]
    assert "Grading 0 of 4" in printed
    assert "Nothing changed since the last run." in printed
    reports = term["after_third"]["reports"]
    assert {s: r["final_score"] for s, r in reports.items()} == pytest.approx(
        {"annsmith": 5, "bensmith": 4.4, "catsmith": 5, "dansmith": 3.8})
    assert reports["bensmith"]["change"].startswith(
        "unchanged: this source's upload (2026-03-01T22:00:00+00:00) is older than the one "
        "graded (2026-03-02T10:00:00+00:00)")
    assert reports["bensmith"]["uploads"] == 2
    assert not any(r["needs_manual_grading"] is False for r in reports.values()
                   if r["status"] == "graded"), "the written answer still waits for a person"
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(term["after_third"]["csv"]))}
    assert {s: (r["00_fixture"], r["00_fixture_late"], r["00_fixture_penalty"])
            for s, r in rows.items()} == {"annsmith": ("5", "no", "0"),
                                          "bensmith": ("4.4", "yes", "0.6"),
                                          "catsmith": ("5", "no", "0"),
                                          "dansmith": ("3.8", "yes", "1.2")}
    assert rows["bensmith"]["00_fixture_submitted"] == "2026-03-02T10:00:00+00:00"


@pytest.mark.slow
def test_canvas_import_file_has_its_columns_and_every_learner(term):
    path, archive, missing = term["canvas"]
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                                 "00_fixture (4242)"]
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0]["00_fixture (4242)"] == "6"
    assert {r["ID"]: float(r["00_fixture (4242)"]) for r in rows[1:]} == pytest.approx(
        {"101": 5, "102": 4.4, "103": 5, "104": 3.8})
    assert missing == []
    with zipfile.ZipFile(archive) as zf:  # named as Canvas's download: user id, submission id
        assert sorted(zf.namelist()) == [
            "annsmith_101_9001_fixture_feedback.html", "bensmith_102_9102_fixture_feedback.html",
            "catsmith_103_9003_fixture_feedback.html", "dansmith_104_9104_fixture_feedback.html"]


@pytest.mark.slow
def test_moodle_import_file_has_its_columns_and_every_learner(tmp_path):
    names = {"Ann Lee": "501", "Bo Chen": "502", "Cy Diaz": "503"}
    src = _zip(tmp_path / "moodle.zip", [
        (f"{name}_{pid}_assignsubmission_file_/fixture.ipynb", (2026, 3, 1, 9, 0, 0),
         CORRECT if name != "Bo Chen" else UNANSWERED) for name, pid in names.items()])
    course = tmp_path / "grading"
    grading.grade(src, "00_fixture", course, repo=FIXTURE_REPO, jobs=2, figures=False,
                  timeout=20, echo=lambda line: None)
    path, archive, missing = lms.export_lms(course, "00_fixture", "moodle")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == lms.MOODLE_COLUMNS == [
        "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
        "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
        "Feedback comments"]
    assert {r["Identifier"]: (r["Full name"], r["Grade"], r["Maximum Grade"]) for r in rows} == {
        "Participant 501": ("Ann Lee", "5", "6"), "Participant 502": ("Bo Chen", "0", "6"),
        "Participant 503": ("Cy Diaz", "5", "6")}
    assert missing == []
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [
            f"{name}_{pid}_assignfeedback_file_/fixture_feedback.html"
            for name, pid in sorted(names.items())]


def test_lms_names_keep_the_learners_identity_and_the_zip_keeps_the_time():
    from course_lib.grading.uploads import group_by_student, read_source

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("smithjohn_late_12345_67890_fixture.ipynb",
                                    (2026, 3, 2, 8, 30, 0)), CORRECT)
        zf.writestr(zipfile.ZipInfo("Ann Lee_501_assignsubmission_file_/fixture.ipynb",
                                    (2026, 3, 1, 9, 0, 0)), CORRECT)
    archive = __import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "x.zip"
    archive.write_bytes(buffer.getvalue())
    uploads = {u.student: u for u in group_by_student(read_source(archive))}
    assert uploads["smithjohn"].lms == {"lms": "canvas", "user_id": "12345",
                                        "submission_id": "67890", "late": True}
    assert uploads["smithjohn"].submitted_at == "2026-03-02T08:30:00+00:00"
    assert uploads["ann_lee"].lms == {"lms": "moodle", "participant": "501",
                                      "full_name": "Ann Lee"}


@pytest.mark.parametrize(("rule", "days", "percent"), [
    ("10%/day", 1, 10), ("10%/day", 3, 30), ("10%/day,max=25%", 3, 25), ("20%", 5, 20),
    ("10%/day", 0, 0)])
def test_the_penalty_rules(rule, days, percent):
    from course_lib.grading import deadlines

    policy = deadlines.policy("2026-03-01T23:59Z", rule)
    assert policy.percent(days) == percent


def test_a_due_date_without_a_zone_is_one_sentence():
    from course_lib.grading import deadlines

    with pytest.raises(grading.GradingError, match="has no time zone"):
        deadlines.parse_due("2026-03-01T23:59")


def test_late_days_count_from_the_due_time_once_past_the_grace():
    from datetime import datetime

    from course_lib.grading import deadlines

    policy = deadlines.policy("2026-03-01T23:59+00:00", "10%/day", "15m")
    at = lambda text: datetime.fromisoformat(text)  # noqa: E731
    assert policy.late_days(at("2026-03-02T00:14+00:00")) == 0  # in the grace
    assert policy.late_days(at("2026-03-02T00:15+00:00")) == 1  # past it: 16 minutes late
    assert policy.late_days(at("2026-03-03T00:00+00:00")) == 2  # 24 h 1 min
    assert policy.late_days(at("2026-03-02T00:59+01:00")) == 0  # the same instant as the due


@pytest.mark.slow
def test_a_manual_grade_stays_done_when_the_same_upload_is_regraded(term):
    run, printed = term["runs"][3]
    assert "Grading 4 of 4" in printed
    ann = {s.student: s for s in run.submissions}["annsmith"]
    assert not ann.needs_manual_grading, "nbgrader's regrade marks it for review again"
    assert ann.points_text() == "5/5 auto, 1/1 manual" and ann.final_score == 6
    assert "annsmith: 5 -> 6 points" in printed
    assert "bensmith" not in printed.split("Changed since the last run:")[1]
    with open(term["course"] / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert rows["annsmith"]["needs_manual_grading"] == "no"
    assert rows["bensmith"]["needs_manual_grading"] == "yes"


def test_bad_term_options_are_one_sentence(tmp_path, capsys):
    src = tmp_path / "class"
    src.mkdir()
    (src / "ann.ipynb").write_bytes(CORRECT)
    for args, words in (
            (["grade", str(src), "-a", "00_fixture", "--due", "2026-03-01T23:59"],
             "has no time zone"),
            (["grade", str(src), "-a", "00_fixture", "--due", "2026-03-01T23:59Z",
              "--late-penalty", "ten percent"], "is not understood"),
            (["grade", str(src), "-a", "00_fixture", "--late-penalty", "10%/day"], "need --due"),
            (["export", "--format", "canvas"], "needs --assignment")):
        code = grading.main(["--repo", str(FIXTURE_REPO), *args, "--course",
                             str(tmp_path / "grading")])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and words in err, err
        assert err.count("\n") == 1
    assert not (tmp_path / "grading").exists(), "nothing is made before the options are read"
