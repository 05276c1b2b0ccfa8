# The two commands of the quick start: `make demo` and `make test`.
# Both create .venv when missing and install the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# System packages: poppler-utils (pdftotext/pdftoppm) and qpdf for the report tests,
# libharfbuzz-subset0 for deterministic font subsetting (byte-identical PDFs);
# chromium and chromium-driver for the web view's browser tests (tests/web).
SYSTEM_TOOLS := pdftotext:poppler-utils qpdf:qpdf

.PHONY: demo test lint system-deps clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

system-deps:
	@bash .ci/system-deps

demo: $(STAMP)
	$(BIN)/mfa-audit demo

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check auditor connectors tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info demo-output
