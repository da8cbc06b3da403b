"""A class on JupyterHub, on one machine: nbgrader's own exchange, then ``grade`` on what it collected.

What the README's "A class on JupyterHub" section sets up, driven with the real ``nbgrader``
commands: a hub-wide ``nbgrader_config.py`` (course id and exchange root, as the hub's
``/etc/jupyter`` would hold it), an exchange folder (mode 0777), the instructor's clone of the
(fixture) course repository, and three learners' home folders. The instructor runs
``release_assignment``; ann, ben and cat each run ``fetch_assignment`` in their home, write their
answers in the fetched notebook (ann right, ben one wrong answer, cat nothing) and ``submit``; the
instructor runs ``collect`` and then ``grade submitted`` in the clone, as the README says.

All of it runs as one OS user. In a Zero-to-JupyterHub pod every learner is the OS user
``jovyan``, and nbgrader then takes the learner's id from ``JUPYTERHUB_USER``; ann and ben submit
that way (the OS user name nbgrader reads is made ``jovyan``, nothing else changes), cat with
``nbgrader submit --student cat``, the documented override.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from grading_helpers import FIXTURE_REPO, correct_in_release, to_bytes

from course_lib import grading

ASSIGNMENT = "00_fixture"
NOTEBOOK = "fixture.ipynb"
COURSE_ID = "nn101"
LEARNERS = ("ann", "ben", "cat")
NBGRADER = [sys.executable, "-m", "nbgrader"]
# nbgrader run as a hub's single-user server runs it: the OS user is jovyan, so the exchange takes
# the learner's id from JUPYTERHUB_USER (nbgrader.utils.get_username).
AS_JOVYAN = [sys.executable, "-c",
             "import sys, nbgrader.utils as u; u.get_osusername = lambda: 'jovyan'; "
             "from nbgrader.apps.nbgraderapp import main; sys.argv[0] = 'nbgrader'; "
             "sys.exit(main())"]


def _env(home: Path, hub_config: Path, **extra: str) -> dict[str, str]:
    """A clean environment for one person: their home, and the hub-wide Jupyter config only."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "NBGRADER")) and k != "JUPYTERHUB_USER"}
    # The environment's bin/ first, as in an activated environment (nbgrader's gradebook runs
    # its `alembic` command).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
               JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
               JUPYTER_CONFIG_PATH=str(hub_config), **extra)
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command[-2:]} in {cwd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _answers(learner: str, fetched: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """ann: every answer right; ben: double() multiplies by 3; cat: the stubs as fetched."""
    if learner == "cat":
        return fetched
    solution = nbformat.read(FIXTURE_REPO / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    nb = correct_in_release(fetched, solution)
    if learner == "ben":
        [cell] = [c for c in nb.cells if "2.0 * np.asarray" in c.source]
        cell.source = cell.source.replace("2.0 * np.asarray", "3.0 * np.asarray")
    return nb


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The whole round trip once: release, fetch, answer, submit, collect, grade."""
    root = tmp_path_factory.mktemp("hub")
    exchange = root / "srv" / "nbgrader" / "exchange"
    exchange.mkdir(parents=True)
    exchange.chmod(0o777)  # nbgrader's exchange must be writable by everyone
    hub_config = root / "etc" / "jupyter"  # the hub-wide config (the README's extraFiles)
    hub_config.mkdir(parents=True)
    (hub_config / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        "c.CollectApp.check_owner = False\n")

    # The instructor's clone of the course repository: solutions/, the committed notebooks/
    # release and the course's nbgrader_config.py.
    instructor = root / "home" / "instructor"
    clone = instructor / "course"
    for folder in ("solutions", "notebooks"):
        shutil.copytree(FIXTURE_REPO / folder / ASSIGNMENT, clone / folder / ASSIGNMENT)
    shutil.copy(grading.config_file(FIXTURE_REPO), clone / "nbgrader_config.py")
    as_instructor = _env(instructor, hub_config)
    log = {"release": _run([*NBGRADER, "release_assignment", ASSIGNMENT], clone, as_instructor)}

    # The learners work at the same time, as on a hub: each fetches, answers and submits.
    homes = {learner: root / "home" / learner for learner in LEARNERS}
    envs = {learner: _env(homes[learner], hub_config, JUPYTERHUB_USER=learner)
            for learner in LEARNERS}
    submit = {learner: [*AS_JOVYAN, "submit", ASSIGNMENT] for learner in LEARNERS}
    submit["cat"] = [*NBGRADER, "submit", ASSIGNMENT, "--student", "cat"]

    def fetch(learner):
        homes[learner].mkdir(parents=True)
        return _run([*NBGRADER, "fetch_assignment", ASSIGNMENT], homes[learner], envs[learner])

    with ThreadPoolExecutor(len(LEARNERS)) as pool:
        for learner, out in zip(LEARNERS, pool.map(fetch, LEARNERS), strict=True):
            log[f"fetch {learner}"] = out
        written: dict[str, bytes] = {}
        for learner in LEARNERS:
            fetched = homes[learner] / ASSIGNMENT / NOTEBOOK
            written[learner] = to_bytes(_answers(learner, nbformat.read(fetched, as_version=4)))
            fetched.write_bytes(written[learner])
        sent = pool.map(lambda n: _run(submit[n], homes[n], envs[n]), LEARNERS)
        for learner, out in zip(LEARNERS, sent, strict=True):
            log[f"submit {learner}"] = out

    log["collect"] = _run([*NBGRADER, "collect", ASSIGNMENT], clone, as_instructor)
    submitted = clone / "submitted"
    collected = {p.relative_to(submitted).as_posix(): p.read_bytes()
                 for p in sorted(submitted.rglob("*")) if p.is_file()}

    # What the README says the instructor runs next, in the clone: grade submitted/.
    lines: list[str] = []
    run = grading.grade(submitted, ASSIGNMENT, course=clone / "grading", repo=clone, jobs=2,
                        figures=False, timeout=20, echo=lines.append)
    return dict(root=root, exchange=exchange, clone=clone, written=written,
                collected=collected, run=run, lines=lines, log=log)


@pytest.mark.slow
def test_the_exchange_carries_each_learners_notebook_to_the_instructor(hub):
    clone, exchange = hub["clone"], hub["exchange"]
    release = (clone / "notebooks" / ASSIGNMENT / NOTEBOOK).read_bytes()
    assert (exchange / COURSE_ID / "outbound" / ASSIGNMENT / NOTEBOOK).read_bytes() == release
    inbound = sorted(p.name for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert [name.split("+")[:2] for name in inbound] == [[n, ASSIGNMENT] for n in LEARNERS], \
        "one submission per learner, named by their hub user name"
    for learner in LEARNERS:
        [sent] = (exchange / COURSE_ID / "inbound").glob(f"{learner}+{ASSIGNMENT}+*")
        assert (sent / NOTEBOOK).read_bytes() == hub["written"][learner]
    # nbgrader's collected layout: submitted/<learner>/<assignment>/, the notebook beside
    # nbgrader's timestamp.txt and submission_secret.txt.
    assert "cheating attempt" not in hub["log"]["collect"], "check_owner is off on a hub"
    assert sorted(hub["collected"]) == sorted(
        f"{n}/{ASSIGNMENT}/{f}" for n in LEARNERS
        for f in (NOTEBOOK, "submission_secret.txt", "timestamp.txt"))
    for learner in LEARNERS:
        assert hub["collected"][f"{learner}/{ASSIGNMENT}/{NOTEBOOK}"] == hub["written"][learner]


@pytest.mark.slow
def test_grade_takes_the_collected_folder_and_scores_each_learner(hub):
    run = hub["run"]
    assert "Grading 3 of 3" in hub["lines"][0], hub["lines"]
    subs = {s.student: s for s in run.submissions}
    assert sorted(subs) == list(LEARNERS), "the learner ids are the hub user names"
    assert {s.original_name for s in subs.values()} == set(LEARNERS)
    assert all(s.status == "graded" for s in subs.values()), {n: s.flags for n, s in subs.items()}
    manual = {"written_softmax_shift"}
    auto_max = sum(g["max_score"] for cell, g in subs["ann"].grades.items() if cell not in manual)
    assert auto_max == 5
    assert subs["ann"].score == auto_max, subs["ann"].grades
    assert 0 < subs["ben"].score < auto_max
    assert subs["ben"].grades["test_double"]["score"] == 0
    assert subs["cat"].score == 0
    assert not any(s.needs_review for s in subs.values()), {n: s.review_reasons
                                                            for n, s in subs.items()}
    # nbgrader's timestamp.txt and submission_secret.txt are its own records, not uploads
    assert not any(s.findings.get("dropped") for s in subs.values()), [s.flags for s in
                                                                      subs.values()]
    assert not any("Not collected" in line for line in hub["lines"]), hub["lines"]
    with open(run.csv, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == list(LEARNERS)
    assert float(rows["ann"][ASSIGNMENT]) == auto_max and float(rows["cat"][ASSIGNMENT]) == 0


@pytest.mark.slow
def test_the_learners_and_nbgraders_files_are_left_as_they_were(hub):
    root, clone = hub["root"], hub["clone"]
    for learner in LEARNERS:
        fetched = root / "home" / learner / ASSIGNMENT / NOTEBOOK
        assert fetched.read_bytes() == hub["written"][learner], f"{learner}'s own copy changed"
    submitted = clone / "submitted"
    now = {p.relative_to(submitted).as_posix(): p.read_bytes()
           for p in sorted(submitted.rglob("*")) if p.is_file()}
    assert now == hub["collected"], "grade must not change nbgrader's collected folder"
    # grade kept each upload exactly as received, in its own course folder.
    for learner in LEARNERS:
        original = clone / "grading" / "originals" / ASSIGNMENT / learner
        assert (original / f"{learner}__{ASSIGNMENT}__{NOTEBOOK}").read_bytes() \
            == hub["written"][learner]


@pytest.mark.slow
def test_timestamp_files_are_reported_not_graded(hub):
    """nbgrader's timestamp.txt beside each collected notebook is not a notebook: it is listed
    among what was not collected, and costs nobody a review."""
    reports = {p.stem: json.loads(p.read_text()) for p in
               (hub["clone"] / "grading" / "reports" / ASSIGNMENT).glob("*.json")}
    assert sorted(reports) == list(LEARNERS)
    for learner, report in reports.items():
        assert report["original_files"] == [f"{learner}/{ASSIGNMENT}/{NOTEBOOK}"]
        assert not report["needs_review"]
