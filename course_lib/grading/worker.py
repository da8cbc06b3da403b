"""Autograde learners in worker processes, so that no submission can stop the batch.

A worker imports nbgrader once (a few seconds), then reads learner ids from stdin and, for each,
runs nbgrader's autograde and feedback in-process (≈ 2 s plus the notebook's own run time) and
answers one JSON line. nbgrader already turns a crashed kernel, a timeout or a broken notebook
into a failed result for that learner; the worker process is there for what it cannot catch
(a runaway kernel flooding memory, a hang past every timeout): the pool then kills the worker and
its kernels, records the learner as failed, and starts a fresh worker for the rest.

Run as ``python -m course_lib.grading.worker COURSE TIMEOUT FIGURES FEEDBACK MEMORY_MB`` with
the assignment after COURSE (the pool does; FIGURES and FEEDBACK are 0 or 1).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

READY = "ready"


def worker_main(argv: list[str]) -> int:
    course, assignment, timeout = Path(argv[0]), argv[1], int(argv[2])
    figures, write_feedback, memory_mb = argv[3] == "1", argv[4] == "1", int(argv[5])
    _limit_memory(memory_mb)
    # The protocol owns the real stdout; everything else (kernels started later included)
    # writes to stderr, so nothing a learner prints can be mistaken for a result.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    from . import skip_slow_optional_imports

    skip_slow_optional_imports()
    from . import autograde as nbg

    config = nbg.load_config(course / "nbgrader_config.py", **{
        "ExecutePreprocessor.timeout": timeout})
    api = nbg.make_api(config, figures=figures)
    protocol.write(json.dumps({"event": READY}) + "\n")
    for line in sys.stdin:
        student = line.strip()
        if not student:
            continue
        started = time.monotonic()
        graded = api.autograde(assignment, student, force=True, create=True)
        result = {"event": "done", "student": student, "autograde": _brief(graded)}
        if graded.get("success") and write_feedback:
            result["feedback"] = _brief(api.generate_feedback(assignment, student, force=True))
        result["seconds"] = round(time.monotonic() - started, 2)
        protocol.write(json.dumps(result) + "\n")
    return 0


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


def _brief(result: dict) -> dict:
    return {"success": bool(result.get("success")), "log": result.get("log", "")[-20000:],
            "error": result.get("error", "")[-5000:]}


class _Worker:
    def __init__(self, command: list[str], env: dict, log_file):
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file,
            env=env, bufsize=0, start_new_session=True)
        self.ready = False
        self.student: str | None = None
        self.started = 0.0
        self.buffer = b""

    def send(self, student: str) -> None:
        self.student, self.started = student, time.monotonic()
        self.process.stdin.write(student.encode() + b"\n")

    def read_lines(self) -> list[str] | None:
        """The complete lines available now, or None when the worker has exited."""
        data = os.read(self.process.stdout.fileno(), 1 << 16)
        if not data:
            return None
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace") for line in lines]

    def kill(self) -> None:
        """Kill the worker and every kernel it started (kernels run in their own sessions)."""
        try:
            import psutil

            children = psutil.Process(self.process.pid).children(recursive=True)
        except Exception:  # psutil missing or the process already gone
            children = []
        for process in [*children, self.process]:
            try:
                process.kill()
            except Exception:
                pass
        self.process.wait()

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            self.kill()


class _Pool:
    """Workers fed one learner at a time; a worker that dies or overruns is replaced."""

    def __init__(self, command, env, log_file, size, limit):
        self.command, self.env, self.log_file = command, env, log_file
        self.limit, self.on_result = limit, None
        self.selector = selectors.DefaultSelector()
        self.workers = [self._start() for _ in range(size)]
        self.results: dict[str, dict] = {}
        self.failed_starts = 0

    def _start(self) -> _Worker:
        worker = _Worker(self.command, self.env, self.log_file)
        self.selector.register(worker.process.stdout, selectors.EVENT_READ, worker)
        return worker

    def run(self, students: list[str], on_result) -> dict[str, dict]:
        self.on_result, self.results = on_result, {}
        pending = deque(students)
        while len(self.results) < len(students):
            for worker in self.workers:
                if worker.ready and worker.student is None and pending:
                    worker.send(pending.popleft())
            for key, _ in self.selector.select(timeout=1.0):
                worker = key.data
                lines = worker.read_lines()
                if lines is None:
                    self._replace(worker, "the grading process died")
                    continue
                for line in lines:
                    self._handle(worker, line)
            for worker in list(self.workers):
                if worker.student and time.monotonic() - worker.started > self.limit:
                    self._replace(worker, f"stopped after {self.limit:.0f} s on this submission")
        return self.results

    def _handle(self, worker: _Worker, line: str) -> None:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return
        if message.get("event") == READY:
            worker.ready, self.failed_starts = True, 0
        elif message.get("event") == "done" and message.get("student") == worker.student:
            self._record(worker.student, message)
            worker.student = None

    def _record(self, student: str, result: dict) -> None:
        self.results[student] = result
        if self.on_result:
            self.on_result(student, result)

    def _replace(self, worker: _Worker, why: str) -> None:
        self.selector.unregister(worker.process.stdout)
        worker.kill()
        if not worker.ready:
            self.failed_starts += 1
            if self.failed_starts > 2:
                raise RuntimeError(
                    f"the grading worker does not start; see {self.log_file.name}")
        if worker.student is not None:
            self._record(worker.student, {
                "autograde": {"success": False, "log": "", "error": why}, "worker": why})
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        for worker in self.workers:
            self.selector.unregister(worker.process.stdout)
            worker.close()


class WorkerPool:
    """``with WorkerPool(...) as pool: results = pool.run(students)``: student -> result.

    Workers start (and import nbgrader) as soon as the pool is entered. A result is
    ``{"autograde": {"success", "log", "error"}, "feedback": {...}, "seconds"}``, or
    ``{"autograde": {"success": False, ...}, "worker": why}`` when the worker had to be stopped
    (more than ``limit`` seconds on one learner, or the worker died).
    """

    def __init__(self, course: Path, assignment: str, *, timeout: int, jobs: int, limit: float,
                 log_path: Path, env: dict, figures: bool = True, feedback: bool = True,
                 memory_mb: int = 2048):
        self.command = [sys.executable, "-m", "course_lib.grading.worker", str(course),
                        assignment, str(timeout), str(int(figures)), str(int(feedback)),
                        str(memory_mb)]
        self.jobs, self.limit, self.env, self.log_path = jobs, limit, env, log_path
        self._pool: _Pool | None = None

    def __enter__(self) -> WorkerPool:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        self._pool = _Pool(self.command, self.env, self._log, self.jobs, self.limit)
        return self

    def run(self, students: list[str], on_result=None) -> dict[str, dict]:
        """Grade ``students``; ``on_result(student, result)`` is called as each one finishes."""
        return self._pool.run(students, on_result) if students else {}

    def __exit__(self, *exc) -> None:
        self._pool.close()
        self._log.close()


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
