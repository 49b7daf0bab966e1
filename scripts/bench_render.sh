#!/usr/bin/env bash
# Benchmark: per-clip render time of `livecut cut` next to the ffmpeg CLI doing the same
# crop/scale/encode of the same span, in the same run. Prints one table.
# Usage: scripts/bench_render.sh [SPAN_SECONDS ...]   (default 30 60)
# Environment: BENCH_GPU=1 adds --device cuda rows (NVDEC + NVENC) where a GPU is present;
# BENCH_REPEAT=N times every command N times and keeps the fastest (default 1);
# LIVECUT_BENCH_CACHE is where the generated recording is cached (see scripts/bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >/dev/null
cargo build --release --locked --quiet
exec python3 scripts/bench_render.py "$@"
