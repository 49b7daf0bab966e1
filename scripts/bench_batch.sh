#!/usr/bin/env bash
# Batch benchmark: `livecut batch` over COUNT recordings of MINUTES minutes vs `livecut run`
# on each in turn, same files, same run. Usage: scripts/bench_batch.sh [COUNT] [MINUTES]
# (default 8 10). BENCH_JOBS=N sets --jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
cargo build --release --locked --quiet
exec python3 scripts/bench_batch.py "$@"
