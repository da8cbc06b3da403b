"""The class over the term: one summary of every learner ever collected, whichever run graded them.

Each learner's report JSON (``reports/<id>/<student>.json``) is the record;
``history/<id>/_term.json`` keeps what the last run showed (score, upload, status), so that
each run says per learner what changed since then, or that nothing did. The printed summary
and ``summary.md`` always list the whole class: autograded points, manual points pending ("5/5 auto, 1 manual pending"),
lateness and penalty, review and flags.
"""

from __future__ import annotations

import json
from pathlib import Path

from .common import write_json
from .report import Submission, write_summary


def whole_class(course: Path, assignment: str) -> list[Submission]:
    """Every learner with a report for ``assignment``, sorted by id."""
    subs = []
    for path in sorted((course / "reports" / assignment).glob("*.json")):
        try:
            subs.append(Submission.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return sorted(subs, key=lambda s: s.student)


def _state(sub: Submission) -> dict:
    return {"final_score": sub.final_score, "upload": sub.upload, "status": sub.status,
            "late": sub.late, "needs_review": sub.needs_review}


def changes(before: dict, subs: list[Submission]) -> dict[str, str]:
    """Learner -> what changed since the last run (only those with a change)."""
    out = {}
    for sub in subs:
        old = before.get(sub.student)
        now = _state(sub)
        if old is None:
            out[sub.student] = f"new: {sub.final_score:g} points"
            continue
        said = []
        if old.get("upload") != now["upload"]:
            said.append(sub.change or "another upload graded")
        if old.get("final_score") != now["final_score"]:
            said.append(f"{old.get('final_score', 0):g} -> {now['final_score']:g} points")
        if old.get("status") != now["status"]:
            said.append(f"{old.get('status')} -> {now['status']}")
        if bool(old.get("late")) != now["late"]:
            said.append("now late" if now["late"] else "no longer late")
        if said:
            out[sub.student] = "; ".join(said)
    return out


def class_table(subs: list[Submission], changed: dict[str, str]) -> str:
    """One line per learner of the whole class, then the class's counts."""
    head = ("student", "points", "late", "penalty", "final", "max", "review", "flags")
    rows = [head]
    for sub in subs:
        late = (f"{sub.late_days} d" if sub.late_days else "yes") if sub.late else ""
        rows.append((sub.student, sub.points_text(), late,
                     f"-{sub.penalty:g}" if sub.penalty else "", f"{sub.final_score:g}",
                     f"{sub.max_score:g}", "YES" if sub.needs_review else "",
                     "; ".join(sub.flags) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True))
             + "  " + row[-1] for row in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    graded = sum(s.status == "graded" for s in subs)
    pending = sum(bool(s.manual_pending) for s in subs)
    late = sum(s.late for s in subs)
    review = sum(s.needs_review for s in subs)
    lines.append(f"\n{len(subs)} submissions: {graded} graded, {len(subs) - graded} not graded, "
                 f"{pending} with manual grading pending, {late} late, {review} to review by hand.")
    if changed:
        lines.append("Changed since the last run:")
        lines += [f"  {student}: {what}" for student, what in sorted(changed.items())]
    else:
        lines.append("Nothing changed since the last run.")
    return "\n".join(lines)


def write_class_summary(course: Path, assignment: str, run: list[Submission],
                        policy=None) -> tuple[Path, str]:
    """Update ``_term.json`` from this run and return (summary.md's path, the printed table).
    ``run`` is this run's learners; the table covers every learner with a report."""
    folder = course / "reports" / assignment
    state_file = course / "history" / assignment / "_term.json"  # not a learner's report
    try:
        before = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    everyone = whole_class(course, assignment)
    changed = changes(before.get("learners", {}), everyone)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    write_json(state_file, {"learners": {s.student: _state(s) for s in everyone},
                            "policy": policy.as_dict() if policy is not None else None,
                            "last_run": sorted(s.student for s in run)})
    table = class_table(everyone, changed)
    notes = ["## Changed since the last run", ""]
    notes += [f"- {student}: {what}" for student, what in sorted(changed.items())] or [
        "Nothing changed since the last run."]
    if policy is not None and policy.due is not None:
        table += f"\nLate policy: {policy.describe()}."
        notes += ["", f"Late policy: {policy.describe()}."]
    similar = folder / "similarity.md"
    if similar.exists():
        notes += ["", f"Similarity report: {similar.name}."]
    path = write_summary(course, assignment, everyone, notes)
    return path, table
