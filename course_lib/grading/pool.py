"""The pool of grading workers, so that no submission can stop the batch.

Each learner is sent to a worker process (``worker.py``), which grades them in a private folder
and sends back the autograded notebook, the feedback and the grades; this process alone writes
them to the course folder and its gradebook (``remote.store_result``), once per learner. A
worker that dies, or spends more than the per-submission limit on one learner, is killed with
every kernel it started, the learner is recorded as failed, and a fresh worker takes the rest.
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

from .common import WORKER_READY


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
    """Workers fed one learner at a time; a worker that dies or overruns is replaced.

    A learner whose worker died (killed from outside, out of memory) is graded again by another
    worker, up to ``retries`` more times; one that overran ``limit`` is recorded as failed at
    once (a hang is the submission's doing, and would hang again)."""

    retries = 2

    def __init__(self, command, env, log_file, size, limit):
        self.command, self.env, self.log_file = command, env, log_file
        self.limit, self.on_result = limit, None
        self.pending: deque[str] = deque()
        self.tries: dict[str, int] = {}
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
        self.pending, self.tries = deque(students), {}
        while len(self.results) < len(students):
            for worker in list(self.workers):
                if worker.ready and worker.student is None and self.pending:
                    student = self.pending.popleft()
                    self.tries[student] = self.tries.get(student, 0) + 1
                    try:
                        worker.send(student)
                    except OSError:  # it died before it could read the learner
                        self._replace(worker, "the grading process died", retry=True)
            for key, _ in self.selector.select(timeout=1.0):
                worker = key.data
                lines = worker.read_lines()
                if lines is None:
                    self._replace(worker, "the grading process died", retry=True)
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
        if message.get("event") == WORKER_READY:
            worker.ready, self.failed_starts = True, 0
        elif message.get("event") == "done" and message.get("student") == worker.student:
            self._record(worker.student, message)
            worker.student = None

    def _record(self, student: str, result: dict) -> None:
        self.results[student] = result
        if self.on_result:
            self.on_result(student, result)

    def _replace(self, worker: _Worker, why: str, retry: bool = False) -> None:
        self.selector.unregister(worker.process.stdout)
        worker.kill()
        if not worker.ready:
            self.failed_starts += 1
            if self.failed_starts > 2:
                raise RuntimeError(
                    f"the grading worker does not start; see {self.log_file.name}")
        if (retry and worker.student is not None and worker.student not in self.results
                and self.tries.get(worker.student, 0) <= self.retries):
            self.pending.appendleft(worker.student)  # graded again, by the next free worker
        elif worker.student is not None and worker.student not in self.results:
            self._record(worker.student, {
                "autograde": {"success": False, "log": "", "error": why}, "worker": why})
        self.workers[self.workers.index(worker)] = self._start()

    def close(self) -> None:
        for worker in self.workers:
            self.selector.unregister(worker.process.stdout)
            if worker.ready:
                worker.close()
            else:  # still importing nbgrader and never given a learner: no need to wait
                worker.kill()


class WorkerPool:
    """``with WorkerPool(...) as pool: results = pool.run(students)``: student -> result.

    Workers start (and import nbgrader) as soon as the pool is entered, or, on a regrade,
    when ``run`` first has a learner to grade. A result is
    ``{"autograde": {"success", "log", "error"}, "feedback": {...}, "seconds"}``, or
    ``{"autograde": {"success": False, ...}, "worker": why}`` when the worker had to be stopped
    (more than ``limit`` seconds on one learner, or the worker died).
    """

    def __init__(self, course: Path, assignment: str, *, timeout: int, jobs: int, limit: float,
                 log_path: Path, env: dict, figures: bool = True, feedback: bool = True,
                 memory_mb: int = 2048, sandbox: bool = True, feedback_images: bool = True):
        self.command = [sys.executable, "-m", "course_lib.grading.worker", str(course),
                        assignment, str(timeout), str(int(figures)), str(int(feedback)),
                        str(memory_mb), str(int(sandbox)), str(int(feedback_images))]
        self.jobs, self.limit, self.env, self.log_path = jobs, limit, env, log_path
        self.course, self.assignment = Path(course), assignment
        self.reports = self.course / "reports" / assignment
        self._pool: _Pool | None = None

    def __enter__(self) -> WorkerPool:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "a")
        if not self.regrade:  # a first grading: the workers import nbgrader meanwhile
            self._start()
        return self

    @property
    def regrade(self) -> bool:
        """Whether this assignment was graded in this course folder before (its learners'
        reports are there): then most learners are usually unchanged and kept, so workers
        start only when ``run`` has a learner to grade (a regrade with nothing new starts
        none)."""
        return any(self.reports.glob("*.json"))

    def _start(self) -> None:
        if self._pool is None:
            self._pool = _Pool(self.command, self.env, self._log, self.jobs, self.limit)

    def run(self, students: list[str], on_result=None) -> dict[str, dict]:
        """Grade ``students``; ``on_result(student, result)`` is called as each one finishes,
        after their files and grades are stored in the course folder (by this process)."""
        if not students:
            return {}
        self._start()
        stored: dict[str, dict] = {}

        def store(student: str, result: dict) -> None:
            stored[student] = result = self._store(student, result)
            if on_result:
                on_result(student, result)

        self._pool.run(students, store)
        return stored

    def _store(self, student: str, result: dict) -> dict:
        """A worker's answer written to the course folder; the result without its files."""
        from .remote import store_result
        from .worker import FILES, decode_files

        if any(key in result for key in FILES):
            try:
                store_result(self.course, self.assignment, student, decode_files(result))
            except Exception as exc:  # a disk or gradebook problem: this learner only
                why = f"its results could not be written ({type(exc).__name__}: {exc})"
                return {"autograde": {"success": False, "log": "", "error": why},
                        "worker": why}
        return {key: value for key, value in result.items()
                if key not in (*FILES, "notebooks", "event")}

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        self._log.close()
