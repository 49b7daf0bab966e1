#!/usr/bin/env bash
# Benchmark: livecut analyze (with comment and order exports) vs. FFmpeg's full decode on
# the same generated 1080p30 recording, in the same run. Prints one table: each stage's
# time, total, CPU, real-time factor, ratio to FFmpeg, peak RSS, cascade coverage.
# Usage: scripts/bench.sh [MINUTES ...] (default 30 120 240); BENCH_FULL=1 adds --full rows
# at every length (default: <= 30 min only), BENCH_GPU=1 a --device cuda row.
# Recordings and exports are generated once and cached in ${LIVECUT_BENCH_CACHE:-~/.cache/livecut-bench}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
cargo build --release --locked --quiet
exec python3 scripts/bench.py "$@"
