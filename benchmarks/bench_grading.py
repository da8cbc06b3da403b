"""What grading a class costs, and what a class of 1,000 or 50,000 would: notebook 01, side by side.

    .venv/bin/python benchmarks/bench_grading.py [LEARNERS]      (default 40)

One run, one machine, the same generated class (LEARNERS copies of notebook 01's release with the
solution's answers typed in), each contender in a fresh course folder, one after the other:

* plain nbgrader: ``nbgrader autograde`` then ``nbgrader generate_feedback``, with nbgrader's own
  preprocessors, no sandbox, serial (``grade`` writes the same feedback pages);
* ``grade`` with one job (sandboxed, feedback, figures: what an instructor runs);
* ``grade`` with the local pool (``--jobs`` default: a learner per CPU);
* ``grade --scheduler`` on a two-worker Dask cluster on this machine, when dask and the
  ``scheduler`` option are installed;

then a regrade of the pool's class with nothing changed, and one learner whose first graded
function loops forever (the default cell timeout, 60 s). Seconds per learner are wall time ÷ learners and CPU
time (this process and its children) ÷ learners. Targets (issue 14): one job ≤ 1.10× plain
nbgrader per learner; pool and cluster ≥ 1.7× the one-job throughput on 2 cores; the looping
learner ≤ 1.5× the cell timeout in all; the regrade ≤ 5 % of the first run. The projection takes
the local pool's wall seconds per learner times its jobs (core-seconds a learner) over N cores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from common import ratio_cell, verdict

from course_lib import grading

ASSIGNMENT = "01_forward_propagation"
BIN = Path(sys.executable).parent
LOOP_TIMEOUT = 60


def answered_release() -> nbformat.NotebookNode:
    """The learners' notebook with the solution's answer in every answer cell."""
    name = grading.notebook_names(grading.REPO / "solutions" / ASSIGNMENT)[0]
    release = nbformat.read(grading.REPO / "notebooks" / ASSIGNMENT / f"{name}.ipynb", 4)
    solution = nbformat.read(grading.REPO / "solutions" / ASSIGNMENT / f"{name}.ipynb", 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.cell_type == "code":
            cell.source = "\n".join(line for line in answers[grade_id].split("\n")
                                    if "BEGIN SOLUTION" not in line
                                    and "END SOLUTION" not in line)
    return release


def write_class(folder: Path, learners: int, nb) -> Path:
    for i in range(learners):
        (folder / f"learner{i:03d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"learner{i:03d}" / "forward_propagation.ipynb")
    return folder


def cpu_now() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.monotonic(), cpu_now()
    fn()
    return time.monotonic() - wall, cpu_now() - cpu


def plain_nbgrader(src: Path, course: Path) -> None:
    """nbgrader's own autograde of the class: its preprocessors, a kernel per learner, serial."""
    (course / "source").mkdir(parents=True)
    shutil.copytree(grading.REPO / "solutions" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.ExecutePreprocessor.timeout = 60\n"
        "c.ClearSolutions.code_stub = {'python': '# YOUR CODE HERE\\nraise NotImplementedError()'}\n")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = [str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"]
    subprocess.run(run, cwd=course, check=True, capture_output=True, env=env)
    for learner in sorted(p.name for p in src.iterdir()):
        target = course / "submitted" / learner / ASSIGNMENT
        target.mkdir(parents=True)
        shutil.copy(src / learner / "forward_propagation.ipynb", target)
    for step in ("autograde", "generate_feedback"):  # grade writes feedback pages too
        run = [str(BIN / "nbgrader"), step, ASSIGNMENT, "--force"]
        subprocess.run(run, cwd=course, check=True, capture_output=True, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""

    def __init__(self):
        self.address = f"tcp://127.0.0.1:{free_port()}"
        port = self.address.rsplit(":", 1)[1]
        self.procs = [subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", port,
             "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)]
        time.sleep(3)
        for _ in range(2):
            self.procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", self.address, "--nworkers", "1", "--nthreads",
                 "1", "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True))
        time.sleep(5)

    def cpu(self) -> float:
        """CPU seconds so far of the scheduler, the workers and everything they started (not
        children of this process's timing until they exit)."""
        import psutil

        total = 0.0
        for proc in self.procs:
            try:
                tree = [psutil.Process(proc.pid)]
                tree += tree[0].children(recursive=True)
            except psutil.NoSuchProcess:
                continue
            for p in tree:
                try:
                    t = p.cpu_times()  # its own and its finished children's (kernels)
                    total += t.user + t.system + t.children_user + t.children_system
                except psutil.NoSuchProcess:
                    pass
        return total

    def close(self):
        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait(timeout=30)


def cluster_available() -> bool:
    import inspect

    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return "scheduler" in inspect.signature(grading.grade).parameters


def main(argv: list[str]) -> int:
    learners = int(argv[0]) if argv else 40
    quiet = {"echo": lambda *a: None}
    rows, out = {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        src = write_class(tmp / "class", learners, answered_release())
        rows["plain nbgrader (+ feedback)"] = timed(lambda: plain_nbgrader(src, tmp / "plain"))
        rows["grade, one job"] = timed(lambda: grading.grade(
            src, ASSIGNMENT, tmp / "one", jobs=1, **quiet))
        jobs = grading.DEFAULT_JOBS
        rows[f"grade, local pool ({jobs} jobs)"] = timed(lambda: grading.grade(
            src, ASSIGNMENT, tmp / "pool", jobs=jobs, **quiet))
        regrade = timed(lambda: grading.grade(src, ASSIGNMENT, tmp / "pool", jobs=jobs, **quiet))
        if cluster_available():
            cluster = LocalCluster()
            try:
                before = cluster.cpu()
                wall, cpu = timed(lambda: grading.grade(
                    src, ASSIGNMENT, tmp / "dask", scheduler=cluster.address, **quiet))
                rows["grade, Dask, 2 workers"] = (wall, cpu + cluster.cpu() - before)
            finally:
                cluster.close()
        looping = answered_release()
        for cell in looping.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "linear_forward":
                cell.source = "def linear_forward(X, W, b):\n    while True:\n        pass"
        loop_src = write_class(tmp / "loop", 1, looping)
        loop = timed(lambda: grading.grade(loop_src, ASSIGNMENT, tmp / "loopc", jobs=1,
                                           timeout=LOOP_TIMEOUT, **quiet))

    plain_wall = rows["plain nbgrader (+ feedback)"][0] / learners
    one_wall = rows["grade, one job"][0] / learners
    print(f"Grading notebook {ASSIGNMENT}: {learners} learners, {os.cpu_count()} CPUs")
    print(f"{'':34}{'wall s/learner':>16}{'CPU s/learner':>15}{'learners/min':>14}")
    for name, (wall, cpu) in rows.items():
        print(f"{name:34}{wall / learners:16.2f}{cpu / learners:15.2f}"
              f"{60 * learners / wall:14.1f}")
        out[name] = {"wall_per_learner": wall / learners, "cpu_per_learner": cpu / learners}
    print(f"one job ÷ plain nbgrader, per learner: {ratio_cell(one_wall / plain_wall, 1.10)}")
    for name, (wall, _) in rows.items():
        if name.startswith(("grade, local", "grade, Dask")):
            speedup = rows["grade, one job"][0] / wall
            print(f"{name} throughput ÷ one job: {speedup:.2f} (≥ 1.70) "
                  f"{'PASS' if speedup >= 1.70 else 'MISS'}")
    print(f"looping learner, timeout {LOOP_TIMEOUT} s: {loop[0]:.1f} s in all = "
          f"{loop[0] / LOOP_TIMEOUT:.2f}× the timeout (≤ 1.50) "
          f"{verdict(loop[0] / LOOP_TIMEOUT, 1.50)}")
    pool_wall = next(w for n, (w, _) in rows.items() if n.startswith("grade, local"))
    print(f"regrade, nothing changed: {regrade[0]:.1f} s = {100 * regrade[0] / pool_wall:.1f} % "
          f"of the first run (≤ 5 %) {verdict(regrade[0] / pool_wall, 0.05)}")
    pool_name = next(n for n in rows if n.startswith("grade, local"))
    core_seconds = rows[pool_name][0] / learners * max(1, jobs)  # wall × cores, per learner
    efficiency = (rows["grade, one job"][0] / rows[pool_name][0]) / max(1, jobs)
    print(f"\nProjected hours ({core_seconds:.2f} core-seconds a learner in the local pool, "
          f"{efficiency:.2f} of linear speed-up per core):")
    print(f"{'cores':>8}{'1,000 learners':>16}{'50,000 learners':>17}")
    for cores in (2, 16, 64, 256):
        hours = [n * core_seconds / cores / 3600 for n in (1_000, 50_000)]
        print(f"{cores:8d}{hours[0]:16.2f}{hours[1]:17.1f}")
    out.update(learners=learners, loop_seconds=loop[0], regrade_seconds=regrade[0],
               efficiency=efficiency)
    folder = Path(__file__).resolve().parent / "out"
    folder.mkdir(exist_ok=True)
    (folder / "bench_grading.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
