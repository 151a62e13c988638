# Everything a newcomer needs: `make demo` and `make test` set themselves up on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install deps demo run check db-upgrade test test-pg lint bench chaos prompts clean

$(STAMP): pyproject.toml
	@command -v sudo >/dev/null 2>&1 && SUDO=sudo || SUDO=; \
	if ! $(PY) -c 'import venv, ensurepip' 2>/dev/null; then $$SUDO apt-get update && $$SUDO apt-get install -y python3-venv; fi
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,fast]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the project uses at run time: sox/espeak-ng build prompts; Asterisk's own sound files.
deps:
	bash scripts/install-debian-deps.sh

# The prompts' file list goes to a log, so that the demo's URL and passwords are not lost in it.
prompts: $(STAMP) deps
	@mkdir -p var
	@$(BIN)/acd prompts build > var/prompts-build.log 2>&1 || { cat var/prompts-build.log; exit 1; }
	@echo "prompts: $$(tail -n 1 var/prompts-build.log) (list in var/prompts-build.log)"

demo: prompts
	$(BIN)/acd demo --by-hand $(if $(CAMPAIGN),--campaign $(CAMPAIGN))

run: $(STAMP)
	$(BIN)/acd run -c config/acd.yaml

# The common commands without activating the venv (`acd` lives in .venv/bin).
check: $(STAMP)
	$(BIN)/acd check config

db-upgrade: $(STAMP)
	$(BIN)/acd db upgrade -c config/acd.yaml

test: $(STAMP) deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy acd routing ivr cdr recording outbound
	$(BIN)/lint-imports   # the package layering of docs/architecture.md (.importlinter)

# The prompts first: the daemon bench plays the recording notice, as production does.
bench: prompts
	$(BIN)/python -m bench

# The fault campaign of issue 12 (docs/operations.md "Under faults"): real processes, a few minutes, not in
# CI; exits non-zero on any loss. With ACD_TEST_PG_URL set (bash scripts/start-postgres.sh prints one) the
# PostgreSQL stop and lock probes run too. One probe: .venv/bin/python -m bench.chaos kill9 [--quick].
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
