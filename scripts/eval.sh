#!/usr/bin/env bash
# Evaluation: livecut vs a plain baseline on labelled synthetic sessions
# (fixtures/make_session.py), on development seeds and on held-out seeds.
#
#   scripts/eval.sh [--dev-only|--held-out-only] [livecut eval flags, e.g. --no-models]
#
# Development seeds (1-5) are the ones fusion and selection were tuned on; held-out seeds
# (101-108) were not looked at while tuning: report those. Sessions are generated once
# per version of the generator and cached in ${LIVECUT_EVAL_CACHE:-~/.cache/livecut-eval}.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV_SEEDS="1 2 3 4 5"
HELD_OUT_SEEDS="101 102 103 104 105 106 107 108"
sets="dev held-out"
case "${1:-}" in
  --dev-only) sets="dev"; shift ;;
  --held-out-only) sets="held-out"; shift ;;
esac
scripts/install-deps.sh >/dev/null
python3 scripts/fetch_models.py --quiet
cargo build --release --locked --quiet
gen_hash=$(cat fixtures/make_session.py fixtures/make_demo.py | sha256sum | cut -c1-12)
cache="${LIVECUT_EVAL_CACHE:-$HOME/.cache/livecut-eval}/$gen_hash"
for set in $sets; do
  if [ "$set" = dev ]; then seeds=$DEV_SEEDS; else seeds=$HELD_OUT_SEEDS; fi
  dir="$cache/$set"
  mkdir -p "$dir"
  for seed in $seeds; do
    if [ ! -f "$dir/session_$seed.truth.json" ]; then
      python3 fixtures/make_session.py --out "$dir" --seed "$seed" >/dev/null
    fi
  done
  out="target/eval/$set"
  rm -rf "$out"
  ./target/release/livecut eval "$dir" --out "$out" --label "$set seeds: $seeds" "$@"
  echo
done
