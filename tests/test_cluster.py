"""``grade --scheduler``: a class graded on a real Dask cluster on this machine (one scheduler, two
workers), one worker killed mid-batch, against a local run of the same class.

What must hold: every learner graded exactly once (one gradebook submission, one report, one CSV
row), with the scores and per-cell grades a local run gives, and no process left behind. Without
dask installed, ``--scheduler`` is one sentence saying how to install it.
"""

from __future__ import annotations

import copy
import csv
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from grading_helpers import (
    FIXTURE_REPO,
    Case,
    adversarial_submissions,
    correct_in_release,
    load_mutants,
    to_bytes,
    with_source,
    write_class,
)

from course_lib import grading

VENV_BIN = Path(sys.executable).parent
ASSIGNMENT = "00_fixture"


def test_scheduler_without_dask_is_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = grading.main(["--repo", str(FIXTURE_REPO), "grade", str(tmp_path), "-a", ASSIGNMENT,
                         "--course", str(tmp_path / "grading"),
                         "--scheduler", "tcp://127.0.0.1:8786"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert 'pip install -e ".[cluster]"' in err
    assert not (tmp_path / "grading").exists(), "nothing is done before the sentence"


def test_importing_the_grading_package_does_not_import_dask():
    code = ("import sys, course_lib.grading\n"
            "found = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
            "assert not found, found\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- a real cluster ---------------------------------------------------------------------------


def _class(folder: Path) -> Path:
    """20 learners: 12 correct, one per wrong answer (mutants), and the oddities: an infinite
    loop, a kernel crash, a deleted test cell, tampered tests, monkeypatching."""
    release = nbformat.read(FIXTURE_REPO / "notebooks" / ASSIGNMENT / "fixture.ipynb",
                            as_version=4)
    solution = nbformat.read(FIXTURE_REPO / "solutions" / ASSIGNMENT / "fixture.ipynb",
                             as_version=4)
    mutants = load_mutants(Case(FIXTURE_REPO, ASSIGNMENT))
    correct = correct_in_release(release, solution)
    files = {f"correct{n:02d}": to_bytes(copy.deepcopy(correct)) for n in range(12)}
    for n, mutant in enumerate(mutants):
        files[f"wrong{n}"] = to_bytes(with_source(correct, mutant["cell"], mutant["source"]))
    odd = adversarial_submissions(release, solution, mutants)
    for stem in ("infinite_loop", "kernel_crash", "deleted_test_cell", "tampered_tests",
                 "monkeypatched"):
        files[stem.replace("_", "")] = odd[stem]
    assert len(files) >= 20
    return write_class(folder, files)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(process) -> list:
    import psutil

    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _kill_tree(process) -> None:
    """SIGKILL a ``dask worker`` command: its nanny, its worker process and their kernels."""
    for proc in _tree(process):
        try:
            proc.send_signal(signal.SIGKILL)
        except Exception:
            pass
    process.wait(timeout=30)


class _Cluster:
    def __init__(self, folder: Path):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.log = open(folder / "cluster.log", "w")
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port",
                                     self.address.rsplit(":", 1)[1], "--no-dashboard")
        self.workers = [self._start("worker", self.address, "--nworkers", "1", "--nthreads", "1",
                                    "--no-dashboard", "--host", "127.0.0.1",
                                    "--local-directory", str(folder / f"worker{n}"))
                        for n in range(2)]
        self.seen: list = []  # every process the cluster ran, for the check that none is left

    def _start(self, *args):
        return subprocess.Popen([str(VENV_BIN / "dask"), *args], stdout=self.log,
                                stderr=subprocess.STDOUT, cwd=self.folder,
                                start_new_session=True)

    def wait_for_workers(self, count: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=timeout)
        for process in [self.scheduler, *self.workers]:
            self.seen += _tree(process)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.seen += _tree(process)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_tree(process)
        self.log.close()

    def left(self) -> list[str]:
        import psutil

        alive = []
        for proc in self.seen:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                pass
        return alive


def _gradebook_submissions(course: Path) -> dict[str, int]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        counts: dict[str, int] = {}
        for submission in gb.find_assignment(ASSIGNMENT).submissions:
            counts[submission.student_id] = counts.get(submission.student_id, 0) + 1
        return counts


def _outcome(run) -> dict:
    return {s.student: (s.status, s.score, s.grades, s.kernel_crash, bool(s.timeouts))
            for s in run.submissions}


def _csv_students(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [row["student"] for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_a_class_graded_on_a_dask_cluster_survives_a_dead_worker(tmp_path):
    pytest.importorskip("distributed")
    src = _class(tmp_path / "class")
    learners = sorted(p.stem for p in src.glob("*.ipynb"))
    options = dict(repo=FIXTURE_REPO, timeout=5, figures=False, jobs=2)

    started = time.monotonic()
    local = grading.grade(src, ASSIGNMENT, tmp_path / "local", echo=lambda *a: None, **options)
    local_seconds = time.monotonic() - started

    cluster = _Cluster(tmp_path / "cluster")
    lines: list[str] = []
    killed = []
    try:
        cluster.wait_for_workers(2)

        def echo(line: str) -> None:
            lines.append(line)
            done = [x for x in lines if x.startswith("  ")]
            if len(done) == 3 and not killed:  # the first results are in: one worker dies
                killed.append(cluster.workers[0].pid)
                _kill_tree(cluster.workers[0])

        started = time.monotonic()
        remote = grading.grade(src, ASSIGNMENT, tmp_path / "remote", scheduler=cluster.address,
                               echo=echo, **options)
        remote_seconds = time.monotonic() - started
    finally:
        cluster.close()
    print(f"\n{len(learners)} learners: local {local_seconds:.1f} s, "
          f"cluster (2 workers, one killed) {remote_seconds:.1f} s")

    assert killed, "a worker was killed mid-batch"
    assert "on the Dask cluster" in lines[0]
    graded_lines = [x.split(":")[0].strip() for x in lines if x.startswith("  ")]
    assert sorted(graded_lines) == learners, "one progress line per learner"
    assert _gradebook_submissions(tmp_path / "remote") == dict.fromkeys(learners, 1)
    reports = sorted(p.stem for p in (tmp_path / "remote" / "reports" / ASSIGNMENT)
                     .glob("*.json"))
    assert reports == learners
    assert sorted(_csv_students(remote.csv)) == learners
    assert _outcome(remote) == _outcome(local), "the same grades as a local run"
    assert {s.student: s.feedback for s in remote.submissions} == {
        s.student: s.feedback for s in local.submissions}
    by_student = {s.student: s for s in remote.submissions}
    assert by_student["correct00"].score == by_student["correct00"].max_score - 1  # + manual
    assert by_student["infiniteloop"].timeouts and by_student["kernelcrash"].kernel_crash
    assert cluster.left() == [], "no process is left once the cluster is shut down"


# --- the local pool -----------------------------------------------------------------------------


def _local_workers() -> list:
    """This process's grading workers (``python -m course_lib.grading.worker``)."""
    import psutil

    found = []
    for proc in psutil.Process().children():
        try:
            if "course_lib.grading.worker" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.mark.slow
def test_a_local_worker_killed_mid_batch_loses_no_learner(tmp_path):
    """SIGKILL a local pool worker while it grades a learner: that learner is graded again by
    a fresh worker, and every learner is in the gradebook, the reports and the CSV exactly once,
    with the grades of a run where nothing was killed."""
    import psutil

    src = _class(tmp_path / "class")
    keep = {"correct00", "correct01", "correct02", "correct03", "correct04", "wrong0",
            "kernelcrash", "monkeypatched"}
    for path in src.glob("*.ipynb"):
        if path.stem not in keep:
            path.unlink()
    learners = sorted(keep)
    options = dict(repo=FIXTURE_REPO, timeout=5, figures=False, jobs=2)
    calm = grading.grade(src, ASSIGNMENT, tmp_path / "calm", echo=lambda *a: None, **options)

    lines: list[str] = []
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        """Once the first learner is graded, kill the first worker seen grading one (it has a
        kernel under it). A thread, not the progress callback: the pool hands out no learner
        while its callback runs, so a callback that waits for a busy worker can wait in vain."""
        while not stop.is_set() and not killed:
            if any(x.startswith("  ") for x in list(lines)):
                busy = [w for w in _local_workers() if w.children(recursive=True)]
                if busy:
                    for proc in [*busy[0].children(recursive=True), busy[0]]:
                        try:
                            proc.kill()
                        except psutil.NoSuchProcess:
                            pass
                    killed.append(busy[0].pid)
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        run = grading.grade(src, ASSIGNMENT, tmp_path / "killed", echo=lines.append, **options)
    finally:
        stop.set()
        thread.join()

    assert killed, "a worker was killed while it graded a learner"
    graded_lines = [x.split(":")[0].strip() for x in lines if x.startswith("  ")]
    assert sorted(graded_lines) == learners, "one progress line per learner, none lost"
    assert _gradebook_submissions(tmp_path / "killed") == dict.fromkeys(learners, 1)
    reports = sorted(p.stem for p in (tmp_path / "killed" / "reports" / ASSIGNMENT)
                     .glob("*.json"))
    assert reports == learners
    assert sorted(_csv_students(run.csv)) == learners
    assert _outcome(run) == _outcome(calm), "the same grades as a run where nothing died"
    assert not any(s.grading_error for s in run.submissions)
