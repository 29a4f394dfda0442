# The two commands a new user needs: `make demo` and `make test`. Both set up .venv first.
# Python >= 3.12 is found by tools/find-python; override with `make PYTHON=/path/to/python3.12`.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint format docs demo bench calibrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@py=$$(PYTHON="$(PYTHON)" tools/find-python) || exit 1; \
	 echo "Using $$py"; \
	 [ -x $(BIN)/python ] || $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# The checked promises: style and docstrings (ruff), types (mypy, config in pyproject.toml) and
# the one direction of imports between subpackages (import-linter's layers contract).
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments tools conftest.py
	$(BIN)/ruff format --check src tests benchmarks experiments tools conftest.py
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks experiments tools conftest.py
	$(BIN)/ruff check --fix src tests benchmarks experiments tools conftest.py

# The tests and every `>>>` example in src/groupsim (pyproject: testpaths, --doctest-modules),
# on TEST_WORKERS processes (pytest-xdist; a test file stays on one worker, so its module
# fixtures are built once), then the tests marked `timed` alone: a wall-clock limit measured
# beside another test's load would measure the load. Plain `pytest` runs everything in one.
# First the model's compiled code is compiled once (`groupsim warm-up`) while the lint
# runs on the other core, so the test processes load it from numba's disk cache instead of
# each compiling it (~80 s of CPU per process after a clean clone; docs/performance.md).
TEST_WORKERS ?= 2
test: $(STAMP)
	@$(BIN)/groupsim warm-up & warming=$$!; \
	 $(MAKE) --no-print-directory lint || { kill $$warming 2>/dev/null; exit 1; }; \
	 wait $$warming
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not timed"
	$(BIN)/python -m pytest -m timed

# The documentation site into site/, offline; any warning fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# Home room vs standard group vs no intervention into out/compare_home_room/ (report.html).
# DEMO_REPS replications per scenario: the default takes about 20 s on 2 cores (benchmarks/bench_demo.py).
demo: $(STAMP)
	$(BIN)/python experiments/compare_home_room.py --reps $(or $(DEMO_REPS),700)

# The seed-anchor calibration (issue 15) into out/calibration_seed_anchor/ (report.html):
# ABC-SMC of three parameters to Nur Azizah & Murtafi'ah (2021); see docs/calibration.md.
calibrate: $(STAMP)
	$(BIN)/groupsim calibrate calibrations/seed_anchor.toml --out out/calibration_seed_anchor --workers $(or $(CALIBRATE_WORKERS),2)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

clean:
	rm -rf $(VENV) out site build .pytest_cache .ruff_cache .mypy_cache .hypothesis
