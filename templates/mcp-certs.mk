# The MCP gateway's certs-mcp-* targets, run by mtls-certs (made by `mtls-certs export makefile`).
# Replace the old targets in the gateway's Makefile with this file, or `include` it; every caller
# (the deploy tooling, CI) keeps working with the same command lines and variables:
#   make certs-mcp-ca MCP_CERT_DAYS=825
#   make certs-mcp-gateway MCP_CERT_DAYS=825
#   make certs-mcp-plugin PLUGIN_NAME=DenyListPlugin MCP_CERT_DAYS=825
#   make certs-mcp-all            # the CA, the gateway and every plugin of MCP_PLUGIN_CONFIG
#   make certs-mcp-check          # fails (make exits 2) when a cert is expired, invalid or revoked,
#                                 # or lacks a name the config (or stack) says it is dialed at
{{#stack}}
#
# Made with --stack: the default config is the gateway's deploy config, {{config}}, the one
# `cforge gateway deploy` reads. Its calls carry no config variable, so this default is what gives
# each plugin cert the host names its deployment dials (Kubernetes: mcp-plugin-<name
# lowercased>.<namespace>.svc and the like) and what certs-mcp-check holds the certs to.
{{/stack}}
#
# MCP_CERT_DAYS is the validity of the leaf certificates (gateway, plugins) only. The CA keeps
# mtls-certs' CA default (MCP_CA_DAYS where this mtls-certs reads it); an existing CA is kept as
# it is. Existing certs are never replaced: `mtls-certs renew` renews them.
# Keys a container must read (Docker Compose): run as root with MTLS_CERTS_KEY_GROUP=0
# MTLS_CERTS_GATEWAY_KEY_GROUP=10001 in the environment (see docs/gateway-tooling.md).

# Defaults also when the environment sets them empty (a command-line value always wins).
MCP_CERT_DAYS := $(or $(MCP_CERT_DAYS),825)
MCP_PLUGIN_CONFIG := $(or $(MCP_PLUGIN_CONFIG),{{config}})
MCP_CERTS_DIR := $(or $(MCP_CERTS_DIR),{{certs_dir}})

# The mtls-certs to run: the devDependency's when node is on PATH, else one on PATH, else the
# single executable vendored in tools/mtls-certs/ (where make runs without Node: cforge --dagger's
# debian:bookworm-slim). Never a download: there is no registry release to trust yet.
MTLS_CERTS_EXE := tools/mtls-certs/mtls-certs-linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(shell uname -m)))
MTLS_CERTS := $(or $(MTLS_CERTS),$(if $(shell command -v node 2>/dev/null),$(wildcard node_modules/.bin/mtls-certs)),$(shell command -v mtls-certs 2>/dev/null),$(wildcard $(MTLS_CERTS_EXE)))
MTLS_CERTS := $(or $(MTLS_CERTS),sh -c 'echo "mtls-certs {{version}} is not installed: install its tarball (npm) or put its executable at $(MTLS_CERTS_EXE) (docs/installing.md)" >&2; exit 127' --)

# Passed as flags below, never through the environment: one value, one way in (mtls-certs reads
# MCP_CERT_DAYS as the leaves' validity only; the CA's is MCP_CA_DAYS).
unexport MCP_CERT_DAYS MCP_PLUGIN_CONFIG

.PHONY: certs-mcp-ca certs-mcp-gateway certs-mcp-plugin certs-mcp-all certs-mcp-check

certs-mcp-ca:
	$(MTLS_CERTS) ca --out $(MCP_CERTS_DIR)

certs-mcp-gateway: certs-mcp-ca
	$(MTLS_CERTS) gateway --out $(MCP_CERTS_DIR) --days $(MCP_CERT_DAYS)

certs-mcp-plugin: certs-mcp-ca
	@test -n "$(PLUGIN_NAME)" || { echo "PLUGIN_NAME is required: make certs-mcp-plugin PLUGIN_NAME=MyPlugin" >&2; exit 1; }
	$(MTLS_CERTS) plugin '$(PLUGIN_NAME)' --out $(MCP_CERTS_DIR) --days $(MCP_CERT_DAYS) --config $(MCP_PLUGIN_CONFIG)

certs-mcp-all: certs-mcp-ca
	$(MTLS_CERTS) all --out $(MCP_CERTS_DIR) --days $(MCP_CERT_DAYS) --config $(MCP_PLUGIN_CONFIG)

certs-mcp-check:
	$(MTLS_CERTS) check --out $(MCP_CERTS_DIR) --config $(MCP_PLUGIN_CONFIG)
