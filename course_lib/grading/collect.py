"""Collect: every learner's notebook from a folder or an LMS zip, into nbgrader's layout.

Each file is kept as received under ``originals/``; a cleaned copy (``integrity.preclean``)
goes to ``submitted/<student>/<id>/<notebook>.ipynb``, and each learner gets a report: what
pre-cleaning repaired, code that rebinds what the checks use (``monkeypatching``) or that hands
back course_lib's own answer (``borrowing``), and the entries of the upload that were refused or
left out (``reports/<id>/not_collected.md`` lists them for the whole batch).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from . import history
from .borrowing import scan_borrowing
from .common import (
    REPO,
    GradingError,
    init_course_folder,
    notebook_names,
    require_assignment,
    write_json,
)
from .integrity import preclean, read_submission
from .monkeypatching import scan_monkeypatching
from .report import Submission, write_report
from .uploads import REFUSED, Upload, group_by_student, pick_file, read_source


def collect(src: Path, assignment: str, course: Path = Path("grading"),
            repo: Path = REPO, keep: str = "last") -> list[Submission]:
    """Put every learner's notebook from ``src`` (folder or LMS zip) into nbgrader's layout.

    Each file is kept as received under ``originals/``; a cleaned copy (see
    ``integrity.preclean``) goes to ``submitted/<student>/<id>/<notebook>.ipynb``.
    """
    from . import autograde as nbg  # nbgrader: seconds to import, so only when collecting

    require_assignment(Path(repo), assignment)
    files = read_source(Path(src))
    course = init_course_folder(course, assignment, repo)
    nbg.generate_assignment(nbg.make_api(nbg.load_config(course / "nbgrader_config.py")),
                            assignment)
    return collect_files(files, Path(src), assignment, course, keep=keep)


def collect_files(files: dict[str, bytes], src: Path, assignment: str,
                  course: Path, force: bool = True, keep: str = "last") -> list[Submission]:
    """Collect ``files`` (original path -> bytes, read from ``src``) into the prepared
    ``course`` folder, whose ``release/<id>`` must exist; returns one Submission per learner.

    Each collected learner gets a ``key``: the hash of their cleaned notebook and of the
    assignment's source. Unless ``force``, a learner whose key is the one their last complete
    grading recorded keeps that grading (``reused``: nothing of theirs is redone).

    Every upload is kept in the learner's history (``history.py``); the newest is graded (the
    first with ``keep="first"``), so an older upload in ``files`` never replaces a newer one."""
    import nbformat

    release_dir = course / "release" / assignment
    names = notebook_names(release_dir)
    if len(names) != 1:
        raise GradingError(f"{assignment} has {len(names)} notebooks; the course's tools grade "
                           "assignments of exactly one notebook.")
    name = names[0]
    release_nb = nbformat.read(release_dir / f"{name}.ipynb", as_version=4)
    dropped = getattr(files, "dropped", {})
    uploads = group_by_student(files, dropped)

    submissions = []
    seen_path = course / ".grading" / f"{assignment}.uploads.json"
    seen = _read_seen(seen_path)  # student -> the upload and cleaned keys of their last collect
    source_hash = _sha256(*(p.read_bytes() for p in
                            sorted((course / "source" / assignment).glob("*.ipynb"))))
    for upload in uploads:
        _keep_originals(course, assignment, upload)
        change, entry = None, None
        if upload.files:
            upload, change, entry = history.choose(course, assignment, upload, src, keep)
        sub = Submission(student=upload.student, assignment=assignment,
                         original_name=upload.original_name,
                         original_files=sorted(upload.files), notebook=name,
                         lms=dict(upload.lms), submitted_at=upload.submitted_at,
                         upload=entry and entry["sha"], change=change,
                         uploads=history.history_count(course, assignment, upload.student))
        left_out = _left_out(upload)
        if not upload.files:  # only a refused symlink or special file: nothing to read
            _forget_derived(course, upload.student, assignment)
            sub.status = "invalid"
            sub.findings = {"invalid": "; ".join(left_out["refused"]), "notes": [], **left_out}
            submissions.append(sub)
            continue
        chosen, notes = pick_file(upload, name)
        # The same file, notes and source as last time: cleaning and scanning it again would
        # give what the last report holds, so a regrade of an unchanged learner skips them.
        upload_key = _sha256(upload.files[chosen], json.dumps(
            [chosen, notes, left_out], sort_keys=True).encode(), source_hash.encode())
        last = seen.get(upload.student) or {}
        if not force and last.get("upload") == upload_key:
            sub.key = last.get("key")
            if _keep_last_grading(course, sub, findings=True):
                submissions.append(sub)
                continue
        raw, problem = read_submission(upload.files[chosen])
        if raw is None:
            _forget_derived(course, upload.student, assignment)
            sub.status = "invalid"
            sub.findings = {"invalid": problem, "notes": notes, **left_out}
        else:
            cleaned, found = preclean(raw, release_nb)
            found.monkeypatching = scan_monkeypatching(cleaned)
            found.notes = notes + found.notes
            sub.findings = {**found.as_dict(), **left_out,
                            "borrowing": scan_borrowing(cleaned, release_nb)}
            text = nbformat.writes(cleaned)
            sub.key = _sha256(text.encode("utf-8"), source_hash.encode())
            seen[upload.student] = {"upload": upload_key, "key": sub.key}
            if not force and _keep_last_grading(course, sub):
                submissions.append(sub)
                continue
            _forget_derived(course, upload.student, assignment)  # the new upload replaces it
            submitted = course / "submitted" / upload.student / assignment / f"{name}.ipynb"
            submitted.parent.mkdir(parents=True, exist_ok=True)
            submitted.write_text(text, encoding="utf-8")
        submissions.append(sub)
    _update_students(course, assignment, uploads, src)
    seen_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(seen_path, seen)
    for sub in submissions:
        write_report(course, sub)
    write_not_collected(course, assignment, dropped, uploads)
    return submissions


def _left_out(upload: Upload) -> dict[str, list[str]]:
    """The learner's entries that were not collected: ``refused`` (a symlink, a special file,
    a crafted path: a person looks) and ``dropped`` (not a notebook, too large...), each
    ``"<why>: <path>"``."""
    refused = [f"{why}: {path}" for path, why in sorted(upload.dropped.items()) if why in REFUSED]
    dropped = [f"{why}: {path}" for path, why in sorted(upload.dropped.items())
               if why not in REFUSED]
    return {"refused": refused, "dropped": dropped}


def write_not_collected(course: Path, assignment: str, dropped: dict[str, str],
                        uploads: list[Upload]) -> Path:
    """``reports/<id>/not_collected.md``: every entry of the source that was not collected, why,
    and whose it is when a learner's path names them (the batch's list; each learner's own
    entries are also in their report)."""
    owners = {path: upload.student for upload in uploads for path in upload.dropped}
    path = course / "reports" / assignment / "not_collected.md"
    lines = [f"# {assignment}: entries of the upload that were not collected", ""]
    if not dropped:
        lines.append("Every entry of the upload was a notebook and was collected.")
    for entry, why in sorted(dropped.items()):
        whose = f" ({owners[entry]})" if entry in owners else ""
        lines.append(f"- `{entry!r}`{whose}: {why}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _keep_originals(course: Path, assignment: str, upload: Upload) -> None:
    """Store each uploaded file as received; a different file under a known name gets a number."""
    folder = course / "originals" / assignment / upload.student
    folder.mkdir(parents=True, exist_ok=True)
    for path, data in upload.files.items():
        first = folder / re.sub(r"[^\w.() -]+", "_", path.replace("/", "__"))[-150:]
        number, target = 1, first
        while target.exists() and target.read_bytes() != data:
            number += 1
            target = first.with_name(f"{first.stem}.{number}{first.suffix}")
        if not target.exists():
            target.write_bytes(data)


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _read_seen(path: Path) -> dict:
    try:
        seen = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return seen if isinstance(seen, dict) else {}


def _keep_last_grading(course: Path, sub: Submission, findings: bool = False) -> bool:
    """Whether ``sub``'s last complete grading is for this very notebook and source; if so,
    ``sub`` takes over what it found (``reused``), and its ``findings`` too when asked (the
    upload was not cleaned and scanned again)."""
    path = course / "reports" / sub.assignment / f"{sub.student}.json"
    try:
        last = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    submitted = course / "submitted" / sub.student / sub.assignment / f"{sub.notebook}.ipynb"
    if (last.get("status") != "graded" or last.get("key") != sub.key
            or not submitted.exists()):
        return False
    if findings and not isinstance(last.get("findings"), dict):
        return False
    sub.status, sub.reused = "graded", True
    if findings:
        sub.findings = last["findings"]
    for name in ("seconds", "feedback", "timeouts", "errors", "no_evidence", "kernel_crash",
                 "sandboxed", "grading_error"):
        if name in last:
            setattr(sub, name, last[name])
    return True


def _forget_derived(course: Path, student: str, assignment: str) -> None:
    """Drop what was made from a learner's earlier upload (their originals stay)."""
    for step in ("submitted", "autograded", "feedback"):
        folder = course / step / student / assignment
        if folder.exists():
            shutil.rmtree(folder)


def _update_students(course: Path, assignment: str, uploads: list[Upload], src: Path) -> None:
    path = course / "students.json"
    students = json.loads(path.read_text()) if path.exists() else {}
    for upload in uploads:
        entry = students.setdefault(upload.student, {"original_name": upload.original_name,
                                                     "assignments": {}})
        if upload.lms:  # the LMS's ids: what its import files are keyed by
            entry.setdefault("lms", {}).update(
                {k: v for k, v in upload.lms.items() if k not in ("late", "submission_id")})
        entry["assignments"][assignment] = {"files": sorted(upload.files), "source": str(src)}
    write_json(path, students)
