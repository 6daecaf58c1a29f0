"""What a question is about, measured generally (issue 23): the words that only frame a
question (the district's name, the programme's, "kế hoạch"), a head word of another subject,
another subject's "hết hạn", units typed as pieces of their acronym, and documents asked by
their issuer and subject. The examples are not those of any question set."""

from __future__ import annotations

import pytest

from handlers.qa import QA
from knowledge.engine import QueryEngine
from knowledge.normalize import is_syllable
from tests.conftest import PLAN_TODAY

UNIT_NAMES = {
    "bhxh": "Bảo hiểm xã hội huyện",
    "ca": "Công an huyện",
    "gd": "Phòng Giáo dục và Đào tạo",
    "kt": "Phòng Kinh tế và Hạ tầng",
    "yte": "Phòng Y tế",
    "ldtbxh": "Phòng Lao động - Thương binh và Xã hội",
    "nn": "Phòng Nông nghiệp và Phát triển nông thôn",
    "tnmt": "Phòng Tài nguyên và Môi trường",
    "vhtt": "Phòng Văn hóa - Thông tin",
}


def ask(qa: QA, question: str) -> dict[str, object]:
    return qa.answer(question, PLAN_TODAY).to_json()


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("p tn mt phụ trách gì", "Phòng Tài nguyên và Môi trường"),
        ("phong ld tb xh lo viec gi", "Phòng Lao động - Thương binh và Xã hội"),
        ("p. tư pháp làm gì", "Phòng Tư pháp"),
    ],
)
def test_a_unit_typed_as_pieces_of_its_acronym_or_with_p(qa: QA, question: str, unit: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "duties"
    assert answer["departments"] == [unit]


def test_the_district_name_is_not_what_a_question_is_about(qa: QA) -> None:
    # "Triệu Sơn" names where, not what: the school exam is another subject …
    answer = ask(qa, "tra cứu điểm thi lớp 10 ở Triệu Sơn")
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []
    # … but inside a school's name it is the name a deadline says
    answer = ask(qa, "trường THPT Triệu Sơn 2 đạt chuẩn khi nào")
    assert answer["departments"] == ["Phòng Giáo dục và Đào tạo"]
    assert "2021-10-30" in answer["deadlines"]


@pytest.mark.parametrize(
    "question",
    ["phí làm thẻ bảo hiểm y tế bao nhiêu", "lương giáo viên mầm non triệu sơn bao nhiêu"],
)
def test_a_head_word_of_another_subject_before_a_topic_is_no_answer(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["departments"] == []
    assert "không có thông tin" in str(answer["text"])


def test_another_subjects_expiry_is_not_the_plans_calendar(qa: QA) -> None:
    answer = ask(qa, "thẻ căn cước hết hạn thì làm sao")
    assert answer["intent"] == "out_of_scope" and answer["deadlines"] == []
    assert ask(qa, "việc gì sắp hết hạn")["intent"] == "calendar"


def test_a_task_about_all_criteria_is_a_task_not_the_list(qa: QA) -> None:
    answer = ask(qa, "quay phóng sự về các tiêu chí do đơn vị nào")
    assert answer["intent"] == "owner"
    assert answer["departments"] == ["Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện"]


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("tb của ban thường vụ huyện ủy số mấy", "325-TB/HU"),
        ("qd cua ubnd tinh so may", "1415/2017/QĐ-UBND"),
        ("quyết định của thủ tướng về tiêu chí huyện là số nào", "558/QĐ-TTg"),
    ],
)
def test_a_document_by_its_issuer_written_short(qa: QA, question: str, number: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "document"
    assert number in str(answer["text"])


def test_the_legal_bases_asked_in_other_words_list_every_document(qa: QA) -> None:
    answer = ask(qa, "kế hoạch dựa trên những văn bản nào")
    assert answer["intent"] == "document"
    for number in ("558/QĐ-TTg", "1415/2017/QĐ-UBND", "325-TB/HU", "01-NQ/ĐH"):
        assert number in str(answer["text"])


def test_a_plan_of_another_year_is_not_this_plan_though_its_dates_reach_it(qa: QA) -> None:
    answer = ask(qa, "kế hoạch năm 2022 giao cho xã việc gì")
    assert answer["intent"] == "not_this_plan" and answer["departments"] == []
    assert "năm 2022" in str(answer["text"])
    # a deadline of this plan that falls in 2022 is still this plan's
    answer = ask(qa, "đoàn trung ương thẩm định năm 2022 khi nào")
    assert answer["intent"] == "deadline" and "2022-03-31" in answer["deadlines"]


@pytest.mark.parametrize(
    ("question", "unit", "intent"),
    [
        ("ban chi huy qs co nhiem vu j", "Ban Chỉ huy Quân sự huyện", "duties"),
        ("p.yte phải nộp hồ sơ ngày mấy", "Phòng Y tế", "deadline"),
        ("ai mời sở khđt thẩm định", "Phòng Tài chính - Kế hoạch", "owner"),
    ],
)
def test_units_and_bodies_named_with_phone_short_forms(
    qa: QA, question: str, unit: str, intent: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == intent
    assert answer["departments"] == [unit]


def test_the_askers_own_commune_does_not_hide_the_plans_words(qa: QA) -> None:
    # "xã em là Thọ Ngọc" says who asks; the communes' part of the plan is still quoted
    answer = ask(qa, "xa e la Thọ Ngọc, trật tự an ninh xã phải làm gì")
    assert "khiếu kiện đông người" in str(answer["text"])


def test_what_a_communes_road_must_meet_quotes_the_plan(qa: QA) -> None:
    answer = ask(qa, "đường giao thông xã cần đảm bảo yêu cầu gì")
    assert "bề rộng mặt đường" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "first", "last"),
    [
        ("2 thang cuoi nam can xong nhung j", "2021-11-01", "2021-12-31"),
        ("sang đầu năm sau còn việc gì", "2022-01-01", "2022-03-31"),
        ("từ nay đến giữa tháng 11 có việc gì đến hạn", "2021-10-15", "2021-11-15"),
    ],
)
def test_windows_at_the_ends_of_a_year_and_mid_month(
    qa: QA, question: str, first: str, last: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "calendar"
    text = str(answer["text"])
    for day in (first, last):
        y, m, d = day.split("-")
        assert f"{d}/{m}/{y}" in text


def test_english_document_kinds_in_the_plural(qa: QA) -> None:
    answer = ask(qa, "which decisions does the plan cite")
    assert answer["intent"] == "document"
    assert "558/QĐ-TTg" in str(answer["text"])


@pytest.mark.parametrize(
    ("word", "syllable"),
    [("thong", True), ("nghieng", True), ("thoai", True), ("thogn", False), ("tnmt", False)],
)
def test_a_slip_is_told_from_a_syllable(word: str, syllable: bool) -> None:
    assert is_syllable(word) is syllable


def test_a_criterion_named_by_its_subject_is_as_good_as_its_number(qa: QA) -> None:
    # the dossier task's words match the district's own dossier; the criterion named says whose
    answer = ask(qa, "tiêu chí thủy lợi cấp huyện ai lập hồ sơ trình sở")
    assert answer["departments"] == ["Phòng Nông nghiệp và Phát triển nông thôn"]
    answer = ask(qa, "tieu chi moi truong huyen ai phu trach")  # not a "tiêu chí mới"
    assert answer["departments"] == ["Phòng Tài nguyên và Môi trường"]


def test_of_several_units_the_one_asked_about_not_its_partner(qa: QA) -> None:
    answer = ask(qa, "ngoài việc chỉ đạo các xã thì phòng tài nguyên phối hợp với ban qlda làm gì")
    assert answer["intent"] == "duties"
    assert answer["departments"] == ["Phòng Tài nguyên và Môi trường"]


def test_a_unit_named_gets_its_own_part_of_a_shared_deadline(qa: QA) -> None:
    answer = ask(qa, "Phòng Tư pháp phải có văn bản đánh giá đạt trước ngày nào")
    assert answer["departments"] == ["Phòng Tư pháp"]
    assert "2021-11-15" in answer["deadlines"]
    assert "Sở Tư pháp" in str(answer["text"])


def test_within_a_window_and_legal_bases_asked_in_passing(qa: QA) -> None:
    assert ask(qa, "trong vòng 10 ngày tới có việc gì")["intent"] == "calendar"
    answer = ask(qa, "anh chị cho hỏi kế hoạch này dựa vào căn cứ văn bản nào")
    assert answer["intent"] == "document" and "558/QĐ-TTg" in str(answer["text"])


def test_a_criterion_named_after_its_marker_with_words_between_or_trouble_around(qa: QA) -> None:
    assert ask(qa, "tiêu chí về chợ do phòng nào hướng dẫn")["departments"] == [
        "Phòng Kinh tế và Hạ tầng"
    ]
    answer = ask(qa, "đường dây điện hạ thế xã hay mất điện, tc điện hỏi phòng nào")
    assert answer["departments"] == ["Phòng Kinh tế và Hạ tầng"]
    assert "Điện" in str(answer["text"])


def test_a_topic_read_two_ways_is_not_answered_with_either(qa: QA) -> None:
    # "nhà … dột nát" is housing and "nhà văn hóa thôn" culture: no confident owner
    answer = ask(qa, "nhà văn hóa thôn bị dột nát xuống cấp, phòng nào hướng dẫn ạ")
    assert answer["departments"] == []


@pytest.mark.parametrize(
    "question",
    [
        "Quang Nam co ke hoach ntm nam 2021 ko",  # a province written as a name, no marks
        "kế hoạch xây dựng nông thôn mới năm 2023 của huyện có gì",  # another year's plan
    ],
)
def test_other_places_and_years_named_loosely(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "not_this_plan" and answer["departments"] == []
    assert "Triệu Sơn" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "last"),
    [
        ("từ giờ đến 25/11 có những hạn nào", "25/11/2021"),
        ("from now until the end of the year what is due", "31/12/2021"),
    ],
)
def test_windows_from_today_to_a_day_or_the_years_end(qa: QA, question: str, last: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "calendar"
    assert "15/10/2021" in str(answer["text"]) and last in str(answer["text"])


def test_a_units_share_asked_as_what_it_was_given(qa: QA) -> None:
    answer = ask(qa, "phòng nông nghiệp được giao những nội dung nào")
    assert answer["intent"] == "duties"
    assert answer["departments"] == ["Phòng Nông nghiệp và Phát triển nông thôn"]


def test_a_criterion_found_through_mostly_one_parts_words_is_that_part(qa: QA) -> None:
    # the environment criterion has four owners; the part about production sites has one
    answer = ask(qa, "cơ sở làm gạch gây ô nhiễm môi trường, phòng nào hướng dẫn")
    assert answer["departments"] == ["Phòng Tài nguyên và Môi trường"]
    assert "17.2" in str(answer["text"])


def test_how_often_and_on_which_day_is_the_fact_not_the_criterions_dates(qa: QA) -> None:
    answer = ask(qa, "vệ sinh môi trường ở xã mấy lần một tháng, làm vào ngày nào")
    assert "4 lần/tháng" in str(answer["text"])


def test_where_to_go_is_not_in_the_plan_but_where_to_report_is(qa: QA) -> None:
    assert ask(qa, "đăng ký nghĩa vụ quân sự ở đâu")["departments"] == []
    answer = ask(qa, "khi gặp vướng mắc trong xây dựng NTM thì xã phản ánh về đâu")
    assert answer["departments"] == ["Văn phòng Điều phối nông thôn mới huyện"]


def test_repairs_of_a_communes_school_fall_under_its_infrastructure_deadline(qa: QA) -> None:
    answer = ask(qa, "sửa trường tiểu học của xã phải xong trước ngày nào")
    assert "2021-12-31" in answer["deadlines"]


@pytest.mark.parametrize(
    ("question", "intent", "unit"),
    [
        ("What is the maximum allowed rate of stunted children in a commune?", "no_figure", "yte"),
        ("In which quarter does the central appraisal team come?", "deadline", "ubnd"),
        ("Which office sets up the large-scale, high-value farming models?", "owner", "nn"),
    ],
)
def test_english_figures_quarters_and_tasks(qa: QA, question: str, intent: str, unit: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == intent
    assert answer["departments"] == [qa.kb.unit(unit).name]


@pytest.mark.parametrize(
    ("question", "first", "last"),
    [
        ("What is due between now and the end of November?", "15/10/2021", "30/11/2021"),
        ("các hạn từ 25/10 đến 16/11 là gì", "25/10/2021", "16/11/2021"),
    ],
)
def test_windows_named_by_both_ends(qa: QA, question: str, first: str, last: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "calendar"
    assert first in str(answer["text"]) and last in str(answer["text"])
    assert "2021-11-15" in answer["deadlines"]


def test_days_left_for_a_units_share_is_a_date_question(qa: QA) -> None:
    answer = ask(qa, "phòng tư pháp còn mấy ngày để có văn bản đánh giá đạt")
    assert answer["intent"] == "deadline" and answer["departments"] == ["Phòng Tư pháp"]
    assert "còn 31 ngày" in str(answer["text"])


def test_a_cited_plan_asked_by_its_year_is_that_plan_not_another_years(qa: QA) -> None:
    answer = ask(qa, "kế hoạch phân công nhiệm vụ năm 2020 của UBND huyện số mấy")
    assert answer["intent"] == "document" and "4907/KH-UBND" in str(answer["text"])
    assert ask(qa, "kế hoạch năm 2022 giao cho xã việc gì")["intent"] == "not_this_plan"


@pytest.mark.parametrize(
    "question",
    ["lịch thi đấu cầu lông ở nhà thi đấu huyện tuần sau", "mua gạo ST25 ở đâu rẻ"],
)
def test_another_calendar_and_a_place_to_buy_are_not_the_plans(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_a_criterion_named_by_its_subject_at_both_levels_asks_which(qa: QA) -> None:
    answer = ask(qa, "ai phụ trách tiêu chí giao thông")
    assert answer["intent"] == "ambiguous"
    assert "cả hai cấp" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "day"),
    [
        ("kh này quý 1 năm 2022 có việc gì", "31/03/2022"),
        ("3 tháng đầu năm 2022 có việc gì", "31/03/2022"),
    ],
)
def test_this_plans_dates_in_another_year_are_still_this_plans(
    qa: QA, question: str, day: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "calendar" and day in str(answer["text"])


def test_a_criterion_named_in_full_is_not_one_of_its_parts(qa: QA) -> None:
    answer = ask(qa, "môi trường và an toàn thực phẩm ai phụ trách")
    assert len(answer["departments"]) == 4


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("sở kế hoạch và đầu tư thẩm định tiêu chí nào", "Phòng Tài chính - Kế hoạch"),
        ("nâng cấp trạm y tế xã do phòng nào phụ trách", "Phòng Y tế"),
    ],
)
def test_names_and_keywords_that_share_the_plans_words(qa: QA, question: str, unit: str) -> None:
    assert ask(qa, question)["departments"] == [unit]


def test_the_programmes_name_is_no_subject_of_a_document_question(qa: QA) -> None:
    answer = ask(qa, "kế hoạch ntm huyện triệu sơn căn cứ vào văn bản nào")
    assert answer["intent"] == "document" and "558/QĐ-TTg" in str(answer["text"])


def test_where_the_communes_send_reports_is_theirs_to_know(qa: QA) -> None:
    assert ask(qa, "các xã gửi báo cáo ở đâu")["intent"] != "out_of_scope"


@pytest.mark.parametrize(
    "question",
    [
        "thẻ bảo hiểm y tế bị mất thì làm sao",
        "cap lai the bao hiem y te cho me em",
        "gạo ST25 giá bao nhiêu một cân",
        "lich thi hoc ky truong thcs tho ngoc",
        "lịch cắt điện ở các xã tuần này",
        "giá bán sản phẩm OCOP của xã là bao nhiêu",
        "what is the price of a health insurance card for a child",
        "how much does a health insurance card cost for a child",
    ],
)
def test_a_persons_own_matter_is_not_the_plans_whatever_word_it_shares(
    qa: QA, question: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope"
    assert answer["departments"] == [] and answer["deadlines"] == []


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # typed with marks, "quốc gia về" is not "giá vé" …
        ("trường đạt chuẩn quốc gia về y tế học đường phòng nào", "Phòng Y tế"),
        # … and a criterion named makes "mất điện" the plan's trouble, not a household's
        ("điện lưới xã hay mất điện thì tiêu chí điện do ai hướng dẫn", "Phòng Kinh tế và Hạ tầng"),
    ],
)
def test_a_persons_matter_is_read_with_its_marks_and_never_over_a_criterion_named(
    qa: QA, question: str, unit: str
) -> None:
    assert unit in ask(qa, question)["departments"]


@pytest.mark.parametrize(
    "question",
    [
        "tt văn hóa thông tin thể thao du lịch huyện có nhiệm vụ gì",
        "trung tam vh tt tt va dl huyen phu trach nhung gi",
    ],
)
def test_a_centre_typed_as_tt_or_its_acronym_pieces_with_va(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["departments"] == ["Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện"]


def test_an_english_question_word_that_opens_the_question_says_what_is_asked(qa: QA) -> None:
    answer = ask(qa, "When must the communes finish the clean water indicator")
    assert answer["intent"] == "deadline" and "2021-10-30" in answer["deadlines"]


def test_what_falls_due_after_a_day(qa: QA) -> None:
    answer = ask(qa, "sau ngày 30/11 còn những hạn nào")
    assert answer["intent"] == "calendar"
    assert "sau ngày 30/11/2021" in str(answer["text"])
    assert "2021-12-31" in answer["deadlines"] and "2021-10-30" not in answer["deadlines"]


def test_a_name_of_everyday_words_typed_plainly_is_those_words(qa: QA) -> None:
    # "xa can co ..." is "xã cần có ...", not the commune Căn Co (elsewhere in Vietnam) …
    answer = ask(qa, "xa can co bao nhieu san pham ocop")
    assert answer["intent"] != "not_this_plan"
    # … which is named when written as a name
    assert ask(qa, "xa Can Co lam ntm the nao")["intent"] == "not_this_plan"


@pytest.mark.parametrize(
    "question",
    [
        "huyện Đông Sơn giao tiêu chí giao thông cho phòng nào",  # a district of 2021, merged since
        "who leads criterion 2 in Dong Son district",
    ],
)
def test_a_district_of_the_plans_time_merged_since_is_another_place(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "not_this_plan" and answer["departments"] == []
    assert "Đông Sơn" in str(answer["text"])


def test_some_things_described_then_whose_they_are(qa: QA) -> None:
    # "mấy cái" is "some" where the question asks whose the matter is, not a count asked
    answer = ask(qa, "thôn có mấy cái chuồng trại gây ô nhiễm, phòng nào hướng dẫn xử lý")
    assert answer["intent"] != "no_figure"
    # a rate asked with its owner: the plan gives no rate, and says whose it is
    answer = ask(qa, "nuoc sach phai dat may phan tram, phong nao phu trach")
    assert answer["intent"] == "no_figure"
    assert answer["departments"] == ["Phòng Nông nghiệp và Phát triển nông thôn"]
    # "liên hệ" asks whom to contact: not a word of the subject
    answer = ask(qa, "xã chưa đạt chuẩn tiếp cận pháp luật thì liên hệ phòng nào")
    assert answer["departments"] == ["Phòng Tư pháp"]


def test_how_many_units_lists_them_and_a_persons_paper_typed_plainly(qa: QA) -> None:
    assert ask(qa, "huyen co bao nhieu phong ban")["intent"] == "list_units"
    # the speller would make "cuoc" another word: the words as typed are read too
    answer = ask(qa, "lam lai can cuoc o dau")
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_a_cited_document_asked_by_its_date(qa: QA) -> None:
    answer = ask(qa, "văn bản ký ngày 12/8/2021 là văn bản gì")
    assert answer["intent"] == "document" and "325-TB/HU" in str(answer["text"])
    answer = ask(qa, "ngay 26/12/2016 co van ban nao")
    assert answer["intent"] == "document" and "35/2016/TT-BNNPTNT" in str(answer["text"])
    assert "558/QĐ-TTg" not in str(answer["text"])


def test_a_department_asked_is_never_the_communes_own_task(qa: QA) -> None:
    # the communes' task on cooperatives is the closest text; the department is criterion 13's
    answer = ask(qa, "hop tac xa o xa hoat dong yeu, sai luat thi phong nao giup do")
    assert answer["departments"] == ["Phòng Nông nghiệp và Phát triển nông thôn"]


def test_a_month_typed_without_its_n_and_a_service_cooperative_short(qa: QA) -> None:
    answer = ask(qa, "thág 11 có những việc gì phải xong")
    assert answer["intent"] == "calendar" and "2021-11-15" in answer["deadlines"]
    answer = ask(qa, "htx dv nong nghiep cua xa phai lam gi")
    assert answer["intent"] == "duties" and "Hợp tác xã dịch vụ nông nghiệp" in str(answer["text"])


@pytest.mark.parametrize(
    "question",
    [
        "làm căn cước ở công an huyện mấy ngày thì có",  # typed with marks, "cước" kept
        "dang ky nghia vu quan su can giay to gi",
        "gia dinh chinh sach duoc tro cap bao nhieu",
        "phụ cấp cán bộ thôn năm nay bao nhiêu",
        "what is the fee for renewing a health insurance card",
    ],
)
def test_more_of_a_persons_matters(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_another_province_asked_about_a_document_is_another_place(qa: QA) -> None:
    answer = ask(qa, "tỉnh Hà Tĩnh áp dụng bộ tiêu chí xã theo quyết định nào")
    assert answer["intent"] == "not_this_plan" and "Hà Tĩnh" in str(answer["text"])


def test_units_listed_side_by_side_each_get_their_duties(qa: QA) -> None:
    answer = ask(qa, "phòng nội vụ và phòng tư pháp mỗi bên lo phần nào")
    assert answer["intent"] == "duties"
    assert answer["departments"] == ["Phòng Nội vụ", "Phòng Tư pháp"]
    # a partner is no second subject
    answer = ask(qa, "phòng nội vụ phối hợp với phòng tư pháp làm gì")
    assert answer["departments"] == ["Phòng Nội vụ"]
    # "lo phần nào, hạn bao giờ": its duties, with their dates
    answer = ask(qa, "phong noi vu lo phan nao, han bao gio")
    assert answer["intent"] == "duties" and "18.1" in str(answer["text"])


def test_english_questions_are_not_turned_away_for_their_english_words(qa: QA) -> None:
    # "today" stays a word (not "to day"); a unit named in English with a window gets its part
    answer = ask(qa, "From today until the end of next month, what must the Justice Department do?")
    assert answer["departments"] == ["Phòng Tư pháp"] and "2021-11-15" in answer["deadlines"]
    # the programme's name frames the question, the rest says what it is about
    answer = ask(qa, "by when must communes complete the remaining NTM criteria")
    assert "2021-10-30" in answer["deadlines"]


def test_who_asks_and_what_is_done_frame_a_question(qa: QA) -> None:
    # the asker's role and the work done ("sửa chữa, nâng cấp") say nothing of the subject
    answer = ask(
        qa, "cán bộ xã chúng tôi hỏi: sửa chữa, nâng cấp chợ nông thôn phải xong trước ngày nào"
    )
    assert "2021-12-31" in answer["deadlines"]
    # … and do not make another subject the plan's
    assert ask(qa, "nâng cấp phần mềm máy tính ở xã thế nào")["intent"] == "out_of_scope"


def test_which_plan_a_cited_plan_is_by_its_subject_and_short_kind(qa: QA) -> None:
    answer = ask(qa, "kh phân công nhiệm vụ tiêu chí huyện cho phòng ban là kh nào")
    assert answer["intent"] == "document" and "4907/KH-UBND" in str(answer["text"])


def test_what_the_plan_says_of_the_communes_on_a_matter_without_a_topic(qa: QA) -> None:
    answer = ask(qa, "bcd ntm xa kien toan ra sao")
    assert answer["intent"] == "passage" and "mỗi người một việc" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        (
            "what is the agriculture office in charge of",
            "Phòng Nông nghiệp và Phát triển nông thôn",
        ),
        ("what does the education office handle", "Phòng Giáo dục và Đào tạo"),
    ],
)
def test_a_department_named_in_english_as_an_office(qa: QA, question: str, unit: str) -> None:
    assert ask(qa, question)["departments"] == [unit]


@pytest.mark.parametrize(
    "question",
    ["mất thẻ bảo hiểm y tế phải làm gì", "thẻ BHYT mất thì cấp lại thế nào"],
)
def test_a_lost_card_and_an_allowance_are_a_persons_matters(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_short_forms_and_the_programmes_name_around_a_topic(qa: QA) -> None:
    # "hạ tầng" alone is the communes' infrastructure work
    answer = ask(qa, "xã phải làm gì về hạ tầng, xong trước ngày nào")
    assert "2021-12-31" in answer["deadlines"]
    # "nn" is nông nghiệp
    assert "Phòng Nông nghiệp" in str(ask(qa, "nganh nn phai co may mo hinh san xuat")["text"])
    # "chương trình NTM" frames the question: the satisfaction dossier is what it is about
    answer = ask(qa, "hồ sơ dân hài lòng với ctr ntm ai làm")
    assert answer["departments"] == ["Ủy ban Mặt trận Tổ quốc huyện"]


def test_what_communes_must_do_quotes_their_part_even_when_a_unit_says_it_better(qa: QA) -> None:
    # a department's duty speaks of household waste too; the communes' own part is quoted
    answer = ask(qa, "rác thải sinh hoạt thì các xã phải làm gì")
    assert "điểm tập kết" in str(answer["text"]) and "III.1.1" in str(answer["text"])


@pytest.mark.parametrize(
    "question",
    [
        "xa lam the nao de dat chuan nong thon moi",  # "lam the" is "làm thế", not "làm thẻ"
        "nguoi dan tham gia ve sinh moi truong the nao",  # "gia ve" of "tham gia vệ sinh"
        "cac xa tham gia ban chi dao the nao",  # "gia ban" of "tham gia ban chỉ đạo"
        "so do quy hoach xa do ai lap",  # "sơ đồ", not "sổ đỏ"
        "xã rà soát thẻ BHYT làm thế nào",  # "thẻ" elsewhere does not make "làm thế" "làm thẻ"
        "hồ sơ đề nghị công nhận huyện đạt chuẩn cần giấy tờ gì",  # the plan's own dossier
    ],
)
def test_everyday_words_are_not_read_as_a_persons_matter(qa: QA, question: str) -> None:
    assert ask(qa, question)["intent"] != "out_of_scope"


def test_a_topic_named_only_by_question_words_typed_plainly_is_no_topic(qa: QA) -> None:
    # "trong cho von" is "trông chờ vốn" (the plan's section IV.2), not criterion 7's "chợ"
    answer = ask(qa, "xa co duoc trong cho von cap tren khong")
    assert answer["departments"] == [] and "IV.2" in str(answer["text"])
    # "chợ" written so is still the market
    assert ask(qa, "chợ nông thôn ai phụ trách")["departments"] == ["Phòng Kinh tế và Hạ tầng"]


def test_a_unit_whose_name_is_a_criterions_words_keeps_its_own_task(qa: QA) -> None:
    # "district culture centre" names criterion 5.2 word for word, but the rest of the
    # question is the centre's own task (reports and images, due 30/10)
    answer = ask(qa, "by when must the district culture centre finish the reports and images")
    assert answer["departments"] == ["Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện"]
    assert "2021-10-30" in answer["deadlines"]


def test_windows_and_submissions_asked_in_other_words(qa: QA) -> None:
    # "nộp gì" this month asks what falls due
    answer = ask(qa, "thang nay xa con phai nop gi")
    assert answer["intent"] == "calendar" and "2021-10-30" in answer["deadlines"]
    # "between now and the end of the year" runs to 31/12
    answer = ask(qa, "what falls due between now and the end of the year")
    assert "2021-12-31" in answer["deadlines"]
    # "hôm nay 15/10 rồi" is context: the deadline asked is the topic's
    answer = ask(qa, "hom nay 15/10 roi, con may ngay nua het han nop ho so cong nhan huyen")
    assert answer["intent"] != "calendar"


@pytest.mark.parametrize(
    "question",
    ["giá điện sinh hoạt tháng này bao nhiêu", "nghi om dai ngay bhxh tra the nao"],
)
def test_a_price_at_home_and_sick_pay_are_a_persons_matters(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_how_communes_must_organise_a_matter_quotes_their_part(qa: QA) -> None:
    answer = ask(qa, "cac xa phai to chuc ve sinh moi truong nhu the nao")
    assert "4 lần/tháng" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("ai đánh giá nước sạch của xã", "owner"),  # "đánh giá", no "giá nước"
        ("xã phải tổ chức vệ sinh môi trường mấy lần một tháng", "fact"),  # the plan says 4
        ("trong tháng này hồ sơ BHYT phải nộp gì", "deadline"),  # BHYT's, not every date
        ("cho xa do ai quan ly", "owner"),  # "cho" typed plainly, asked of: the market
        ("what are the plan's targets", "fact"),
    ],
)
def test_second_review_cases_keep_the_plans_answer(qa: QA, question: str, intent: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == intent, answer["text"]


def test_the_asking_unit_does_not_widen_the_topic_asked(qa: QA) -> None:
    # "Phòng Y tế hỏi …": the BHYT deadline itself, not all of criterion 15's
    answer = ask(qa, "Phòng Y tế hỏi hạn BHYT là khi nào")
    assert answer["deadlines"][0] == "2021-09-30"


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        (
            "kenh muong noi dong bi boi lang het, hoi phong nao",
            "Phòng Nông nghiệp và Phát triển nông thôn",
        ),
        (
            "loa phát thanh ở thôn bị hỏng lâu rồi, đơn vị nào phụ trách",
            "Phòng Văn hóa - Thông tin",
        ),
        ("tre em trong xa coi coc thap be nhieu thi phong nao huong dan", "Phòng Y tế"),
    ],
)
def test_trouble_described_in_everyday_words_finds_its_criterion(
    qa: QA, question: str, unit: str
) -> None:
    assert ask(qa, question)["departments"] == [unit]


def test_two_criteria_reading_the_same_words_ask_which_one(qa: QA) -> None:
    answer = ask(qa, "nhà văn hóa thôn bị dột nát xuống cấp, phòng nào hướng dẫn ạ")
    assert answer["intent"] == "suggest" and answer["departments"] == []
    assert "Tiêu chí 9" in str(answer["text"]) and "6" in str(answer["text"])


def test_asides_and_problems_met_frame_the_question(qa: QA) -> None:
    answer = ask(qa, "tháng 11 có những mốc nào cần lưu ý")
    assert answer["intent"] == "calendar" and "2021-11-15" in answer["deadlines"]
    answer = ask(qa, "thôn gặp khó khăn vướng mắc khi làm ntm thì phản ánh về đâu")
    assert answer["departments"] == ["Văn phòng Điều phối nông thôn mới huyện"]


@pytest.mark.parametrize(
    "question",
    ["mức lương công chức văn hóa xã là bao nhiêu", "where can I buy OCOP products online"],
)
def test_wages_and_shopping_are_a_persons_matters(qa: QA, question: str) -> None:
    assert ask(qa, question)["intent"] == "out_of_scope"


@pytest.mark.parametrize(
    "question",
    ["how do I renew my passport", "how much is a bus ticket from Trieu Son to Thanh Hoa city"],
)
def test_an_english_question_with_few_marker_words_is_answered_in_english(
    qa: QA, question: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope"
    assert "does not have any information" in str(answer["text"])
    # a command typed as one run of syllables stays Vietnamese
    assert "Tiêu chí" in str(ask(qa, "/tieuchi")["text"])


@pytest.mark.parametrize(
    "question",
    ["kế hoạch này được gửi tới những ai", "kh nay gui nhung dau", "nơi nhận của kế hoạch"],
)
def test_whom_the_plan_is_sent_to_is_its_list_of_recipients(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "document" and answer["departments"] == []
    text = str(answer["text"])
    assert "Văn phòng Điều phối NTM tỉnh" in text and "UBND các xã" in text


def test_whom_the_plan_is_sent_to_in_english(qa: QA) -> None:
    text = str(ask(qa, "who gets a copy of this plan? recipients")["text"])
    assert "provincial NTM Coordination Office" in text and "Nơi nhận" not in text


def test_where_a_report_goes_is_not_the_plans_recipients(qa: QA) -> None:
    # a report sent to someone is the task of whoever compiles it, not the plan's own list
    answer = ask(qa, "báo cáo kết quả tự đánh giá gửi cho ai")
    assert answer["intent"] != "document" and "Nơi nhận" not in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # the people and places around a topic describe the case; whose the topic is is asked
        ("ở xóm tôi nhiều người già không có thẻ bảo hiểm y tế, phòng nào phụ trách", "bhxh"),
        ("bọn trẻ trong thôn không có việc làm thì đơn vị nào lo", "ldtbxh"),
        ("nuoc may chua ve thon, dan van dung nuoc gieng, muon co nuoc sach hoi ai", "nn"),
    ],
)
def test_a_case_described_around_a_topic_asks_whose_the_topic_is(
    qa: QA, question: str, unit: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "owner"
    assert answer["departments"] == [UNIT_NAMES[unit]]


@pytest.mark.parametrize(
    "question",
    [
        "phí bảo hiểm y tế năm nay phòng nào thu",  # the topic modifies another subject's word
        "cháu bị ho sốt uống thuốc gì, trạm y tế xã phòng nào quản lý",  # another case told
    ],
)
def test_a_topic_heading_or_beside_another_subject_is_still_no_answer(
    qa: QA, question: str
) -> None:
    assert ask(qa, question)["departments"] == []


def test_a_criterion_named_after_its_marker_is_the_one_its_words_read_best(qa: QA) -> None:
    # "nhà tắm" folded is "nhà tạm" (housing, criterion 9); with "nhà tiêu … hợp vệ sinh" the
    # words read as 17.6, whose owner is another unit
    answer = ask(qa, "chỉ tiêu nhà tắm nhà tiêu hợp vệ sinh phòng nào hướng dẫn")
    assert answer["departments"] == [UNIT_NAMES["tnmt"]]


@pytest.mark.parametrize(
    ("question", "place"),
    [("who handles criterion 2 in Haiphong", "Hải Phòng"), ("hanoi co tc 17 ko", "Hà Nội")],
)
def test_a_province_written_as_one_word_is_another_place(qa: QA, question: str, place: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "not_this_plan" and place in str(answer["text"])
    assert answer["departments"] == []


@pytest.mark.parametrize(
    "question",
    ["mỗi thôn kiểu mẫu được hỗ trợ mấy triệu", "kinh phi lam 1 thon kieu mau bao nhieu"],
)
def test_money_asked_is_not_answered_by_a_count(qa: QA, question: str) -> None:
    # the plan counts the model villages ("ít nhất 01") but gives no amount of money
    answer = ask(qa, question)
    assert answer["intent"] == "no_figure"
    assert "không nêu số tiền" in str(answer["text"])


def test_money_asked_in_english_is_said_in_english(qa: QA) -> None:
    answer = ask(qa, "how much money does each model village get")
    assert answer["intent"] == "no_figure"
    assert "does not state any amount of money" in str(answer["text"])


@pytest.mark.parametrize(
    ("question", "number"),
    [
        (
            "what circular explains how to carry out the district NTM criteria",
            "35/2016",
        ),  # its kind
        (
            "which decision cited in the plan sets the commune NTM criteria, when was it issued",
            "1415/2017",
        ),
        ("what document gives the district NTM criteria", "558"),
        ("văn bản huyện ủy ban hành ngày 12/8/2021 là văn bản nào", "325"),
        ("kế hoạch phân công nhiệm vụ các phòng ban ngành số bn", "4907"),
    ],
)
def test_a_cited_document_by_kind_subject_issuer_and_date(
    qa: QA, question: str, number: str
) -> None:
    answer = ask(qa, question)
    assert answer["intent"] in ("document", "passage") and number in str(answer["text"])


@pytest.mark.parametrize(
    "question",
    ["by when must the communes reach the standard", "when should communes achieve the standard"],
)
def test_reaching_the_standard_in_english_is_the_communes_deadline(qa: QA, question: str) -> None:
    assert "2021-09-30" in ask(qa, question)["deadlines"]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # everyday words for a criterion's matter, in a case described around them
        ("đoạn đường làng lầy lội mỗi khi mưa thì phòng nào phụ trách", "kt"),
        ("ruộng bị ngập úng sau mưa to, hỏi phòng nào", "nn"),
        ("trong thôn có nhiều vụ chồng đánh vợ thì đơn vị nào phụ trách", "ldtbxh"),
        ("thôn nhiều vụ trộm cắp quá, đơn vị nào lo", "ca"),
        ("who is in charge when children in the commune are malnourished and stunted", "yte"),
    ],
)
def test_everyday_words_name_the_criterion_they_describe(qa: QA, question: str, unit: str) -> None:
    answer = ask(qa, question)
    assert answer["departments"] == [UNIT_NAMES[unit]]


def test_a_part_whose_words_another_part_holds_is_no_rival(qa: QA) -> None:
    # "bể nước hợp vệ sinh" is read by 17.1 (water) too, but 17.6 reads all of it and more
    answer = ask(qa, "nhà tiêu, nhà tắm, bể nước hợp vệ sinh do phòng nào hướng dẫn")
    assert answer["departments"] == [UNIT_NAMES["tnmt"]]


def test_what_communes_must_do_quotes_their_own_duties_wherever_the_plan_writes_them(
    qa: QA, engine: QueryEngine
) -> None:
    # their deadlines are in III.1.1; their own duties also in III.2.1 and IV.2
    assert {"III.1.1", "III.2.1", "IV.2"} <= engine._commune_sections
    text = str(ask(qa, "xã cần làm công trình biểu tượng ra sao")["text"])
    assert "đặc sắc" in text


@pytest.mark.parametrize(
    "question",
    ["xa minh co dc trong cho von cap tren k", "xa co nen trong cho von cap tren de lam ntm khong"],
)
def test_waiting_for_higher_funding_is_the_communes_duty_not_a_market(
    qa: QA, question: str
) -> None:
    # "cho" typed plainly is "chờ" here, not "chợ" (criterion 7), with or without "ntm"
    text = str(ask(qa, question)["text"])
    assert "trông chờ" in text and "Tiêu chí 7" not in text


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # whom the case is about and where it is ("trong thôn", "ở xóm") do not head the topic
        ("bọn trẻ ở xóm tôi bỏ học sớm nhiều, phòng nào chỉ đạo", "gd"),
        ("bà con trong thôn bị trộm cắp nhiều quá thì đơn vị nào lo", "ca"),
    ],
)
def test_whom_and_where_a_case_is_about_frame_it(qa: QA, question: str, unit: str) -> None:
    assert ask(qa, question)["departments"] == [UNIT_NAMES[unit]]


@pytest.mark.parametrize(
    "question",
    [
        "luong can bo xa bao nhieu 1 thang",
        "xin giay phep xay nha o dau",
        "what is the health insurance premium for a family",
    ],
)
def test_wages_permits_and_premiums_are_a_persons_matters(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # the case told first, then the criterion named: the one after the marker is asked
        ("chợ xã lụp xụp, họp tạm ngoài đường, tiêu chí chợ nông thôn do ai phụ trách", "kt"),
        ("thôn em mấy năm chưa đạt khu dân cư văn hóa, tiêu chí văn hóa ai phụ trách ạ", "vhtt"),
    ],
)
def test_a_criterion_named_after_the_case_told_is_the_one_asked(
    qa: QA, question: str, unit: str
) -> None:
    assert ask(qa, question)["departments"] == [UNIT_NAMES[unit]]


@pytest.mark.parametrize(
    "question",
    ["thủ tục vay vốn ưu đãi cho hộ cận nghèo", "muc phat vi pham ve sinh an toan thuc pham"],
)
def test_loans_and_sanctions_are_a_persons_matters(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


def test_a_communes_name_before_a_plan_word_is_no_persons_matter(qa: QA) -> None:
    # "Hợp Tiến | điện" typed plainly reads "tiền điện" (a bill): the commune asks of criterion 4
    answer = ask(qa, "xa Hop Tien dien nong thon phong nao huong dan")
    assert answer["departments"] == [UNIT_NAMES["kt"]]


def test_the_provincial_written_assessment_asked_in_english(qa: QA) -> None:
    answer = ask(qa, "when must the departments have the province's written assessment")
    assert "2021-11-15" in answer["deadlines"]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        # a part's words after the marker name the part, not its criterion's every owner
        ("nghĩa địa thôn chôn cất lộn xộn, tc mai táng do phòng nào hướng dẫn", "kt"),
        (
            "chuồng trại nhà bên bốc mùi, tiêu chí chăn nuôi vệ sinh môi trường hỏi phòng nào",
            "tnmt",
        ),
    ],
)
def test_a_part_named_after_the_marker_is_the_part(qa: QA, question: str, unit: str) -> None:
    assert ask(qa, question)["departments"] == [UNIT_NAMES[unit]]


def test_the_criterion_itself_named_is_still_the_criterion(qa: QA) -> None:
    # "môi trường" is criterion 17's own name: every part's owner answers
    answer = ask(qa, "tiêu chí môi trường cấp xã do những phòng nào phụ trách")
    assert UNIT_NAMES["tnmt"] in answer["departments"] and len(answer["departments"]) > 1


def test_the_programme_after_the_marker_names_no_criterion(qa: QA) -> None:
    # "các tiêu chí NTM" are all of them; "cho" beside it is no market (criterion 7)
    answer = ask(qa, "ai phụ trách quay phóng sự, hình ảnh minh chứng cho các tiêu chí ntm")
    assert answer["departments"] == ["Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện"]


def test_no_figure_names_the_criterion_where_one_reads_the_question(qa: QA) -> None:
    # the communes' upkeep date matches "đường giao thông" as well as criterion 2 does; the
    # plan gives no width, and what it does say is criterion 2's owner and dates
    answer = ask(qa, "đường giao thông xã phải rộng tối thiểu mấy mét")
    assert answer["intent"] == "no_figure"
    assert answer["departments"] == [UNIT_NAMES["kt"]]


@pytest.mark.parametrize(
    "question",
    [
        "what average income should each commune achieve",
        "which rate of poor households must communes reach",
    ],
)
def test_a_level_asked_in_english_with_its_words_apart(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "no_figure" and "not stated" in str(answer["text"])


@pytest.mark.parametrize(
    "question",
    [
        "nơi nhận hồ sơ đề nghị công nhận xã đạt chuẩn",  # a dossier's, not the plan's
        "kế hoạch của xã gửi cho ai",  # the commune's own plan
        "who gets support under this plan",
    ],
)
def test_other_things_sent_or_received_are_not_the_plans_recipients(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert "Nơi nhận" not in str(answer["text"]) and "is sent to" not in str(answer["text"])
    assert "Tiêu chí 7" not in str(answer["text"])  # ("gửi cho ai" is no market)


@pytest.mark.parametrize(
    "question",
    [
        "cả nhà bị ngộ độc thực phẩm thì đi đâu",
        "lũ quét làm sập nhà thì gọi ai",
        "con nghiện ma túy thì ai giúp",
        "con tôi muốn đi xuất khẩu lao động hỏi ai",
        "my family has no clean water, who do i call",
    ],
)
def test_a_households_own_case_or_emergency_names_no_unit(qa: QA, question: str) -> None:
    # the units guide a commune-wide criterion; a household's case is not theirs in the plan
    answer = ask(qa, question)
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("tiêu chí nhà tạm ai phụ trách", ["kt"]),  # the marker's "tiêu" is no "nhà tiêu"
        ("tiêu chí y tế xã ai phụ trách", ["bhxh", "yte"]),  # the criterion's own name
        ("tiêu chí an toàn thực phẩm ai phụ trách", ["yte"]),  # a part's name inside its own
    ],
)
def test_the_criterion_or_part_its_marker_names(qa: QA, question: str, units: list[str]) -> None:
    assert sorted(ask(qa, question)["departments"]) == sorted(UNIT_NAMES[u] for u in units)


def test_a_case_told_around_the_programmes_name_is_no_owner_question(qa: QA) -> None:
    answer = ask(qa, "kinh phí xây dựng nông thôn mới do ai bố trí")
    assert answer["intent"] != "owner" or answer["departments"]


@pytest.mark.parametrize(
    "question",
    ["what must communes do to reach the standard", "how many model villages get funding"],
)
def test_an_action_or_a_count_asked_is_no_missing_figure(qa: QA, question: str) -> None:
    assert ask(qa, question)["intent"] != "no_figure"


def test_two_words_the_other_way_round_are_another_word(qa: QA) -> None:
    # "làm việc với" (work with) is no "việc làm" (jobs, criterion 12)
    answer = ask(qa, "ai lam viec voi cong an tinh")
    assert UNIT_NAMES["ldtbxh"] not in answer["departments"]
    assert "Tiêu chí 12" not in str(answer["text"])


def test_a_place_named_by_plain_words_without_marks_is_not_read_in_them(qa: QA) -> None:
    # "xa la gi" is "xã là gì" (the name "La Gi" has no marks to tell it by); capitals do
    assert ask(qa, "nhiem vu cua xa la gi")["intent"] != "not_this_plan"
    assert ask(qa, "xã La Gi làm NTM thế nào")["intent"] == "not_this_plan"
