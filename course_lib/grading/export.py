"""Export: ``grades.csv``, one row per learner ever collected and a score column per assignment.

Learners name their own folders and files, so any text cell may start like a spreadsheet formula
(``=HYPERLINK(...)``): such a cell is written with a single quote in front, as OWASP recommends
against CSV injection. Scores are numbers the grader computed and are written as numbers.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from .common import existing_course_folder


def export(course: Path = Path("grading"), output: Path | None = None) -> Path:
    """Write the grade CSV: one row per learner ever collected, a score column per assignment.

    Columns: student, original_name, then ``<id>`` (the score after any late penalty) and
    ``<id>_max`` per assignment (and, where the uploads carried a time, ``<id>_submitted``
    (ISO 8601, UTC), ``<id>_late`` (yes/no) and ``<id>_penalty`` (points taken off)), total,
    max_total, needs_manual_grading, needs_review, flags. A learner with an unreadable file or
    no submission gets 0 and a flag.
    """
    from nbgrader.api import Gradebook

    from . import autograde as nbg  # nbgrader: seconds to import

    course = existing_course_folder(course)
    nbg.quiet_nbgrader()
    config = nbg.load_config(course / "nbgrader_config.py")
    students_file = course / "students.json"
    students = json.loads(students_file.read_text()) if students_file.exists() else {}
    reports = {}
    for path in sorted((course / "reports").glob("*/*.json")):
        reports[(path.parent.name, path.stem)] = json.loads(path.read_text())
    with Gradebook(nbg.gradebook_url(config)) as gb:
        assignments = {a.name: a.max_score for a in gb.assignments}
        assignments.update({a: assignments.get(a, 0.0) for a, _ in reports})
        ids = sorted(set(students) | {s.id for s in gb.students} | {s for _, s in reports})
        rows = [_export_row(gb, student, students.get(student, {}).get("original_name", ""),
                            assignments, reports) for student in ids]
    columns = ["student", "original_name"]
    for assignment in sorted(assignments):
        columns += [assignment, f"{assignment}_max"]
        if any(r.get("submitted_at") for (a, _), r in reports.items() if a == assignment):
            columns += [f"{assignment}_{c}" for c in ("submitted", "late", "penalty")]
    columns += ["total", "max_total", "needs_manual_grading", "needs_review", "flags"]
    output = Path(output) if output else course / "grades.csv"
    return write_csv(output, columns, rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula


def csv_cell(value) -> str:
    """One CSV cell: a number as ``f"{x:g}"`` (never escaped, ``-1`` stays a number); text that a
    spreadsheet would run as a formula gets a single quote in front: ``=1+1`` -> ``'=1+1``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(output: Path, columns: list[str], rows: list[dict]) -> Path:
    """Write ``rows`` (column -> number or text) under ``columns``, every cell through
    ``csv_cell``, the header too (an assignment id cannot start with a formula character anyway)."""
    output = Path(output)
    partial = output.with_name(f".{output.name}.partial")  # never a half-written CSV: a
    with open(partial, "w", newline="", encoding="utf-8") as handle:  # whole file, renamed
        writer = csv.writer(handle)
        writer.writerow([csv_cell(column) for column in columns])
        writer.writerows([csv_cell(row.get(column, "")) for column in columns] for row in rows)
    os.replace(partial, output)
    return output


def _export_row(gb, student: str, original_name: str, assignments: dict[str, float],
                reports: dict) -> dict:
    from nbgrader.api import MissingEntry

    row = {"student": student, "original_name": original_name}
    total = max_total = 0.0
    flags, manual, review = [], False, False
    for assignment, max_score in sorted(assignments.items()):
        report = reports.get((assignment, student), {})
        score = 0.0
        if report.get("status") != "invalid":
            try:
                found = gb.find_submission(assignment, student)
                score, manual = found.score, manual or bool(found.needs_manual_grade)
            except MissingEntry:
                if not report:
                    flags.append(f"{assignment}: not submitted")
        if report.get("flags"):
            flags.append(f"{assignment}: {'; '.join(report['flags'])}")
        review = review or bool(report.get("needs_review"))
        penalty = min(score, max_score * report.get("penalty_percent", 0.0) / 100)
        score = round(score - penalty, 6)
        row[f"{assignment}_submitted"] = report.get("submitted_at") or ""
        row[f"{assignment}_late"] = "yes" if report.get("late") else "no"
        row[f"{assignment}_penalty"] = round(penalty, 6)
        row[assignment], row[f"{assignment}_max"] = float(score), float(max_score)
        total, max_total = total + score, max_total + max_score
    row.update(total=float(total), max_total=float(max_total),
               needs_manual_grading="yes" if manual else "no",
               needs_review="yes" if review else "no", flags=" | ".join(flags))
    return row
