#!/usr/bin/env bash
# Benchmark: livecut analyze vs. FFmpeg's full decode on the same generated recording, in
# the same run. Prints one table. Usage: scripts/bench.sh [MINUTES ...] (default 30).
# Long recordings are generated once and cached in ${LIVECUT_BENCH_CACHE:-~/.cache/livecut-bench}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
cargo build --release --locked --quiet
exec python3 scripts/bench.py "$@"
