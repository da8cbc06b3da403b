"""Every solution notebook executes cleanly under nbval (``--nbval-lax``), headless.

nbval runs over scratch copies of ``solutions/<id>/`` in one subprocess per CPU, each taking a
share of the notebooks; each assignment's test then reads its own result from the JUnit XML. It never runs on
``notebooks/``: the student stubs raise by design. The copies keep a notebook that writes a file
from leaving anything in the checkout. ``COURSE_HEADLESS=1`` tells widget cells that no browser
is attached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from grading_helpers import cases

pytestmark = pytest.mark.slow
CASES = cases()
CELL_TIMEOUT = 60  # seconds, as the grader's (nbgrader_config.py); a notebook's budget is 30 s
JOBS = max(2, os.cpu_count() or 2)


@pytest.fixture(scope="session")
def nbval_results(tmp_path_factory):
    """(copies, results, outputs, seconds): case -> its copy; notebook path in the copies ->
    list of (test name, failure text or None); the subprocesses' output; the wall time."""
    folder = tmp_path_factory.mktemp("nbval")
    copies = {}
    for case in CASES:
        target = folder / case.id
        shutil.copytree(case.solutions, target,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        copies[case] = target
    env = dict(os.environ, COURSE_HEADLESS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    started = time.monotonic()
    groups = [list(copies.values())[i::JOBS] for i in range(JOBS)]  # one pytest per CPU
    running = []
    for number, group in enumerate(g for g in groups if g):
        report = folder / f"nbval-{number}.xml"
        command = [sys.executable, "-m", "pytest", "--nbval-lax",
                   f"--nbval-cell-timeout={CELL_TIMEOUT}", "-p", "no:cacheprovider",
                   "-o", "addopts=", "-o", "junit_family=xunit1", f"--junitxml={report}",
                   "--rootdir", str(folder), "-q", *[str(p) for p in group]]
        running.append((report, subprocess.Popen(command, cwd=folder, env=env, text=True,
                                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    results: dict[str, list] = {}
    outputs = []
    for report, process in running:
        outputs.append(process.communicate(timeout=1800)[0])
        if report.exists():
            for testcase in ET.parse(report).getroot().iter("testcase"):
                failure = testcase.find("failure")
                if failure is None:
                    failure = testcase.find("error")
                text = None if failure is None else (failure.get("message", "") + "\n" +
                                                     (failure.text or ""))
                results.setdefault(testcase.get("file", ""), []).append(
                    (testcase.get("name"), text))
    return copies, results, "\n".join(outputs), time.monotonic() - started


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_solution_notebook_runs_under_nbval(case, nbval_results):
    copies, results, output, _ = nbval_results
    notebooks = sorted(copies[case].glob("*.ipynb"))
    assert notebooks, f"{case.solutions} has no notebook"
    for notebook in notebooks:
        rel = os.path.relpath(notebook, copies[case].parent)
        ran = results.get(rel)
        assert ran, f"nbval did not run {case.solutions.name}/{notebook.name}:\n{output[-4000:]}"
        failed = [(name, text) for name, text in ran if text]
        assert not failed, "\n\n".join(
            f"{notebook.name}, {name}:\n{text[-2500:]}" for name, text in failed)
