#!/usr/bin/env bash
# Installs the servers the tests start themselves: Debian's redis-server,
# clickhouse-server, prometheus (with promtool, which lints /metrics and the
# alert rules) and zookeeperd (with its Java runtime; the ClickHouse cluster
# tests' ZooKeeper); with --bench also wrk, the load generator of `make bench`;
# then the JavaScript clients the tests run through the proxy (posthog-node,
# posthog-js and jsdom, with npm into .deps/node of the repository).
# Idempotent: installs only what is missing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# redis-cli creates the test Redis Cluster (internal/testenv/rediscluster.go).
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server)
command -v clickhouse-client >/dev/null 2>&1 || missing+=(clickhouse-client)
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
[ -f /usr/share/java/zookeeper.jar ] || missing+=(zookeeperd)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
fi
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

install_apt_packages() {
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packages start system services we do not use; tests run their own.
  for svc in redis-server clickhouse-server prometheus zookeeper; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
      $SUDO systemctl stop "$svc" || true
    fi
  done
}

# The npm clients the JavaScript tests run, pinned; jsdom 29 is the last
# release that runs on Node 20 (jsdom 30 wants Node 22).
node_dir="$repo/.deps/node"
node_packages=(posthog-node@5.70.0 posthog-js@1.449.2 jsdom@29.1.1)

# installed_version prints the version of the npm package $1 in node_dir.
installed_version() {
  local manifest="$node_dir/node_modules/$1/package.json"
  [ -f "$manifest" ] && node -p "require(process.argv[1]).version" "$manifest"
}

install_node_packages() {
  local wanted=() spec
  for spec in "${node_packages[@]}"; do
    [ "$(installed_version "${spec%@*}")" = "${spec##*@}" ] || wanted+=("$spec")
  done
  [ ${#wanted[@]} -eq 0 ] && return 0
  mkdir -p "$node_dir"
  echo "installing ${wanted[*]} with npm into $node_dir"
  # --prefix keeps them out of any surrounding node project; all of them are
  # installed at once so npm keeps the others when it writes node_modules.
  npm install --prefix "$node_dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
    "${node_packages[@]}"
}

install_apt_packages
install_node_packages
