"""Photo evidence per criterion: which commune criterion each photo in a standing report is
evidence of. ``/xa`` (the counts), the web view's commune page (the pictures) and the
appraisal dossier read this one model; none of them decides on its own where a photo belongs.

A photo belongs to the criteria its field names (``criteria`` in the form file); otherwise to
the indicator a status report is about, or to the indicators whose evidence rules name the
report's form (evidence.yaml); a photo sent with a task mark (whatever its status: a blocked
task's photo shows the block), to the indicators whose rules need that task, else to those the
task names; in every case to the top-level criterion. A photo in a report a correction
replaced no longer counts (the correction carries its own); a task mark's photos keep counting
when the task is marked again (a later "đang làm" does not unmake the photo).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.base import KnowledgeBase
from storage.db import Store
from storage.media import Evidence, MediaRepo

OTHER = ""  # photos of no criterion: sent with a task no criterion rests on (model villages)


@dataclass
class PhotoBoard:
    # commune id → criterion code (``xa:17``) → its photos, oldest report first
    communes: dict[int, dict[str, list[Evidence]]] = field(default_factory=dict)

    def of(self, commune_id: int, criterion: str) -> list[Evidence]:
        return self.communes.get(commune_id, {}).get(criterion, [])

    def count(self, commune_id: int, criterion: str) -> int:
        return len(self.of(commune_id, criterion))

    def distinct(self, commune_id: int) -> int:
        """How many different files (one photo may be evidence of several criteria)."""
        return len({i.media.id for items in self.communes.get(commune_id, {}).values()
                    for i in items})  # fmt: skip


def criteria_of(kb: KnowledgeBase, item: Evidence) -> tuple[str, ...]:
    """The top-level criteria a photo is evidence of (in the plan's order)."""
    if item.mark_id is not None:
        return _tops(kb, _indicators_of_task(kb, item.task_id))
    form = kb.forms.get(item.form_id)
    if form is None:
        return ()
    key = item.field.split(".")[0]
    declared = next((f.criteria for f in form.fields if f.key == key), [])
    codes: list[str] = list(declared)
    if not codes and form.role == "indicator-status" and item.subject:
        codes = [item.subject]
    if not codes and kb.evidence is not None:
        codes = [
            code
            for code, rule in kb.evidence.rules.items()
            if any(source.form == form.id for source in rule.reports)
        ]
    return _tops(kb, codes)


def _indicators_of_task(kb: KnowledgeBase, task_id: str) -> list[str]:
    """The indicators whose evidence rules need this task (the commune's share of it), else
    the criteria the task itself names (a task no rule counts, e.g. the model villages)."""
    ruled = (
        [code for code, rule in kb.evidence.rules.items() if task_id in rule.tasks]
        if kb.evidence is not None
        else []
    )
    if ruled:
        return ruled
    task = kb.task(task_id)
    return [c if ":" in c else f"xa:{c}" for c in task.criteria] if task is not None else []


def _tops(kb: KnowledgeBase, codes: list[str]) -> tuple[str, ...]:
    tops: list[str] = []
    for code in codes:
        indicator = kb.indicators.get(code)
        if indicator is None:
            continue
        top = indicator.parent or indicator.code
        if top not in tops:
            tops.append(top)
    return tuple(tops)


async def load_photos(
    kb: KnowledgeBase, db: Store, commune_ids: Iterable[int] | None = None
) -> PhotoBoard:
    board = PhotoBoard()
    grouped: dict[int, dict[str, list[Evidence]]] = defaultdict(lambda: defaultdict(list))
    for item in await MediaRepo(db).evidence(commune_ids):
        for criterion in criteria_of(kb, item) or (OTHER,):
            grouped[item.commune_id][criterion].append(item)
    board.communes = {commune: dict(by) for commune, by in grouped.items()}
    return board
