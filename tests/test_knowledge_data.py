"""The plan data: complete, consistent, and a malformed file names the file and the field."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.base import KnowledgeBase
from knowledge.errors import KnowledgeError
from knowledge.loader import default_data_dir, load_knowledge

CANONICAL_UNITS = {
    "Văn phòng Điều phối nông thôn mới huyện",
    "Phòng Nông nghiệp và Phát triển nông thôn",
    "Phòng Giáo dục và Đào tạo",
    "Phòng Kinh tế và Hạ tầng",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Văn hóa - Thông tin",
    "Phòng Y tế",
    "Phòng Tài chính - Kế hoạch",
    "Chi cục Thống kê huyện",
    "Phòng Lao động - Thương binh và Xã hội",
    "Phòng Nội vụ",
    "Phòng Tư pháp",
    "Bảo hiểm xã hội huyện",
    "Ủy ban Mặt trận Tổ quốc huyện",
    "Công an huyện",
    "Ban Chỉ huy Quân sự huyện",
    "Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện",
    "Ban Quản lý dự án đầu tư xây dựng huyện",
}


def test_counts(kb: KnowledgeBase) -> None:
    counts = kb.counts()
    assert counts["tiêu chí xã"] == 19
    assert counts["tiêu chí huyện"] == 9
    assert counts["xã, thị trấn"] == 34
    assert len([c for c in kb.communes.communes if c.kind == "xa"]) == 32


def test_canonical_unit_names(kb: KnowledgeBase) -> None:
    assert {u.name for u in kb.units} >= CANONICAL_UNITS


def test_every_sub_indicator_has_an_owner_and_deadlines(kb: KnowledgeBase) -> None:
    for code, ind in kb.indicators.items():
        assert ind.owners, code
        links = kb.deadlines_for(code)
        assert links, f"{code} has no deadline"
        if ind.level == "xa":
            # Communes' completion deadline and the owning department's appraisal deadline.
            assert any("cac-xa" in link.units for link in links), code
            assert any(link.deadline.applies_to_owned for link in links), code


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        ("xa:17.4", "kt"),
        ("xa:17.1", "nn"),
        ("xa:17.8", "yte"),
        ("xa:15.1", "bhxh"),
        ("xa:14.3", "ldtbxh"),
        ("xa:18.5", "tp"),
        ("xa:18.6", "ldtbxh"),
        ("xa:19.1", "qs"),
        ("xa:19.2", "ca"),
        ("xa:10", "tk"),
        ("huyen:5.1", "yte"),
        ("huyen:5.2", "vhtt"),
        ("huyen:5.3", "gd"),
        ("huyen:9", "nv"),
        ("huyen:8", "ca"),
        ("huyen:6", "nn"),
    ],
)
def test_owners_from_the_plan(kb: KnowledgeBase, code: str, owner: str) -> None:
    assert kb.indicators[code].owners == (owner,)


def test_each_fact_has_a_source(kb: KnowledgeBase) -> None:
    for deadline in kb.deadlines:
        assert deadline.source and deadline.quote
    for fact in kb.facts:
        assert fact.source and fact.quote
    for unit in kb.units:
        for duty in unit.duties:
            assert duty.source


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_another_directory_loads(data_copy: Path) -> None:
    _edit(data_copy / "plan.yaml", lambda d: d.update(district="Thử Nghiệm", year=2022))
    kb = load_knowledge(data_copy)
    assert kb.meta.district == "Thử Nghiệm"


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        (
            "criteria.yaml",
            lambda d: d["xa"][16]["subs"][3].update(owner="khong-co"),
            "xa[16].subs[3].owner",
        ),
        ("criteria.yaml", lambda d: d["xa"][0].pop("name"), "xa[0].name"),
        ("units.yaml", lambda d: d["units"][0].update(colour="blue"), "units[0].colour"),
        ("deadlines.yaml", lambda d: d["deadlines"][0].update(due="30/9/2021"), "deadlines[0].due"),
        (
            "deadlines.yaml",
            lambda d: d["deadlines"][1].update(criteria=["xa:99"]),
            "deadlines[1].criteria",
        ),
        ("facts.yaml", lambda d: d["facts"][0].update(deadline="nowhere"), "facts[0].deadline"),
        ("communes.yaml", lambda d: d["communes"].append(d["communes"][0]), "communes[34]"),
        ("tasks.yaml", lambda d: d["tasks"][3].update(owner="khong-co"), "tasks[3]"),
        ("tasks.yaml", lambda d: d["tasks"][0].update(deadline="nowhere"), "tasks[0]"),
        ("tasks.yaml", lambda d: d["tasks"][0].update(criteria=["xa:99"]), "tasks[0]"),
        ("tasks.yaml", lambda d: d["tasks"].append(d["tasks"][0]), "tasks.yaml: id"),
        ("tasks.yaml", lambda d: d["tasks"].pop(0), "không có việc nào tương ứng"),
        # a document the plan does not cite, or cites with another date
        (
            "documents.yaml",
            lambda d: d["documents"][0].update(number="559/QĐ-TTg"),
            "Kế hoạch không trích dẫn văn bản số 559/QĐ-TTg",
        ),
        ("documents.yaml", lambda d: d["documents"][1].update(date="2016-12-31"), "qd-2540"),
        ("documents.yaml", lambda d: d["documents"][2].update(kind="cong-van"), "kind"),
        ("documents.yaml", lambda d: d["documents"].append(d["documents"][0]), "trùng lặp"),
    ],
)
def test_malformed_file_names_file_and_field(
    data_copy: Path, file: str, change: object, expected: str
) -> None:
    _edit(data_copy / file, change)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_copy)
    assert file in str(caught.value)
    assert expected in str(caught.value)


def test_yaml_syntax_error_names_the_line(data_copy: Path) -> None:
    (data_copy / "facts.yaml").write_text("facts:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"facts.yaml \(dòng \d+\)"):
        load_knowledge(data_copy)


def test_missing_file(data_copy: Path) -> None:
    (data_copy / "units.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"units\.yaml: không tìm thấy tệp"):
        load_knowledge(data_copy)


def test_every_deadline_binds_its_units_through_tasks(kb: KnowledgeBase) -> None:
    pairs = {(t.deadline, t.owner) for t in kb.tasks}
    for deadline in kb.deadlines:
        for unit in deadline.responsible:
            if deadline.goal and not kb.is_department(unit):
                assert (deadline.id, unit) not in pairs  # a goal is counted, not each one's task
            elif not deadline.applies_to_owned or kb.owned_by(unit):
                assert (deadline.id, unit) in pairs
    # the appraisal dossier names exactly what the unit owns
    tp = kb.task("van-ban-danh-gia.tp")
    assert tp is not None and tp.criteria == ["xa:18.5"] and "18.5" in tp.what
    # every commune does its share; the office has its own dossier
    assert kb.is_commune_task(kb.task("bhyt.cac-xa"))  # type: ignore[arg-type]
    office = kb.task("ho-so-tinh.vpntm")
    assert office is not None and kb.due(office).isoformat() == "2021-10-30"
    assert [kb.due(t) for t in kb.tasks] == sorted(kb.due(t) for t in kb.tasks)


def test_without_tasks_yaml_tasks_are_generated_and_the_cli_writes_them(data_copy: Path) -> None:
    from tests.cli_util import run_cli

    shipped = load_knowledge(data_copy).tasks
    (data_copy / "tasks.yaml").unlink()
    generated = load_knowledge(data_copy).tasks
    assert {t.id for t in generated} == {t.id for t in shipped}
    printed = run_cli("kb", "tasks", "--dir", str(data_copy))
    assert printed.returncode == 0 and "van-ban-danh-gia.tp" in printed.stdout
    assert not (data_copy / "tasks.yaml").exists()  # printing writes nothing
    written = run_cli("kb", "tasks", "--dir", str(data_copy), "--write")
    assert written.returncode == 0, written.stderr
    assert [t.id for t in load_knowledge(data_copy).tasks] == [t.id for t in shipped]


def _rule(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(
        r for section in ("commune", "district") for r in data[section] if r["indicator"] == code
    )


@pytest.mark.parametrize(
    ("change", "field", "bad", "message"),
    [
        (
            lambda d: _rule(d, "xa:15.1")["reports"][0].update(form="bao-hiem"),
            "reports[0].form",
            "bao-hiem",
            "không có mẫu báo cáo 'bao-hiem'",
        ),
        (
            lambda d: _rule(d, "xa:15.1")["reports"][0].update(field="ratio"),
            "reports[0].field",
            "ratio",
            "không có trường 'ratio'",
        ),
        (
            lambda d: _rule(d, "xa:15.1")["reports"][0].update(field="population"),
            "reports[0].field",
            "population",
            "không có mục tiêu (targets) cho 'population'",
        ),
        (
            lambda d: _rule(d, "xa:17.8").update(tasks=["attp.khong-co"]),
            "tasks[0]",
            "attp.khong-co",
            "không có việc 'attp.khong-co'",
        ),
        (  # a district unit's dossier never makes a commune's criterion met
            lambda d: _rule(d, "xa:18").update(tasks=["van-ban-danh-gia.tp"]),
            "tasks[0]",
            "van-ban-danh-gia.tp",
            "không làm thay đổi tình trạng tiêu chí của xã nào",
        ),
        (
            lambda d: _rule(d, "huyen:9").update(tasks=["noi-dung-khac.cac-xa"]),
            "tasks[0]",
            "noi-dung-khac.cac-xa",
            "phần việc của các xã",
        ),
        (
            lambda d: _rule(d, "xa:19").update(due="khong-co"),
            "due",
            "khong-co",
            "không có thời hạn 'khong-co'",
        ),
        (
            lambda d: _rule(d, "xa:19").update(indicator="xa:20"),
            "indicator",
            "xa:20",
            "không có tiêu chí 'xa:20'",
        ),
        (
            lambda d: d["completions"][0].update(form="bhyt-cu"),
            "form",
            "bhyt-cu",
            "không có mẫu báo cáo 'bhyt-cu'",
        ),
    ],
)
def test_kb_check_refuses_a_broken_evidence_rule_with_file_and_line(
    data_copy: Path, change: object, field: str, bad: str, message: str
) -> None:
    from tests.cli_util import run_cli

    path = data_copy / "evidence.yaml"
    _edit(path, change)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_copy)
    text = str(caught.value)
    found = re.match(rf"{re.escape(str(path))}:(\d+): (\S+): (.*)", text)
    assert found is not None, text
    line, where, said = int(found[1]), found[2], found[3]
    assert where.endswith(field) and message in said
    assert bad in path.read_text(encoding="utf-8").splitlines()[line - 1]  # the very line
    checked = run_cli("kb", "check", "--dir", str(data_copy))
    assert checked.returncode == 1 and f"evidence.yaml:{line}:" in checked.stderr


def test_every_indicator_needs_evidence(data_copy: Path) -> None:
    path = data_copy / "evidence.yaml"
    _edit(path, lambda d: d["commune"].remove(_rule(d, "xa:17.8")))
    with pytest.raises(KnowledgeError, match=r"'xa:17\.8' chưa có căn cứ nào"):
        load_knowledge(data_copy)


def test_a_form_declares_the_role_its_reports_play(data_copy: Path) -> None:
    path = data_copy / "forms" / "2-tieu-chi.yaml"
    _edit(path, lambda d: d["standing"].update(met=["xong"]))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_copy)
    found = re.match(
        r".*2-tieu-chi\.yaml:(\d+): standing: 'xong' không phải một lựa chọn", str(caught.value)
    )
    assert found is not None, caught.value
    assert path.read_text(encoding="utf-8").splitlines()[int(found[1]) - 1].startswith("standing")
    _edit(path, lambda d: d["standing"].update(met=["dat"], not_met=[]))
    with pytest.raises(KnowledgeError, match="lựa chọn 'chua' phải nằm ở đúng một"):
        load_knowledge(data_copy)


def test_the_evidence_rules_cover_every_indicator(kb: KnowledgeBase) -> None:
    assert kb.evidence is not None
    assert set(kb.evidence.rules) == set(kb.indicators)
    bhyt = kb.evidence.rule("xa:15.1")
    assert [(s.form, s.field) for s in bhyt.reports] == [("bhyt", "rate")]
    assert bhyt.tasks == ("bhyt.cac-xa",) and bhyt.first_due() == dt.date(2021, 9, 30)
    for rule in kb.evidence.rules.values():  # a commune's standing never rests on a unit's task
        tasks = [kb.task(t) for t in rule.tasks]
        communal = {kb.is_commune_task(t) for t in tasks if t is not None}
        assert communal <= ({True} if rule.place == "commune" else {False}), rule.code


def test_a_report_completes_only_a_task_whose_every_indicator_it_measures(
    data_copy: Path,
) -> None:
    """The production report shows linkage models (13.2), not that the cooperatives follow the
    2012 Law (13.1): it may not complete the production task, which serves both."""
    path = data_copy / "evidence.yaml"
    _edit(path, lambda d: d["completions"].append({"task": "san-xuat.cac-xa", "form": "san-xuat"}))
    with pytest.raises(
        KnowledgeError, match=r"evidence\.yaml:\d+: completions\[\d\]\.task: .*xa:13\.1"
    ):
        load_knowledge(data_copy)


def test_tasks_and_evidence_rules_name_the_same_criteria(data_copy: Path) -> None:
    tasks = data_copy / "tasks.yaml"
    _edit(tasks, lambda d: next(t for t in d["tasks"] if t["id"] == "attp.cac-xa").update(
        criteria=["xa:17.7"]))  # fmt: skip
    with pytest.raises(KnowledgeError, match=r"không ghi tiêu chí 'xa:17\.8'"):
        load_knowledge(data_copy)


def test_every_document_the_plan_cites_is_a_record(kb: KnowledgeBase) -> None:
    """Every "Quyết định/Thông tư/… số N" in the plan's text is in documents.yaml."""
    text = (kb.source_dir / kb.meta.source_file).read_text("utf-8")
    cited = set(
        re.findall(
            r"(?:Quyết định|Thông tư|Nghị quyết|Thông báo kết luận|Kế hoạch)"
            r"(?: số)? (\d[\w/.-]*[\w])",
            text,
        )
    )
    assert cited == {d.number for d in kb.documents.documents}


def test_no_persons_matter_phrase_is_one_the_plan_uses() -> None:
    """A phrase that marks a question as a person's own matter must never be the plan's
    own words, or a question quoting the plan would be turned away."""
    from knowledge.lexicon import load_lexicon
    from knowledge.normalize import find_phrase, words

    lexicon = load_lexicon()
    text = Path(__file__).parent.parent / "knowledge" / "data" / "ke-hoach-trieu-son-ntm-2021.txt"
    plan = lexicon.expand(words(text.read_text(encoding="utf-8")))
    assert lexicon.citizen_matters
    used = [
        " ".join(m.folded)
        for m in lexicon.citizen_matters
        if find_phrase(plan, m.folded) is not None
    ]
    assert used == []
