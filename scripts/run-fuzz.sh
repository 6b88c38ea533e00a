#!/usr/bin/env bash
# Runs every Fuzz* target in the module for a fixed time each (default 10s).
#
# Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" failure when -fuzztime runs out while a worker is mid-input
# (go.dev/issue/75804, fixed in Go 1.27). Such a run found nothing: no
# failing input is written. It is retried once; any other failure, or a
# second one, fails the run.
set -euo pipefail
fuzztime=${1:-10s}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() { go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1" > "$log" 2>&1; }

deadline_flake() {
  grep -q 'context deadline exceeded' "$log" &&
    ! grep -q -e 'Failing input written' -e 'panic:' -e '_test.go:[0-9]*:' "$log"
}

for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($fuzztime)"
    if run "$pkg" "$target"; then
      continue
    fi
    if deadline_flake; then
      echo "  spurious fuzztime deadline (go.dev/issue/75804), nothing found; running it again"
      run "$pkg" "$target" && continue
    fi
    cat "$log"
    exit 1
  done
done
