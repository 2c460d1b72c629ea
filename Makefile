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

# Until the trainer lands: compile the generic ListK program and run it on
# the soft machine and on the discrete machine.
train: install
	$(PYTHON) -m tf_anc.compile programs/listk.anc --memory_size=20
	$(PYTHON) -m tf_anc.run --program=programs/listk.anc --memory_size=20 \
	    --max_steps=75 --input=3,3,2,5,11,7,12,9,4,0,8
	$(PYTHON) -m tf_anc.run --program=programs/listk.anc --memory_size=20 \
	    --max_steps=75 --input=3,3,2,5,11,7,12,9,4,0,8 --discrete

test: install
	$(PYTHON) -m pytest -q tests
