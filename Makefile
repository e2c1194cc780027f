# boostbox: one-line wrappers; the work lives in the scripts they call.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

IMAGE ?= boostbox:latest
# xgboost >= 3.3 needs Python >= 3.12: the first interpreter that runs and is new enough.
PYTHON ?= $(shell for p in python3.13 "$$HOME"/.pyenv/versions/3.13*/bin/python3 python3.12 \
  "$$HOME"/.pyenv/versions/3.12*/bin/python3; do "$$p" -c 'import sys; assert sys.version_info >= (3, 12)' \
  >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
export BOOSTBOX_IMAGE := $(IMAGE)

.PHONY: help venv lock build lint typecheck unit test demo bench push clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.stamp: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "need Python >= 3.12 (set PYTHON=...)" >&2; exit 1; }
	"$(PYTHON)" -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --python $(PY) -c requirements.lock -e '.[dev]'
	touch $@

venv: $(VENV)/.stamp  ## host virtualenv (Python 3.13, the image's locked versions + dev tools)

# sagemaker-training's script-mode dependencies (S3, SSH/MPI, gevent, pip) are left out of
# the image: boostbox uses only its errors and record_pb2 modules (see Dockerfile).
NOT_IN_IMAGE := boto3 botocore s3transfer jmespath urllib3 gevent greenlet zope-event \
  zope-interface paramiko cryptography cffi pycparser bcrypt pynacl invoke pip psutil \
  inotify-simple retrying

lock:  ## re-pin the image's dependencies with hashes
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.13 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock -q \
	  $(foreach p,$(NOT_IN_IMAGE),--no-emit-package $(p))

build:  ## build the image (linux/amd64)
	docker build --network host -t $(IMAGE) .

lint: venv  ## ruff lint + format check, shellcheck-style strictness lives in the scripts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv  ## mypy --strict
	$(VENV)/bin/mypy

unit: venv  ## fast tests only (no Docker)
	$(PY) -m pytest -m 'not container and not aws and not sdk and not bench' $(PYTEST_ARGS)

test: venv build lint typecheck  ## everything: lint, types, unit, container, deploy, SDK local mode, bench smoke
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv build  ## the seed workflow end to end on embedded data (CLASSIFICATION=1 for the classifier)
	$(PY) local_test/demo.py $(if $(CLASSIFICATION),--classification,)

bench: venv build  ## benchmarks against peers and limits (about 15 minutes); writes bench/results.json
	$(PY) -m bench

push: build  ## push to ECR: make push REGION=... ACCOUNT=... [VERSION=...]
	deploy/build_and_push.sh --image $(IMAGE) --region "$(REGION)" --account "$(ACCOUNT)"

clean:  ## remove generated files
	rm -rf local_test/test_dir/model local_test/test_dir/output build .pytest_cache .mypy_cache
