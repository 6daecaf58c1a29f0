"""Where a point is, in the district's words: "xã Thọ Bình" when it lies inside a commune's
outline, "gần Thọ Bình" when it is within ``NEAR_KM`` of one, else nothing (the coordinates
speak for themselves). The outlines are data (``commune-areas.json``, built by
:mod:`knowledge.geo_build`); a district without them names nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

AREAS_FILE = "commune-areas.json"
NEAR_KM = 3.0

Ring = tuple[tuple[float, float], ...]  # (longitude, latitude) points


@dataclass(frozen=True)
class Place:
    code: str  # the commune's code
    inside: bool  # inside its outline (else near it)


def _inside(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: whether the point lies inside the polygon."""
    inside = False
    j = len(ring) - 1
    for i, (xi, yi) in enumerate(ring):
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on the ground (equirectangular: exact enough within a district)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0 * math.hypot(x, y)


class Locator:
    def __init__(self, areas: dict[str, Ring]) -> None:
        self.areas = areas

    @classmethod
    def load(cls, data_dir: Path) -> Locator:
        path = data_dir / AREAS_FILE
        if not path.is_file():
            return cls({})
        raw = json.loads(path.read_text("utf-8"))
        return cls(
            {
                code: tuple((float(x), float(y)) for x, y in ring)
                for code, ring in raw["areas"].items()
            }
        )

    @staticmethod
    def codes(data_dir: Path) -> list[str]:
        """The communes that have an outline (checked at load, without reading the points)."""
        path = data_dir / AREAS_FILE
        if not path.is_file():
            return []
        return list(json.loads(path.read_text("utf-8"))["areas"])

    def place(self, latitude: float, longitude: float) -> Place | None:
        for code, ring in self.areas.items():
            if _inside(longitude, latitude, ring):
                return Place(code, inside=True)
        nearest: tuple[float, str] | None = None
        for code, ring in self.areas.items():
            distance = min(_km(longitude, latitude, x, y) for x, y in ring)
            if nearest is None or distance < nearest[0]:
                nearest = (distance, code)
        if nearest is not None and nearest[0] <= NEAR_KM:
            return Place(nearest[1], inside=False)
        return None
