# The two quick-start commands: `make train` (the main job) and `make test`.
# Both create the virtual environment and install the package on first use.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install train test

install: $(VENV)/.installed

$(VENV)/.installed: setup.py
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	touch $@

# The main job: adapt the generic ListK program to biased lists with the
# trainer's embedded defaults; results, TensorBoard logs and the SavedModel go
# to runs/anc/ (a second `make train` resumes or re-evaluates that run).
train: install
	$(PYTHON) -m tf_anc.train

test: install
	$(PYTHON) -m pytest -q tests
