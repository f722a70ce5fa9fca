# The two commands of the README are the contract: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml constraints.txt setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
	@$(PIP) install -c constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored: it is neither" || true
	@$(BIN)/python -c "import ml_intern_tui, textual, litellm, pytest" 2>/dev/null || { echo "install failed: see the pip output above"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)
	@if [ "$$(uname -s)" = Linux ] && ! command -v bwrap >/dev/null 2>&1; then \
		echo "note: bubblewrap (bwrap) is not installed, so shell commands cannot run in the OS sandbox; install it with: sudo apt-get install bubblewrap"; \
	fi

demo: $(STAMP)
	$(BIN)/ml-intern-tui --demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	-$(BIN)/python bench/startup.py
	-$(BIN)/python bench/first_frame.py
	-$(BIN)/python bench/tui.py all
	-$(BIN)/python bench/resume.py
	-$(BIN)/python bench/web_page.py
	-$(BIN)/python bench/sandbox.py
	-$(BIN)/python bench/redact.py
	-$(BIN)/python bench/cost.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
