"""``grade --scheduler ADDRESS``: the learners graded on a Dask distributed cluster.

Each learner is one Dask task, ``remote.grade_one`` (a pure function of values: the assignment's
source, the course settings, the learner's cleaned notebook), run on any worker machine that has
the course environment and bubblewrap. This process alone writes the course folder: as each task
completes (``distributed.as_completed``) it writes the learner's autograded notebook and feedback
page and puts their grades into the course gradebook through nbgrader's Gradebook API, then hands
the result to ``grade`` as a local worker's result would be.

Exactly once: one task per learner, results kept by learner (a second result for a learner
already recorded is ignored). A worker that dies mid-task costs nothing: Dask runs the task again
on another worker (``retries=2``, and the scheduler's own rescheduling of a dead worker's tasks);
a task that fails for good, or no worker left for ``no_worker_grace`` seconds, records that
learner as failed with one sentence, never the batch.

dask is an optional extra (``pip install -e ".[cluster]"``); it is imported only here, and only
when a scheduler is given.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from .common import GradingError, config_file

INSTALL = 'pip install -e ".[cluster]"'


def require_dask():
    """``distributed``, or GradingError in one sentence saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise GradingError(f"grading on a Dask cluster needs dask[distributed], which is not "
                           f"installed here ({exc}); install it with {INSTALL}.") from None
    return distributed


class ClusterPool:
    """``with ClusterPool(scheduler, course, assignment, ...) as pool: pool.run(students, cb)``,
    the interface of ``pool.WorkerPool``: ``cb(student, result)`` once per learner, as they
    complete, after their files and grades are written to the course folder."""

    no_worker_grace = 120.0  # seconds without any worker before the rest are recorded failed

    def __init__(self, scheduler: str, course: Path, assignment: str, *, repo: Path,
                 timeout: int, figures: bool = True, feedback: bool = True,
                 memory_mb: int = 2048, sandbox: bool = True, feedback_images: bool = True,
                 connect_timeout: float = 20.0):
        self.scheduler, self.course, self.assignment = scheduler, Path(course), assignment
        self.repo = Path(repo)
        self.options = dict(timeout=timeout, figures=figures, feedback=feedback,
                            feedback_images=feedback_images, memory_mb=memory_mb,
                            sandboxed=sandbox)
        self.connect_timeout = connect_timeout
        self.client = None

    def __enter__(self) -> ClusterPool:
        distributed = require_dask()
        try:
            self.client = distributed.Client(self.scheduler, timeout=self.connect_timeout,
                                             set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise GradingError(f"could not reach the Dask scheduler at {self.scheduler} "
                               f"({type(exc).__name__}: {exc}).") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    # --- the batch --------------------------------------------------------------------------

    def run(self, students: list[str], on_result=None) -> dict[str, dict]:
        """Grade ``students`` on the cluster; student -> result (as ``WorkerPool.run``)."""
        if not students:
            return {}
        from distributed import as_completed

        from .remote import grade_one

        source_dir = self.course / "source" / self.assignment
        source = {str(p.relative_to(source_dir)): p.read_bytes()
                  for p in sorted(source_dir.rglob("*")) if p.is_file()
                  and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}
        settings = config_file(self.repo).read_text(encoding="utf-8")
        futures = {}
        for student in students:
            folder = self.course / "submitted" / student / self.assignment
            submitted = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
                         if p.is_file() and not p.name.startswith(".")}
            future = self.client.submit(
                grade_one, self.assignment, source, settings, student, submitted,
                **self.options, key=f"grade-{self.assignment}-{student}-{uuid.uuid4().hex}",
                pure=False, retries=2)
            futures[future] = student
        results: dict[str, dict] = {}
        pending = as_completed(list(futures), loop=self.client.loop)
        no_workers_since, checked = None, time.monotonic()
        while len(results) < len(students):
            batch = pending.next_batch(block=False)
            if not batch:
                if pending.is_empty():
                    break
                if time.monotonic() - checked > 2.0:  # a round trip to the scheduler
                    no_workers_since, checked = self._check_workers(no_workers_since), \
                        time.monotonic()
                if no_workers_since is not None and (
                        time.monotonic() - no_workers_since > self.no_worker_grace):
                    why = (f"no Dask worker was left at {self.scheduler} for "
                           f"{self.no_worker_grace:.0f} s")
                    for future, student in futures.items():
                        if student not in results:
                            future.cancel()
                            self._record(results, student, _failure(why), on_result)
                    break
                time.sleep(0.2)
                continue
            for future in batch:
                student = futures[future]
                if student in results:  # a learner is recorded once, whatever Dask resends
                    continue
                self._record(results, student, self._result(future, student), on_result)
                future.release()
        for student in students:  # nothing can be left out, whatever happened above
            if student not in results:
                self._record(results, student, _failure("its grading task was lost"),
                             on_result)
        return results

    def _check_workers(self, since: float | None) -> float | None:
        try:
            workers = self.client.scheduler_info().get("workers", {})
        except Exception:  # the scheduler itself is unreachable: as good as no worker
            workers = {}
        if workers:
            return None
        return since if since is not None else time.monotonic()

    def _record(self, results: dict, student: str, result: dict, on_result) -> None:
        results[student] = result
        if on_result:
            on_result(student, result)

    def _result(self, future, student: str) -> dict:
        """The learner's result, written to the course folder; a failed task as one sentence."""
        try:
            result = future.result()
        except (Exception, asyncio.CancelledError) as exc:  # a cancelled future: not Exception
            name = type(exc).__name__
            if name == "KilledWorker":
                why = "the Dask workers grading it died each time it was tried"
            else:
                text = str(exc).strip().splitlines()
                why = f"grading on the cluster failed ({name}: {text[-1] if text else ''})"
            return _failure(why[:300])
        try:
            self._store(student, result)
        except Exception as exc:  # a disk or gradebook problem here: this learner only
            return _failure(f"its results could not be written ({type(exc).__name__}: {exc})")
        return {key: result.get(key) for key in ("autograde", "feedback", "seconds", "host")}

    def _store(self, student: str, result: dict) -> None:
        from .remote import store_result

        store_result(self.course, self.assignment, student, result)


def _failure(why: str) -> dict:
    return {"autograde": {"success": False, "log": "", "error": why}, "worker": why}
