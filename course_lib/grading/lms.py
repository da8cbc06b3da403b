"""The LMS round trip: grade files and feedback that Canvas or Moodle take back.

Canvas (Grades > Import): its gradebook CSV, the columns of its own export::

    Student, ID, SIS User ID, SIS Login ID, Section, <Assignment> (<assignment id>)

a second row ``Points Possible`` with the assignment's points, then a row per learner keyed by
``ID``, the Canvas user id that Canvas's submission download puts in each file name
(``name[_late]_<user id>_<submission id>_<file>``). Without ``--lms-assignment-id`` the column is
the assignment's name alone (Canvas then offers to create or pick the assignment). Feedback:
``canvas_feedback.zip``, each page named as Canvas names the download
(``name_<user id>_<submission id>_<notebook>_feedback.html``), which its "Re-upload submissions"
matches to learners and attaches as a comment.

Moodle (assignment > Upload grading worksheet): the offline grading worksheet, keyed by
``Identifier`` = ``Participant <id>``, the participant id of Moodle's download
(``Full Name_<id>_assignsubmission_file_``)::

    Identifier, Full name, Email address, Status, Grade, Maximum Grade, Grade can be changed,
    Last modified (submission), Last modified (grade), Feedback comments

Feedback: ``moodle_feedback.zip``, a folder per learner named as Moodle's download names it
(``Full Name_<id>_assignfeedback_file_/<notebook>_feedback.html``), for "Upload multiple feedback
files in a zip", which matches files by that participant id.

The grade is the score after any late penalty. A learner without the LMS's id (collected from a
plain folder) still gets a row, with the id left empty, and the command says how many.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

from .common import GradingError, existing_course_folder
from .export import write_csv

FORMATS = ("csv", "canvas", "moodle")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments"]


def learners(course: Path, assignment: str) -> list[dict]:
    """Every learner with a report for ``assignment``: id, name, LMS identity, score after the
    penalty (the gradebook's score when the formgrader changed it), max, time, feedback."""
    from . import autograde as nbg
    from .term import whole_class

    course = existing_course_folder(course)
    students_file = course / "students.json"
    students = json.loads(students_file.read_text()) if students_file.exists() else {}
    subs = whole_class(course, assignment)
    if not subs:
        raise GradingError(f"no learner of {course} has a report for {assignment}: grade first.")
    scores: dict[str, float] = {}
    max_score = max((s.max_score for s in subs), default=0.0)
    nbg.quiet_nbgrader()
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(nbg.gradebook_url(nbg.load_config(course / "nbgrader_config.py"))) as gb:
        try:
            max_score = gb.find_assignment(assignment).max_score
        except MissingEntry:
            pass
        for sub in subs:
            if sub.status == "invalid":
                continue
            try:
                scores[sub.student] = gb.find_submission(assignment, sub.student).score
            except MissingEntry:
                pass
    rows = []
    for sub in subs:
        score = scores.get(sub.student, sub.score if sub.status != "invalid" else 0.0)
        penalty = min(score, max_score * sub.penalty_percent / 100)
        identity = {**students.get(sub.student, {}).get("lms", {}), **sub.lms}
        rows.append({"student": sub.student, "name": sub.original_name, "lms": identity,
                     "score": round(score - penalty, 6), "max": max_score,
                     "submitted_at": sub.submitted_at, "late": sub.late,
                     "feedback": course / sub.feedback if sub.feedback else None,
                     "notebook": sub.notebook or assignment, "status": sub.status,
                     "penalty": round(penalty, 6), "late_days": sub.late_days})
    return rows


def canvas_rows(rows: list[dict], title: str) -> tuple[list[str], list[dict]]:
    columns = CANVAS_COLUMNS + [title]
    out = [{"Student": "    Points Possible", title: rows[0]["max"] if rows else 0}]
    for row in rows:
        out.append({"Student": row["name"], "ID": row["lms"].get("user_id", ""),
                    "SIS User ID": "", "SIS Login ID": "", "Section": "", title: row["score"]})
    return columns, out


def moodle_rows(rows: list[dict]) -> tuple[list[str], list[dict]]:
    out = []
    for row in rows:
        participant = row["lms"].get("participant")
        when = _moodle_time(row["submitted_at"])
        note = f"late by {row['late_days']} day(s): -{row['penalty']:g} points. " \
            if row["penalty"] else ""
        out.append({"Identifier": f"Participant {participant}" if participant else "",
                    "Full name": row["lms"].get("full_name", row["name"]), "Email address": "",
                    "Status": "Submitted for grading", "Grade": row["score"],
                    "Maximum Grade": row["max"], "Grade can be changed": "Yes",
                    "Last modified (submission)": when, "Last modified (grade)": "",
                    "Feedback comments": note + "Graded by the course's autograder; the "
                    "feedback file shows each check."})
    return MOODLE_COLUMNS, out


def _moodle_time(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).strftime("%A, %d %B %Y, %I:%M %p")


def feedback_name(fmt: str, row: dict) -> str | None:
    """Where a learner's feedback page goes in the LMS's feedback zip, or None without an id."""
    lms, stem = row["lms"], f"{row['notebook']}_feedback.html"
    if fmt == "canvas" and lms.get("user_id"):
        login = "".join(c for c in row["name"].lower() if c.isalnum()) or row["student"]
        return f"{login}_{lms['user_id']}_{lms.get('submission_id') or 0}_{stem}"
    if fmt == "moodle" and lms.get("participant"):
        return f"{lms.get('full_name', row['name'])}_{lms['participant']}_assignfeedback_file_/{stem}"
    return None


def export_lms(course: Path, assignment: str, fmt: str, output: Path | None = None,
               lms_assignment_id: str | None = None) -> tuple[Path, Path | None, list[str]]:
    """Write the LMS's grade-import file and its feedback zip; returns (file, zip or None,
    learners left without the LMS's id)."""
    if fmt not in ("canvas", "moodle"):
        raise GradingError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    course = existing_course_folder(course)
    rows = learners(course, assignment)
    if fmt == "canvas":
        title = f"{assignment} ({lms_assignment_id})" if lms_assignment_id else assignment
        columns, out = canvas_rows(rows, title)
        missing = [r["student"] for r in rows if not r["lms"].get("user_id")]
    else:
        columns, out = moodle_rows(rows)
        missing = [r["student"] for r in rows if not r["lms"].get("participant")]
    output = Path(output) if output else course / f"{fmt}_{assignment}.csv"
    write_csv(output, columns, out)
    archive = output.with_name(f"{fmt}_feedback_{assignment}.zip")
    pages = {name: row["feedback"] for row in rows
             if (name := feedback_name(fmt, row)) and row["feedback"] and row["feedback"].exists()}
    if pages:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, page in sorted(pages.items()):
                zf.write(page, name)
    return output, archive if pages else None, missing
