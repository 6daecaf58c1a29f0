"""The plan's full text as passages, each with the section it stands in.

Vietnamese administrative plans share one layout: a title, the legal bases ("Căn cứ …"),
Roman-numbered parts (``I. MỤC ĐÍCH, YÊU CẦU``), numbered sections (``1.``, ``1.1.``), and
bullets (``- Phòng Tư pháp: …``) with sub-bullets (``+ …``). Each bullet, sub-bullet or
paragraph is a passage; a sub-bullet also carries its bullet's lead-in ("Phòng Tư pháp"),
so a passage can be found, and cited, on its own: "Theo mục III.1.2 của Kế hoạch: …".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ROMAN = re.compile(r"^(I{1,3}|IV|V|VI{0,3}|IX|X)\.\s+(.+)$")
_NUMBERED = re.compile(r"^(\d{1,2})\.(?:(\d{1,2})\.)?\s+(.+)$")
_BULLET = re.compile(r"^[-+•]\s*(?:\+\s*)?(.+)$")
_LEAD_IN = re.compile(r"^([^:.;]{3,70}?)\s*[:.]\s*(.*)$")
LEGAL_BASES = "Căn cứ"
CLOSING = "Phần kết"
TITLE = "Tiêu đề"


@dataclass(frozen=True)
class Passage:
    id: int
    section: str  # "III.1.2", "II.1", "Căn cứ", "Phần kết"
    heading: str  # the section's title ("Đối với huyện")
    lead: str  # the bullet a sub-bullet belongs to ("Phòng Tư pháp"), or ""
    text: str
    # What the plan says after a list for all its items ("Thời gian hoàn thành trước ngày
    # 31/12/2021."), or ""
    closing: str = ""

    @property
    def context(self) -> str:
        """What the passage is about beyond its own words: its heading and lead-in."""
        return " ".join(part for part in (self.heading, self.lead) if part)


def read_passages(path: Path) -> list[Passage]:
    return split_passages(path.read_text(encoding="utf-8"))


def split_passages(text: str) -> list[Passage]:
    passages: list[Passage] = []
    roman = ""
    section = TITLE
    heading = ""
    lead = ""

    def add(body: str, *, own_lead: str = "") -> None:
        body = body.strip().strip("*").strip()
        if body:
            passages.append(Passage(len(passages), section, heading, own_lead or lead, body))

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("Nơi nhận", "CHỦ TỊCH")):
            break
        if line.startswith("Căn cứ"):
            section, heading, lead = LEGAL_BASES, "Căn cứ pháp lý của Kế hoạch", ""
            add(line)
            continue
        if line.startswith("Trên đây là"):
            section, heading, lead = CLOSING, "Phần kết", ""
            add(line)
            continue
        if passages and line[0].islower():  # a sentence broken across lines
            last = passages[-1]
            passages[-1] = Passage(
                last.id, last.section, last.heading, last.lead, f"{last.text} {line}"
            )
            continue
        roman_match = _ROMAN.match(line)
        if roman_match:
            title = roman_match[2].strip()
            roman, heading, lead = roman_match[1], title[:1] + title[1:].lower(), ""
            section = roman
            continue
        numbered = _NUMBERED.match(line)
        if numbered and roman:
            number = numbered[1] + (f".{numbered[2]}" if numbered[2] else "")
            section = f"{roman}.{number}"
            rest = numbered[3].strip()
            lead = ""
            if _is_title(rest):
                heading = rest.rstrip(":").strip()
            else:
                add(rest)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            body = bullet[1].strip()
            if line.startswith("-") and not line.startswith("- +"):
                # "- Phòng Tư pháp:" (then "+ …" lines) or "- Phòng Tài chính - Kế hoạch: …"
                lead = ""
                lead_in = _LEAD_IN.match(body)
                if lead_in and not lead_in[2]:
                    lead = lead_in[1].strip()
                    continue
                add(body, own_lead=lead_in[1].strip() if lead_in and _is_title(lead_in[1]) else "")
                continue
            add(body)
            continue
        if lead and _CLOSING.match(line):
            _close_group(passages, section, lead, line)
        add(line)
    return passages


_CLOSING = re.compile(r"^Thời (gian|hạn)\b")


def _close_group(passages: list[Passage], section: str, lead: str, closing: str) -> None:
    """A time line after a list ("Thời gian hoàn thành trước ngày …") holds for each item."""
    for i in range(len(passages) - 1, -1, -1):
        item = passages[i]
        if item.section != section or item.lead != lead or item.closing:
            break
        passages[i] = Passage(item.id, item.section, item.heading, item.lead, item.text, closing)


def _is_title(text: str) -> bool:
    """A heading, not a sentence: short, and no full stop inside."""
    stripped = text.rstrip(":").strip()
    return 0 < len(stripped) <= 70 and "." not in stripped.rstrip(".")
