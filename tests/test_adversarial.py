"""Issue 13, grades you can trust: the adversarial learners of ``tests/adversarial/attacks.py``
(one per attack a learner really made on ``grade`` with notebook 01) graded in one batch with the
sandbox, beside two honest classmates.

Each attack must be *contained*: its score is the score of its honest part (or it is sent to
review), and it has no effect outside its own score: the honest classmates are graded exactly as
when they are graded alone (in a course folder of their own), the repository's course_lib and the
environment's site-packages are unchanged, no process of the batch is alive once ``grade``
returns (so no daemon can act later), the listener on 127.0.0.1 got no connection, and no file an
attack wrote is anywhere on disk. ``test_every_attack_is_contained`` prints "N of N attacks
contained" (``pytest -s`` shows it) with one verdict per attack.

The batch is never run without the sandbox: attacks 1 and 2 would then really change the
repository's course_lib and the environment (the fixture skips when bubblewrap cannot run, and
puts back anything an escaped attack changed).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import inspect
import io
import json
import os
import site
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from grading_helpers import Case, load_mutants, output_text

from course_lib import grading

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
ATTACKS_FILE = TESTS / "adversarial" / "attacks.py"
TOKEN_VARIABLE = "COURSE_ADVERSARIAL_BATCH"  # COURSE_*: passed on into the sandboxed kernels
SANDBOX_UIDS = range(200_000, 300_000)  # sandbox.sandbox_uid(): 200000 + a worker's pid % 100000
TIMEOUT = 60  # per cell: attack 8 polls 40 s for another kernel's connection file
MEMORY_GB = 2.0
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _load_attacks():
    spec = importlib.util.spec_from_file_location("adversarial_attacks", ATTACKS_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


A = _load_attacks()
CASE = Case(grading.REPO, A.ASSIGNMENT)
NUMBERS = sorted(A.ATTACKS)


# --- what the machine looks like, before and after --------------------------------------------


class Listener:
    """A TCP listener on 127.0.0.1 that counts connections and bytes (attack 12 aims at it)."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.connections, self.bytes, self.data = 0, 0, b""
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(2)
                try:
                    while chunk := connection.recv(65536):
                        self.bytes += len(chunk)
                        self.data += chunk[:1000]
                except OSError:
                    pass

    def close(self):
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def course_lib_files() -> dict[str, bytes]:
    """path -> content of every file of the repository's course_lib (no bytecode)."""
    root = Path(grading.__file__).resolve().parents[1]
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def site_folders() -> list[Path]:
    folders = {Path(p) for p in site.getsitepackages()} | {Path(site.getusersitepackages())}
    return sorted(folders)


def site_listing() -> dict[str, str]:
    """path -> size and mtime of every file in site-packages (no bytecode), plus the sha256 of
    its top-level files (.pth, sitecustomize.py...), which run in every Python process."""
    found = {}
    for folder in site_folders():
        if not folder.is_dir():
            continue
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                path = Path(root, name)
                if path.suffix == ".pyc":
                    continue
                try:
                    stat = path.lstat()
                except OSError:
                    continue
                found[str(path)] = f"{stat.st_size} {stat.st_mtime_ns}"
                if Path(root) == folder and path.is_file():
                    found[str(path)] += " " + _hash(path)
    return found


def differences(before: dict, after: dict) -> list[str]:
    out = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    out += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    out += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return out


def search_roots(*extra: Path) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    roots = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), home, grading.REPO,
             *site_folders(), *extra]
    return [r for r in dict.fromkeys(roots) if r.is_dir()]


def marked_files(roots: list[Path], seconds: float = 60.0) -> list[str]:
    """Every file or folder whose name carries an attack's marker, under ``roots``."""
    found, stop = [], time.monotonic() + seconds
    for top in roots:
        for root, dirs, files in os.walk(top, onerror=lambda error: None):
            dirs[:] = [d for d in dirs if d not in (".git", "node_modules", "proc")]
            found += [os.path.join(root, n) for n in files + dirs if A.MARK in n]
            if time.monotonic() > stop:
                found.append(f"(search stopped after {seconds:.0f} s at {root})")
                return sorted(set(found))
    return sorted(set(found))


class WorkerWatcher:
    """Notes the grading workers this process starts, so that their sandbox user ids are known
    (``sandbox.sandbox_uid``: 200000 + the worker's pid), apart from other grading runs' on the
    same machine."""

    def __init__(self):
        self.pids: set[int] = set()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        import psutil

        me = psutil.Process()
        while not self.stopped.wait(0.2):
            try:
                for child in me.children():
                    if "course_lib.grading.worker" in " ".join(child.cmdline()):
                        self.pids.add(child.pid)
            except psutil.Error:
                pass

    def uids(self) -> set[int]:
        self.stopped.set()
        self.thread.join(timeout=5)
        return {SANDBOX_UIDS.start + pid % 100_000 for pid in self.pids}


def batch_processes(token: str, started: float, course: Path, uids: set[int]) -> list[dict]:
    """The processes of the batch still alive: an attack's marker in the command line, one of the
    batch's sandbox user ids, the batch's token in the environment, or naming this course."""
    import psutil

    me = os.getpid()
    alive = []
    for process in psutil.process_iter(["pid", "cmdline", "create_time", "status"]):
        try:
            if process.pid == me or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            command = " ".join(process.info["cmdline"] or [])
            try:
                mine = process.environ().get(TOKEN_VARIABLE) == token
            except psutil.Error:
                mine = False
            why = None
            if A.MARK in command:
                why = "an attack's marker in its command line"
            elif process.uids().real in uids:
                why = f"runs as sandbox user {process.uids().real}"
            elif process.info["create_time"] >= started - 1:
                if mine:
                    why = "started by the batch (its token in the environment)"
                elif str(course) in command:
                    why = "names the course folder"
            if why:
                alive.append({"pid": process.pid, "why": why, "command": command[:200],
                              "mine": mine})
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return alive


def kill(processes: list[dict]) -> None:
    """Kill the processes this batch left (its token in their environment; a marker alone could
    be another run's), one pid at a time."""
    import psutil

    for entry in processes:
        if not entry["mine"]:
            continue
        try:
            psutil.Process(entry["pid"]).kill()
        except psutil.Error:
            pass


# --- the batch -----------------------------------------------------------------------------------


def _grade(src: Path, course: Path) -> tuple[object, str, str | None]:
    out = io.StringIO()
    try:
        run = grading.grade(src, A.ASSIGNMENT, course=course, repo=grading.REPO, timeout=TIMEOUT,
                            jobs=2, memory_limit=MEMORY_GB, figures=False, feedback=True,
                            echo=lambda *a: print(*a, file=out))
        return run, out.getvalue(), None
    except grading.GradingError as error:  # e.g. course_lib changed while grading
        return None, out.getvalue(), str(error)


def _reports(course: Path) -> dict[str, dict]:
    folder = course / "reports" / A.ASSIGNMENT
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")} if folder.is_dir() \
        else {}


def _csv_rows(course: Path) -> list[list[str]]:
    path = course / "grades.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _said(course: Path, student: str) -> list[str]:
    """What the learner's notebook printed (``advmarkNN DID/BLOCKED ...``), from the autograded
    notebook the trusted worker wrote."""
    path = course / "autograded" / student / A.ASSIGNMENT / f"{A.NOTEBOOK}.ipynb"
    if not path.exists():
        return []
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(output_text(c) for c in nb.cells if c.cell_type == "code")
    return [line.strip() for line in text.splitlines() if line.strip().startswith(A.MARK)]


def _grades(report: dict) -> dict:
    return {"score": report.get("score"), "status": report.get("status"),
            "needs_review": report.get("needs_review"),
            "cells": {c: g.get("score") for c, g in sorted(report.get("grades", {}).items())}}


ATTEMPTS = 3  # a batch stopped because someone else edited course_lib meanwhile is run again


def _colleagues_edit(error: str | None, evidence: dict) -> bool:
    """Whether ``grade`` stopped only because course_lib changed under it with no attack's hand
    in it (a shared checkout where others edit course_lib): no marker in the changed files, the
    site-packages as they were, no file an attack wrote."""
    return bool(error and "changed while grading" in error and not evidence["course_lib_marked"]
                and not evidence["site"] and not evidence["marked"]
                and not evidence["listener"].connections)


def _grade_alone(folder: Path, honest) -> tuple[dict, float]:
    """The honest learners graded in a course folder of their own."""
    src = A.write_class(folder / "honest-class", [], honest)
    for attempt in range(ATTEMPTS):
        began = time.monotonic()
        _, _, error = _grade(src, folder / f"honest-course-{attempt}")
        if error is None:
            return _reports(folder / f"honest-course-{attempt}"), time.monotonic() - began
        assert "changed while grading" in error and attempt + 1 < ATTEMPTS, error
    raise AssertionError("unreachable")


def _attack_batch(folder: Path, release, solution, mutants, honest, listener) -> dict:
    """The attack class and the honest learners graded in one batch, and what it left."""
    course = folder / "course"
    attacks = A.build(release, solution, mutants, course=course, port=listener.port,
                      repo=grading.REPO, cap_mb=int(MEMORY_GB * 1024))
    src = A.write_class(folder / "class", attacks, honest)
    lib_before, site_before = course_lib_files(), site_listing()
    roots = search_roots(course, folder)
    marked_before = marked_files(roots)
    token = uuid.uuid4().hex
    os.environ[TOKEN_VARIABLE] = token
    started, began = time.time(), time.monotonic()
    watcher = WorkerWatcher()
    try:
        run, printed, error = _grade(src, course)
    finally:
        os.environ.pop(TOKEN_VARIABLE, None)
        uids = watcher.uids()
    seconds = time.monotonic() - began
    alive = batch_processes(token, started, course, uids)  # right after grade returned
    lib_after, site_after = course_lib_files(), site_listing()
    return {
        "attacks": attacks, "honest": honest, "course": course, "run": run, "printed": printed,
        "error": error, "seconds": seconds, "reports": _reports(course), "csv": _csv_rows(course),
        "alive": alive, "token": token, "started": started, "uids": uids, "listener": listener,
        "lib_before": lib_before, "lib_after": lib_after,
        "course_lib": differences(
            {p: hashlib.sha256(b).hexdigest() for p, b in lib_before.items()},
            {p: hashlib.sha256(b).hexdigest() for p, b in lib_after.items()}),
        "course_lib_marked": sorted(p for p, b in lib_after.items() if A.MARK.encode() in b),
        "site": differences(site_before, site_after),
        "marked": sorted(set(marked_files(roots)) - set(marked_before)),
        "said": {a.student: _said(course, a.student) for a in attacks},
    }


def _clean_up(evidence: dict) -> None:
    """Kill what the batch left, put back what an escaped attack appended to course_lib, remove
    the files it wrote (only what carries an attack's marker: others edit this checkout too)."""
    kill(evidence["alive"] + batch_processes(evidence["token"], evidence["started"],
                                             evidence["course"], evidence["uids"]))
    for path, data in evidence["lib_before"].items():
        now = Path(path).read_bytes() if Path(path).exists() else b""
        if now != data and A.MARK.encode() in now:
            Path(path).write_bytes(data)
    for path in evidence["marked"]:
        target = Path(path)
        if path.startswith("/tmp/course-kernel-"):  # a kernel's run folder: its grader removes it
            continue
        if target.is_file() and not target.is_symlink():
            target.unlink()


@pytest.fixture(scope="module")
def battle(tmp_path_factory):
    """The class graded once with the sandbox, and everything seen before and after."""
    if "unsafe_no_sandbox" not in inspect.signature(grading.grade).parameters:
        pytest.skip("grading has no sandbox yet: the attack class must never run without one")
    from course_lib.grading import sandbox

    why = sandbox.problem()
    if why:
        pytest.skip(f"the sandbox cannot run here: {why}")
    release = nbformat.read(CASE.notebooks / f"{A.NOTEBOOK}.ipynb", as_version=4)
    solution = CASE.solution(A.NOTEBOOK)
    mutants = load_mutants(CASE)
    honest = A.honest_learners(release, solution, mutants)
    folder = tmp_path_factory.mktemp("adversarial")
    alone, alone_seconds = _grade_alone(folder, honest)
    listener = Listener()
    try:
        for attempt in range(ATTEMPTS):
            evidence = _attack_batch(folder / f"attempt-{attempt}", release, solution, mutants,
                                     honest, listener)
            _clean_up(evidence)
            if not _colleagues_edit(evidence["error"], evidence) or attempt + 1 == ATTEMPTS:
                break
        evidence.update(alone=alone, alone_seconds=alone_seconds, attempts=attempt + 1)
        yield evidence
    finally:
        listener.close()


# --- verdicts ------------------------------------------------------------------------------------


def verdict(number: int, ev: dict) -> tuple[bool, str]:
    """(contained, why) for one attack, from the evidence of the batch."""
    attack = next(a for a in ev["attacks"] if a.number == number)
    course, mark, problems = ev["course"], attack.mark, []
    report = ev["reports"].get(attack.student)
    said = ev["said"].get(attack.student, [])
    if report is None:
        problems.append(f"no report ({ev['error'] or 'missing'})")
    else:
        score, review = report.get("score"), report.get("needs_review")
        if score != attack.honest and not review:
            problems.append(f"scored {score:g} (honest part: {attack.honest:g}) and was not sent "
                            "to review")
    alive = [p for p in ev["alive"] if mark in p["command"]]
    if alive:
        problems.append(f"{len(alive)} of its processes outlived the batch")
    files = [p for p in ev["marked"] if mark in p]
    if files:
        problems.append(f"left {files[:3]}")
    did = [line for line in said if " DID " in f" {line} "]

    def escaped_if_said(*phrases):
        for line in did:
            if any(phrase in line for phrase in phrases):
                problems.append(f"its notebook says {line!r}")

    if number == 1:
        touched = [p for p in ev["course_lib_marked"] if mark.encode() in ev["lib_after"][p]]
        if touched or ev["course_lib"]:
            problems.append(f"course_lib changed: {touched or ev['course_lib'][:3]}")
    elif number == 2:
        if ev["site"]:
            problems.append(f"site-packages changed: {ev['site'][:3]}")
    elif number == 3:  # what its daemon writes: a forged report, a CSV row, a summary line
        if _reports(course).get(attack.student, {}).get("forged_by") == mark:  # read again now
            problems.append("its report was rewritten")
        if any(row and row[-1] == mark for row in _csv_rows(course)):
            problems.append("its grades.csv row was rewritten")
        for path in (course / "reports").rglob("summary.md"):
            if "rewritten after the batch" in path.read_text(errors="replace"):
                problems.append("summary.md was rewritten")
    elif number == 4:
        for page in sorted((course / "feedback" / A.HONEST[0]).rglob("*.html")):
            if mark in page.read_text(errors="replace"):
                problems.append(f"{A.HONEST[0]}'s feedback page was replaced")
        if not any((course / "feedback" / A.HONEST[0]).rglob("*.html")):
            problems.append(f"{A.HONEST[0]} has no feedback page")
    elif number in (5, 6):
        escaped_if_said("DID read", "DID copy")
        back = [p for p in (course / "feedback" / attack.student).rglob("*")
                if p.is_file() and p.suffix != ".html"]
        if back:
            problems.append(f"its feedback folder holds {[p.name for p in back]}")
    elif number == 7:
        for student, (data, _) in ev["honest"].items():
            for path in (course / "originals" / A.ASSIGNMENT / student).rglob("*"):
                if path.is_file() and path.read_bytes() != data:
                    problems.append(f"{student}'s original {path.name} changed")
            for path in [*(course / "submitted" / student).rglob("*.ipynb"),
                         *(course / "autograded" / student).rglob("*.ipynb")]:
                if mark in path.read_text(errors="replace"):
                    problems.append(f"{student}'s {path.parent.parent.parent.name} was overwritten")
    elif number == 8:
        escaped_if_said("DID run code")
    elif number == 9:
        if any(p["why"].startswith("runs as sandbox") for p in ev["alive"]):
            problems.append(f"sandboxed processes outlived the batch: {ev['alive'][:3]}")
    elif number == 11:
        escaped_if_said("DID touch")
    elif number == 12:
        listener = ev["listener"]
        if listener.connections or listener.bytes:
            problems.append(f"the listener got {listener.connections} connections, "
                            f"{listener.bytes} bytes: {listener.data[:80]!r}")
    elif number == 18:
        bad = [cell for row in ev["csv"] for cell in row if cell.startswith(FORMULA_START)]
        if not ev["csv"]:
            problems.append("no grades.csv")
        if bad:
            problems.append(f"grades.csv cells a spreadsheet runs: {bad[:2]}")
    return not problems, "; ".join(problems) or _contained_how(report, attack, said)


def _contained_how(report: dict, attack, said: list[str]) -> str:
    blocked = sum(" BLOCKED " in f" {line} " for line in said)
    how = f"scored {report['score']:g} (honest {attack.honest:g})"
    if report.get("needs_review"):
        how += f", sent to review ({'; '.join(report.get('review_reasons', []))[:120]})"
    return how + (f", {blocked} steps blocked" if blocked else "")


# --- the tests -----------------------------------------------------------------------------------


def test_the_batch_grades_every_learner(battle):
    assert battle["error"] is None, battle["error"]
    students = {a.student for a in battle["attacks"]} | set(battle["honest"])
    assert students == set(battle["reports"]), sorted(students ^ set(battle["reports"]))


def test_honest_learners_are_graded_as_when_graded_alone(battle):
    for student, (_, expected) in battle["honest"].items():
        alone = _grades(battle["alone"][student])
        assert alone["score"] == expected, (student, alone)
        assert _grades(battle["reports"].get(student, {})) == alone, student


def test_course_lib_and_site_packages_are_unchanged(battle):
    assert battle["course_lib"] == [], battle["course_lib"]
    assert battle["site"] == [], battle["site"]


def test_no_process_of_the_batch_outlives_it(battle):
    assert battle["alive"] == [], battle["alive"]


def test_nothing_reached_the_listener(battle):
    listener = battle["listener"]
    assert (listener.connections, listener.bytes) == (0, 0), listener.data[:200]


def test_no_file_an_attack_wrote_is_left_on_disk(battle):
    assert battle["marked"] == [], battle["marked"]


@pytest.mark.parametrize("number", NUMBERS, ids=[A.student_id(n) for n in NUMBERS])
def test_attack_is_contained(battle, number):
    contained, why = verdict(number, battle)
    assert contained, f"attack {number} ({A.ATTACKS[number][2]}) escaped: {why}"


def test_every_attack_is_contained(battle):
    verdicts = {number: verdict(number, battle) for number in NUMBERS}
    contained = sum(ok for ok, _ in verdicts.values())
    lines = [f"{n:2d} {A.student_id(n):28s} {'contained' if ok else 'ESCAPED'}: {why}"
             for n, (ok, why) in verdicts.items()]
    summary = (f"{contained} of {len(verdicts)} attacks contained "
               f"(batch {battle['seconds']:.0f} s, honest learners alone "
               f"{battle['alone_seconds']:.0f} s)")
    print("\n" + "\n".join(lines) + "\n" + summary)
    assert contained == len(verdicts), summary + "\n" + "\n".join(
        line for line, (ok, _) in zip(lines, verdicts.values(), strict=True) if not ok)
