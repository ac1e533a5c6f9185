# hfeval: the two commands a new machine needs are `make demo` and `make test`.
# Each installs uv (if missing) and the locked environment first.

# Trust the platform's certificate store too (networks with an inspecting proxy).
export UV_SYSTEM_CERTS ?= 1

UV := $(shell ./scripts/ensure-uv.sh)
RUN := $(UV) run --locked

.PHONY: help setup demo test run synth dashboard lint expectations docs clean

help:
	@echo "make demo   - install, generate SYNTHETIC demo data, run the pipeline, start the dashboard"
	@echo "make test   - install and run the test suite"
	@echo "make run DATA=dir - run the pipeline on your own data"
	@echo "make lint | expectations | docs | clean"

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

test: setup
	$(RUN) pytest

lint: setup
	$(RUN) ruff check src tests dashboard benchmarks

expectations: setup
	$(RUN) hfeval expectations --write

docs: setup
	$(RUN) hfeval docs --write

clean:
	rm -rf build .pytest_cache
