# kyojosim: set-up, run, test, lint. Needs only python3.11 (with venv and pip) and GNU make.
#   make run    set up, then run the default job (RUN_JOB)
#   make test   set up, then run the whole test suite (fails if no tests are collected)
#   make lint   ruff check src tests benchmarks experiments (those that exist)
#   make clean  remove the venv and caches (results/ is kept)

PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed

# The default job of `make run`: the Ikoma comparison (baseline, sharing platform, local SNS; three
# seeds in parallel), then the three municipalities' decline against their projections.
RUN_JOB = $(BIN)/kyojosim variants ikoma ikoma-platform ikoma-sns --seeds 3 --jobs 2 --out results/ikoma-comparison \
	&& $(BIN)/kyojosim projection --seeds 3 --jobs 2 --out results/projection

.PHONY: all setup run test lint clean

all: test

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	touch $@

run: $(STAMP)
	$(RUN_JOB)

# pytest exits 5 when it collects no tests: treat that as a failure, not a pass.
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests benchmarks experiments)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
