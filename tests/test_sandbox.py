"""The grading sandbox itself (course_lib/grading/sandbox.py): what a sandboxed Python can see and
do, that grade refuses without one, that --unsafe-no-sandbox is on every row, and the
fingerprint of course_lib and the environment. The whole adversarial class is
tests/test_adversarial.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from grading_helpers import FIXTURE_REPO

from course_lib import grading
from course_lib.grading import sandbox

needs_sandbox = pytest.mark.skipif(bool(sandbox.problem()), reason=str(sandbox.problem()))

MEMORY_MB, PROCESSES, SCRATCH_MB = 512, 32, 16

PROBE = r"""
import json, os, socket, subprocess, sys
out = {"uid": os.getuid(), "root": sorted(os.listdir("/")), "cwd": os.getcwd()}
repo = sys.argv[1]
out["repo"] = sorted(os.listdir(repo)) if os.path.isdir(repo) else None
try:
    open(os.path.join(repo, "course_lib", "checks.py"), "a").write("# changed\n")
    out["write_course_lib"] = "written"
except OSError as exc:
    out["write_course_lib"] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=2).sendall(b"leak")
    out["network"] = "sent"
except OSError as exc:
    out["network"] = type(exc).__name__
try:
    with open("big", "wb") as handle:
        for _ in range(2 * int(sys.argv[3])):
            handle.write(b"x" * (1 << 20))
    out["big_file"] = "written"
except OSError as exc:
    out["big_file"] = type(exc).__name__
os.remove("big") if os.path.exists("big") else None
children = []
try:
    for _ in range(100):
        children.append(subprocess.Popen(["sleep", "5"]))
except OSError as exc:
    out["processes_error"] = type(exc).__name__
out["processes"] = len(children)
for child in children:
    child.kill()
try:
    block = bytearray(int(sys.argv[4]) * 2 * (1 << 20))
    out["memory"] = "allocated"
except MemoryError:
    out["memory"] = "MemoryError"
print(json.dumps(out))
"""


@pytest.fixture
def listener():
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.3)
    got = {"connections": 0, "bytes": 0}
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            got["connections"] += 1
            got["bytes"] += len(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], got
    done.set()
    thread.join()
    server.close()


def run_sandboxed(code: str, *args: str, files=()) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", code, *args]
    cmd = sandbox.command(argv, None, memory_mb=MEMORY_MB, processes=PROCESSES,
                          scratch_mb=SCRATCH_MB, env=sandbox.kernel_env(), files=list(files))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@needs_sandbox
def test_a_sandboxed_python_sees_and_does_only_what_it_may(listener):
    port, got = listener
    before = (grading.REPO / "course_lib" / "lessons" / "checks.py").read_bytes()
    done = run_sandboxed(PROBE, str(grading.REPO), str(port), str(SCRATCH_MB),
                         str(MEMORY_MB + sandbox.ADDRESS_SPACE_EXTRA_MB))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["uid"] != 0
    assert out["cwd"] == sandbox.SCRATCH
    # Of the machine's top folders: the system's, and those that lead to Python and course_lib.
    expected = {"usr", "etc", "proc", "dev", "tmp", "home"}
    expected |= {top for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
                 if os.path.exists(f"/{top}")}
    expected |= {root.parts[1] for root in sandbox.readable_roots()}
    assert set(out["root"]) == expected
    # Of the repository only course_lib (and the environment, when it lives inside it).
    visible = set(out["repo"])
    assert "course_lib" in visible
    assert not visible & {"solutions", "tests", "notebooks", "nbgrader_config.py", ".git"}
    assert out["write_course_lib"] in ("PermissionError", "OSError")
    assert (grading.REPO / "course_lib" / "lessons" / "checks.py").read_bytes() == before
    assert out["network"] in ("ConnectionRefusedError", "OSError", "TimeoutError")
    assert got == {"connections": 0, "bytes": 0}
    assert out["big_file"] == "OSError"  # ENOSPC or EFBIG at the scratch size
    assert out["processes"] < PROCESSES and out["processes_error"] == "BlockingIOError"
    assert out["memory"] == "MemoryError"


@needs_sandbox
def test_the_learners_own_notebook_is_there_read_only(tmp_path):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text("{}")
    code = ("import os\nprint(open('mine.ipynb').read())\n"
            "try:\n    open('mine.ipynb', 'w')\nexcept OSError as exc:\n    print(type(exc).__name__)")
    done = run_sandboxed(code, files=[notebook])
    assert done.stdout.split() == ["{}", "OSError"], done.stderr


@needs_sandbox
def test_nothing_a_sandbox_started_outlives_it():
    psutil = pytest.importorskip("psutil")
    marker = f"left-behind-{uuid.uuid4().hex}"
    code = (
        "import os, subprocess, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    subprocess.Popen(['sh', '-c', 'sleep 60; echo {marker}'])\n"
        "    os._exit(0)\n"
        "print('parent leaves')\n")
    done = run_sandboxed(code)
    assert "parent leaves" in done.stdout, done.stderr
    alive = [p for p in psutil.process_iter(["cmdline"])
             if marker in " ".join(p.info["cmdline"] or [])]
    assert alive == []


def test_fingerprint_names_what_was_added_removed_and_changed(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("y = 2\n")
    before = sandbox.fingerprint([tmp_path])
    assert sandbox.changes(before, sandbox.fingerprint([tmp_path])) == []
    (tmp_path / "a.py").write_text("x = 2\n")  # same size, other bytes
    os.utime(tmp_path / "a.py", (1, 1))         # and an old date: contents are what count
    (tmp_path / "pkg" / "b.py").unlink()
    (tmp_path / "evil.pth").write_text("import os\n")
    assert sandbox.changes(before, sandbox.fingerprint([tmp_path])) == [
        f"added {tmp_path / 'evil.pth'}", f"removed {tmp_path / 'pkg' / 'b.py'}",
        f"changed {tmp_path / 'a.py'}"]


def _fixture_class(folder: Path) -> Path:
    source = FIXTURE_REPO / "solutions" / "00_fixture" / "fixture.ipynb"
    for name in ("ada", "=cmd|' /C calc'!A0"):
        (folder / name).mkdir(parents=True)
        (folder / name / "fixture.ipynb").write_bytes(source.read_bytes())
    return folder


def test_without_bubblewrap_grade_refuses_in_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    sandbox.problem.cache_clear()
    try:
        src = _fixture_class(tmp_path / "class")
        code = grading.main(["--repo", str(FIXTURE_REPO), "grade", str(src), "-a", "00_fixture",
                             "--course", str(tmp_path / "course")])
    finally:
        sandbox.problem.cache_clear()
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "apt-get install bubblewrap" in err and "--unsafe-no-sandbox" in err
    assert not (tmp_path / "course" / "gradebook.db").exists()


def test_unsafe_no_sandbox_is_said_on_every_row(tmp_path):
    import csv

    src = _fixture_class(tmp_path / "class")
    run = grading.grade(src, "00_fixture", tmp_path / "course", repo=FIXTURE_REPO, jobs=2,
                        figures=False, unsafe_no_sandbox=True, echo=lambda *a: None)
    assert len(run.submissions) == 2
    for sub in run.submissions:
        assert sub.status == "graded" and not sub.sandboxed
        assert "graded WITHOUT a sandbox (--unsafe-no-sandbox)" in sub.flags
    with open(run.csv, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and all("WITHOUT a sandbox" in row["flags"] for row in rows)
    summary = run.summary.read_text(encoding="utf-8")
    assert summary.count("graded WITHOUT a sandbox") >= 2
