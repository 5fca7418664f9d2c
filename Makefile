# kubedora — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CONTROLPLANE := .cache/bin/kube-controlplane
DEV_KUBECONFIG := .cache/dev/kubeconfig
PYTEST_ARGS ?=
PY_SOURCES := operator tests hack

.PHONY: help install debian-deps screenshot controlplane test unit lint fmt typecheck check crds openapi run cluster-up cluster-down deploy image e2e-kind chaos soak

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	test -d $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

controlplane: ## build the local control plane (only when tests/controlplane/ changed)
	bash tests/controlplane/build.sh

debian-deps: ## apt-get install what the operator and tests run for real and is missing: git, prometheus, chromium
	bash hack/debian-deps.sh

install: $(INSTALLED) controlplane debian-deps ## create .venv, install kubedora with test extras, build the control plane; git, Prometheus and Chromium

test: install ## run the whole test suite against a real control plane
	$(VENV)/bin/pytest $(PYTEST_ARGS)

unit: $(INSTALLED) ## the tests that need no API server and no Go toolchain (seconds)
	bash hack/debian-deps.sh git
	$(VENV)/bin/pytest tests/unit -q $(PYTEST_ARGS)

CHAOS_ARGS ?=
chaos: install ## kill -9, outage and duplicate scenarios under load, longer than the suite's; prints a table
	$(PY) -m tests.benchmarks.chaos $(CHAOS_ARGS)

SOAK_ARGS ?=
soak: install ## an hour at 20 incidents/s: RSS and open fds of receiver and operator, slope per hour
	$(PY) -m tests.benchmarks.soak $(SOAK_ARGS)

lint: $(INSTALLED) ## ruff, formatting and import layers
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/lint-imports

fmt: $(INSTALLED) ## format the code and apply ruff's safe fixes
	$(VENV)/bin/ruff check --fix-only --quiet $(PY_SOURCES)
	$(VENV)/bin/ruff format $(PY_SOURCES)

typecheck: $(INSTALLED) ## mypy --strict
	$(VENV)/bin/mypy

check: lint typecheck ## lint and typecheck

crds: $(INSTALLED) ## regenerate crds/*.yaml from the pydantic models
	$(PY) -m kubedora.crdgen crds

openapi: $(INSTALLED) ## regenerate the receiver's OpenAPI document from its models and routes
	$(PY) -m kubedora.receiver.openapi operator/kubedora/receiver/openapi.json

screenshot: install ## render the dashboard page of a known scenario in headless Chromium: docs/dashboard*.png
	KUBEDORA_SCREENSHOT_DIR=docs $(VENV)/bin/pytest tests/integration/test_dashboard_page.py -q $(PYTEST_ARGS)

cluster-up: controlplane ## start the local control plane in the background (.cache/dev/kubeconfig)
	bash hack/cluster.sh up

cluster-down: ## stop the local control plane
	bash hack/cluster.sh down

run: install ## the embedded default: control plane, CRDs, samples, operator and receiver
	bash hack/run-local.sh

IMAGE ?= kubedora:0.1.0

deploy: ## install manifests/ into the current context (CRDs first, then the rest)
	kubectl apply --server-side -k crds/
	kubectl apply -f manifests/peering.yaml || true
	bash hack/wait-crds.sh \
	  crd/failures.kubedora.io crd/deployments.kubedora.io crd/dorasources.kubedora.io \
	  crd/clusterkopfpeerings.kopf.dev crd/kopfpeerings.kopf.dev
	kubectl apply -k manifests/

image: ## build the container image (needs a Docker engine)
	docker build -t $(IMAGE) .

e2e-kind: image ## on a machine with Docker and kind: deploy to a kind cluster and send a webhook
	bash tests/e2e/kind.sh $(IMAGE)
