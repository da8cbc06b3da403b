"""``import course_lib`` stays light: the heavy or optional libraries load only when a module
that needs them is used (DESIGN.md). Checked in a fresh interpreter, where nothing else has
imported them yet."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

HEAVY = ["matplotlib", "ipywidgets", "cupy", "sklearn", "nbgrader", "scipy"]

PROBE = f"""
import json, sys
import course_lib
for name in ("functional", "losses", "optim", "layers", "train", "gradcheck"):
    getattr(course_lib, name)
from course_lib import functional, layers, losses, optim, train  # noqa
course_lib.using
print(json.dumps({{"loaded": sorted(m for m in {HEAVY!r} if m in sys.modules),
                  "file": course_lib.__file__}}))
"""


def _probe(cwd):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_course_lib_loads_no_heavy_library():
    result = _probe(ROOT)
    assert result["loaded"] == [], f"import course_lib pulled in {result['loaded']}"


def test_the_installed_course_lib_is_this_package(tmp_path):
    """From outside the repository, ``import course_lib`` must find this package's
    ``__init__.py`` (a stale editable install gives a bare namespace package instead)."""
    result = _probe(tmp_path)
    assert result["file"] == str(ROOT / "course_lib" / "__init__.py"), result
    assert result["loaded"] == []
