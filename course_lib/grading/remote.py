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
local workers do (``worker.grading_api``, ``worker.grade_learner``): CappedExecute, each kernel in
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

from .common import GradingError, course_config_text, skip_slow_optional_imports, write_files

_TEMPLATES: dict[str, Path] = {}  # hash of the assignment source and settings -> course folder
_LOCK = threading.Lock()  # a worker with several threads prepares each template once


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
    if sandboxed:
        from . import sandbox

        if why := sandbox.problem():
            raise GradingError(f"the worker {socket.gethostname()} cannot grade: {why}")
    from . import worker

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
        api = worker.grading_api(course / "nbgrader_config.py", timeout=timeout,
                                 figures=figures, images=feedback_images,
                                 sandboxed=sandboxed, memory_mb=memory_mb)
        result = worker.grade_learner(api, assignment, student, feedback)
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
    from .pool import worker_env

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
