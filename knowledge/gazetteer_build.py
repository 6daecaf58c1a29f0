"""Build the place names the bot reads at start (``knowledge/data/gazetteer/``) from the
``vietnam-provinces`` package: the names before the July 2025 reorganisation from its last
release that carries them (0.6.0, kept as ``pre-2025.json``), the names since from the
installed release (a development dependency)::

    pip download vietnam-provinces==0.6.0 --no-deps -d /tmp/vp
    python -m knowledge.gazetteer_build --pre-2025 /tmp/vp/vietnam_provinces-0.6.0-py3-none-any.whl
    python -m knowledge.gazetteer_build            # after upgrading vietnam-provinces

Only names are kept: for each kind of unit (province, district, commune) ``KIND.keys``
(folded names, sorted) and ``KIND.names`` (official spellings, line for line): compact, so
that a start parses no large file (a test checks they match the installed package).
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

from knowledge.gazetteer import COMPILED, PRE_2025, compile_names, source_names

MEMBER = "vietnam_provinces/data/nested-divisions.json"


def pre_2025(wheel: Path) -> dict[str, object]:
    with zipfile.ZipFile(wheel) as archive:
        provinces = json.loads(archive.read(MEMBER))
    districts = [d for p in provinces for d in p["districts"]]
    wards = [w for d in districts for w in d["wards"]]
    return {
        "source": f"vietnam-provinces {wheel.name.split('-')[1]} (before 07/2025)",
        "provinces": sorted({p["name"] for p in provinces}),
        "districts": sorted({d["name"] for d in districts}),
        "communes": sorted({w["name"] for w in wards}),
    }


def write_compiled(directory: Path = COMPILED) -> None:
    for kind, (keys, spellings) in compile_names(source_names()).items():
        (directory / f"{kind}.keys").write_text(keys, "ascii")
        (directory / f"{kind}.names").write_bytes(spellings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pre-2025", type=Path, help="the wheel of vietnam-provinces 0.6.x")
    args = parser.parse_args()
    if args.pre_2025:
        data = pre_2025(args.pre_2025)
        PRE_2025.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", "utf-8")
    write_compiled()
    print(f"{COMPILED}: written")


if __name__ == "__main__":
    main()
