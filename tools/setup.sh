#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian machine (Node 20, npm 11, root):
# Debian packages (librdkafka1 for the embedded Kafka-protocol cluster,
# PostgreSQL for the embedded database) and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ldconfig -p 2>/dev/null | grep -q 'librdkafka.so.1' || need_apt+=(librdkafka1)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
command -v runuser >/dev/null 2>&1 || need_apt+=(util-linux)
# The Python example consumer (examples/python-consumer): Debian's librdkafka binding and Apache Avro.
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || need_apt+=(python3-confluent-kafka)
/usr/bin/python3 -c 'import avro.io' >/dev/null 2>&1 || need_apt+=(python3-avro)
# Operations console browser tests (Debian chromium driven by playwright-core, no browser download) and promtool (monitoring rule tests).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The notifier's https tests issue a throwaway loopback certificate with openssl.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "setup: missing Debian packages: ${need_apt[*]} — install them with: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian's postgresql package starts a cluster of its own; the platform runs its own server.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 || true; done
  fi
fi

# npm dependencies: install when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
