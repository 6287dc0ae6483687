#!/usr/bin/env bash
# Service nodes on one PostgreSQL database, one against three (scripts/bench-nodes.py), with a
# throwaway server (scripts/postgres.sh) unless FLAKEBOX_TEST_POSTGRES_URL names one. Called by
# scripts/bench.sh with the release binaries; `BIN=DIR scripts/bench-nodes.sh` measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-$(swift build -c release --show-bin-path)}
export FLAKEBOX_SANDBOX_HELPER="$bin/flakebox-sandbox"
if [ -z "${FLAKEBOX_TEST_POSTGRES_URL:-}" ]; then
  eval "$(scripts/postgres.sh start)"
  trap 'scripts/postgres.sh stop "$FLAKEBOX_TEST_POSTGRES_DIR"' EXIT
fi
python3 scripts/bench-nodes.py "$bin/flakebox" "$FLAKEBOX_TEST_POSTGRES_URL"
