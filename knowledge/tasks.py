"""The plan's tasks: who must deliver what by when, generated from the deadlines and duties.

Every deadline binds its responsible units; each (deadline, unit) pair is a task. Its words are
the unit's own duty for that deadline when the plan gives one, the appraisal dossier of the
criteria the unit owns for an appraisal deadline, and the deadline's wording otherwise. The
result is written to ``tasks.yaml`` once (``ntm-bot kb tasks --write``) and may then be edited;
``kb check`` verifies every reference and that no deadline is left without its tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from knowledge.models import Deadline, TaskEntry

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase


def task_id(deadline: str, owner: str) -> str:
    return f"{deadline}.{owner}"


def generate_tasks(kb: KnowledgeBase) -> list[TaskEntry]:
    tasks: list[TaskEntry] = []
    for deadline in kb.deadlines:
        for owner in deadline.responsible:
            if deadline.goal and not kb.is_department(owner):
                continue  # the communes reach a goal together: counted, not a task each
            task = _task(kb, deadline, owner)
            if task is not None:
                tasks.append(task)
    return tasks


def _task(kb: KnowledgeBase, deadline: Deadline, owner: str) -> TaskEntry | None:
    fields: dict[str, Any] = {"id": task_id(deadline.id, owner), "owner": owner}
    fields["deadline"] = deadline.id
    duty = next((d for d in kb.duties(owner) if d.deadline == deadline.id), None)
    if deadline.applies_to_owned:
        owned = kb.owned_by(owner)
        if not owned:
            return None  # the appraisal binds the criteria's owners only
        by_level = {
            level: ", ".join(i.label for i in owned if i.level == level)
            for level in ("xa", "huyen")
        }
        vi = "; ".join(
            f"tiêu chí {'cấp xã' if level == 'xa' else 'cấp huyện'} {labels}"
            for level, labels in by_level.items()
            if labels
        )
        en = "; ".join(
            f"{'commune' if level == 'xa' else 'district'} criteria {labels}"
            for level, labels in by_level.items()
            if labels
        )
        subject = duty.subject if duty and duty.subject else f"hồ sơ {vi}"
        subject_en = duty.subject_en if duty and duty.subject_en else f"the dossier on {en}"
        fields |= {
            "what": f"Hoàn thiện {subject}, có văn bản thẩm tra, thẩm định đánh giá đạt",
            "what_en": f"Complete {subject_en} with a written appraisal",
            "criteria": [i.code for i in owned],
            "source": (duty.source if duty else deadline.source),
        }
    elif duty is not None and duty.kind == "task" and duty.text and duty.text_en:
        fields |= {
            "what": duty.text,
            "what_en": duty.text_en,
            "criteria": list(duty.criteria or deadline.criteria),
            "with": list(duty.with_units),
            "source": duty.source,
        }
    else:
        fields |= {
            "what": deadline.what,
            "what_en": deadline.what_en,
            "criteria": list(deadline.criteria),
            "source": deadline.source,
        }
    return TaskEntry.model_validate(fields)


HEADER = """\
# The plan's tasks: one per deadline and responsible unit (`owner`; `cac-xa` = every commune,
# each on its own). Generated from deadlines.yaml and the units' duties by
# `ntm-bot kb tasks --write`; edit freely (wording, criteria, extra tasks), then `ntm-bot kb check`.
# The due date is the deadline's; progress is recorded in the database, never here.
"""


class _Dumper(yaml.SafeDumper):
    """Short lists (criteria codes, units) on one line, like the other data files."""


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, dict | list) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(list, _list)


def dump_tasks(tasks: list[TaskEntry]) -> str:
    rows = [t.model_dump(by_alias=True, exclude_defaults=True) for t in tasks]
    body = yaml.dump(rows, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
    indented = "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))
    return HEADER + "tasks:\n" + indented.replace("  - id:", "\n  - id:").lstrip("\n")
