"""Reports: what each submission did, for the instructor (never shown to learners).

``Submission`` is the record every step fills in; it says which flags a learner gets and why a
person should review them. Written per assignment under ``reports/<id>/``: one JSON per learner
and ``summary.md``; ``summary_table`` is what the command line prints at the end.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from .common import write_json
from .hidden import quoted_lines


@dataclass
class Submission:
    """One learner's submission for one assignment, and what grading found."""

    student: str
    assignment: str
    original_name: str
    original_files: list[str]
    notebook: str | None = None
    status: str = "collected"  # collected | invalid | graded | failed
    findings: dict = field(default_factory=dict)
    timeouts: list[str] = field(default_factory=list)
    no_evidence: list[str] = field(default_factory=list)  # test cells that gave no sign of running
    errors: dict = field(default_factory=dict)
    kernel_crash: bool = False
    grading_error: str | None = None
    log_tail: str | None = None  # nbgrader's last log lines when it could not grade
    grades: dict = field(default_factory=dict)
    score: float = 0.0
    max_score: float = 0.0
    needs_manual_grading: bool = False
    feedback: str | None = None
    seconds: float | None = None
    sandboxed: bool = True  # False only under --unsafe-no-sandbox
    key: str | None = None  # hash of the cleaned notebook and the source (regrades skip a match)
    reused: bool = False  # graded by an earlier run of the same notebook and source, kept
    lms: dict = field(default_factory=dict)  # the LMS's ids for the learner (uploads.lms_identity)
    submitted_at: str | None = None  # the graded upload's time, ISO 8601 in UTC
    upload: str | None = None  # hash of the graded upload's files (history.py)
    uploads: int = 1  # distinct uploads kept for this learner
    change: str | None = None  # what changed since the learner's last run, in words
    late: bool = False
    late_days: int = 0
    penalty_percent: float = 0.0  # of the points possible (deadlines.py)
    penalty: float = 0.0  # points taken off the score
    final_score: float = 0.0  # score - penalty
    similar: list = field(default_factory=list)  # similarity.py: pairs above the threshold

    @classmethod
    def from_dict(cls, data: dict) -> Submission:
        """A Submission from its report JSON (keys this version does not know are left out)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def auto_points(self) -> tuple[float, float]:
        """(score, max) of the autograded cells."""
        auto = [g for g in self.grades.values() if g.get("auto", True)]
        return (sum(g.get("score") or 0 for g in auto), sum(g.get("max_score") or 0 for g in auto))

    @property
    def manual_pending(self) -> float:
        """Points of cells still waiting for a person in the formgrader."""
        return sum(g.get("max_score") or 0 for g in self.grades.values()
                   if g.get("needs_manual_grade"))

    def points_text(self) -> str:
        """E.g. "5/5 auto, 1 manual pending" or "5/5 auto, 1/1 manual"."""
        if not self.grades:
            return f"{self.score:g}/{self.max_score:g}"
        got, most = self.auto_points
        text = f"{got:g}/{most:g} auto"
        manual = [g for g in self.grades.values() if not g.get("auto", True)]
        if self.manual_pending:
            text += f", {self.manual_pending:g} manual pending"
        elif manual:
            text += (f", {sum(g.get('score') or 0 for g in manual):g}/"
                     f"{sum(g.get('max_score') or 0 for g in manual):g} manual")
        return text

    @property
    def flags(self) -> list[str]:
        """Short phrases for the summary and the CSV, most serious first."""
        f = self.findings
        flags = []
        if f.get("invalid"):
            flags.append(f"invalid file ({f['invalid']})")
        if self.kernel_crash:
            flags.append("kernel crash")
        if self.grading_error:
            flags.append(f"not graded ({self.grading_error})")
        if f.get("monkeypatching"):
            what = sorted({m["what"] for m in f["monkeypatching"]})
            flags.append("monkeypatching: " + ", ".join(what))
        for key, label in (("deleted", "deleted"), ("duplicated", "duplicated"),
                           ("retyped", "retyped"), ("tampered", "tampered"),
                           ("metadata_changed", "metadata edited"),
                           ("unknown_cells", "unknown cells")):
            if f.get(key):
                flags.append(f"{label}: {', '.join(f[key])}")
        if f.get("borrowing"):
            used = sorted({b["function"] for b in f["borrowing"]})
            flags.append("course_lib's reference implementation: " + ", ".join(used))
        if self.timeouts:
            flags.append(f"timeout: {', '.join(self.timeouts)}")
        if self.no_evidence:
            flags.append(f"tests that gave no sign of running: {', '.join(self.no_evidence)}")
        flags += f.get("notes", [])
        flags += [r for r in f.get("refused", []) if r not in (f.get("invalid") or "")]
        if f.get("dropped"):
            flags.append("not collected: " + "; ".join(f["dropped"]))
        if not self.sandboxed:
            flags.append("graded WITHOUT a sandbox (--unsafe-no-sandbox)")
        if self.late:
            flags.append(f"late: {self.late_days} day(s), -{self.penalty:g} points "
                         f"({self.penalty_percent:g} %)" if self.late_days else "late (LMS)")
        for pair in self.similar:
            flags.append(f"similar to {pair['other']} ({pair['percent']:.0f} %)")
        return flags

    @property
    def review_reasons(self) -> list[str]:
        """Why a person should look at this submission before the grade counts."""
        f = self.findings
        reasons = []
        if f.get("invalid"):
            reasons.append("the file could not be read as a notebook")
        if f.get("monkeypatching"):
            reasons.append("code rebinds functions the checks rely on")
        if self.kernel_crash:
            reasons.append("the kernel stopped (a crash, or past the memory or process "
                           "limit): tests before it kept their points, later ones got none")
        if self.no_evidence:
            reasons.append("test cells ran without a sign that they reached their end (code "
                           "that changes how cells run, or no output), so they earned nothing")
        if self.grading_error:
            reasons.append("nbgrader could not grade it")
        if any(note.startswith("more than one file") for note in f.get("notes", [])):
            reasons.append("several files were uploaded; one was chosen")
        for name in sorted({b["function"] for b in f.get("borrowing", [])}):
            reasons.append(f"{name} uses course_lib's reference implementation")
        if f.get("refused"):
            reasons.append("the upload holds a symlink, a special file or a crafted path, "
                           "which was refused")
        if self.similar:
            others = ", ".join(p["other"] for p in self.similar)
            reasons.append(f"answer cells much like {others}'s (similarity report; the score "
                           "is not changed)")
        return reasons

    @property
    def needs_review(self) -> bool:
        return bool(self.review_reasons)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items()}
        data.update(flags=self.flags, needs_review=self.needs_review,
                    review_reasons=self.review_reasons)
        return data


def write_report(course: Path, sub: Submission) -> Path:
    """``reports/<id>/<student>.json``: the submission and its flags (``export`` reads them)."""
    path = course / "reports" / sub.assignment / f"{sub.student}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, sub.as_dict())
    return path


def summary_table(submissions: list[Submission], scores: bool = True) -> str:
    """One line per learner: score and max (or, before grading, the status), review, flags."""
    head = ("student", "score", "max") if scores else ("student", "status")
    rows = [(*head, "review", "flags")]
    for sub in sorted(submissions, key=lambda s: s.student):
        middle = (f"{sub.score:g}", f"{sub.max_score:g}") if scores else (sub.status,)
        rows.append((sub.student, *middle, "YES" if sub.needs_review else "",
                     "; ".join(sub.flags) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) + 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True))
             + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    review = sum(s.needs_review for s in submissions)
    if scores:
        graded = sum(s.status == "graded" for s in submissions)
        counts = f"{graded} graded, {len(submissions) - graded} not graded"
    else:
        readable = sum(s.status != "invalid" for s in submissions)
        counts = f"{readable} collected, {len(submissions) - readable} unreadable"
    lines.append(f"\n{len(submissions)} submissions: {counts}, {review} to review by hand.")
    return "\n".join(lines)


def write_summary(course: Path, assignment: str, submissions: list[Submission],
                  notes: list[str] | None = None) -> Path:
    """``reports/<id>/summary.md``: the integrity report, a table then the details per learner,
    and ``notes`` (what changed since the last run, the late policy) under the table."""
    path = course / "reports" / assignment / "summary.md"
    lines = [f"# {assignment}: integrity report", "",
             "| student | original name | points | late | penalty | score | max | review | flags |",
             "|---|---|---|---|---|---|---|---|---|"]
    for sub in sorted(submissions, key=lambda s: s.student):
        flags = "; ".join(sub.flags).replace("|", "/") or "-"
        late = (f"{sub.late_days} d" if sub.late_days else "yes") if sub.late else ""
        submitted = f" ({sub.submitted_at})" if sub.late and sub.submitted_at else ""
        lines.append(f"| {sub.student} | {sub.original_name} | {sub.points_text()} "
                     f"| {late}{submitted} | {f'-{sub.penalty:g}' if sub.penalty else ''} "
                     f"| {sub.final_score:g} | {sub.max_score:g} "
                     f"| {'YES' if sub.needs_review else ''} | {flags} |")
    if notes:
        lines += [""] + notes
    lines += ["", "## Details", ""]
    for sub in sorted(submissions, key=lambda s: s.student):
        if not (sub.flags or sub.errors):
            continue
        lines.append(f"### {sub.student}")
        for reason in sub.review_reasons:
            lines.append(f"- **review**: {reason}")
        for finding in sub.findings.get("monkeypatching", []):
            lines.append(f"- cell {finding['cell']}, line {finding['line']}: `{finding['code']}` "
                         f"({finding['what']})")
        for flag in sub.flags:
            lines.append(f"- {flag}")
        for cell, error in sub.errors.items():
            lines.append(f"- {cell} raised `{error}`")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def feedback_leaks(html_file: Path, secret_lines: set[str]) -> list[str]:
    """The hidden-test lines that a feedback HTML file shows (tags and escapes removed)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", Path(html_file).read_text(encoding="utf-8")))
    return quoted_lines(text, secret_lines)
