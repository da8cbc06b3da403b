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
crafted path in a zip cannot write outside the course folder; links in a folder are never
followed. Whatever is left out (not a notebook, ``__MACOSX``, a symlink, ``../x.ipynb``...) is
listed with the reason, for the learner it belongs to and for the batch.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .common import GradingError

MAX_BYTES = 100 * 1024 * 1024  # nbgrader's own limit for one file

CANVAS = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)(?P<late>_late|_LATE)?_(?P<number>\d+)"
                    r"(?:_(?P<submission>\d+))?_(?P<file>.+)$")
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
    dropped: dict[str, str] = field(default_factory=dict)  # original path -> why not collected
    lms: dict = field(default_factory=dict)  # the LMS's identity: see ``lms_identity``
    times: dict[str, str] = field(default_factory=dict)  # original path -> ISO time, UTC

    @property
    def submitted_at(self) -> str | None:
        """The upload's time: its newest file's (ISO 8601, UTC), None when the source had none."""
        return max(self.times.values(), default=None)


class Source(dict):
    """Original path -> bytes of every notebook collected from a source, and ``dropped``: each
    entry that was left out, original path -> why (``REFUSED`` reasons send a learner to review)."""

    def __init__(self, files=(), dropped: dict[str, str] | None = None,
                 times: dict[str, str] | None = None):
        super().__init__(files)
        self.dropped: dict[str, str] = dict(dropped or {})
        self.times: dict[str, str] = dict(times or {})  # path -> ISO 8601 time in UTC


SYMLINK = "symlink refused"
SPECIAL = "special file refused (not a regular file)"
UNSAFE = "unsafe path refused (it points outside the upload)"
ABSURD = "path refused (too long or with control characters)"
TOO_BIG = f"larger than {MAX_BYTES // 2**20} MB"
NOT_NOTEBOOK = "not a notebook"
NESTED_ZIP = "a zip inside the zip (not opened)"
MACOS = "macOS metadata (__MACOSX)"
HIDDEN = "hidden file or folder"
NBGRADER_RECORD = "nbgrader's own record of the submission"
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")  # in nbgrader's collected folders
REFUSED = (SYMLINK, SPECIAL, UNSAFE, ABSURD)  # what a learner may have crafted: a person looks
QUIET = (MACOS, HIDDEN, NBGRADER_RECORD)  # left out of every upload by design: the batch's list


def read_source(src: Path) -> Source:
    """Every notebook in a folder or a zip file (original path -> bytes), and what was left out.

    A folder is walked without following links: a symlink (to a file or a folder) or anything
    that is not a regular file is never read, only reported. Zip members are read in memory; a
    member whose name leaves the upload (``../x.ipynb``, ``/etc/x.ipynb``) is refused.
    """
    src = Path(src)
    if not src.exists():
        raise CollectError(f"{src} does not exist: give a folder of .ipynb files or an LMS zip.")
    if src.is_dir():
        found = _read_folder(src)
    elif zipfile.is_zipfile(src):
        found = _read_zip(src)
    elif src.suffix.lower() == ".ipynb":
        found = Source({src.name: src.read_bytes()}, times={
            src.name: _iso(datetime.fromtimestamp(src.stat().st_mtime, UTC))})
    else:
        raise CollectError(f"{src} is neither a folder, a zip file nor a notebook.")
    if not found and not any(why in (SYMLINK, SPECIAL) for why in found.dropped.values()):
        raise CollectError(f"{src} contains no .ipynb files to collect.")
    return found


def _read_folder(src: Path) -> Source:
    found = Source()
    for top, folders, names in os.walk(src, followlinks=False):
        here = Path(top)
        for name in sorted(folders):
            if (here / name).is_symlink():  # os.walk lists it but never enters it
                found.dropped[(here / name).relative_to(src).as_posix()] = SYMLINK
        folders[:] = sorted(f for f in folders if not (here / f).is_symlink())
        for name in sorted(names):
            path = here / name
            rel = path.relative_to(src).as_posix()
            reason = _skip_reason(rel)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                reason = SYMLINK
            elif not stat.S_ISREG(info.st_mode):
                reason = SPECIAL
            elif reason is None and info.st_size > MAX_BYTES:
                reason = TOO_BIG
            if reason is not None:
                found.dropped[rel] = reason
                continue
            try:  # O_NOFOLLOW: a file swapped for a link since lstat is still not followed
                handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                found.dropped[rel] = SYMLINK
                continue
            with os.fdopen(handle, "rb") as stream:
                found[rel] = stream.read(MAX_BYTES + 1)
            found.times[rel] = _iso(datetime.fromtimestamp(info.st_mtime, UTC))
    return found


def _read_zip(src: Path) -> Source:
    found = Source()
    with zipfile.ZipFile(src) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir():
                continue
            reason = _skip_reason(name)
            if reason is None and stat.S_ISLNK(info.external_attr >> 16):
                reason = SYMLINK
            elif reason is None and info.file_size > MAX_BYTES:
                reason = TOO_BIG
            if reason is None:
                try:
                    with archive.open(info) as member:
                        data = member.read(MAX_BYTES + 1)
                except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError) as exc:
                    reason = f"unreadable zip entry ({exc})"
                else:
                    if len(data) > MAX_BYTES:  # the size the zip declared was a lie
                        reason = TOO_BIG
            if reason is not None:
                found.dropped[name] = reason
                continue
            if name in found:
                found.dropped[name] = "duplicate entry in the zip (the last copy was collected)"
            found[name] = data
            found.times[name] = _zip_time(info)
    return found


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _zip_time(info: zipfile.ZipInfo) -> str:
    """A zip entry's time in UTC. The zip format stores a local time without a zone; the LMSs'
    downloads write UTC (Canvas, Moodle on a UTC server), so it is read as UTC; an extended
    timestamp field (0x5455, written by Info-ZIP and most tools) is UTC by definition and wins."""
    extra = info.extra
    while len(extra) >= 4:
        kind, size = int.from_bytes(extra[:2], "little"), int.from_bytes(extra[2:4], "little")
        body = extra[4:4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return _iso(datetime.fromtimestamp(int.from_bytes(body[1:5], "little"), UTC))
        extra = extra[4 + size:]
    try:
        return _iso(datetime(*info.date_time, tzinfo=UTC))
    except ValueError:  # a zero date in a crafted zip
        return _iso(datetime(1980, 1, 1, tzinfo=UTC))


def _skip_reason(path: str) -> str | None:
    """Why a path inside the source is not collected, or None for a notebook to read."""
    if len(path) > 1024 or any(len(part) > 255 for part in path.split("/")) \
            or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return ABSURD
    posix = path.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix) or ".." in parts:
        return UNSAFE
    if "__MACOSX" in parts:
        return MACOS
    if any(part.startswith(".") for part in parts):
        return HIDDEN
    if parts and parts[-1] in NBGRADER_FILES:
        return NBGRADER_RECORD
    if posix.lower().endswith(".zip"):
        return NESTED_ZIP
    if not posix.lower().endswith(".ipynb"):
        return NOT_NOTEBOOK
    return None


def group_by_student(files: dict[str, bytes], dropped: dict[str, str] | None = None,
                     times: dict[str, str] | None = None) -> list[Upload]:
    """One Upload per learner, ids made unique, sorted by id.

    ``dropped`` (path -> why, as ``read_source`` gives it) goes to the learner each path names;
    a refused symlink or special file gives its learner an Upload even when it holds no file, so
    that they get a row and a person looks at it. Paths no learner owns stay out.
    """
    dropped = dict(dropped or {})
    refused = [path for path, why in dropped.items() if why in (SYMLINK, SPECIAL)]
    named = list(files) + refused
    if not named:
        return []
    prefix = _common_folder(named)
    uploads: dict[tuple[str, str | None], Upload] = {}

    def upload_for(path: str) -> Upload:
        name, number = _learner(path[len(prefix):])
        if (name, number) not in uploads:
            uploads[name, number] = Upload(
                student=slug(name) or f"student_{number or len(uploads) + 1}",
                original_name=name, number=number)
        return uploads[name, number]

    times = dict(times if times is not None else getattr(files, "times", {}))
    for path, data in files.items():
        upload = upload_for(path)
        upload.files[path] = data
        if path in times:
            upload.times[path] = times[path]
        _merge_identity(upload.lms, lms_identity(path[len(prefix):]))
    for path in refused:
        upload_for(path).dropped[path] = dropped[path]
    for path, why in dropped.items():
        if why not in QUIET and path not in refused and path.startswith(prefix):
            owner = uploads.get(_learner(path[len(prefix):]))
            if owner is not None:
                owner.dropped[path] = why
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


def lms_identity(path: str) -> dict:
    """What an LMS download's name says of its learner, for the import files it takes back:
    ``{"lms": "canvas", "user_id", "submission_id", "late"}`` for Canvas
    (``name[_late]_<user id>_<submission id>_<file>``), ``{"lms": "moodle", "participant",
    "full_name"}`` for Moodle (``Full Name_<participant id>_assignsubmission_file_``), else {}."""
    parts = PurePosixPath(path).parts
    for part in parts:
        match = MOODLE.match(part)
        if match:
            return {"lms": "moodle", "participant": match["number"],
                    "full_name": match["name"].strip()}
    match = CANVAS.match(parts[-1]) if len(parts) == 1 else None
    if match:
        return {"lms": "canvas", "user_id": match["number"],
                "submission_id": match["submission"], "late": bool(match["late"])}
    return {}


def _merge_identity(into: dict, found: dict) -> None:
    """Several files of one learner: the LMS marks any of them late, the last id wins."""
    late = into.get("late", False) or found.get("late", False)
    into.update({k: v for k, v in found.items() if v is not None})
    if "late" in into:
        into["late"] = late


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
