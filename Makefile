# The two quick-start commands: `make train` (the main job) and `make test`.
# Both create the virtual environment and install the package on first use.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2
# The small CPU-only TensorFlow wheel where PyPI has one (setup.py).
export TF_ANC_TENSORFLOW ?= $(if $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m)),tensorflow-cpu,tensorflow)

.PHONY: install train test

install: $(VENV)/.installed $(VENV)/.op-library

$(VENV)/.installed: setup.py pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $@

# The fused machine op, compiled for this machine into the user's cache
# (tf_anc/kernels/build.py). If it cannot be, one line says why and everything
# runs on the plain-TF machine: the set-up goes on.
$(VENV)/.op-library: $(VENV)/.installed $(wildcard ops/*.cc ops/*.h) tf_anc/kernels/build.py
	$(PYTHON) -m tf_anc.kernels.build --optional
	touch $@

# The main job: adapt a user's kind of program (multiply by repeated
# addition) to the inputs it sees (the factor is always 2) with the defaults
# for a user's program and inputs; results, TensorBoard logs and the
# SavedModel go to runs/examples/multiply/ (a second `make train` resumes or
# re-evaluates that run).
train: install
	$(PYTHON) -m tf_anc.train --flagfile=configs/anc/examples/multiply.flags

# In two processes (pytest-xdist): many tests start a command that imports
# TensorFlow, mostly one core's work. On a 2-core machine the 1524 tests took
# 6 min 40 s this way, 11 min 5 s in one process.
test: install
	$(PYTHON) -m pytest -q -n 2 tests
