"""What the grading sandbox costs: seconds per learner of notebook 01, sandboxed ÷ not sandboxed.

Both sides run in this one process, interleaved: each round grades the same class of LEARNERS
copies of notebook 01's solution once with each learner's kernel in bubblewrap and once with
``unsafe_no_sandbox=True`` (the order alternates between rounds), one learner at a time
(``jobs=1``), with figures and feedback as an instructor runs it. A learner's seconds are what
the grading worker reports for them: nbgrader's autograde (the kernel's start, the notebook's
run, the checks) and their feedback page. The figure is the median over rounds of the ratio of the
two medians. Target (issue 13): ≤ 1.10.

    .venv/bin/python benchmarks/bench_sandbox.py [ROUNDS] [LEARNERS]
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ratio_cell

from course_lib import grading
from course_lib.grading import sandbox

ASSIGNMENT = "01_forward_propagation"
TARGET = 1.10


def make_class(folder: Path, learners: int) -> Path:
    solution = next((grading.REPO / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    for i in range(learners):
        (folder / f"learner{i:02d}").mkdir(parents=True)
        shutil.copy(solution, folder / f"learner{i:02d}" / solution.name)
    return folder


def seconds_per_learner(src: Path, course: Path, unsafe: bool) -> float:
    run = grading.grade(src, ASSIGNMENT, course, jobs=1, unsafe_no_sandbox=unsafe,
                        echo=lambda *a: None)
    seconds = [sub.seconds for sub in run.submissions]
    assert all(s is not None for s in seconds), "a learner was not graded"
    assert all(sub.status == "graded" for sub in run.submissions), "a learner failed"
    return statistics.median(seconds)


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 3
    learners = int(argv[1]) if len(argv) > 1 else 4
    why = sandbox.problem()
    if why:
        print(f"bench_sandbox: skipped, {why}")
        return 0
    samples: dict[str, list[float]] = {"sandboxed": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        src = make_class(Path(tmp) / "class", learners)
        started = time.monotonic()
        for r in range(rounds + 1):  # round 0 warms the caches and is not counted
            order = ("sandboxed", "plain") if r % 2 else ("plain", "sandboxed")
            for mode in order:
                course = Path(tmp) / f"course-{mode}-{r}"
                value = seconds_per_learner(src, course, unsafe=(mode == "plain"))
                if r:
                    samples[mode].append(value)
                shutil.rmtree(course, ignore_errors=True)
        total = time.monotonic() - started
    ratios = [s / p for s, p in zip(samples["sandboxed"], samples["plain"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"Sandbox cost, notebook {ASSIGNMENT}, {learners} learners x {rounds} rounds, jobs=1 "
          f"({total:.0f} s in all)")
    print(f"  seconds per learner, sandboxed: {statistics.median(samples['sandboxed']):.2f}")
    print(f"  seconds per learner, plain:     {statistics.median(samples['plain']):.2f}")
    print(f"  sandboxed / plain:              {ratio_cell(ratio, TARGET)}   "
          f"(per round: {', '.join(f'{x:.3f}' for x in ratios)})")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench_sandbox.json").write_text(json.dumps(
        {"samples": samples, "ratios": ratios, "ratio": ratio, "target": TARGET}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
