"""Places other than the plan's: found by what the question calls them, not by chance words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.engine import QueryEngine
from knowledge.gazetteer import load_gazetteer


@pytest.fixture(scope="module")
def engine(kb: KnowledgeBase) -> QueryEngine:
    return QueryEngine(kb)


def test_both_generations_of_names_are_known() -> None:
    gazetteer = load_gazetteer()
    assert gazetteer.lookup("district", ("nong", "cong")) is not None  # a district before 2025
    assert gazetteer.lookup("province", ("ha", "tinh")) is not None
    assert gazetteer.lookup("commune", ("trieu", "loc")) is not None  # a commune since 07/2025
    assert gazetteer.lookup("commune", ("1",)) is None  # "Phường 1" has no name


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("ai phụ trách tiêu chí 17 ở huyện Nông Cống", "huyện Nông Cống"),
        ("tieu chi 2 huyen quang xuong", "huyện Quảng Xương"),
        ("xã Thọ Xuân đạt chuẩn chưa", "xã Thọ Xuân"),
        ("tinh nghe an bao cao bhyt", "tỉnh Nghệ An"),
        ("TP Thanh Hóa hạn nộp hồ sơ", "thành phố Thanh Hóa"),
        ("Hà Nội có bao nhiêu xã", "thành phố Hà Nội"),
        ("Hải Phòng hạn BHYT", "thành phố Hải Phòng"),
        ("deadline for Hau Loc district", "huyện Hậu Lộc"),
        ("xã An Ninh báo cáo BHYT chưa", "xã An Ninh"),  # written as a name: capitals
    ],
)
def test_another_place_is_named(engine: QueryEngine, question: str, place: str) -> None:
    a = engine.analyze(question, dt.date(2021, 10, 15))
    found = engine.places.elsewhere(a.raw, a.spelling, question)
    assert found is not None and found.name == place


@pytest.mark.parametrize(
    "question",
    [
        "huyện Triệu Sơn đạt chuẩn khi nào",  # the plan's own district, province, communes
        "tỉnh Thanh Hóa thẩm định khi nào",
        "xã Dân Lực báo cáo BHYT",
        "xa tho dan phai lam gi",
        "thị trấn Nưa có phải báo cáo không",
        "phòng lao động thương binh xã hội phụ trách gì",  # "xã Hội …" is not a commune here
        "tiêu chí 7 xã chợ nông thôn",  # not the commune Chờ: "chợ" is written otherwise
        "hai phòng nào phụ trách tiêu chí 18",  # "two departments", not Hải Phòng
        "huyện đạt chuẩn nông thôn mới cần gì",
        "xã hội hóa nguồn vốn",
        "tiêu chí xã an toàn thực phẩm ai phụ trách",  # the plan's words, not xã An Toàn
        "xã an ninh trật tự ai phụ trách",
        "xã chỉ đạo các thôn thế nào",
        "xa chi dao cac thon the nao",
        "xã văn hóa nông thôn mới cần gì",
        "Thanh Hoá thẩm định khi nào",  # the old place of the tone mark is the same word
    ],
)
def test_the_plans_own_places_and_ordinary_words_are_not_elsewhere(
    engine: QueryEngine, question: str
) -> None:
    a = engine.analyze(question, dt.date(2021, 10, 15))
    assert engine.places.elsewhere(a.raw, a.spelling, question) is None


def test_the_compiled_names_are_those_of_the_package(tmp_path: Path) -> None:
    """knowledge/data/gazetteer/ is what knowledge.gazetteer_build makes of the installed
    vietnam-provinces and the names before 2025: rebuilt here, byte for byte."""
    from knowledge.gazetteer import COMPILED, KINDS
    from knowledge.gazetteer_build import write_compiled

    write_compiled(tmp_path)
    for name in [f"{kind}.{part}" for kind in KINDS for part in ("keys", "names")]:
        assert (tmp_path / name).read_bytes() == (COMPILED / name).read_bytes(), name
