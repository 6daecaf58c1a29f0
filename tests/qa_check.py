"""Checks an answer against a question case (same rules as the shared development scorer).

Case fields: ``depts`` (exact set of owning-department keys), ``must`` (substrings of the
folded answer text), ``dates`` (ISO dates in the text or in ``deadlines``), ``any`` (groups of
substrings, one group must match), ``criteria`` (codes that must be in ``criteria``);
beyond the shared scorer: ``intent`` (one of these intents), ``mustnot`` (substrings the folded
text must not contain: an unrelated answer is worse than none).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def norm(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text.lower())


DEPARTMENT_KEYS = [  # first match wins
    ("ttvh", lambda n: "trung tam van hoa" in n),
    ("vpntm", lambda n: "van phong" in n and ("ntm" in n or "nong thon moi" in n)),
    ("bhxh", lambda n: "bao hiem xa hoi" in n),
    ("ldtbxh", lambda n: "lao dong" in n),
    ("nn", lambda n: "nong nghiep" in n),
    ("gd", lambda n: "giao duc" in n),
    ("kt", lambda n: "ha tang" in n),
    ("tnmt", lambda n: "tai nguyen" in n),
    ("vhtt", lambda n: "van hoa" in n),
    ("yte", lambda n: "y te" in n),
    ("tckh", lambda n: "tai chinh" in n),
    ("tk", lambda n: "thong ke" in n),
    ("nv", lambda n: "noi vu" in n),
    ("tp", lambda n: "tu phap" in n),
    ("mttq", lambda n: "mat tran" in n),
    ("ca", lambda n: "cong an" in n),
    ("qs", lambda n: "quan su" in n),
    ("qlda", lambda n: "du an" in n),
]

_DATE = re.compile(r"\b(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})\b")


def department_key(name: str) -> str:
    folded = norm(name)
    for key, test in DEPARTMENT_KEYS:
        if test(folded):
            return key
    return "other:" + folded


def dates_in(text: str) -> set[str]:
    return {f"{int(y):04d}-{int(m):02d}-{int(d):02d}" for d, m, y in _DATE.findall(text)}


def problems(case: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    why: list[str] = []
    text = norm(answer.get("text", ""))
    if not text.strip():
        why.append("empty text")
    if "depts" in case:
        got = sorted({department_key(d) for d in answer.get("departments", [])})
        if got != sorted(set(case["depts"])):
            why.append(f"departments {got} != {sorted(case['depts'])}")
    for needle in case.get("must", []):
        if norm(needle) not in text:
            why.append(f"missing '{needle}'")
    if case.get("dates"):
        have = dates_in(answer.get("text", "")) | set(answer.get("deadlines", []))
        why.extend(f"missing date {d}" for d in case["dates"] if d not in have)
    if case.get("any") and not any(all(norm(s) in text for s in g) for g in case["any"]):
        why.append(f"none of {case['any']}")
    for code in case.get("criteria", []):
        if code not in answer.get("criteria", []):
            why.append(f"criteria lacks {code}")
    if "intent" in case:
        wanted = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
        if answer.get("intent") not in wanted:
            why.append(f"intent {answer.get('intent')} not in {wanted}")
    for needle in case.get("mustnot", []):
        if norm(needle) in text:
            why.append(f"has '{needle}'")
    return why
