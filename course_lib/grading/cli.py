"""The instructor's command line, ``python -m course_lib.grading``::

    python -m course_lib.grading release [ASSIGNMENT ...]
    python -m course_lib.grading collect SRC --assignment ID [--course DIR] [--keep last|first]
    python -m course_lib.grading grade SRC --assignment ID [--course DIR] [--timeout S] [--jobs N]
                                       [--memory-limit GB] [--force] [--feedback-images no]
                                       [--unsafe-no-sandbox] [--scheduler ADDRESS]
                                       [--due DATETIME] [--late-penalty RULE] [--grace DURATION]
                                       [--keep last|first] [--similarity-threshold SHARE]
    python -m course_lib.grading feedback --assignment ID [--course DIR] [--student ID ...]
    python -m course_lib.grading export [--course DIR] [--output FILE]
                                        [--format csv|canvas|moodle --assignment ID]
    python -m course_lib.grading formgrader [--course DIR] [--port N] [--ip ADDR] [--no-browser]
                                            [--allow-root] [-- JUPYTER LAB OPTIONS ...]
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


def formgrader(course: Path = Path("grading"), lab_args: list[str] | None = None,
               port: int | None = None, ip: str | None = None, no_browser: bool = False,
               allow_root: bool = False, echo=print) -> int:
    """Open JupyterLab in the course folder; nbgrader's Formgrader is in its Nbgrader menu.

    JupyterLab runs in a session of its own; Ctrl-C, SIGTERM or SIGHUP to this command stops
    it and every process it started (its kernels too, which Jupyter starts in sessions of
    their own): SIGTERM first, SIGKILL to what is left after ``STOP_GRACE_S`` seconds."""
    import signal
    import subprocess

    course = existing_course_folder(course)
    command = [sys.executable, "-m", "jupyter", "lab"]
    command += [f"--port={port}"] if port else []
    command += [f"--ServerApp.ip={ip}"] if ip else []
    command += ["--no-browser"] if no_browser else []
    command += ["--allow-root"] if allow_root else []
    command += list(lab_args or [])
    echo(f"Starting JupyterLab in {course}; open Nbgrader > Formgrader (or /formgrader). "
         "Ctrl-C stops it.")
    lab = subprocess.Popen(command, cwd=course, start_new_session=True)
    stopping = {}

    def stop(signum, _frame):
        stopping["signal"] = signum
        raise KeyboardInterrupt

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return lab.wait()
    except KeyboardInterrupt:
        _stop_tree(lab)
        return 128 + stopping.get("signal", signal.SIGINT)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


STOP_GRACE_S = 10.0


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), from /proc or psutil."""
    try:
        import psutil

        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except Exception:  # no psutil, or the process is gone
        pass
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop_tree(proc) -> None:
    """SIGTERM ``proc``, its process group and every descendant; SIGKILL what outlives the
    grace period."""
    import signal
    import time

    pids = [proc.pid, *_descendants(proc.pid)]

    def send(sig):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    def alive(pid):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        try:  # a zombie waits only for its parent to read it
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return True

    send(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None and not any(alive(pid) for pid in pids[1:]):
            break
        time.sleep(0.1)
    else:
        send(signal.SIGKILL)
    proc.wait()


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
        p.add_argument("--keep", choices=("last", "first"), default="last",
                       help="which of a learner's uploads is graded, over every source collected "
                       "so far (default: last, the newest by its time)")
        if name == "grade":
            p.add_argument("--due", metavar="DATETIME",
                           help="when the work was due, ISO 8601 with its zone, e.g. "
                           "2026-03-01T23:59+01:00 (default: no due date)")
            p.add_argument("--late-penalty", metavar="RULE",
                           help="share of the points lost when late: 10%%/day (per day or part "
                           "of a day), 10%%/day,max=30%%, or 20%% once (default: none)")
            p.add_argument("--grace", metavar="DURATION",
                           help="uploads this long after --due are not late: 30s, 15m, 2h, 1d "
                           "(default: none)")
            p.add_argument("--similarity-threshold", type=float, default=0.6, metavar="SHARE",
                           help="report pairs of learners sharing at least this share of their "
                           "answer cells' fingerprints (default: 0.6; review only, never the "
                           "score)")
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

    p = sub.add_parser("export", help="write the grade CSV, or an LMS's grade-import file")
    p.add_argument("--course", type=Path, default=Path("grading"))
    p.add_argument("--output", type=Path, help="CSV path (default: <course>/grades.csv, or "
                   "<course>/<format>_<assignment>.csv)")
    p.add_argument("--format", choices=("csv", "canvas", "moodle"), default="csv",
                   help="csv: every assignment (default); canvas: Canvas's gradebook import "
                   "CSV; moodle: Moodle's grading worksheet; both with a feedback zip the LMS "
                   "matches to learners")
    p.add_argument("--assignment", "-a", help="the assignment (needed by canvas and moodle)")
    p.add_argument("--lms-assignment-id", metavar="ID",
                   help="Canvas's id of the assignment: the column becomes \"<assignment> (ID)\"")

    p = sub.add_parser(
        "formgrader", help="open JupyterLab with nbgrader's formgrader; Ctrl-C or SIGTERM "
        "stops it and everything it started",
        description="Open JupyterLab in the course folder (Nbgrader > Formgrader). Options "
        "after -- go to jupyter lab unchanged, e.g. -- --ServerApp.token=abc.")
    p.add_argument("--course", type=Path, default=Path("grading"),
                   help="course folder (default: ./grading)")
    p.add_argument("--port", type=int, help="port (default: jupyter's, 8888 or the next free)")
    p.add_argument("--ip", help="address to listen on (default: jupyter's, localhost)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--allow-root", action="store_true", help="let jupyter run as root")

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
            subs = collect(args.src, args.assignment, args.course, repo=args.repo,
                           keep=args.keep)
            print(summary_table(subs, scores=False))
        elif args.command == "grade":
            grade(args.src, args.assignment, args.course, repo=args.repo, timeout=args.timeout,
                  jobs=args.jobs, memory_limit=args.memory_limit,
                  unsafe_no_sandbox=args.unsafe_no_sandbox, force=args.force,
                  feedback_images=args.feedback_images == "yes", scheduler=args.scheduler,
                  due=args.due, late_penalty=args.late_penalty, grace=args.grace,
                  keep=args.keep, similarity_threshold=args.similarity_threshold)
        elif args.command == "feedback":
            for path in write_feedback(args.assignment, args.course, args.student):
                print(f"wrote {path}")
        elif args.command == "export" and args.format == "csv":
            print(f"wrote {export(args.course, args.output)}")
        elif args.command == "export":
            if not args.assignment:
                raise GradingError(f"--format {args.format} needs --assignment: the LMS imports "
                                   "one assignment at a time.")
            from .lms import export_lms

            path, archive, missing = export_lms(args.course, args.assignment, args.format,
                                                args.output, args.lms_assignment_id)
            print(f"wrote {path}" + (f" and {archive}" if archive else ""))
            if missing:
                print(f"{len(missing)} learners have no {args.format} id (collected from a "
                      f"plain folder): {', '.join(missing)}; their rows need the id by hand.")
        elif args.command == "publish":
            written = publish(args.dest, repo=args.repo)
            print(f"wrote {len(written)} files to {args.dest}")
        elif args.command == "formgrader":
            return formgrader(args.course, [a for a in extra if a != "--"], port=args.port,
                              ip=args.ip, no_browser=args.no_browser,
                              allow_root=args.allow_root)
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
