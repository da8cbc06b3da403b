"""One learner graded in a course folder of its own: nbgrader's API set up as every grading
process sets it up (``grading_api``), then autograde and feedback (``grade_learner``).

``remote.grade_one`` (a Dask worker, and each local worker through ``worker.py``) calls these;
they never touch the instructor's gradebook.
"""

from __future__ import annotations

import time
from pathlib import Path


def grading_api(config_file: Path, *, timeout: int, figures: bool, images: bool,
                sandboxed: bool, memory_mb: int):
    """nbgrader's API on a course folder's ``config_file`` as every grading process sets it up:
    the cell ``timeout``, feedback without images unless ``images``, and each kernel in its
    sandbox of ``memory_mb`` when ``sandboxed`` (the local workers and ``remote.grade_one``)."""
    from . import autograde as nbg  # nbgrader (and so nbformat) only after the caller's setup

    config = nbg.load_config(config_file, **{"ExecutePreprocessor.timeout": timeout})
    config.GenerateFeedback.exporter_class = nbg.CachedHTMLExporter  # templates compiled once
    if not images:
        config.GenerateFeedback.preprocessors = [
            "course_lib.grading.autograde.DropImages", *config.GenerateFeedback.preprocessors]
    if sandboxed:
        config.CappedExecute.kernel_manager_class = nbg.SandboxedKernelManager
        config.SandboxedKernelManager.memory_mb = memory_mb
    return nbg.make_api(config, figures=figures)


def grade_learner(api, assignment: str, student: str, write_feedback: bool) -> dict:
    """Autograde one learner (and write their feedback): ``{"autograde": {"success", "log",
    "error"}, "feedback": {...} (when written), "seconds"}``."""
    started = time.monotonic()
    graded = autograde(api, assignment, student)
    result = {"autograde": _brief(graded)}
    if graded.get("success") and write_feedback:
        result["feedback"] = _brief(api.generate_feedback(assignment, student, force=True))
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


# What nbclient says when a kernel never came up: before any cell of the learner has run, so it
# is the machine's doing (two kernels started at once can draw the same free port), not theirs.
KERNEL_DID_NOT_START = ("Kernel didn't respond in", "Kernel died before replying to kernel_info")


def autograde(api, assignment: str, student: str) -> dict:
    """nbgrader's autograde of one learner, run once more when the kernel did not start."""
    graded = api.autograde(assignment, student, force=True, create=True)
    text = f"{graded.get('log', '')}\n{graded.get('error', '')}"
    if not graded.get("success") and any(sign in text for sign in KERNEL_DID_NOT_START):
        graded = api.autograde(assignment, student, force=True, create=True)
    return graded


def _brief(result: dict) -> dict:
    return {"success": bool(result.get("success")), "log": result.get("log", "")[-20000:],
            "error": result.get("error", "")[-5000:]}
