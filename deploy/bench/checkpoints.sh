#!/usr/bin/env bash
# Checkpoint flush benchmark (issue 5): a throwaway PostgreSQL on loopback; alternating, side by side, a `SELECT 1`
# round trip, one flush of 1,000 boilers' open-window checkpoints as rows (SnapshotStore.saveCheckpoints, one
# statement), and the same windows as one checkpoint set (saveCheckpointSet, one row: what SnapshotService
# uses). Prints p50/p90 of each in microseconds and the p50 ratios to SELECT 1 (goal: at most 5).
#
#   deploy/bench/checkpoints.sh [ROUNDS]      # default 200
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
(cd Benchmarks && swift build -c release --product IngestBench >&2)
state="$(mktemp -d /tmp/boiler-bench-XXXXXX)"
chmod 755 "$state"  # PostgreSQL runs as the postgres user
export BOILER_SERVICES_DIR="$state"
trap 'deploy/local/services.sh stop >/dev/null 2>&1 || true' EXIT
deploy/local/services.sh start-postgres >/dev/null
Benchmarks/.build/release/IngestBench checkpoints "postgres://boiler:boiler@127.0.0.1:$(cat "$state/pg_port")/boiler" "${1:-200}"
