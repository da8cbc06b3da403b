"""The performance budget of the whole course, on what Binder gives a learner: one CPU.

Every solution notebook (solutions/*/*.ipynb) is executed top to bottom, each in its own kernel,
pinned to one CPU (``taskset -c 0``) with one thread per BLAS / OpenMP pool and
``COURSE_HEADLESS=1``. Budget (DESIGN.md): ≤ 30 s per notebook, ≤ 180 s for the course, peak
memory ≤ 1 GB per notebook kernel. The per-notebook table is written to
test-artifacts/course_budget.md and shown in pytest's terminal summary (with or without ``-s``).

How it measures: this file doubles as the runner. For each notebook a subprocess
``taskset -c 0 python tests/test_course_budget.py NOTEBOOK RESULT.json`` starts the notebook's
kernel with nbclient (the kernel inherits the CPU pinning and the environment), times kernel
start-up plus every cell, and — after the last cell, before the kernel is shut down — reads the
kernel process's own peak resident set size, ``VmHWM`` in ``/proc/<kernel pid>/status`` (and
its CPU time from ``/proc/<pid>/stat``, shown beside the wall time). That is
the kernel's memory and nothing else's: not pytest's, not nbclient's (processes a notebook
itself spawns would not be counted; course notebooks spawn none). The notebook runs on a copy of
its assignment folder in a temporary directory, so files it writes never land in solutions/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
ARTIFACT = ROOT / "test-artifacts" / "course_budget.md"

NOTEBOOK_SECONDS = 30.0
COURSE_SECONDS = 180.0
NOTEBOOK_PEAK_MIB = 1000 * 1000**2 / 1024**2  # 1 GB = 953.7 MiB
CELL_TIMEOUT = 120  # s; a cell that runs this long has blown the budget anyway
ONE_CPU_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "COURSE_HEADLESS": "1",
}


# --- the runner: executes one notebook in the subprocess ----------------------------------------


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size (VmHWM) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the value is in kB
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (tells a slow notebook from a busy host)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def execute_notebook(notebook: Path, workdir: Path) -> dict:
    """Run every cell of notebook (a copy placed in workdir) in a fresh kernel; measure it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(workdir)}})
    client.reset_execution_trackers()
    # After the measurement: what the kernel itself sees (its CPUs, its OpenMP setting).
    probe = nbformat.v4.new_code_cell(
        "import os; print(sorted(os.sched_getaffinity(0)), os.environ.get('OMP_NUM_THREADS'))")
    started = time.perf_counter()
    with client.setup_kernel(cwd=str(workdir)):
        pid = client.km.provisioner.pid
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        seconds = time.perf_counter() - started
        peak = peak_rss_mib(pid)
        cpu = cpu_seconds(pid)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    view = "".join(out.get("text", "") for out in probe.outputs).strip()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak, "kernel_pid": pid,
            "kernel_view": view}


def main(notebook: str, result: str) -> None:
    with tempfile.TemporaryDirectory(prefix="course-budget-") as tmp:
        workdir = Path(tmp) / Path(notebook).parent.name
        shutil.copytree(Path(notebook).parent, workdir,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        measured = execute_notebook(workdir / Path(notebook).name, workdir)
    Path(result).write_text(json.dumps(measured))


# --- the test ----------------------------------------------------------------------------------


def measure(notebook: Path, tmp_path: Path) -> dict:
    """Run one notebook through the runner on CPU 0; return its measurements (or its error)."""
    result = tmp_path / f"{notebook.parent.name}.json"
    env = {**os.environ, **ONE_CPU_ENV}
    cmd = [sys.executable, str(Path(__file__).resolve()), str(notebook), str(result)]
    taskset = shutil.which("taskset")  # without it (not Linux util-linux): the same, in Python
    if taskset:
        cmd = [taskset, "-c", "0", *cmd]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, cwd=tmp_path,
            timeout=4 * NOTEBOOK_SECONDS + 60,
            preexec_fn=None if taskset else lambda: os.sched_setaffinity(0, {0}))
    except subprocess.TimeoutExpired:
        return {"error": "timed out", "seconds": time.perf_counter() - started, "peak_mib": None}
    if proc.returncode != 0 or not result.exists():
        tail = (proc.stdout + proc.stderr)[-3000:]
        return {"error": tail, "seconds": time.perf_counter() - started, "peak_mib": None}
    return json.loads(result.read_text())


def table(rows: list[tuple[str, dict]]) -> str:
    lines = [
        "| notebook | seconds | kernel CPU s | peak MiB | within budget |",
        "|---|---:|---:|---:|---|",
    ]
    for name, r in rows:
        cpu = "—" if r.get("cpu_seconds") is None else f"{r['cpu_seconds']:.1f}"
        peak = "—" if r.get("peak_mib") is None else f"{r['peak_mib']:.0f}"
        ok = "error" if "error" in r else (
            "yes" if r["seconds"] <= NOTEBOOK_SECONDS and r["peak_mib"] <= NOTEBOOK_PEAK_MIB
            else "NO")
        lines.append(f"| {name} | {r['seconds']:.1f} | {cpu} | {peak} | {ok} |")
    total = sum(r["seconds"] for _, r in rows)
    lines.append(f"| **total** | {total:.1f} | | | {'yes' if total <= COURSE_SECONDS else 'NO'} |")
    lines.append(f"\nseconds: wall clock from kernel start to the last cell's end; load average "
                 f"of this host meanwhile {os.getloadavg()[0]:.1f} (the kernel shares CPU 0 with "
                 "whatever else runs there).")
    return "\n".join(lines)


class _Summary:
    """Shows the budget table in pytest's terminal summary, whether or not output is captured."""

    def __init__(self, text: str):
        self.text = text

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_sep("=", "course budget (one CPU)")
        terminalreporter.write_line(self.text)


def report(request, title: str, rows: list[tuple[str, dict]]) -> str:
    text = (f"{title}\nbudget: ≤ {NOTEBOOK_SECONDS:.0f} s and ≤ {NOTEBOOK_PEAK_MIB:.0f} MiB "
            f"(1 GB) per notebook, ≤ {COURSE_SECONDS:.0f} s in all; "
            f"{ONE_CPU_ENV} taskset -c 0\n\n{table(rows)}\n")
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(text)
    request.config.pluginmanager.register(_Summary(text), "course-budget-summary")
    return text


@pytest.mark.slow
def test_every_solution_notebook_runs_within_the_budget_on_one_cpu(request, tmp_path):
    notebooks = sorted(SOLUTIONS.glob("*/*.ipynb"))
    if not notebooks:
        pytest.skip("no solution notebooks yet (solutions/*/*.ipynb is empty)")
    rows = [(nb.relative_to(SOLUTIONS).as_posix(), measure(nb, tmp_path)) for nb in notebooks]
    text = report(request, "Solution notebooks executed top to bottom, each in its own kernel", rows)

    errors = {name: r["error"] for name, r in rows if "error" in r}
    assert not errors, "notebooks that failed to run:\n" + "\n\n".join(
        f"--- {name}\n{err}" for name, err in errors.items())
    slow = [name for name, r in rows if r["seconds"] > NOTEBOOK_SECONDS]
    fat = [name for name, r in rows if r["peak_mib"] > NOTEBOOK_PEAK_MIB]
    total = sum(r["seconds"] for _, r in rows)
    assert not slow, f"over {NOTEBOOK_SECONDS:.0f} s on one CPU: {slow}\n{text}"
    assert not fat, f"kernel peak memory over 1 GB: {fat}\n{text}"
    assert total <= COURSE_SECONDS, f"the course takes {total:.0f} s > {COURSE_SECONDS:.0f} s\n{text}"
    for name, r in rows:  # the kernel really ran on one CPU with one OpenMP thread
        assert r["kernel_view"] == "[0] 1", (name, r["kernel_view"])


@pytest.mark.slow
def test_the_meter_measures_the_notebook_kernel(tmp_path):
    """The runner on a throwaway notebook: its time, its kernel's memory, one CPU, one thread."""
    import nbformat

    folder = tmp_path / "00_meter"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("import time, numpy as np"),
        # 300 MiB touched, then freed: only a peak measurement of the kernel process sees it.
        nbformat.v4.new_code_cell("a = np.ones(300 * 2**20 // 8); del a"),
        nbformat.v4.new_code_cell("time.sleep(1.0)"),
        nbformat.v4.new_markdown_cell("no code here"),
    ]
    nbformat.write(nb, folder / "meter.ipynb")

    r = measure(folder / "meter.ipynb", tmp_path)
    assert "error" not in r, r["error"]
    assert r["kernel_view"] == "[0] 1", r["kernel_view"]
    assert 1.0 <= r["seconds"] < NOTEBOOK_SECONDS, r
    assert 300 <= r["peak_mib"] < 300 + 250, r  # the array plus an interpreter with NumPy
    assert r["kernel_pid"] != os.getpid()


if __name__ == "__main__":
    main(*sys.argv[1:])
