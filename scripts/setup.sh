#!/usr/bin/env bash
# README command 1: install everything, build the release binary, generate the bundled
# demo recording and run the main job on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "==> cargo build --release"
cargo build --release --locked
DEMO=fixtures/generated/demo
if [ ! -f "$DEMO/demo.mp4" ]; then
  echo "==> generating the demo recording"
  python3 fixtures/make_demo.py --out "$DEMO"
fi
rm -rf out/demo
echo "==> livecut run (demo)"
# The demo host's voice is espeak-ng reading pinyin as English (not recognisable speech):
# its subtitles go to .srt/.vtt files only, not burned into the clips.
./target/release/livecut run "$DEMO/demo.mp4" \
  --comments "$DEMO/demo.comments.xml" --orders "$DEMO/demo.orders.csv" --out out \
  --platforms douyin,source --titles --subtitles srt
echo "==> the demo's true moments (fixtures/generated/demo/demo.truth.json):"
python3 -c "import json;[print('   ',m['kind'],m['start_s'],'-',m['end_s']) for m in json.load(open('$DEMO/demo.truth.json'))['moments']]"
