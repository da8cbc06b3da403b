"""One learner graded on a Dask worker (``grade --scheduler``): ``grade_one``, a pure function.

``grade_one`` gets everything it needs as values (the assignment's source files, the text of the
course's nbgrader_config.py, the learner's cleaned notebook, the grading options) and gives back
values: the autograded notebook, the feedback page and the per-cell grades of its own private
gradebook. It builds a private course folder in the worker's temporary folder and never sees the
instructor's course folder: the instructor's process (``cluster.py``) alone writes the files and
the grades there.

Per worker process, a prepared course folder (source, generated release, gradebook with the
assignment) is kept per assignment source and settings, so ``generate_assignment`` runs once per
worker; each learner is graded in a copy of it, removed afterwards. Grading itself is what the
local workers do (``learner.grading_api``, ``learner.grade_learner``): CappedExecute, each kernel in
its bubblewrap sandbox, feedback with hidden tests scrubbed.

Nothing here imports dask: the function runs wherever it is sent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from .common import (
    CONFIG_MARKER,
    GradingError,
    course_config_text,
    skip_slow_optional_imports,
    write_files,
)

_TEMPLATES: dict[str, Path] = {}  # hash of the assignment source and settings -> course folder
_LOCK = threading.Lock()  # a worker with several threads prepares each template once
_SANDBOX_WORKS: list[bool] = []  # not empty once a sandbox started in this process


def grade_one(assignment: str, source: dict[str, bytes], settings: str, student: str,
              submitted: dict[str, bytes], *, timeout: int, figures: bool = False,
              feedback: bool = True, feedback_images: bool = True, memory_mb: int = 2048,
              sandboxed: bool = True) -> dict:
    """Autograde ``student`` of ``assignment`` in a private course folder on this machine.

    ``source``: path under ``source/<assignment>/`` -> bytes; ``settings``: the text of the
    course's nbgrader_config.py; ``submitted``: file name -> bytes of the learner's
    ``submitted/<student>/<assignment>/`` folder (their cleaned notebook, the timestamp).

    Returns ``{"student", "autograde": {"success", "log", "error"}, "feedback": {...} or None,
    "seconds", "autograded": {name: bytes}, "feedback_files": {name: bytes}, "notebooks":
    {notebook: {"late_penalty", "grades": {grade_id: {"auto_score", "max_score",
    "needs_manual_grade"}}, "comments": {grade_id: auto_comment}}} or None, "timestamp",
    "host"}``. Raises only on what is not the learner's doing (no sandbox on this worker, a
    broken environment), so that Dask retries the task elsewhere.
    """
    started = time.monotonic()
    _prepare_process(memory_mb)
    if sandboxed and not _SANDBOX_WORKS:
        from . import sandbox

        if why := sandbox.problem():
            raise GradingError(f"the worker {socket.gethostname()} cannot grade: {why}")
        _SANDBOX_WORKS.append(True)  # checked once per process: a sandbox start is ~0.3 s
    from . import learner

    template = _template(assignment, source, settings)
    work = Path(tempfile.mkdtemp(prefix="course-grading-"))
    try:
        course = work / "course"
        shutil.copytree(template, course, symlinks=True)
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for name, data in submitted.items():
            if "/" in name or name.startswith("."):
                raise GradingError(f"refused submitted file name {name!r}")
            (folder / name).write_bytes(data)
        api = learner.grading_api(course / "nbgrader_config.py", timeout=timeout,
                                 figures=figures, images=feedback_images,
                                 sandboxed=sandboxed, memory_mb=memory_mb)
        result = learner.grade_learner(api, assignment, student, feedback)
        result.setdefault("feedback", None)
        result.update(
            student=student, host=socket.gethostname(),
            autograded=_files(course / "autograded" / student / assignment),
            feedback_files=(_files(course / "feedback" / student / assignment)
                            if result["feedback"] else {}),
            **_gradebook_entries(course, assignment, student))
        result["seconds"] = round(time.monotonic() - started, 2)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prepare_process(memory_mb: int) -> None:
    """This worker process as a local grading worker is: headless, one BLAS thread per kernel,
    the environment's commands on PATH, nbformat without its slow optional import, and a soft
    cap on its heap (a learner's output flood fails there instead of filling the machine)."""
    from .common import worker_env

    os.environ.update(worker_env())
    skip_slow_optional_imports()
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        limit = memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: grade without a cap
        pass


def _template(assignment: str, source: dict[str, bytes], settings: str) -> Path:
    """A course folder with the source, its generated release and a gradebook that knows the
    assignment, made once per worker process for each source and settings."""
    digest = hashlib.sha256(f"{assignment}\0{settings}\0".encode())
    for name in sorted(source):
        digest.update(name.encode() + b"\0" + hashlib.sha256(source[name]).digest())
    key = digest.hexdigest()
    with _LOCK:
        ready = _TEMPLATES.get(key)
        if ready is not None and (ready / "gradebook.db").exists():
            return ready
        from . import autograde as nbg  # nbgrader: seconds to import, once per process

        root = Path(tempfile.mkdtemp(prefix=f"course-template-{key[:12]}-"))
        (root / "course_settings.py").write_text(settings, encoding="utf-8")
        (root / "nbgrader_config.py").write_text(
            course_config_text(root / "course_settings.py"), encoding="utf-8")
        write_files(root / "source" / assignment, source, "source file")
        nbg.generate_assignment(nbg.make_api(nbg.load_config(root / "nbgrader_config.py")),
                                assignment)
        _TEMPLATES[key] = root
        return root


def _files(folder: Path) -> dict[str, bytes]:
    """path under ``folder`` -> bytes, for every file in it (none when it does not exist)."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _gradebook_entries(course: Path, assignment: str, student: str) -> dict:
    """What autograding put in the private gradebook for ``student``: the submission's
    timestamp and, per notebook, its late penalty, grades and automatic comments."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        try:
            found = gb.find_submission(assignment, student)
        except MissingEntry:
            return {"timestamp": None, "notebooks": None}
        notebooks = {
            nb.name: {
                "late_penalty": nb.late_submission_penalty,
                "grades": {g.name: {"auto_score": g.auto_score, "max_score": g.max_score,
                                    "needs_manual_grade": bool(g.needs_manual_grade)}
                           for g in nb.grades},
                "comments": {c.name: c.auto_comment for c in nb.comments},
            } for nb in found.notebooks}
        return {"timestamp": found.timestamp, "notebooks": notebooks}


# --- what the instructor's process does with a result ----------------------------------------


def course_inputs(course: Path, assignment: str) -> tuple[dict[str, bytes], str]:
    """What ``grade_one`` needs of a course folder: ``source/<id>``'s files and the text of the
    course's settings (the file its nbgrader_config.py loads, or that file itself when a person
    wrote it)."""
    import re

    folder = Path(course) / "source" / assignment
    source = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
              if p.is_file() and ".ipynb_checkpoints" not in p.parts
              and "__pycache__" not in p.parts}
    text = (Path(course) / "nbgrader_config.py").read_text(encoding="utf-8")
    if text.startswith(CONFIG_MARKER):
        loads = re.search(r"load_subconfig\((['\"])(.*?)\1\)", text)
        if loads:
            text = Path(loads[2]).read_text(encoding="utf-8")
    return source, text


def submitted_files(course: Path, assignment: str, student: str) -> dict[str, bytes]:
    """The learner's ``submitted/<student>/<id>/`` files (name -> bytes) for ``grade_one``."""
    folder = Path(course) / "submitted" / student / assignment
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def store_result(course: Path, assignment: str, student: str, result: dict) -> None:
    """``grade_one``'s result written into the instructor's course folder, as a grading in it
    would leave it: autograded/ replaced, feedback/ replaced when feedback was written, and
    the gradebook's auto scores set (manual scores kept, and then flagged for review).
    The instructor's process alone calls this (local pool and Dask alike)."""
    course = Path(course)
    rel = Path(student) / assignment
    _replace_files(course / "autograded" / rel, result.get("autograded") or {})
    if result.get("feedback"):
        _replace_files(course / "feedback" / rel, result.get("feedback_files") or {})
    notebooks = result.get("notebooks")
    if notebooks is None:
        return
    from nbgrader.api import Gradebook

    from .autograde import gradebook_url, load_config

    config = load_config(course / "nbgrader_config.py")
    with Gradebook(gradebook_url(config)) as gb:
        gb.update_or_create_student(student)
        if result.get("timestamp") is not None:
            gb.update_or_create_submission(assignment, student, timestamp=result["timestamp"])
        else:
            gb.update_or_create_submission(assignment, student)
        for name, entry in notebooks.items():
            notebook = gb.find_submission_notebook(name, assignment, student)
            notebook.late_submission_penalty = entry.get("late_penalty")
            for grade_id, values in entry["grades"].items():
                grade = gb.find_grade(grade_id, name, assignment, student)
                grade.auto_score = values["auto_score"]
                grade.needs_manual_grade = bool(
                    grade.manual_score is not None or values["auto_score"] is None
                    or values["needs_manual_grade"])
            for grade_id, text in entry.get("comments", {}).items():
                gb.find_comment(grade_id, name, assignment, student).auto_comment = text
        gb.db.commit()


def _replace_files(folder: Path, files: dict[str, bytes]) -> None:
    """``folder`` holding exactly ``files`` (path under it -> bytes)."""
    if folder.exists():
        shutil.rmtree(folder)
    write_files(folder, files, "worker's file")
