"""How the criteria board reads in the chat: one commune's criteria, a unit's criteria across
the communes, the district's criteria."""

from __future__ import annotations

from collections import defaultdict

from handlers.criteria_status import (
    ORDER,
    CriteriaBoard,
    Standing,
    owned_indicators,
    standing_word,
)
from handlers.i18n import Tr
from handlers.richtext import Doc, b, it
from knowledge.base import Indicator, KnowledgeBase

MARKS = {
    Standing.MET: "✅",
    Standing.IN_PROGRESS: "⏳",
    Standing.LATE: "⏰",
    Standing.NO_DATA: "❔",
}


def _name(tr: Tr, ind: Indicator) -> str:
    return ind.name_en if tr.en else ind.name


def legend(tr: Tr) -> str:
    return " · ".join(f"{MARKS[s]} {standing_word(tr, s).lower()}" for s in ORDER)


def commune_criteria(tr: Tr, standings: dict[str, Standing], kb: KnowledgeBase) -> Doc:
    """One commune's criteria grouped by where they stand (late first)."""
    doc = Doc().add(b(tr("Tình trạng {count} tiêu chí xã", count=len(standings))))
    _grouped(tr, kb, standings, doc)
    doc.add(it(tr("Theo báo cáo tiêu chí của xã và việc được giao theo Kế hoạch.")))
    return doc


def unit_criteria(tr: Tr, kb: KnowledgeBase, board: CriteriaBoard, unit: str) -> Doc:
    """The criteria a unit answers for: at how many communes each stands where, and the
    district criteria's state."""
    doc = Doc()
    owned = owned_indicators(kb, unit)
    if not owned:
        return doc
    total = len(board.communes)
    doc.add(b(tr("Tiêu chí đơn vị phụ trách")))
    for ind in owned:
        if ind.level == "xa":
            counts = board.count(ind.code)
            spread = " · ".join(
                f"{MARKS[s]} {counts[s]}" for s in ORDER if counts[s] and s is not Standing.MET
            )
            doc.bullet(
                b(tr("Tiêu chí xã {label}", label=ind.label)),
                f" — {_name(tr, ind)}: ",
                tr("{met}/{total} xã đạt", met=counts[Standing.MET], total=total),
                f" ({spread})" if spread else "",
            )
        else:
            standing = board.district.get(ind.code, Standing.NO_DATA)
            doc.bullet(
                b(tr("Tiêu chí huyện {label}", label=ind.label)),
                f" — {_name(tr, ind)}: ",
                f"{MARKS[standing]} {standing_word(tr, standing)}",
            )
    doc.add(it(legend(tr)))
    return doc


def district_criteria(tr: Tr, kb: KnowledgeBase, board: CriteriaBoard) -> Doc:
    """The district criteria, from their owners' tasks."""
    doc = Doc().add(b(tr("Tiêu chí huyện (theo việc của các đơn vị phụ trách)")))
    return _grouped(tr, kb, board.district, doc)


def _grouped(tr: Tr, kb: KnowledgeBase, standings: dict[str, Standing], doc: Doc) -> Doc:
    """One line per standing with the criteria in it: "⏰ Chậm (3): 1, 5, 17"."""
    groups: dict[Standing, list[str]] = defaultdict(list)
    for code, standing in standings.items():
        groups[standing].append(kb.indicators[code].label)
    for standing in ORDER:
        labels = groups.get(standing)
        if labels:
            word = standing_word(tr, standing)
            doc.bullet(f"{MARKS[standing]} ", b(f"{word} ({len(labels)}): "), ", ".join(labels))
    return doc
