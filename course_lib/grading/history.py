"""Submission history: every upload a learner ever made is kept, and which one is graded.

``history/<id>/<student>/index.json`` lists each distinct upload (by the hash of its files'
contents) with its time, the source it came in and the LMS identity it carried; the files sit
beside it under ``<hash>/``. The newest upload (by its time, then by when it was first seen) is
graded, or the first with ``keep="first"``. An older upload in a later source, such as the
original zip run again after the late uploads, never replaces a newer one: the learner keeps
the upload they were graded on, and ``change`` says so.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from .common import GradingError, write_files, write_json
from .uploads import Upload

KEEP = ("last", "first")


def upload_hash(upload: Upload) -> str:
    """The hash of an upload's file contents (names left out: Canvas renames resubmissions)."""
    digest = hashlib.sha256()
    for data in sorted(hashlib.sha256(d).hexdigest() for d in upload.files.values()):
        digest.update(data.encode())
    return digest.hexdigest()


def _folder(course: Path, assignment: str, student: str) -> Path:
    return course / "history" / assignment / student


def _read_index(folder: Path) -> dict:
    try:
        return json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"uploads": [], "graded": None}


def _order(entry: dict) -> tuple[str, str]:
    return entry.get("submitted_at") or "", entry.get("seen") or ""


def _when(entry: dict | None) -> str:
    return (entry or {}).get("submitted_at") or "no time"


def choose(course: Path, assignment: str, upload: Upload, src: Path,
           keep: str = "last") -> tuple[Upload, str, dict]:
    """Record ``upload`` in the learner's history and return (the upload to grade, what changed
    since their last run in words, the chosen entry of the history)."""
    if keep not in KEEP:
        raise GradingError(f"--keep {keep!r}: choose one of {', '.join(KEEP)}.")
    folder = _folder(course, assignment, upload.student)
    index = _read_index(folder)
    sha = upload_hash(upload)
    entries = {e["sha"]: e for e in index["uploads"]}
    if sha not in entries:
        names = {path: f"{n:03d}_" + re.sub(r"[^\w.() -]+", "_", path.replace("/", "__"))[-120:]
                 for n, path in enumerate(sorted(upload.files))}
        write_files(folder / sha[:16], {names[p]: upload.files[p] for p in names}, "history")
        entries[sha] = {"sha": sha, "submitted_at": upload.submitted_at, "source": str(src),
                        "seen": datetime.now(UTC).isoformat(timespec="microseconds"),
                        "files": names, "times": dict(upload.times), "lms": dict(upload.lms)}
    ordered = sorted(entries.values(), key=_order)
    chosen = ordered[-1] if keep == "last" else ordered[0]
    previous = entries.get(index.get("graded"))
    if previous is None:
        change = f"first upload graded ({_when(chosen)})"
    elif previous["sha"] == chosen["sha"]:
        change = "unchanged"
        if sha != chosen["sha"]:
            relation = "older" if _order(entries[sha]) < _order(chosen) else "newer"
            change += (f": this source's upload ({_when(entries[sha])}) is {relation} than the "
                       f"one graded ({_when(chosen)}), which is kept (--keep {keep})")
    else:
        change = f"upload of {_when(chosen)} graded instead of the one of {_when(previous)}"
    index = {"uploads": ordered, "graded": chosen["sha"], "keep": keep}
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "index.json", index)
    if chosen["sha"] == sha:
        return upload, change, chosen
    stored = folder / chosen["sha"][:16]
    picked = Upload(student=upload.student, original_name=upload.original_name,
                    number=upload.number, lms=dict(chosen.get("lms") or upload.lms),
                    times=dict(chosen.get("times") or {}))
    picked.files = {path: (stored / name).read_bytes() for path, name in chosen["files"].items()}
    return picked, change, chosen


def history_count(course: Path, assignment: str, student: str) -> int:
    return len(_read_index(_folder(course, assignment, student))["uploads"])
