"""What every grading step shares: the error, the repository, assignments and the course folder.

A *course folder* (``./grading`` unless ``--course`` says otherwise) has nbgrader's usual layout::

    grading/
      nbgrader_config.py   written here; points at the repository's settings
      source/ release/     copies of solutions/<id> and its generated release
      originals/<id>/      every uploaded file exactly as received (never overwritten)
      submitted/ autograded/ feedback/ gradebook.db    nbgrader's folders
      reports/<id>/        one JSON per learner + summary.md: what each submission did
      grades.csv           one row per learner
      students.json        learner id -> the name the upload gave them

Nothing here imports nbgrader.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT_DIR = re.compile(r"^\d\d_[A-Za-z0-9_]+$")
CONFIG_MARKER = "# Written by course_lib.grading"


def default_jobs(gb_per_learner: float = 1.5) -> int:
    """Learners graded at once on this machine: one per CPU it may use, as many as its free
    memory holds at ``gb_per_learner`` each (a kernel and its share of the grader)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            free_kb = next(int(line.split()[1]) for line in handle
                           if line.startswith("MemAvailable:"))
        by_memory = int(free_kb / (gb_per_learner * 1024 * 1024))
    except (OSError, StopIteration, ValueError):
        by_memory = cpus
    return max(1, min(cpus, by_memory))


DEFAULT_JOBS = default_jobs()
IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")
WORKER_READY = "ready"  # the line a grading worker prints once it can take learners


class GradingError(Exception):
    """Bad input or a failed step, said in one sentence (the CLI prints it and exits 2)."""


def skip_slow_optional_imports() -> None:
    """Spare each grading process the 1.5-4 s that importing nbformat spends in jsonschema's
    optional IRI checker (``rfc3987_syntax`` builds a parser grammar at import); nothing here
    validates IRIs. Only the command line and the workers call this, before importing nbformat.
    """
    sys.modules.setdefault("rfc3987_syntax", None)


def write_json(path: Path, data) -> None:
    """The course's JSON files: one-space indent, sorted keys, UTF-8, a final newline."""
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


# --- assignments and the repository -----------------------------------------------------------


def discover_assignments(repo: Path = REPO) -> list[str]:
    """Assignment ids: every ``solutions/NN_topic/`` folder that holds a notebook."""
    solutions = Path(repo) / "solutions"
    if not solutions.is_dir():
        return []
    return sorted(p.name for p in solutions.iterdir()
                  if p.is_dir() and ASSIGNMENT_DIR.match(p.name) and any(p.glob("*.ipynb")))


def require_assignment(repo: Path, assignment: str) -> None:
    """Raise GradingError naming the course's assignments when ``assignment`` is not one."""
    known = discover_assignments(repo)
    if assignment not in known:
        listing = ", ".join(known) if known else f"none yet in {Path(repo) / 'solutions'}"
        raise GradingError(f"unknown assignment {assignment!r}; the course has: {listing}.")


def config_file(repo: Path) -> Path:
    """The nbgrader_config.py that holds the course's settings (the repository's own)."""
    own = Path(repo) / "nbgrader_config.py"
    return own if own.exists() else REPO / "nbgrader_config.py"


def notebook_names(folder: Path) -> list[str]:
    return sorted(p.stem for p in Path(folder).glob("*.ipynb"))


def write_files(base: Path, files: dict[str, bytes], what: str = "file") -> None:
    """Write ``files`` (path under ``base`` -> bytes); a path that leaves ``base`` is refused."""
    for name, data in files.items():
        path = (base / name).resolve()
        if base.resolve() not in path.parents:
            raise GradingError(f"refused {what} name {name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def replace_folder(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``source`` (stale generated files go)."""
    target.mkdir(parents=True, exist_ok=True)
    new = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    for old in sorted(target.rglob("*"), reverse=True):
        rel = old.relative_to(target)
        if old.is_file() and rel not in new:
            old.unlink()
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    for rel in sorted(new):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target / rel)


# --- the course folder ------------------------------------------------------------------------


def init_course_folder(course: Path, assignment: str, repo: Path) -> Path:
    """The course folder with its config and a fresh ``source/<id>`` (no nbgrader needed).

    ``source/<id>`` is refreshed from the repository, so grading always uses the current
    solutions. Learners' files and grades are never touched.
    """
    repo, course = Path(repo).resolve(), Path(course).resolve()
    require_assignment(repo, assignment)
    inside = repo in course.parents and course.relative_to(repo).parts[0] in (
        "solutions", "notebooks")
    if course == repo or inside:
        raise GradingError(f"the course folder {course} must not be the repository or inside "
                           "solutions/ or notebooks/; use for example ./grading.")
    course.mkdir(parents=True, exist_ok=True)
    ignore = course / ".gitignore"
    if not ignore.exists():  # learners' work must never be committed by accident
        ignore.write_text("# Learners' submissions and grades: never commit them.\n*\n")
    _write_course_config(course, repo)
    replace_folder(repo / "solutions" / assignment, course / "source" / assignment)
    return course


def course_config_text(settings: Path) -> str:
    """A course folder's nbgrader_config.py: the course's ``settings`` file (an
    nbgrader_config.py), with the folders of the course folder the file is written in."""
    return (
        f"{CONFIG_MARKER}; it rewrites this file on each run while this line is here.\n"
        "# The course settings come from the repository; only the folders are this course's.\n"
        "import os\n\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(settings)!r})  # noqa: F821\n"
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))\n"
        'c.CourseDirectory.source_directory = "source"\n'
        'c.CourseDirectory.release_directory = "release"\n'
    )


def _write_course_config(course: Path, repo: Path) -> None:
    path = course / "nbgrader_config.py"
    text = course_config_text(config_file(repo))
    if not path.exists() or path.read_text().startswith(CONFIG_MARKER):
        path.write_text(text)


def existing_course_folder(course: Path) -> Path:
    """``course`` resolved, or GradingError when ``grade`` has not made it a course folder yet."""
    course = Path(course).resolve()
    if not (course / "nbgrader_config.py").exists():
        raise GradingError(f"{course} is not a course folder yet: run grade first.")
    return course


def worker_env() -> dict:
    """The environment of a grading worker and its kernels: headless, one BLAS thread each."""
    env = dict(os.environ)
    env["COURSE_HEADLESS"] = "1"  # widgets build without a browser (see the notebooks)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(name, "1")
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env
