"""Build the place names the bot reads at start (``knowledge/data/gazetteer/``) from the
``vietnam-provinces`` package: the names before the July 2025 reorganisation from the releases
that carry them — the first (0.2, the units of the plan's time, 2021, among them districts
merged since, like Đông Sơn) and the last (0.6.0), kept together as ``pre-2025.json`` — and
the names since from the installed release (a development dependency)::

    pip download vietnam-provinces==0.2 vietnam-provinces==0.6.0 --no-deps -d /tmp/vp
    python -m knowledge.gazetteer_build --pre-2025 /tmp/vp/vietnam_provinces-0.2-py3-none-any.whl \
        /tmp/vp/vietnam_provinces-0.6.0-py3-none-any.whl
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


def pre_2025(wheels: list[Path]) -> dict[str, object]:
    """The units of every release given, together (a unit merged away between two releases
    is still a place someone may name)."""
    provinces: list[dict[str, object]] = []
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            provinces += json.loads(archive.read(MEMBER))
    districts = [d for p in provinces for d in p["districts"]]  # type: ignore[attr-defined]
    wards = [w for d in districts for w in d["wards"]]
    versions = ", ".join(wheel.name.split("-")[1] for wheel in wheels)
    return {
        "source": f"vietnam-provinces {versions} (before 07/2025)",
        "provinces": sorted({str(p["name"]) for p in provinces}),
        "districts": sorted({d["name"] for d in districts}),
        "communes": sorted({w["name"] for w in wards}),
    }


def write_compiled(directory: Path = COMPILED) -> None:
    for kind, (keys, spellings) in compile_names(source_names()).items():
        (directory / f"{kind}.keys").write_text(keys, "ascii")
        (directory / f"{kind}.names").write_bytes(spellings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--pre-2025", type=Path, nargs="+", help="wheels of vietnam-provinces 0.2 and 0.6.x"
    )
    args = parser.parse_args()
    if args.pre_2025:
        data = pre_2025(args.pre_2025)
        PRE_2025.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", "utf-8")
    write_compiled()
    print(f"{COMPILED}: written")


if __name__ == "__main__":
    main()
