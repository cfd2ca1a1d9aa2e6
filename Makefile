# The README's two commands are `make run` and `make test`; both set everything up.
# Python 3.13 is the Lambda runtime's version: .python-version selects it under pyenv,
# and `sam build` finds the same interpreter as python3.13 (no container needed).

PYTHON ?= python3.13
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
export PYENV_VERSION ?= 3.13.0
export SAM_CLI_TELEMETRY := 0
export SAM_CLI_BIN := $(abspath $(SAM))
export CHECKOV_BIN := $(abspath $(CHECKOV_VENV)/bin/checkov)

.PHONY: run run-fifo soak backlog browser test test-fast lint typecheck build validate schemas events snapshot venv clean

venv: $(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

# .venv in two steps: what a run needs (make run), then the tools and tests on top.
$(VENV)/.installed-run: requirements/run.txt src/shared/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/run.txt -e .
	touch $@

$(VENV)/.installed: requirements/dev.txt $(VENV)/.installed-run
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

# checkov in its own environment too: it pins boto3 and packaging versions that
# conflict with the application's boto3 and pytest (requirements/checkov.txt).
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/checkov.txt
	touch $@

# aws-sam-cli in its own environment: it pins boto3 and pydantic versions of its own.
$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/sam.txt
	touch $@

## run: the backbone on this machine (embedded emulator), from template.yaml, with a demo load
# The runs need only what .installed-run installs (no SAM CLI, checkov or test tools): a fresh
# clone reaches its summary sooner.
run: $(VENV)/.installed-run
	$(BIN)/automation-local

## run-fifo: the same on FIFO queues (QueueType=fifo): 500 orders of 20 users, a fifth made to
## fail; the summary's out_of_user_order counts orders that ended before an earlier one of their user (0)
run-fifo: $(VENV)/.installed-run
	$(BIN)/automation-local --parameter QueueType=fifo --orders 500 --users 20

## soak: 10,000 orders through the local runtime, a fifth made to fail; ends with its JSON summary
soak: $(VENV)/.installed-run
	$(BIN)/automation-local --orders 10000 --fail-rate 0.2 --timeout 5400 --json

## backlog: 10,000 valid orders put straight into the order queue (SendMessageBatch) before
## the pollers start, drained by them; ends with its JSON summary (lost must be 0). The
## emulator answers slowly with 10,000 messages queued (seconds a call), so the functions get
## the template's own timeouts and visibility timeouts rather than the local runtime's 10 s.
BACKLOG_PARAMETERS := WorkerTimeoutSeconds=50 OrderQueueVisibilityTimeout=300 \
	FeedbackTimeoutSeconds=30 ResultQueueVisibilityTimeout=180
backlog: $(VENV)/.installed-run
	$(BIN)/automation-local --orders 10000 --fail-rate 0 --preload --timeout 7200 --json \
		$(addprefix --parameter ,$(BACKLOG_PARAMETERS))

# The console's browser tests (tests/browser) drive Debian's headless Chromium through its
# chromedriver, from the distribution's packages (no browser download at run time): installed
# here when missing, as root or with sudo (the package lists refreshed only if the install fails).
APT_GET = $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		$(APT_GET) install -y -qq chromium chromium-driver >/dev/null || \
		{ $(APT_GET) update -qq && $(APT_GET) install -y -qq chromium chromium-driver >/dev/null; }; }

## test: every test: contracts, template checks, cfn-lint, sam validate/build, emulator deploy,
## the console in headless Chromium
test: venv browser
	$(BIN)/pytest

## test-fast: the tests that need no emulator and no subprocess (contracts, the functions'
## pure parts on events/*.json, filters, template and house-rule checks, cost model): under
## a minute; a test marked fast that starts a subprocess fails (tests/fast_tier.py)
test-fast: $(VENV)/.installed
	$(BIN)/pytest -m fast -p tests.fast_tier -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint

typecheck: venv
	$(BIN)/mypy src/shared automation_local

build: venv
	$(SAM) build

validate: venv
	$(SAM) validate --lint

## schemas: regenerate schemas/*.schema.json from the pydantic contracts
schemas: venv
	$(BIN)/python -m tools.json_schemas

## events: regenerate events/*.json (sample events) from the contracts
events: venv
	$(BIN)/python -m tools.sample_events

## snapshot: refresh tests/snapshots/template.cfn.json after an intended template change
snapshot: venv
	$(BIN)/python -m tools.snapshot

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache

## bench: cold start, package size, per-record cost and KMS calls of the `sam build` output, and
## send calls per order and end-to-end flow of a local-runtime run, against their goals; prints
## the table and writes bench/latest.json (BENCH_ARGS=--quick: fewer runs)
.PHONY: bench
bench: build
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
