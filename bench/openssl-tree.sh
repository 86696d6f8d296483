#!/usr/bin/env bash
# The Makefile's way (make certs-mcp-all), one openssl process after another: the baseline
# `npm run bench` measures mtls-certs against. Usage: openssl-tree.sh OUT_DIR PLUGIN...
set -euo pipefail
out=$1; shift
days=825
mkdir -p "$out/ca" "$out/gateway"
openssl genrsa -out "$out/ca/ca.key" 4096 2>/dev/null
openssl req -new -x509 -key "$out/ca/ca.key" -out "$out/ca/ca.crt" -days "$days" \
  -subj "/CN=ContextForge-CA/O=ContextForge/OU=Plugins" 2>/dev/null
echo "01" > "$out/ca/ca.srl"
chmod 600 "$out/ca/ca.key"; chmod 644 "$out/ca/ca.crt"
openssl genrsa -out "$out/gateway/client.key" 4096 2>/dev/null
openssl req -new -key "$out/gateway/client.key" -out "$out/gateway/client.csr" \
  -subj "/CN=mcp-gateway-client/O=MCPGateway/OU=Gateway" 2>/dev/null
openssl x509 -req -in "$out/gateway/client.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" \
  -CAcreateserial -out "$out/gateway/client.crt" -days "$days" -sha256 2>/dev/null
rm "$out/gateway/client.csr"; cp "$out/ca/ca.crt" "$out/gateway/"
chmod 600 "$out/gateway/client.key"; chmod 644 "$out/gateway/client.crt"
for name in "$@"; do
  d="$out/plugins/$name"; mkdir -p "$d"
  openssl genrsa -out "$d/server.key" 4096 2>/dev/null
  openssl req -new -key "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=mcp-plugin-$name/O=MCPGateway/OU=Plugins" 2>/dev/null
  printf 'subjectAltName=DNS:%s,DNS:mcp-plugin-%s,DNS:localhost\n' "$name" "$name" > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" \
    -CAcreateserial -out "$d/server.crt" -days "$days" -sha256 -extfile "$d/ext.cnf" 2>/dev/null
  rm "$d/server.csr" "$d/ext.cnf"; cp "$out/ca/ca.crt" "$d/"
  chmod 600 "$d/server.key"; chmod 644 "$d/server.crt"
done
