#!/usr/bin/env python3
"""Read livecut's editor timelines back with the real OpenTimelineIO.

    scripts/otio_check.py --install [--quiet]
    scripts/otio_check.py [--rate R] FILE...

Runs inside the project's Python environment of scripts/fetch_models.py (.local/venv, or
.local/pylib where venv is unavailable; re-executes itself there) and adds to it, with
--no-deps from wheels checked against the sha256 below (kept in .local/wheels/):
OpenTimelineIO 0.18.1 (`.otio`), its FCP X XML adapter otio-fcpx-xml-adapter 1.0.0
(`.fcpxml`) and its CMX 3600 adapter otio-cmx3600-adapter 1.0.0 (`.edl`); none of them has
further dependencies.

`--install` only makes sure the packages are there (scripts/test.sh runs it before
`cargo test`; nothing is downloaded when they are). With files, each is read with
`otio.adapters.read_from_file` (the adapter picked by the suffix; an EDL does not say its
frame rate, so `--rate` gives it: `25`, `30000/1001`) and one JSON document is printed:

    {"opentimelineio": "0.18.1", "adapters": {...},
     "files": [{"file": ..., "adapter": "otio_json" | "fcpx_xml" | "cmx_3600",
                "timelines": [{"name": ..., "tracks": [{"name": ..., "kind": "Video",
                  "clips": [{"name": "#1 product ...", "target_url": ... | null,
                             "rate": 29.97002997002997,
                             "start_s": ..., "duration_s": ...,
                             "start_frames": ..., "duration_frames": ...,
                             "available_start_s": ..., "available_duration_s": ...}]}]}]}]}

Times are OpenTimelineIO's own readings (RationalTime.to_seconds()); tests/nle.rs compares
them with manifest.json.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models as fm  # noqa: E402  (same folder: pinned env, wheels, checksums)
from fetch_models import FetchError, say  # noqa: E402

# Added to the project environment with --no-deps (their whole dependency closure).
OTIO_WHEELS = (
    ("opentimelineio", "0.18.1",
     "opentimelineio-0.18.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
     "e45fe3164c6e559e660b7e1cce6c87ef0b5d634743114823c6e1fb5f56f8601e"),
    ("otio-fcpx-xml-adapter", "1.0.0", "otio_fcpx_xml_adapter-1.0.0-py3-none-any.whl",
     "9891fcba190e1a2ebc339d2da42398ce98927dfb0055d57d8b37ea8769477f73"),
    ("otio-cmx3600-adapter", "1.0.0", "otio_cmx3600_adapter-1.0.0-py3-none-any.whl",
     "440ed9d862170d9d03d319a51bf77a19f917b162b73a578e3ebe9a79fa01625b"),
)
OTIO_PINS = tuple(f"{p}=={v}" for p, v, _, _ in OTIO_WHEELS)


def ensure_otio_packages() -> None:
    """Install OTIO_PINS (--no-deps, from sha256-checked wheels) into the environment this
    interpreter runs in (see fetch_models.ensure_wheels)."""
    fm.ensure_wheels(OTIO_WHEELS)


def parse_rate(text: str) -> float:
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a frame rate: {text!r} (e.g. 25, 30000/1001)")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a frame rate: {text!r}")
    return value


def timelines_in(obj) -> list:
    """Every Timeline in what an adapter returned (fcpx_xml returns a collection)."""
    import opentimelineio as otio

    if isinstance(obj, otio.schema.Timeline):
        return [obj]
    if isinstance(obj, otio.schema.SerializableCollection):
        return [t for child in obj for t in timelines_in(child)]
    return []


def describe_clip(clip) -> dict:
    import opentimelineio as otio

    sr = clip.source_range
    ref = clip.media_reference
    out = {
        "name": clip.name,
        "target_url": getattr(ref, "target_url", None),
        "rate": sr.start_time.rate,
        "start_s": sr.start_time.to_seconds(),
        "duration_s": sr.duration.to_seconds(),
        "start_frames": sr.start_time.value,
        "duration_frames": sr.duration.value,
        "available_start_s": None,
        "available_duration_s": None,
    }
    if ref is not None and ref.available_range is not None:
        out["available_start_s"] = ref.available_range.start_time.to_seconds()
        out["available_duration_s"] = ref.available_range.duration.to_seconds()
    if not isinstance(ref, otio.schema.ExternalReference):
        out["reference"] = type(ref).__name__
    return out


def read(path: Path, rate: float | None) -> dict:
    import opentimelineio as otio

    suffix = path.suffix.lower().lstrip(".")
    adapter = otio.adapters.from_filepath(str(path)).name
    kwargs = {}
    if suffix == "edl":
        if rate is None:
            raise FetchError(f"{path}: an EDL does not say its frame rate; pass --rate")
        kwargs["rate"] = rate
    result = otio.adapters.read_from_file(str(path), **kwargs)
    timelines = []
    for tl in timelines_in(result):
        tracks = []
        for track in tl.tracks:
            clips = [describe_clip(c) for c in track if isinstance(c, otio.schema.Clip)]
            tracks.append({"name": track.name, "kind": str(track.kind), "clips": clips})
        timelines.append({"name": tl.name, "tracks": tracks})
    return {"file": str(path), "adapter": adapter, "timelines": timelines}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help=".otio, .fcpxml or .edl files")
    ap.add_argument("--install", action="store_true",
                    help="only make sure OpenTimelineIO and its adapters are installed")
    ap.add_argument("--rate", type=parse_rate, help="frame rate of EDLs (25, 30000/1001)")
    ap.add_argument("--quiet", action="store_true", help="print errors only")
    args = ap.parse_args(argv)
    fm.QUIET = args.quiet or not args.install
    if not args.install and not args.files:
        ap.error("give files to read, or --install")
    fm.ensure_pinned_env(Path(__file__), argv)
    ensure_otio_packages()
    import opentimelineio as otio
    from importlib import metadata

    if args.install:
        say(f"OpenTimelineIO {otio.__version__} with "
            f"{', '.join(p for p in OTIO_PINS[1:])} ready")
        return 0
    doc = {
        "opentimelineio": otio.__version__,
        "adapters": {p: metadata.version(p) for p, _, _, _ in OTIO_WHEELS[1:]},
        "files": [read(p, args.rate) for p in args.files],
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
