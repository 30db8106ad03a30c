# qlib: two commands do all the set-up.
#   make reports   - set up, then run every notebook on the built-in simulated market (HTML in reports/)
#   make test      - set up, then run the whole test suite (unit, property, parity, notebooks under nbval)
#   make lab       - set up, then open JupyterLab on notebooks/

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.qlib-installed
# pytest workers: 2 cores here and in CI; --dist loadfile keeps a notebook's cells on one worker
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: setup warm reports test lab bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-peers.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c requirements.lock -e ".[test]"
	$(PY) -m pip install --quiet --no-deps -r requirements-peers.txt
	$(PY) -m qlib.warm
	touch $(STAMP)

# Compile (or load) every cached numba kernel the notebooks use: part of the set-up above;
# run it again after editing qlib's kernels so the next notebook starts warm (idempotent).
warm: $(STAMP)
	$(PY) -m qlib.warm

reports: $(STAMP)
	$(PY) -m qlib.reports run-all

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS) --nbval-lax tests notebooks

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Regenerate the exact pins (requirements.lock) and environment.yml from pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^qlib' > requirements.lock
	$(PY) tools/make_environment_yml.py

clean:
	rm -rf $(VENV) reports/out reports/index.html .pytest_cache
