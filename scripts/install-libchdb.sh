#!/usr/bin/env bash
# Installs libchdb (the ClickHouse engine as a shared library, used by the
# embedded mode through chdb-go/purego) from the npm package
# @chdb/lib-linux-x64-gnu and prints the path of libchdb.so.
#
#   scripts/install-libchdb.sh [dir]     # dir defaults to $CHDB_DIR or ./.deps/chdb
#
# Idempotent: nothing is downloaded when libchdb.so is already there. The
# package is a ~166 MB download; libchdb.so is ~530 MB. Point the proxy and the
# tests at it with CHDB_LIB_PATH=<printed path>.
set -euo pipefail

CHDB_VERSION=${CHDB_VERSION:-26.5.3}
PKG="@chdb/lib-linux-x64-gnu"
dir=${1:-${CHDB_DIR:-./.deps/chdb}}
lib="$dir/node_modules/$PKG/libchdb.so"

if [ -f "$lib" ]; then
  echo "$(cd "$(dirname "$lib")" && pwd)/libchdb.so"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "install-libchdb: $PKG is for Linux x86_64 only (this is $(uname -s)-$(uname -m))" >&2; exit 1 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
  # A fresh Debian has no npm: take Debian's, as root or through sudo.
  echo "install-libchdb: npm not found; installing it with apt-get" >&2
  SUDO=
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >&2
fi

mkdir -p "$dir"
echo "install-libchdb: installing $PKG@$CHDB_VERSION into $dir" >&2
# --prefix keeps it out of any surrounding node project; the package has no
# install scripts or dependencies we need.
npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
  "$PKG@$CHDB_VERSION" >&2

if [ ! -f "$lib" ]; then
  echo "install-libchdb: $lib missing after npm install" >&2
  exit 1
fi
echo "$(cd "$(dirname "$lib")" && pwd)/libchdb.so"
