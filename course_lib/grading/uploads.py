"""Find the notebooks in a folder or an LMS zip export and give each learner a stable id.

Names understood (the learner's part becomes a lower-case, filesystem-safe id):

- a folder or zip of plain files: ``alice.ipynb`` -> ``alice``; ``Alice Smith/forward.ipynb`` ->
  ``alice_smith`` (one folder per learner);
- Canvas: ``smithjohn_12345_67890_forward_propagation.ipynb`` (also ``smithjohn_late_...``) ->
  ``smithjohn``;
- Moodle: ``Student Name_12345_assignsubmission_file_/x.ipynb`` (or the same prefix on the file
  name) -> ``student_name``.

Two different people whose names give the same id are told apart by their LMS number
(``smithjohn_12345``). Nothing is extracted to disk here: zip members are read in memory, so a
crafted path in a zip cannot write outside the course folder.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .common import GradingError

MAX_BYTES = 100 * 1024 * 1024  # nbgrader's own limit for one file

CANVAS = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)(?:_late|_LATE)?_(?P<number>\d+)(?:_\d+)?_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<number>\d+)_assignsubmission_[a-z]+_(?P<file>.*)$")


class CollectError(GradingError, ValueError):
    """The source holds nothing that can be collected (one sentence)."""


@dataclass
class Upload:
    """One learner's files from the source."""

    student: str
    original_name: str  # the learner as the source names them, e.g. "Student Name" or "alice.ipynb"
    files: dict[str, bytes] = field(default_factory=dict)  # original path -> content
    number: str | None = None  # the LMS's number for the learner, when there is one


def read_source(src: Path) -> dict[str, bytes]:
    """Original path -> bytes of every notebook in a folder or a zip file."""
    src = Path(src)
    if not src.exists():
        raise CollectError(f"{src} does not exist: give a folder of .ipynb files or an LMS zip.")
    if src.is_dir():
        found = {}
        for path in sorted(src.rglob("*.ipynb")):
            rel = path.relative_to(src).as_posix()
            if _skipped(rel) or path.stat().st_size > MAX_BYTES:
                continue
            found[rel] = path.read_bytes()
    elif zipfile.is_zipfile(src):
        found = {}
        with zipfile.ZipFile(src) as archive:
            for info in archive.infolist():
                name = info.filename
                if info.is_dir() or not name.lower().endswith(".ipynb") or _skipped(name):
                    continue
                if info.file_size > MAX_BYTES:
                    continue
                found[name] = archive.read(info)
    elif src.suffix.lower() == ".ipynb":
        found = {src.name: src.read_bytes()}
    else:
        raise CollectError(f"{src} is neither a folder, a zip file nor a notebook.")
    if not found:
        raise CollectError(f"{src} contains no .ipynb files to collect.")
    return found


def _skipped(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def group_by_student(files: dict[str, bytes]) -> list[Upload]:
    """One Upload per learner, ids made unique, sorted by id."""
    prefix = _common_folder(list(files))
    uploads: dict[tuple[str, str | None], Upload] = {}
    for path, data in files.items():
        name, number = _learner(path[len(prefix):])
        key = (name, number)
        if key not in uploads:
            uploads[key] = Upload(student=slug(name) or f"student_{number or len(uploads) + 1}",
                                  original_name=name, number=number)
        uploads[key].files[path] = data
    by_id: dict[str, list[Upload]] = {}
    for upload in uploads.values():
        by_id.setdefault(upload.student, []).append(upload)
    for student, same in by_id.items():
        if len(same) > 1:  # different people, same name: add their LMS number (or a counter)
            for count, upload in enumerate(sorted(same, key=lambda u: u.number or ""), start=1):
                upload.student = f"{student}_{upload.number or count}"
    return sorted(uploads.values(), key=lambda upload: upload.student)


def _common_folder(paths: list[str]) -> str:
    """The folder every path sits in when the source is a zip of one folder, else ""."""
    parts = [PurePosixPath(path).parts for path in paths]
    top = parts[0][0]
    if len(paths) > 1 and all(len(p) >= 2 and p[0] == top for p in parts) and not MOODLE.match(top):
        return top + "/"
    return ""


def _learner(path: str) -> tuple[str, str | None]:
    """(name as the source gives it, LMS number or None) for a path inside the source."""
    parts = PurePosixPath(path).parts
    for part in parts[:-1]:
        match = MOODLE.match(part)
        if match:
            return match["name"].strip(), match["number"]
    filename = parts[-1]
    match = MOODLE.match(filename) or CANVAS.match(filename)
    if match:
        return match["name"].strip(), match["number"]
    if len(parts) > 1:
        return parts[0], None
    return filename, None


def slug(name: str) -> str:
    """A lower-case id of letters, digits and underscores: "José Müller.ipynb" -> "jose_muller"."""
    if name.lower().endswith(".ipynb"):
        name = name[: -len(".ipynb")]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:60]


def pick_file(upload: Upload, notebook: str) -> tuple[str, list[str]]:
    """Which of the learner's files to grade as ``notebook``, and a note when there was a choice.

    Among several files the last one named like the notebook wins (Canvas numbers resubmissions
    ``-1``, ``-2``), else the last one.
    """
    paths = sorted(upload.files)
    named = [path for path in paths if _bare_name(path) == notebook]
    chosen = (named or paths)[-1]
    if len(paths) == 1:
        return chosen, []
    ignored = ", ".join(path for path in paths if path != chosen)
    return chosen, [f"more than one file; graded {chosen}, ignored {ignored}"]


def _bare_name(path: str) -> str:
    """The notebook name inside an LMS file name: "smithjohn_1_2_forward-1.ipynb" -> "forward"."""
    filename = PurePosixPath(path).name
    match = MOODLE.match(filename) or CANVAS.match(filename)
    if match and match["file"]:
        filename = match["file"]
    stem = filename[: -len(".ipynb")] if filename.lower().endswith(".ipynb") else filename
    return re.sub(r"(-\d+| \(\d+\))$", "", stem)  # Canvas "-1", browsers " (1)"
