# Atlas Network Tokens

GO ?= go
BUILD_DIR ?= build

# Every folder under functions/ with a main.go is a Lambda function.
FUNCTIONS := $(sort $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go)))

# Lambda runs the functions on arm64 (template.yaml); ARCH=host builds for
# this machine instead, e.g. to run a bootstrap under the emulator.
ARCH ?= arm64
HOST_GOARCH := $(shell $(GO) env GOARCH)
GOARCH_TARGET := $(if $(filter host,$(ARCH)),$(HOST_GOARCH),$(ARCH))

# The SAM CLI asks to send usage data unless told not to.
export SAM_CLI_TELEMETRY = 0

# go-build-lambda: GOARCH, package folder, output file. A static binary named
# bootstrap for provided.al2023, without the net/rpc path of aws-lambda-go.
define go-build-lambda
CGO_ENABLED=0 GOOS=linux GOARCH=$(1) $(GO) build -tags lambda.norpc -trimpath \
	-ldflags='-s -w' -o $(3) ./$(2)
endef

.PHONY: FORCE

# ------------------------------------------------------------------ run, test

.PHONY: run
run: ## serve every route on 127.0.0.1:3000 with the in-process dev stack
	$(GO) run ./cmd/atlas-dev

# The README's test command: vet, template checks, then every Go test with
# moto_server running for the integration tests, then sam build.
.PHONY: test
test: validate
	$(GO) vet ./...
	scripts/emulators.sh $(GO) test -count=1 -timeout 20m ./...
	$(MAKE) sam-build


# Create the table, key and bus (ARGS=-test-queue adds a queue fed by the
# bus) on whatever the standard AWS configuration names: AWS_ENDPOINT_URL
# for moto or LocalStack, nothing for a real account. Idempotent.
.PHONY: bootstrap
bootstrap: ## create the AWS resources the service needs, where missing
	$(GO) run ./cmd/bootstrap $(ARGS)

# ------------------------------------------------------------- Lambda artifacts

.PHONY: build
build: $(FUNCTIONS:%=$(BUILD_DIR)/%/bootstrap) ## build/<name>/bootstrap for every function

# Always hand over to go build: its cache knows what changed in shared/.
$(BUILD_DIR)/%/bootstrap: FORCE
	$(call go-build-lambda,$(GOARCH_TARGET),functions/$*,$@)

# `sam build` (BuildMethod: makefile) runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set. The logical id is the folder name in CamelCase plus
# "Function": WebhookEndpointsFunction builds functions/webhook-endpoints.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (sam sets it)" >&2; exit 1; }
	@fn=$$(printf '%s' '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr '[:upper:]' '[:lower:]'); \
	test -f "functions/$$fn/main.go" || { echo "$@: no functions/$$fn/main.go" >&2; exit 1; }; \
	echo "$@: functions/$$fn -> $(ARTIFACTS_DIR)/bootstrap"; \
	$(call go-build-lambda,arm64,functions/$$fn,$(ARTIFACTS_DIR)/bootstrap)

# ------------------------------------------------------------------------ SAM

SAM ?= sam

.PHONY: sam-cli
sam-cli: ## install the AWS SAM CLI with pip when it is missing
	@command -v $(SAM) >/dev/null 2>&1 || python3 -m pip install --quiet aws-sam-cli

.PHONY: validate
validate: ## cfn-lint and the SAM transform of template.yaml
	@command -v cfn-lint >/dev/null 2>&1 || python3 -m pip install --quiet cfn-lint aws-sam-translator
	cfn-lint template.yaml
	@if command -v $(SAM) >/dev/null 2>&1; then \
		echo "$(SAM) validate --lint"; $(SAM) validate --lint; \
	else \
		echo "python3 scripts/sam-translate.py (no sam CLI)"; \
		python3 scripts/sam-translate.py template.yaml; \
	fi

.PHONY: sam-build
sam-build: sam-cli ## sam build into .aws-sam/ (no Docker needed)
	$(SAM) build

# Deploying needs AWS credentials for the target account and is never run by
# CI. The first time, answer the prompts (they are saved to samconfig.toml):
#   make deploy GUIDED=1
# then `make deploy` (sandbox stack) or `make deploy CONFIG_ENV=live`.
CONFIG_ENV ?= default

.PHONY: deploy
deploy: sam-build ## sam deploy (GUIDED=1 to prompt, CONFIG_ENV=live for live)
	$(SAM) deploy --config-env $(CONFIG_ENV) $(if $(GUIDED),--guided)

# ---------------------------------------------------------- Lambda emulator

# make invoke FN=provision [EVENT=events/provision.json]
# Builds the function for this machine and runs it once under the Lambda
# Runtime Interface Emulator (go tool aws-lambda-rie) on 127.0.0.1. Without
# AWS_ENDPOINT_URL it brings its own AWS (moto + local-kms, bootstrapped) and
# fills the event's placeholder ids by running the flow's earlier steps
# first (scripts/invoke-local.sh); with it, it uses this shell's environment
# (ATLAS_*, AWS_REGION, AWS_ENDPOINT_URL*, credentials) and the event as is.
.PHONY: invoke
invoke: ## run one function under the Lambda emulator with an event
	@test -n "$(FN)" || { echo "usage: make invoke FN=<function> [EVENT=file]" >&2; exit 2; }
	@test -f "functions/$(FN)/main.go" || { echo "no functions/$(FN)/main.go" >&2; exit 2; }
ifeq ($(AWS_ENDPOINT_URL),)
	@scripts/invoke-local.sh "$(FN)" "$(or $(EVENT),events/$(FN).json)"
else
	@$(call go-build-lambda,$(HOST_GOARCH),functions/$(FN),$(BUILD_DIR)/host/$(FN)/bootstrap)
	@scripts/sam-invoke.sh "$(BUILD_DIR)/host/$(FN)/bootstrap" "$(or $(EVENT),events/$(FN).json)"
endif

.PHONY: clean
clean:
	rm -rf $(BUILD_DIR) .aws-sam
