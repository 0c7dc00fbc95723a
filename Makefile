# kyojosim: set-up, run, test, lint. Needs only python3.11 (with venv and pip) and GNU make.
#   make setup  create .venv and install kyojosim with every extra (dashboard, cluster, notebook) and the test tools
#   make run    set up, then run the default job (RUN_JOB)
#   make test   set up, then run the whole test suite in TEST_WORKERS pytest-xdist processes (fails if no
#               tests are collected); as root it first installs Debian's chromium for the browser tests
#               if /usr/bin/chromium is missing. `make test TEST_WORKERS=0` runs it in one process
#   make lint   ruff check src tests benchmarks experiments notebooks (those that exist), and the layers
#               contract (import-linter, pyproject.toml [tool.importlinter])
#   make clean  remove the venv and caches (results/ is kept)

PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

# The default job of `make run`: the Ikoma comparison (the bundled experiment ikoma-interventions,
# src/kyojosim/data/experiments/ikoma-interventions.yaml: baseline, sharing platform, local SNS, both;
# three replicates, two in parallel; resumes if interrupted), its comparison table and figures; a small
# robustness pass (ROBUSTNESS_SAMPLES combinations of the assumption register, each running every variant
# with the same seeds; resumable) into results/ikoma-interventions-robustness; the report in Japanese and
# English, which reads that folder (what holds under the assumptions, their bands and failure regions,
# beside the seed-level intervals); then the three municipalities' decline against their projections.
ROBUSTNESS_SAMPLES = 8
RUN_JOB = $(BIN)/kyojosim sweep ikoma-interventions --jobs 2 --out results/ikoma-interventions \
	&& $(BIN)/kyojosim compare results/ikoma-interventions \
	&& $(BIN)/kyojosim robustness ikoma-interventions --samples $(ROBUSTNESS_SAMPLES) --jobs 2 \
		--out results/ikoma-interventions-robustness \
		--threshold matching_rate=2 --threshold matching_rate_age_75plus=2 \
	&& $(BIN)/kyojosim report results/ikoma-interventions --lang ja \
	&& $(BIN)/kyojosim report results/ikoma-interventions --lang en \
	&& $(BIN)/kyojosim projection --seeds 3 --jobs 2 --out results/projection

CHROMIUM = /usr/bin/chromium

.PHONY: all setup run test lint clean browser

all: test

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[all,test]"
	touch $@

run: $(STAMP)
	$(RUN_JOB)

# The browser tests drive Debian's chromium (never a browser playwright downloads): install it when
# it is missing and we are root; quiet when it is there. Without it (not root) those tests skip.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "make: installing Debian's chromium for the browser tests"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "make: $(CHROMIUM) is missing and we are not root: the browser tests will be skipped" >&2; \
		fi; \
	fi

# The suite runs in two worker processes (pytest-xdist), one per core of the 2-core CI: much of it waits
# on subprocesses, compiles or runs in one thread. Each test module goes whole to one worker
# (--dist loadfile), so a module's fixtures are built once, as in one process.
TEST_WORKERS ?= 2
# pytest exits 5 when it collects no tests: treat that as a failure, not a pass.
test: $(STAMP) browser
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests benchmarks experiments notebooks)
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
