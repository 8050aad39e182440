# voc — the two commands a fresh machine needs are `make demo` and `make test`.
# Each creates the virtualenv, installs the pinned packages and prepares NLTK's
# VADER lexicon offline before it runs; nothing needs installing by hand beyond
# Python 3.11+, the Google Cloud CLI's Pub/Sub emulator and Java.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.voc-installed

.PHONY: install demo test bench chaos lint format check-tools clean dataflow-template dataflow-run

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

# Dataflow (docs/deploy.md). They call gcloud against a real project; nothing here
# runs them. PROJECT, REGION and BUCKET are required; the rest default to the names
# infra/terraform creates.
TAG             ?= latest
IMAGE           ?= $(REGION)-docker.pkg.dev/$(PROJECT)/voc/voc-dataflow:$(TAG)
TEMPLATE        ?= gs://$(BUCKET)/templates/voc-streaming.json
SERVICE_ACCOUNT ?= voc-dataflow@$(PROJECT).iam.gserviceaccount.com
SUBNETWORK      ?= regions/$(REGION)/subnetworks/voc-workers
KEY_FILE        ?= gs://$(PROJECT)-voc-secrets/pseudonym.key
DATA_PATH       ?= gs://$(BUCKET)/lake
MACHINE_TYPE    ?= n2-standard-2
MAX_WORKERS     ?= 4
JOB_NAME        ?= voc-$(shell date -u +%Y%m%d-%H%M%S)
# CATALOG: the DuckLake catalog with its password ('postgres:dbname=voc host=IP user=voc
# sslmode=require password=...'); terraform output catalog prints it without.
require = @$(foreach v,$(1),test -n "$($(v))" || { echo "make $@: set $(v)=... (see docs/deploy.md)"; exit 2; };) true

dataflow-template:
	$(call require,PROJECT REGION BUCKET)
	gcloud builds submit --project "$(PROJECT)" --region "$(REGION)" \
	  --config infra/dataflow/cloudbuild.yaml --substitutions "_IMAGE=$(IMAGE)" .
	gcloud dataflow flex-template build "$(TEMPLATE)" --project "$(PROJECT)" \
	  --image "$(IMAGE)" --sdk-language PYTHON --metadata-file infra/dataflow/metadata.json

dataflow-run:
	$(call require,PROJECT REGION BUCKET CATALOG)
	gcloud dataflow flex-template run "$(JOB_NAME)" --project "$(PROJECT)" --region "$(REGION)" \
	  --template-file-gcs-location "$(TEMPLATE)" \
	  --service-account-email "$(SERVICE_ACCOUNT)" --subnetwork "$(SUBNETWORK)" --disable-public-ips \
	  --staging-location "gs://$(BUCKET)/staging" --temp-location "gs://$(BUCKET)/temp" \
	  --enable-streaming-engine --worker-machine-type "$(MACHINE_TYPE)" --max-workers "$(MAX_WORKERS)" \
	  --additional-experiments use_runner_v2 \
	  --parameters "^~^sdk_container_image=$(IMAGE)~sink=ducklake~catalog=$(CATALOG)~data_path=$(DATA_PATH)~pseudonym_key_file=$(KEY_FILE)"

clean:
	rm -rf $(VENV) .voc .pytest_cache .ruff_cache *.egg-info build voc.duckdb voc.duckdb.wal voc.duckdb.live voc.duckdb.requests voc-digests
