"""The Binder and conda configuration, proven without Docker.

- ``environment.yml`` and ``binder/environment.yml`` are byte-identical and carry exactly the pins
  of ``pyproject.toml`` (conda-forge names where they differ from PyPI's); no CuPy, no ``-e .``.
- ``repo2docker --no-build --debug`` (it prints the Dockerfile and needs no Docker daemon) installs
  ``binder/environment.yml`` before it copies the repository (so Binder's layer cache survives a
  commit) and runs ``binder/postBuild``.
- ``binder/postBuild`` run on a fresh venv made from the same pins succeeds and leaves exactly the
  student-facing Jupyter: nbgrader's Validate button, no instructor extensions (disabled and
  locked), kernels capped to one BLAS / OpenMP thread, course_lib installed, no CuPy.

The fresh venv is built once per set of pins (≈ 1 min of pip install) and cached under
``~/.cache/course-binder-venv/<hash of the pins>``; every run copies that pristine venv, runs
postBuild on the copy from a scratch copy of the repository, and throws both away. Nothing here
writes into the checkout.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / "environment.yml"
BINDER_ENV_FILE = ROOT / "binder" / "environment.yml"
POSTBUILD = ROOT / "binder" / "postBuild"

# PyPI name (normalised) -> conda-forge name, where they differ. matplotlib-base is matplotlib
# without the Qt GUI stack that conda-forge's "matplotlib" package pulls in.
PYPI_TO_CONDA = {"matplotlib": "matplotlib-base"}
CONDA_TO_PYPI = {conda: pypi for pypi, conda in PYPI_TO_CONDA.items()}
# conda entries that are not course dependencies and so have no pin in pyproject.toml.
CONDA_ONLY = {"python", "pip"}
PYTHON_SPEC = "python=3.11"

# The student-facing Jupyter that binder/postBuild leaves behind.
NBGRADER_LAB = "@jupyter/nbgrader"
STUDENT_NBGRADER_PLUGINS = {f"{NBGRADER_LAB}:validate-assignment"}
INSTRUCTOR_NBGRADER_PLUGINS = {
    f"{NBGRADER_LAB}:{name}"
    for name in ("formgrader", "create-assignment", "assignment-list", "course-list", "menu")
}
STUDENT_LAB_EXTENSIONS = {
    "@jupyter-notebook/lab-extension",
    "@jupyter-widgets/jupyterlab-manager",
    "@jupyter/nbgrader",  # only its validate-assignment plugin stays on
    "jupyter-matplotlib",  # ipympl
    "jupyterlab_pygments",
}
STUDENT_SERVER_EXTENSIONS = {
    "course_lib.lessons.validate",  # the Validate dialog leads with the failed checks
    "jupyter_lsp",
    "jupyter_server_terminals",
    "jupyterlab",
    "nbgrader.server_extensions.validate_assignment",
    "notebook",
    "notebook_shim",
}
INSTRUCTOR_SERVER_EXTENSIONS = {
    f"nbgrader.server_extensions.{name}" for name in ("formgrader", "assignment_list", "course_list")
}
THREAD_CAPS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

VENV_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "course-binder-venv"
VENV_RECIPE = "1"  # bump when the way the cached venv is built changes
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- parsing ---------------------------------------------------------------------------------


def normalise(name: str) -> str:
    """PEP 503 form of a package name: lower case, runs of - _ . as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins() -> dict[str, str]:
    """{normalised PyPI name: version} for pyproject.toml's [project] dependencies."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9_.-]*)\s*==\s*([^\s;,]+)\s*", dep)
        assert match, f"pyproject.toml dependency {dep!r} is not pinned as name==version"
        pins[normalise(match[1])] = match[2]
    return pins


def conda_environment(path: Path) -> tuple[dict, dict[str, str], list[str], dict[str, str]]:
    """(parsed file, {conda name: version} pins, other conda specs, {pypi name: version} pip pins)."""
    env = yaml.safe_load(path.read_text())
    conda_pins, other_specs, pip_pins = {}, [], {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            assert set(dep) == {"pip"}, f"{path.name}: unexpected dependency entry {dep}"
            for req in dep["pip"]:
                assert not re.match(r"\s*(-e|--editable)\b|\s*[./]", req), (
                    f"{path.name}: local pip requirement {req!r}: it makes repo2docker copy the "
                    "repository before solving the environment (no layer cache); "
                    "binder/postBuild installs course_lib instead"
                )
                match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_.-]*)==(\S+)", req.strip())
                assert match, f"{path.name}: pip requirement {req!r} is not name==version"
                pip_pins[normalise(match[1])] = match[2]
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_.-]*)\s*==\s*(\S+)", dep.strip())
        if match:
            assert match[1] not in conda_pins, f"{path.name}: {match[1]} listed twice"
            conda_pins[match[1]] = match[2]
        else:
            other_specs.append(dep.strip())
    return env, conda_pins, other_specs, pip_pins


# --- the environment files -------------------------------------------------------------------


def test_binder_environment_is_identical_to_the_root_one():
    assert BINDER_ENV_FILE.read_bytes() == ENV_FILE.read_bytes(), (
        "binder/environment.yml differs from environment.yml: repo2docker reads only the binder/ "
        "one, the README's conda route only the root one. Copy: cp environment.yml binder/"
    )


@pytest.mark.parametrize("path", [ENV_FILE, BINDER_ENV_FILE], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_environment_pins_match_pyproject(path):
    env, conda_pins, other_specs, pip_pins = conda_environment(path)
    assert env["channels"] == ["conda-forge"], "the environment uses conda-forge only"
    assert PYTHON_SPEC in other_specs, f"{path.name} must ask for {PYTHON_SPEC}"
    unexpected = [s for s in other_specs if re.split(r"[=<>!\s]", s)[0] not in CONDA_ONLY]
    assert not unexpected, f"{path.name}: unpinned or oddly pinned entries {unexpected} (use ==)"
    assert not set(conda_pins) & CONDA_ONLY, "python and pip are not course pins"

    wanted = pyproject_pins()
    found = {normalise(CONDA_TO_PYPI.get(name, name)): ver for name, ver in conda_pins.items()}
    twice = set(found) & set(pip_pins)
    assert not twice, f"{sorted(twice)} listed both as conda and as pip packages"
    found.update(pip_pins)
    missing = {n: v for n, v in wanted.items() if n not in found}
    extra = {n: v for n, v in found.items() if n not in wanted}
    differ = {n: (found[n], v) for n, v in wanted.items() if n in found and found[n] != v}
    assert not missing, f"{path.name} lacks pyproject.toml pins {missing}"
    assert not extra, f"{path.name} pins {extra}, which pyproject.toml's dependencies do not"
    assert not differ, f"{path.name} versions differ from pyproject.toml (found, wanted): {differ}"
    wrong_names = {n for n in conda_pins if n in PYPI_TO_CONDA}
    assert not wrong_names, f"use the conda-forge names: {[PYPI_TO_CONDA[n] for n in wrong_names]}"


def test_no_cupy_and_no_local_install_in_the_binder_environment():
    env, conda_pins, other_specs, pip_pins = conda_environment(BINDER_ENV_FILE)
    names = list(conda_pins) + other_specs + list(pip_pins)
    assert not [n for n in names if "cupy" in n.lower()], "Binder has no GPU: no CuPy"
    # postBuild installs course_lib alone: no extras (the gpu extra is CuPy), no dependencies.
    code = [ln.split("#")[0] for ln in POSTBUILD.read_text().splitlines()]
    assert not [ln for ln in code if "cupy" in ln.lower()], "binder/postBuild mentions CuPy"
    installs = [ln.strip() for ln in code if re.search(r"\bpip install\b", ln)]
    assert installs == ["pip install --no-deps -e ."], installs


def test_postbuild_is_a_strict_bash_script():
    text = POSTBUILD.read_text()
    assert text.startswith("#!/bin/bash\n"), "binder/postBuild starts with #!/bin/bash"
    assert re.search(r"^set -euo pipefail$", text, re.M), "errors in postBuild must stop the build"
    assert os.access(POSTBUILD, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    ls = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT,
                        capture_output=True, text=True)
    if ls.returncode == 0 and ls.stdout:  # tracked: git must keep the executable bit too
        assert ls.stdout.startswith("100755"), "git update-index --chmod=+x binder/postBuild"


ASSIGNMENTS = ["01_forward_propagation", "02_loss_functions", "03_backpropagation",
               "04_learning_rate", "05_xor", "06_optimizers", "07_regularization",
               "08_batch_normalization", "09_capstone"]


def test_readme_launches_every_notebook_on_binder_and_shows_the_conda_route():
    readme = (ROOT / "README.md").read_text()
    links = dict(re.findall(r"^\[binder-(\d\d)\]: (\S+)$", readme, re.M))
    repos = set()
    for assignment in ASSIGNMENTS:
        url = links.get(assignment[:2])
        assert url, f"README: no launch link [binder-{assignment[:2]}]"
        notebook = f"notebooks/{assignment}/{assignment[3:]}.ipynb"
        match = re.fullmatch(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+/[^?]+)\?urlpath=lab/tree/"
                             + re.escape(notebook), url)
        assert match, f"README: [binder-{assignment[:2]}] should open JupyterLab on {notebook}"
        repos.add(match[1])
        assert f"[open on Binder][binder-{assignment[:2]}]" in readme
    assert len(repos) == 1, f"README: the launch links name different repositories / refs {repos}"
    assert "[![Binder](https://mybinder.org/badge_logo.svg)][binder-01]" in readme
    for command in ("conda env create -f environment.yml", "pip install --no-deps -e .",
                    "jupyter lab notebooks/", "make lab", "make test"):
        assert command in readme, f"README lacks `{command}`"


# --- repo2docker -----------------------------------------------------------------------------


def scratch_copy(dest: Path) -> Path:
    """Copy what a clone of the repository would hold (tracked and untracked, not ignored) to dest."""
    ls = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                        cwd=ROOT, capture_output=True)
    if ls.returncode == 0:
        dest.mkdir(parents=True)
        for rel in filter(None, ls.stdout.decode().split("\0")):
            src = ROOT / rel
            if src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:  # not a git checkout
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
            ".git", ".venv", "*.egg-info", "__pycache__", ".*_cache", "test-artifacts"))
    return dest


def test_repo2docker_installs_the_binder_environment_and_runs_postbuild(tmp_path):
    pytest.importorskip("repo2docker", reason="repo2docker missing: pip install -e '.[dev]'")
    repo = scratch_copy(tmp_path / "repo")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "--debug", "."],
                         cwd=repo, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Building conda environment for python=3.11" in out, out
    dockerfile = out[out.index("FROM "):]
    install = re.search(r'env update -p \$\{NB_PYTHON_PREFIX\} --file "binder/environment\.yml"',
                        dockerfile)
    assert install, f"binder/environment.yml is not installed:\n{dockerfile}"
    assert '--file "environment.yml"' not in dockerfile, "the root environment.yml is used"
    copy_env = dockerfile.find("COPY --chown=0:0 src/binder/environment.yml")
    copy_repo = dockerfile.find("COPY --chown=0:0 src/ ${REPO_DIR}/")
    postbuild = dockerfile.find("RUN ./binder/postBuild")
    assert -1 < copy_env < install.start() < copy_repo < postbuild, (
        "expected: copy binder/environment.yml, install it, copy the repository, run postBuild "
        f"(the environment layer must not depend on the rest of the repository):\n{dockerfile}"
    )
    print(f"repo2docker --no-build --debug: {seconds:.1f} s")


# --- postBuild on a fresh venv ---------------------------------------------------------------


def pins_key() -> str:
    """Hash of everything the pristine venv depends on: the pins, the Python, the recipe."""
    material = json.dumps([sorted(pyproject_pins().items()), sys.version, VENV_RECIPE])
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def fresh_venv(dest: Path) -> Path:
    """A venv at dest with exactly pyproject.toml's pinned dependencies, and nothing run in it.

    The pristine venv is built once per pins_key() and then copied. A file lock serialises
    concurrent test runs (and keeps the pruning of old venvs away from one being copied); the
    "complete" marker is written last, so an interrupted build is thrown away and redone."""
    VENV_CACHE.mkdir(parents=True, exist_ok=True)
    venv = VENV_CACHE / pins_key()
    with open(VENV_CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / "complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            pins = [f"{name}=={ver}" for name, ver in pyproject_pins().items()]
            python = str(venv / "bin" / "python")
            for cmd in ([sys.executable, "-m", "venv", str(venv)],
                        [python, "-m", "pip", "install", "--disable-pip-version-check", *pins],
                        [python, "-m", "pip", "check", "--disable-pip-version-check"]):
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"
            (venv / "complete").write_text(" ".join(pins) + "\n")
            prune_venv_cache(keep=venv)
        return copy_venv(venv, dest)


def prune_venv_cache(keep: Path) -> None:
    """Remove the venvs of earlier pins (≈ 700 MB each) that no test run is using."""
    for old in VENV_CACHE.iterdir():
        if old.is_dir() and old != keep:
            with open(VENV_CACHE / f"{old.name}.lock", "w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                shutil.rmtree(old, ignore_errors=True)
            (VENV_CACHE / f"{old.name}.lock").unlink(missing_ok=True)


def copy_venv(src: Path, dest: Path) -> Path:
    """Copy a venv and point its scripts' shebangs at the copy (the only absolute paths in it)."""
    shutil.copytree(src, dest, symlinks=True)
    (dest / "complete").unlink()
    old, new = f"{src}/bin/", f"{dest}/bin/"
    for script in (dest / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        head, sep, rest = data.partition(b"\n")
        if head.startswith(b"#!") and old.encode() in data[:512]:
            head_text = (head + sep + rest[:400]).decode(errors="surrogateescape")
            fixed = head_text.replace(old, new).encode(errors="surrogateescape")
            script.write_bytes(fixed + rest[400:])
    return dest


def jupyter_env(venv: Path, home: Path) -> dict[str, str]:
    """The venv's bin first on PATH, and no user-level Jupyter / IPython / Python configuration."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"}}
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")]:
        env[var] = str(home / sub)
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
               VIRTUAL_ENV=str(venv), PYTHONNOUSERSITE="1")
    return env


def run_in(venv_env: dict, cwd: Path, *cmd: str, timeout: int = 300) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=venv_env, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)
    out = ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}"
    return out


def nbgrader_lab_plugins(venv: Path) -> set[str]:
    """Every plugin id nbgrader's lab extension defines (read from its built JavaScript)."""
    static = venv / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader" / "static"
    ids = set()
    for js in static.glob("*.js"):
        ids |= set(re.findall(r'id:"(@jupyter/nbgrader:[a-z-]+)"', js.read_text(errors="replace")))
    return ids


@pytest.mark.slow
def test_postbuild_on_a_fresh_venv_leaves_the_student_facing_jupyter(tmp_path):
    started = time.perf_counter()
    venv = fresh_venv(tmp_path / "venv")
    prepared = time.perf_counter()
    repo = scratch_copy(tmp_path / "repo")
    env = jupyter_env(venv, tmp_path / "jupyter-home")

    run_in(env, repo, "./binder/postBuild", timeout=600)
    built = time.perf_counter()

    # Lab extensions: everything of the pins on, nbgrader's instructor plugins off and locked.
    lab = run_in(env, tmp_path, "jupyter", "labextension", "list")
    enabled = set(re.findall(r"^\s+(\S+) v\S+ enabled OK", lab, re.M))
    assert enabled == STUDENT_LAB_EXTENSIONS, lab
    assert " disabled " not in lab and "X" not in re.findall(r" (OK|X)\b", lab), lab
    assert "Disabled extensions:" in lab, lab
    disabled = set(re.findall(r"^\s+(\S+)$", lab.split("Disabled extensions:")[1], re.M))
    assert disabled == INSTRUCTOR_NBGRADER_PLUGINS, lab
    nbgrader_line = next(ln for ln in lab.splitlines() if f" {NBGRADER_LAB} v" in ln)
    listed = re.search(r"\(plugins: (.*) locked\)", nbgrader_line)
    assert listed, f"nbgrader's plugins are not locked:\n{lab}"
    assert set(listed[1].split(", ")) == INSTRUCTOR_NBGRADER_PLUGINS, nbgrader_line
    plugins = nbgrader_lab_plugins(venv)
    assert plugins - disabled == STUDENT_NBGRADER_PLUGINS, (
        f"nbgrader's lab plugins are {sorted(plugins)}: decide whether a new one is for learners"
    )

    # Server extensions: validate_assignment stays, the instructor ones are disabled.
    server = run_in(env, tmp_path, "jupyter", "server", "extension", "list")
    status = dict((name, state) for name, state in
                  re.findall(r"^\s{4}(\S+) (enabled|disabled)$", server, re.M))
    assert {n for n, s in status.items() if s == "enabled"} == STUDENT_SERVER_EXTENSIONS, server
    assert {n for n, s in status.items() if s == "disabled"} == INSTRUCTOR_SERVER_EXTENSIONS, server
    assert re.search(r"nbgrader\.server_extensions\.validate_assignment\s+OK", server), server
    assert re.search(r"course_lib\.lessons\.validate\s+OK", server), server

    # The kernel every notebook gets runs with one thread per BLAS / OpenMP pool.
    specs = json.loads(run_in(env, tmp_path, "jupyter", "kernelspec", "list", "--json"))
    python3 = specs["kernelspecs"]["python3"]
    assert Path(python3["resource_dir"]).is_relative_to(venv), python3
    assert Path(python3["spec"]["argv"][0]).parent == venv / "bin", python3
    assert {v: python3["spec"].get("env", {}).get(v) for v in THREAD_CAPS} == dict.fromkeys(
        THREAD_CAPS, "1"), python3

    # course_lib comes from the (scratch) checkout; the pins are untouched; no CuPy.
    where = run_in(env, tmp_path, "python", "-c", "import course_lib; print(course_lib.__file__)")
    assert Path(where.strip().splitlines()[-1]).is_relative_to(repo), where
    listing = json.loads(run_in(env, tmp_path, "python", "-m", "pip", "list", "--format=json",
                                "--disable-pip-version-check"))
    versions = {normalise(p["name"]): p["version"] for p in listing}
    assert {n: versions.get(n) for n in pyproject_pins()} == pyproject_pins()
    assert not [n for n in versions if "cupy" in n], "CuPy in the Binder environment"
    run_in(env, tmp_path, "python", "-m", "pip", "check", "--disable-pip-version-check")

    print(f"fresh venv (copy of {VENV_CACHE / pins_key()}): {prepared - started:.1f} s; "
          f"postBuild: {built - prepared:.1f} s; checks: {time.perf_counter() - built:.1f} s")
