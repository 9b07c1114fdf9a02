# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Another Python: `make test PYTHON=python3.13 VENV=.venv-3.13` (3.11 to 3.13).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every package the venv holds, at the version resolved for all of 3.11-3.13 and every OS (`make lock`).
LOCK   := requirements.lock
UV     := uv==0.13.9
TOOLS  := .venv-lock

.PHONY: demo test bench lint lock clean

# The runtime, test and bench dependencies from the lock, then the project itself (editable) without
# resolving anything again.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/portal-evidence demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q $(PYTEST_ARGS)

# the bench extra (htmldate) is in the lock, so the venv of `make test` has it
bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check .

# Resolve pyproject's dependencies and its test and bench extras again, once for every Python the project
# supports and every platform (markers say which line is for which), from the package registry; the pins
# already in the lock are kept unless pyproject moved them (`make lock LOCK_ARGS=--upgrade`: the newest of all).
lock:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q '$(UV)'
	$(TOOLS)/bin/uv pip compile --quiet --universal --python-version 3.11 --extra test --extra bench $(LOCK_ARGS) \
	    pyproject.toml -o $(LOCK)

clean:
	rm -rf $(VENV) .venv-* build *.egg-info .pytest_cache demo-output
