# voc — the two commands a fresh machine needs are `make demo` and `make test`.
# Each creates the virtualenv, installs the pinned packages and prepares NLTK's
# VADER lexicon offline before it runs; nothing needs installing by hand beyond
# Python 3.11+, the Google Cloud CLI's Pub/Sub emulator and Java.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.voc-installed

.PHONY: install demo test bench chaos lint format check-tools clean

$(STAMP): pyproject.toml requirements.lock
	@$(MAKE) --no-print-directory check-tools
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	$(BIN)/python -m voc.transforms.score_sentiment
	@touch $(STAMP)

install: $(STAMP)

check-tools:
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found (need Python 3.11+)"; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "make: $(PYTHON) is older than 3.11"; exit 2; }
	@command -v gcloud >/dev/null || { echo "make: gcloud not found: install google-cloud-cli and google-cloud-cli-pubsub-emulator"; exit 2; }
	@command -v java >/dev/null || { echo "make: java not found: the Pub/Sub emulator needs a JRE (openjdk-17-jre-headless)"; exit 2; }

demo: $(STAMP)
	$(BIN)/voc demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

# voc vs. a plain Beam baseline, side by side; figures go to bench/results/.
# BENCH_N, BENCH_FRESH_RATE, BENCH_FRESH_SECONDS, BENCH_QUERY_ROWS, ... override (bench/run.py).
bench: $(STAMP)
	$(BIN)/python -m bench.run

# kill -9 the job mid-stream and restart it, kill -9 the emulator under the running job,
# publish hostile messages; drain; the tables must be exactly once. CHAOS_EVENTS (default
# 20000), CHAOS_KILLS (3), CHAOS_EMULATOR_RESTARTS (1) and CHAOS_HOSTILE (20) override.
CHAOS_EVENTS ?= 20000
CHAOS_KILLS  ?= 3
CHAOS_EMULATOR_RESTARTS ?= 1
CHAOS_HOSTILE ?= 20
chaos: $(STAMP)
	$(BIN)/python -m voc.pipelines.dev.chaos --events $(CHAOS_EVENTS) --kills $(CHAOS_KILLS) \
	  --emulator-restarts $(CHAOS_EMULATOR_RESTARTS) --hostile $(CHAOS_HOSTILE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .voc .pytest_cache .ruff_cache *.egg-info build voc.duckdb voc.duckdb.wal voc.duckdb.live voc.duckdb.requests voc-digests
