"""The repository's own question set (tests/data/qa_cases.jsonl), answered in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.qa import QA
from tests.conftest import PLAN_TODAY
from tests.qa_check import problems

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "qa_cases.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def test_the_set_is_large_enough() -> None:
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES, ids=[c["q"][:50] for c in CASES])
def test_question(qa: QA, case: dict[str, object]) -> None:
    answer = qa.answer(str(case["q"]), PLAN_TODAY).to_json()
    assert problems(case, answer) == [], answer["text"]
