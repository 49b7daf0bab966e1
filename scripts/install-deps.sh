#!/usr/bin/env bash
# Install what livecut needs on Debian 12: FFmpeg 5.1 development libraries and CLIs,
# clang (bindgen), pkg-config, espeak-ng/sox/CJK fonts/alsa-utils' voice recordings (demo
# and test media), Chromium and chromium-driver (the preview page test), and ONNX
# Runtime's shared library from its PyPI wheel (pinned version + sha256) into .local/.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libswresample-dev libavfilter-dev libavdevice-dev pkg-config clang libclang-dev
  espeak-ng sox fonts-noto-cjk alsa-utils python3-pip time chromium chromium-driver)

ORT_VERSION=1.32.0
ORT_WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ORT_LIB=libonnxruntime.so.${ORT_VERSION}
ORT_LIB_SHA256=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
ORT_DIR=.local/onnxruntime

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$(sha256sum "$ORT_DIR/$ORT_LIB" 2>/dev/null | cut -d' ' -f1)" != "$ORT_LIB_SHA256" ]; then
  echo "==> ONNX Runtime $ORT_VERSION from PyPI"
  mkdir -p .local/wheels "$ORT_DIR"
  if [ "$(sha256sum ".local/wheels/$ORT_WHEEL" 2>/dev/null | cut -d' ' -f1)" != "$ORT_WHEEL_SHA256" ]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_28_x86_64 -d .local/wheels "onnxruntime==$ORT_VERSION"
  fi
  echo "$ORT_WHEEL_SHA256  .local/wheels/$ORT_WHEEL" | sha256sum --check --quiet
  python3 - "$ORT_DIR" ".local/wheels/$ORT_WHEEL" "$ORT_LIB" <<'PY'
import sys, zipfile, os
dest, wheel, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    data = z.read("onnxruntime/capi/" + lib)
tmp = os.path.join(dest, lib + ".part")
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, os.path.join(dest, lib))
PY
  echo "$ORT_LIB_SHA256  $ORT_DIR/$ORT_LIB" | sha256sum --check --quiet
  ln -sf "$ORT_LIB" "$ORT_DIR/libonnxruntime.so"
fi
python3 scripts/fetch_models.py --quiet
echo "==> dependencies ready (FFmpeg $(ffmpeg -version | head -1 | cut -d' ' -f3), ONNX Runtime $ORT_VERSION in $ORT_DIR)"
