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
LIBSVM_READER := container/boostbox/formats/_libsvmreader.so
TREE_WALK := container/boostbox/serving/_treewalk.so
C_FLAGS := -O2 -fPIC -shared -Wall -Wextra
PYTEST_ARGS ?=
export BOOSTBOX_IMAGE := $(IMAGE)

.PHONY: help venv sdk-venv sdk3-venv lock sdk-lock build lint typecheck unit test demo local-mode bench push clean fuzz soak sbom audit

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.stamp: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "need Python >= 3.12 (set PYTHON=...)" >&2; exit 1; }
	"$(PYTHON)" -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install -q --python $(PY) -c requirements.lock -e '.[dev]'
	# sagemaker-training declares a `train` script too; reinstalling boostbox last makes
	# $(VENV)/bin/train boostbox's (tests/workflow/test_entry_points.py checks it).
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps --reinstall-package boostbox -e .
	touch $@

venv: $(VENV)/.stamp $(LIBSVM_READER) $(TREE_WALK)  ## host virtualenv (Python 3.13, the image's locked versions + dev tools)

# The compiled libsvm reader (plain C, loaded with ctypes; the Dockerfile builds it the same
# way). Without a C compiler, training reads libsvm with NumPy (slower) and says so once.
$(LIBSVM_READER): container/boostbox/formats/libsvmreader.c
	@if command -v "$(CC)" >/dev/null 2>&1; then \
	  echo "$(CC) $(C_FLAGS) -o $@ $<"; $(CC) $(C_FLAGS) -o $@ $<; \
	else echo "no C compiler ($(CC)): libsvm training files are read with NumPy (slower)" >&2; fi

# The serving fast path's tree walk (same way; -ffp-contract=off: every float32 addition
# rounded on its own, as NumPy's, so margins stay bit-identical). Without it: NumPy (slower).
$(TREE_WALK): container/boostbox/serving/treewalk.c
	@if command -v "$(CC)" >/dev/null 2>&1; then \
	  echo "$(CC) $(C_FLAGS) -ffp-contract=off -o $@ $<"; $(CC) $(C_FLAGS) -ffp-contract=off -o $@ $<; \
	else echo "no C compiler ($(CC)): the serving fast path walks trees with NumPy (slower)" >&2; fi

# SageMaker Python SDK v2 for local_test/local_mode.py, in its own virtualenv: the pinned SDK
# was measured on Python 3.11 (shared/SDK-LOCAL-MODE.md); its lock also resolves on 3.12.
SDK_VENV := .venv-sdk
SDK_LOCK := local_test/requirements-sdk.lock
SDK_PYTHON ?= $(shell for p in python3.11 "$$HOME"/.pyenv/versions/3.11*/bin/python3 python3.12 \
  "$$HOME"/.pyenv/versions/3.12*/bin/python3; do "$$p" -c 'import sys; assert (3, 11) <= sys.version_info < (3, 13)' \
  >/dev/null 2>&1 && { echo "$$p"; break; }; done)

$(SDK_VENV)/.stamp: $(SDK_LOCK) | $(VENV)/.stamp
	@test -n "$(SDK_PYTHON)" || { echo "need Python 3.11 or 3.12 for the SDK (set SDK_PYTHON=...)" >&2; exit 1; }
	rm -rf $(SDK_VENV)
	$(VENV)/bin/uv venv -q --python "$(SDK_PYTHON)" $(SDK_VENV)
	$(VENV)/bin/uv pip sync -q --python $(SDK_VENV)/bin/python --require-hashes $(SDK_LOCK)
	touch $@

sdk-venv: $(SDK_VENV)/.stamp  ## SageMaker SDK virtualenv for SDK local mode (Python 3.11, sagemaker[local] 2.x)

# SageMaker Python SDK v3 (ModelTrainer, sagemaker.core.local) in a virtualenv of its own:
# v2 and v3 are the same `sagemaker` distribution, so they cannot share one.
SDK3_VENV := .venv-sdk3
SDK3_LOCK := local_test/requirements-sdk3.lock

$(SDK3_VENV)/.stamp: $(SDK3_LOCK) | $(VENV)/.stamp
	@test -n "$(SDK_PYTHON)" || { echo "need Python 3.11 or 3.12 for the SDK (set SDK_PYTHON=...)" >&2; exit 1; }
	rm -rf $(SDK3_VENV)
	$(VENV)/bin/uv venv -q --python "$(SDK_PYTHON)" $(SDK3_VENV)
	$(VENV)/bin/uv pip sync -q --python $(SDK3_VENV)/bin/python --require-hashes $(SDK3_LOCK)
	touch $@

sdk3-venv: $(SDK3_VENV)/.stamp  ## SageMaker SDK v3 virtualenv (Python 3.11, sagemaker 3.x)

# sagemaker-training's MPI/SSH, gevent and file-watching dependencies are left out of the
# image: boostbox uses its errors, record_pb2 and mapping modules. Script mode keeps boto3
# (the s3:// submit directory; botocore trimmed to S3 and STS in the Dockerfile) and pip
# (requirements.txt, and SDK v3's sm_train.sh needs pip on PATH).
NOT_IN_IMAGE := gevent greenlet zope-event zope-interface paramiko cryptography cffi pycparser \
  bcrypt pynacl invoke psutil inotify-simple retrying

lock:  ## re-pin the image's dependencies with hashes
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.13 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock -q \
	  $(foreach p,$(NOT_IN_IMAGE),--no-emit-package $(p))

sdk-lock:  ## re-pin the SDK virtualenvs from local_test/requirements-sdk.in and -sdk3.in
	$(VENV)/bin/uv pip compile local_test/requirements-sdk.in --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o $(SDK_LOCK) -q
	$(VENV)/bin/uv pip compile local_test/requirements-sdk3.in --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o $(SDK3_LOCK) -q

build:  ## build the image (linux/amd64)
	docker build --network host -t $(IMAGE) .

SHELL_SCRIPTS := $(shell git ls-files '*.sh' .ci/run bench/baselines/byoc/serve 2>/dev/null)

lint: venv  ## ruff lint + format check (complexity <= 12), shellcheck, hadolint (.hadolint.yaml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/shellcheck $(SHELL_SCRIPTS)
	$(VENV)/bin/hadolint Dockerfile

# The SBOM lists what the image installs: requirements.lock synced with its hashes into a
# scratch virtualenv (the image's venv holds exactly the lock; its interpreter is the image's).
SBOM := build/sbom.cdx.json
sbom: venv  ## CycloneDX SBOM (JSON) of the image's locked Python environment -> build/sbom.cdx.json
	rm -rf build/sbom-venv
	$(VENV)/bin/uv venv -q --python $(PY) build/sbom-venv
	$(VENV)/bin/uv pip sync -q --python build/sbom-venv/bin/python --require-hashes requirements.lock
	$(VENV)/bin/cyclonedx-py environment --pyproject pyproject.toml --of JSON --output-reproducible \
	  -o $(SBOM) build/sbom-venv/bin/python
	@echo "wrote $(SBOM)"

# pip-audit looks every locked version up online: PyPI's JSON API (pypi.org/pypi/NAME/VERSION/json)
# by default, OSV (api.osv.dev) with AUDIT_SERVICE=osv; it has no offline database. --strict:
# a package it could not look up fails the audit instead of passing unaudited.
AUDIT_SERVICE ?= pypi
audit: venv  ## known vulnerabilities of requirements.lock (pip-audit; needs pypi.org or api.osv.dev)
	@out="$$($(VENV)/bin/pip-audit --strict --disable-pip --require-hashes --progress-spinner off \
	  -s $(AUDIT_SERVICE) -r requirements.lock 2>&1)" && { echo "$$out"; exit 0; }; \
	echo "$$out" | tail -n 20; \
	if grep -qE 'not found on PyPI|ConnectionError|NameResolution|Max retries' <<<"$$out"; then \
	  echo "make audit: NOT AUDITED: pip-audit could not reach its vulnerability service" \
	    "($(AUDIT_SERVICE)). It needs https://pypi.org/pypi/NAME/VERSION/json (a package-index" \
	    "mirror serving only /simple and the files answers 404 there) or https://api.osv.dev" \
	    "(AUDIT_SERVICE=osv); pip-audit has no offline database." >&2; \
	fi; \
	exit 1

typecheck: venv  ## mypy --strict
	$(VENV)/bin/mypy

unit: venv  ## fast tests only (no Docker)
	$(PY) -m pytest -m 'not container and not aws and not sdk and not bench' $(PYTEST_ARGS)

test: venv sdk-venv sdk3-venv build lint typecheck  ## everything: lint, types, unit, container, deploy, SDK local mode, bench smoke
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv build  ## the seed workflow end to end on embedded data (CLASSIFICATION=1 for the classifier)
	$(PY) local_test/demo.py $(if $(CLASSIFICATION),--classification,)

local-mode: sdk-venv sdk3-venv build  ## the image through SageMaker SDK v2 and v3 local mode: fit, deploy, predict, transform (no AWS)
	$(SDK_VENV)/bin/python local_test/local_mode.py
	$(SDK3_VENV)/bin/python local_test/local_mode_v3.py

bench: venv build  ## benchmarks against peers and limits (about 12 minutes from a fresh clone); writes bench/results.json
	PYTHONPATH=local_test $(PY) -m bench

FUZZ_PER_TYPE ?= 10000
FUZZ_JOBS ?= 6
fuzz: venv build  ## generated requests against a container: FUZZ_PER_TYPE (10000) per content type, FUZZ_JOBS (6) types at once; prints the tally
	PYTHONPATH=local_test $(PY) -m tests.reliability.fuzzing --per-type $(FUZZ_PER_TYPE) --jobs $(FUZZ_JOBS)

SOAK_SECONDS ?= 600
soak: venv build  ## SOAK_SECONDS (600) at saturation, mixed content types: errors, worker RSS growth, p99 first vs last minute
	PYTHONPATH=local_test $(PY) -m tests.reliability.soak --seconds $(SOAK_SECONDS)

push: build  ## push to ECR: make push REGION=... ACCOUNT=... [VERSION=...]
	deploy/build_and_push.sh --no-build --image $(IMAGE) --region "$(REGION)" --account "$(ACCOUNT)" $(if $(VERSION),--version "$(VERSION)",)

clean:  ## remove generated files
	rm -rf local_test/test_dir/model local_test/test_dir/output local_test/out build .pytest_cache .mypy_cache
