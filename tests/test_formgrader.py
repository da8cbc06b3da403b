"""``grading formgrader``: it serves JupyterLab on 127.0.0.1, and SIGTERM to the command stops
every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from grading_helpers import FIXTURE_REPO

from course_lib.grading.cli import _descendants
from course_lib.grading.common import init_course_folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_help_lists_the_options():
    out = subprocess.run([sys.executable, "-m", "course_lib.grading", "formgrader", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--course", "--port", "--ip", "--no-browser", "--allow-root"):
        assert option in out


@pytest.mark.slow
def test_sigterm_stops_jupyterlab_and_everything_it_started(tmp_path):
    course = init_course_folder(tmp_path / "grading", "00_fixture", FIXTURE_REPO)
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    command = [sys.executable, "-m", "course_lib.grading", "formgrader", "--course", str(course),
               "--port", str(port), "--ip", "127.0.0.1", "--no-browser", "--allow-root"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    started: set[int] = set()
    try:
        page, deadline = None, time.monotonic() + 120
        while time.monotonic() < deadline and page is None:
            started.update(_descendants(proc.pid))
            assert proc.poll() is None, "formgrader stopped by itself"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=5) as r:
                    page = r.status, r.read().decode("utf-8", "replace")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert page is not None, "no page on 127.0.0.1 within 2 minutes"
        assert page[0] == 200 and "jupyter" in page[1].lower()
        started.update(_descendants(proc.pid))
        assert started, "JupyterLab runs as a child of the command"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in started):
            time.sleep(0.2)
        assert not [pid for pid in started if _alive(pid)], "a process outlived the command"
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "the port is still served"
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in started:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
