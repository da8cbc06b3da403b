"""One grading worker process: grade learners one at a time, answering one JSON line each.

A worker imports nbgrader once (a few seconds), then reads learner ids from stdin and, for each,
grades them with ``remote.grade_one`` (the function a Dask worker runs): in a private course
folder of its own, from the assignment's source and the learner's submitted notebook, never
touching the instructor's gradebook. It answers one JSON line: the result, the autograded
notebook and the feedback page (base64), and the grades for the instructor's process to store
(``pool.py`` calls ``remote.store_result``; it alone writes the course folder and gradebook).
nbgrader already turns a crashed kernel, a timeout or a broken notebook into a failed result
for that learner; what it cannot catch (a runaway kernel flooding memory, a hang past every
timeout) is the pool's job: it kills the worker and its kernels.

With SANDBOX = 1 every kernel runs in a bubblewrap sandbox (``sandbox.py``): the worker itself
is trusted, the learner's code is not.

Run as ``python -m course_lib.grading.worker COURSE ASSIGNMENT TIMEOUT FIGURES FEEDBACK
MEMORY_MB SANDBOX IMAGES`` (the pool does; the last five are 0 or 1 but MEMORY_MB; IMAGES 0
writes feedback without embedded images).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .common import WORKER_READY, skip_slow_optional_imports


def worker_main(argv: list[str]) -> int:
    course, assignment, timeout = Path(argv[0]), argv[1], int(argv[2])
    figures, write_feedback, memory_mb = argv[3] == "1", argv[4] == "1", int(argv[5])
    sandboxed = argv[6] == "1"
    images = len(argv) < 8 or argv[7] == "1"
    _limit_memory(memory_mb)
    # The protocol owns the real stdout; everything else (kernels started later included)
    # writes to stderr, so nothing a learner prints can be mistaken for a result.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    skip_slow_optional_imports()
    from . import autograde  # noqa: F401  (nbgrader, seconds: before saying it is ready)
    from .remote import course_inputs, grade_one, submitted_files

    options = dict(timeout=timeout, figures=figures, feedback=write_feedback,
                   feedback_images=images, memory_mb=memory_mb, sandboxed=sandboxed)
    protocol.write(json.dumps({"event": WORKER_READY}) + "\n")
    source = settings = None
    for line in sys.stdin:
        student = line.strip()
        if not student:
            continue
        try:
            if source is None:  # the instructor has generated and collected by now
                source, settings = course_inputs(course, assignment)
            result = encode_files(grade_one(
                assignment, source, settings, student,
                submitted_files(course, assignment, student), **options))
        except Exception as exc:  # not the learner's doing: say so, for this learner only
            why = f"the grading worker failed ({type(exc).__name__}: {exc})"[:300]
            result = {"autograde": {"success": False, "log": "", "error": why}, "worker": why}
        protocol.write(json.dumps({"event": "done", "student": student, **result}) + "\n")
    return 0


FILES = ("autograded", "feedback_files")  # the parts of a result that hold files (bytes)


def encode_files(result: dict) -> dict:
    """``grade_one``'s result as JSON can carry it: file contents in base64."""
    import base64

    return {**result, **{key: {name: base64.b64encode(data).decode("ascii")
                               for name, data in (result.get(key) or {}).items()}
                         for key in FILES}}


def decode_files(result: dict) -> dict:
    """``encode_files`` undone."""
    import base64

    return {**result, **{key: {name: base64.b64decode(data)
                               for name, data in (result.get(key) or {}).items()}
                         for key in FILES if key in result}}


def _limit_memory(megabytes: int) -> None:
    """Cap this process's heap, and so each kernel it starts (they inherit the limit).

    A learner's loop that keeps printing makes the kernel buffer output faster than it can be
    sent (measured: 2.7 GB in 30 s); at the cap it fails with MemoryError or dies, and the
    learner is reported, instead of the machine running out of memory.
    """
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: grade without a cap
        pass


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
