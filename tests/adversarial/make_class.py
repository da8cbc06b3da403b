"""Write the adversarial class to a folder, to try the grader by hand.

    .venv/bin/python tests/adversarial/make_class.py OUT_DIR [ASSIGNMENT]

ASSIGNMENT defaults to the fixture course's 00_fixture; with a real one (for example
01_forward_propagation) the files are built from its release and solution, as in
tests/test_grading.py. Then:

    .venv/bin/python -m course_lib.grading grade OUT_DIR --assignment ASSIGNMENT --course /tmp/demo
    (add ``--repo tests/fixtures/course`` before ``grade`` for 00_fixture)

The builders live in tests/grading_helpers.py (``adversarial_submissions``): infinite loop,
kernel crash, invalid JSON, not a notebook, deleted / duplicated / retyped test cell, tampered
tests, rebound np.allclose / np.isclose, and a correct answer typed into the release.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat  # noqa: E402
from grading_helpers import (  # noqa: E402
    FIXTURE_REPO,
    Case,
    adversarial_submissions,
    load_mutants,
    write_class,
)

from course_lib import grading  # noqa: E402


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, assignment = Path(argv[0]), argv[1] if len(argv) > 1 else "00_fixture"
    repo = FIXTURE_REPO if assignment in grading.discover_assignments(FIXTURE_REPO) else grading.REPO
    if assignment not in grading.discover_assignments(repo):
        print(f"error: unknown assignment {assignment!r}", file=sys.stderr)
        return 2
    case = Case(repo, assignment)
    name = case.notebook_names[0]
    release_file = case.notebooks / f"{name}.ipynb"
    if not release_file.exists():
        print(f"error: {release_file} is missing: run make release first", file=sys.stderr)
        return 2
    release = nbformat.read(release_file, as_version=4)
    files = adversarial_submissions(release, case.solution(name), load_mutants(case))
    write_class(out, files)
    print(f"wrote {len(files)} submissions to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
