"""The instructor's command line, ``python -m course_lib.grading``::

    python -m course_lib.grading release [ASSIGNMENT ...]
    python -m course_lib.grading collect SRC --assignment ID [--course DIR]
    python -m course_lib.grading grade SRC --assignment ID [--course DIR] [--timeout S] [--jobs N]
                                       [--memory-limit GB] [--force] [--feedback-images no]
                                       [--unsafe-no-sandbox] [--scheduler ADDRESS]
    python -m course_lib.grading feedback --assignment ID [--course DIR] [--student ID ...]
    python -m course_lib.grading export [--course DIR] [--output FILE]
    python -m course_lib.grading formgrader [--course DIR] [JUPYTER LAB OPTIONS ...]
    python -m course_lib.grading publish DEST

Each command is one call to a step; a GradingError is printed as one line and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .collect import collect
from .common import (
    DEFAULT_JOBS,
    REPO,
    GradingError,
    existing_course_folder,
    skip_slow_optional_imports,
)
from .export import export
from .grade import grade, write_feedback
from .publish import publish
from .release import release
from .report import summary_table


def formgrader(course: Path = Path("grading"), lab_args: list[str] | None = None) -> int:
    """Open JupyterLab in the course folder; nbgrader's Formgrader is in its Nbgrader menu."""
    course = existing_course_folder(course)
    command = [sys.executable, "-m", "jupyter", "lab", *(lab_args or [])]
    print(f"Starting JupyterLab in {course}; open Nbgrader > Formgrader (or /formgrader).")
    os.chdir(course)
    return os.spawnv(os.P_WAIT, sys.executable, command)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grading",
        description="Release, collect, autograde and export the course's assignments (nbgrader).")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="regenerate notebooks/<id> from solutions/<id>")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="ids (default: all)")

    for name, text in (("collect", "put a class's notebooks into the course folder"),
                       ("grade", "collect, autograde, feedback, reports and CSV in one go")):
        p = sub.add_parser(name, help=text)
        p.add_argument("src", type=Path, help="a folder of .ipynb files or an LMS zip export")
        p.add_argument("--assignment", "-a", required=True, help="e.g. 01_forward_propagation")
        p.add_argument("--course", type=Path, default=Path("grading"),
                       help="course folder (default: ./grading)")
        if name == "grade":
            p.add_argument("--timeout", type=int, help="seconds per cell (default: from config)")
            p.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                           help=f"learners graded at once (default: {DEFAULT_JOBS}, one per CPU "
                           "that free memory allows)")
            p.add_argument("--memory-limit", type=float, default=2.0, metavar="GB",
                           help="heap per kernel (default: 2)")
            p.add_argument("--feedback-images", choices=("yes", "no"), default="yes",
                           help="embed figures in the feedback pages (default: yes; no makes "
                           "them a fraction of the size)")
            p.add_argument("--force", action="store_true",
                           help="regrade every learner, also those unchanged since their last "
                           "grading")
            p.add_argument("--unsafe-no-sandbox", action="store_true",
                           help="run learners' code without the bubblewrap sandbox (every row "
                           "of the report says so); only where bwrap cannot run")
            p.add_argument("--scheduler", metavar="ADDRESS",
                           help="grade on the Dask cluster of this scheduler, e.g. "
                           "tcp://host:8786 (needs pip install -e \".[cluster]\")")

    p = sub.add_parser("feedback", help="rewrite scrubbed feedback (after manual grading)")
    p.add_argument("--assignment", "-a", required=True)
    p.add_argument("--course", type=Path, default=Path("grading"))
    p.add_argument("--student", action="append", help="only this learner (repeatable)")

    p = sub.add_parser("export", help="write the grade CSV")
    p.add_argument("--course", type=Path, default=Path("grading"))
    p.add_argument("--output", type=Path, help="CSV path (default: <course>/grades.csv)")

    p = sub.add_parser("formgrader", help="open JupyterLab with nbgrader's formgrader "
                       "(other options, e.g. --port 8889, go to jupyter lab)")
    p.add_argument("--course", type=Path, default=Path("grading"))

    p = sub.add_parser("publish", help="write the student repository (no solutions, no hidden "
                       "tests) to a new folder DEST")
    p.add_argument("dest", type=Path, help="a new or empty folder outside the repository")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "formgrader":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    skip_slow_optional_imports()
    try:
        if args.command == "release":
            for path in release(args.assignments, repo=args.repo):
                print(f"wrote {path}")
        elif args.command == "collect":
            subs = collect(args.src, args.assignment, args.course, repo=args.repo)
            print(summary_table(subs, scores=False))
        elif args.command == "grade":
            grade(args.src, args.assignment, args.course, repo=args.repo, timeout=args.timeout,
                  jobs=args.jobs, memory_limit=args.memory_limit,
                  unsafe_no_sandbox=args.unsafe_no_sandbox, force=args.force,
                  feedback_images=args.feedback_images == "yes", scheduler=args.scheduler)
        elif args.command == "feedback":
            for path in write_feedback(args.assignment, args.course, args.student):
                print(f"wrote {path}")
        elif args.command == "export":
            print(f"wrote {export(args.course, args.output)}")
        elif args.command == "publish":
            written = publish(args.dest, repo=args.repo)
            print(f"wrote {len(written)} files to {args.dest}")
        elif args.command == "formgrader":
            return formgrader(args.course, [a for a in extra if a != "--"])
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
