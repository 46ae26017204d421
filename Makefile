# The two commands: `make run` starts the counter app on the embedded default,
# `make test` sets everything up and runs the suite. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest

.PHONY: install run serve test test-pg lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/counter-tui $(ARGS)

serve: $(STAMP)
	$(BIN)/jiuzhutong serve $(ARGS)

# The phone page is tested in Debian's Chromium (never a browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	$(PYTEST) -m "not postgres" $(ARGS)

# The PostgreSQL suite: fails loudly when 127.0.0.1:5432 is unreachable.
test-pg: $(STAMP) $(CHROMIUM)
	$(BIN)/python tools/check_postgres.py
	$(PYTEST) -m postgres $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/tui.py

# Regenerate the pinned versions after changing dependencies in pyproject.toml.
constraints:
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check > constraints.txt

clean:
	rm -rf $(VENV) build dist src/*.egg-info
