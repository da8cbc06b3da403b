# Two commands for everyone: `make lab` (learners) and `make test` (maintainers, CI).
# Both create .venv on first use and bring it up to date when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# One CPU thread per BLAS pool by default: measured figures and notebook timings are for Binder's one CPU.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: lab test lint system-packages release grade bench clean-venv

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,cluster]"
	@touch $(STAMP)

# JupyterLab on notebooks/ for whoever runs it (root too), on PORT or the next free port; more
# jupyter options in ARGS (tools/lab.py). The address to open is the last line it prints.
PORT ?= 8888
lab: $(STAMP)
	@PORT=$(PORT) $(PY) tools/lab.py $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check course_lib tests benchmarks tools

# Debian's Chromium and bubblewrap first: installed as root, or a stop in the first seconds with the
# one command to run (tools/system-packages).
system-packages:
	@tools/system-packages

test: system-packages lint
	$(PY) -m pytest

# notebooks/ from solutions/ (all assignments, or ARGS="01_forward_propagation ...")
release: $(STAMP)
	$(PY) -m course_lib.grading release $(ARGS)

# a whole class: ARGS="submissions.zip --assignment 01_forward_propagation [--course grading]"
grade: $(STAMP)
	$(PY) -m course_lib.grading grade $(ARGS)

bench: $(STAMP)
	-$(PY) -m pip install --quiet torch==2.13.0 || echo "torch not installed: the PyTorch column is skipped"
	$(PY) benchmarks/bench_cpu.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_sandbox.py
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_gpu.py

clean-venv:
	rm -rf $(VENV)
