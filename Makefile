# hfeval: the two commands a new machine needs are `make demo` and `make test`.
# Each installs uv (if missing) and the locked environment first.

# Trust the platform's certificate store too (networks with an inspecting proxy).
export UV_SYSTEM_CERTS ?= 1

UV := $(shell ./scripts/ensure-uv.sh)
RUN := $(UV) run --locked

.PHONY: help setup demo test run synth dashboard lint expectations docs clean
.PHONY: report lab strip-notebooks
.PHONY: chromium
.PHONY: bench

# Where outputs go (as hfeval itself: $HFEVAL_OUTPUT, else build/).
OUT := $(or $(HFEVAL_OUTPUT),build)

help:
	@echo "make demo   - install, generate SYNTHETIC demo data, run the pipeline, start the dashboard"
	@echo "make test   - install and run the test suite"
	@echo "make run DATA=dir - run the pipeline on your own data"
	@echo "make report - steering-group reports (HTML + PDF), every municipality x nb/da/en"
	@echo "make lab    - JupyterLab on notebooks/ with the project's environment"
	@echo "make bench  - national-scale benchmark (10^3..10^5 participants), writes BENCHMARKS.md"
	@echo "make lint | expectations | docs | strip-notebooks | clean"

setup:
	$(UV) sync --locked

demo: setup
	$(RUN) hfeval demo

synth: setup
	$(RUN) hfeval synth

run: setup
	$(RUN) hfeval run --data $(DATA)

dashboard: setup
	$(RUN) hfeval dashboard

# The dashboard's browser test needs Debian's chromium: installed if possible, else skipped.
chromium:
	@./scripts/ensure-chromium.sh || echo "warning: chromium is missing; the browser test will be skipped" >&2

# tests/conftest.py turns the notebook step of `hfeval run` off (the notebooks have their own tests).
test: setup chromium
	$(RUN) pytest

lint: setup
	$(RUN) ruff check src tests dashboard benchmarks

expectations: setup
	$(RUN) hfeval expectations --write

docs: setup
	$(RUN) hfeval docs --write

clean:
	rm -rf build .pytest_cache

# Reports from the current publishable database; builds the SYNTHETIC demo first if there is none.
report: setup
	-@./scripts/ensure-chromium.sh  # PDFs are printed by headless chromium
	@test -f $(OUT)/warehouse/hfeval_publish.duckdb || { $(RUN) hfeval synth && \
		$(RUN) hfeval run --data $(OUT)/demo-data --no-notebooks; }
	$(RUN) hfeval report --municipality all --lang all --out $(OUT)/reports

lab: setup
	$(RUN) jupyter lab --ServerApp.root_dir=notebooks

strip-notebooks: setup
	$(RUN) python -m hfeval.reporting.notebooks strip notebooks/*.ipynb

# Pipeline, pandas and a raw scan at 10^3, 10^4 and 10^5 SYNTHETIC participants, then the
# dashboard in headless chromium: prints the table, updates BENCHMARKS.md (about 15 minutes).
bench: setup
	-@./scripts/ensure-chromium.sh
	$(RUN) python benchmarks/bench.py $(BENCH_ARGS)
