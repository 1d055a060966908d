# One recipe builds every bootstrap: `sam build` calls build-<LogicalId> with
# ARTIFACTS_DIR set (BuildMethod: makefile); `make build` uses the same recipe
# for the local runner, for this machine's architecture.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
BUILD_DIR ?= build
CACHE     ?= $(or $(ONBOARDING_CACHE),$(HOME)/.cache/onboarding)
TOOLS     := $(CACHE)/tools-venv/bin
ENV       ?= dev
HOST_ARCH := $(shell $(GO) env GOARCH)

# build_function(dir, output folder, GOARCH): a static, stripped linux binary
# without the RPC mode that provided.al2023 does not use.
define build_function
	mkdir -p $(2)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(3) $(GO) build -trimpath -tags lambda.norpc \
		-ldflags "-s -w -buildid=" -o $(2)/bootstrap ./functions/$(1)
endef

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build every function's bootstrap for the local runner (build/<fn>/bootstrap)
	@$(foreach f,$(FUNCTIONS),$(call build_function,$(f),$(BUILD_DIR)/$(f),$(HOST_ARCH));)
	@echo "built $(FUNCTIONS) for linux/$(HOST_ARCH) into $(BUILD_DIR)/"

.PHONY: build-lambda
build-lambda: ## build every function for Lambda (linux/arm64) into build/lambda/<fn>/bootstrap
	@$(foreach f,$(FUNCTIONS),$(call build_function,$(f),$(BUILD_DIR)/lambda/$(f),arm64);)

# Called by `sam build` for each AWS::Serverless::Function (e.g. InviteFunction).
build-%Function:
	$(call build_function,$(shell echo '$*' | tr '[:upper:]' '[:lower:]'),$(ARTIFACTS_DIR),arm64)

.PHONY: emulators
emulators: ## install (once, into ~/.cache/onboarding) and start DynamoDB Local, the SES v2 emulator and KMS (moto)
	@infra/scripts/emulators.sh start

.PHONY: emulators-stop
emulators-stop: ## stop the emulators
	@infra/scripts/emulators.sh stop

.PHONY: dev
dev: emulators build ## run the whole system locally (HTTP API :3000, Invoke API :3001, S3 :9000)
	@$(GO) build -o $(BUILD_DIR)/runner ./infra/runner
	@$(BUILD_DIR)/runner

.PHONY: org
org: ## create an organisation through the provision function: make org NAME="Acme" ADMIN=you@example.com
	@test -n "$(NAME)" -a -n "$(ADMIN)" || { echo 'usage: make org NAME="Acme Care" ADMIN=you@example.com [LANGUAGE=nb REGION=NO PRESET=lone-worker]'; exit 2; }
	@$(GO) run ./infra/runner org -name "$(NAME)" -admin "$(ADMIN)" -language "$(LANGUAGE)" -region "$(REGION)" -preset "$(PRESET)"

.PHONY: sweep
sweep: ## run the sweep now on the running stack (expiry, reminders, retries, digests); make dev runs it every 15 minutes
	@$(GO) run ./infra/runner sweep

.PHONY: backfill
backfill: ## give old invitations their InviteeIndex key and old roles their holder counters (optional: writes count them on first use) (INDEX=search: old members and invitations their search entries), once per deployment: make backfill TABLE=name [INDEX=search ENDPOINT=url SEGMENTS=4 RESUME=1]
	@test -n "$(TABLE)" || { echo 'usage: make backfill TABLE=name [INDEX=invitee|search] [ENDPOINT=http://127.0.0.1:8000] [SEGMENTS=4] [RESUME=1]'; exit 2; }
	@$(GO) run ./infra/backfill -table "$(TABLE)" -index "$(or $(INDEX),invitee)" -endpoint "$(ENDPOINT)" -segments "$(or $(SEGMENTS),4)" $(if $(RESUME),-resume)

.PHONY: test
test: emulators build ## run every test: unit, store (DynamoDB Local), mail (SES emulator), KMS signer (moto), end-to-end (runner)
	$(GO) test -count=1 $(TESTFLAGS) ./...

FUZZTIME ?= 10s
FUZZ_TARGETS := FuzzMatchHeader FuzzSniffCSV FuzzParseRow FuzzReadXLSX

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10s): header matching, CSV sniffing, row parsing, damaged workbooks
	@for t in $(FUZZ_TARGETS); do echo "fuzz $$t ($(FUZZTIME))"; $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) ./shared/roster || exit 1; done

.PHONY: test-unit
test-unit: ## run only the tests that need no emulator
	$(GO) test -short ./...

.PHONY: tools
tools: ## install cfn-lint and the SAM CLI into a virtual environment in the cache
	@CACHE="$(CACHE)" infra/scripts/tools.sh

.PHONY: lint
lint: tools ## go vet, gofmt, cfn-lint
	$(GO) vet ./...
	@test -z "$$(gofmt -l functions shared infra)" || { gofmt -l functions shared infra; echo "gofmt needed"; exit 1; }
	$(TOOLS)/cfn-lint template.yaml

.PHONY: sam-build
sam-build: tools ## sam build (the same Makefile recipe, for arm64)
	$(TOOLS)/sam build --template template.yaml

.PHONY: bench
bench: ## benchmarks on freshly started emulators: the report goes to stdout and build/bench.md
	@infra/scripts/emulators.sh stop >/dev/null 2>&1 || true
	@infra/scripts/emulators.sh start
	$(GO) run ./infra/bench
	@# The search section seeds 480,000 items: leave fresh emulators, not a DynamoDB Local at its heap's limit.
	@infra/scripts/emulators.sh stop >/dev/null 2>&1 || true
	@infra/scripts/emulators.sh start

.PHONY: deploy
deploy: sam-build ## deploy to AWS: make deploy ENV=dev|prod
	$(TOOLS)/sam deploy --config-env $(ENV)

.PHONY: clean
clean: ## remove build output
	rm -rf $(BUILD_DIR) .aws-sam
