"""The classifier on the shipped Khánh Hòa folder: evidence, decisions, priority, deadlines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pakn.schema import Priority
from pakn_router.classify import NO_COMMUNE, NO_EVIDENCE, Classifier, Thresholds

KHANH_HOA = Path(__file__).parents[2] / "deploy" / "config" / "khanh-hoa"
#: The keys DESIGN.md §3 promises in `pakn classify` output.
CONTRACT_KEYS = {
    "field",
    "category",
    "lead_agency",
    "co_agencies",
    "confidence",
    "matched",
    "candidates",
    "locality",
    "priority",
    "working_days",
    "decision",
}
IN_NHA_TRANG = "Số 20 Trần Phú, phường Nha Trang"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_config_dir(KHANH_HOA)


def test_phrases_match_whole_words_only(classifier: Classifier) -> None:
    # "rác" (waste) is not in "rách" (torn), "ổ gà" not in "tổ gà".
    torn = classifier.classify("Áo rách, tổ gà nhà tôi bị mất trộm hai con gà mái.")
    assert "moi-truong" not in {c.field for c in torn.candidates}
    assert "giao-thong" not in {c.field for c in torn.candidates}


def test_folded_collisions_are_told_apart_in_a_text_with_diacritics(
    classifier: Classifier,
) -> None:
    # "đang chạy" (running) folds to "đang cháy" (on fire).
    running = classifier.classify("Xe buýt đang chạy thì thả khách giữa đường, rất bất tiện.")
    assert "an-ninh-trat-tu" not in {c.field for c in running.candidates}
    burning = classifier.classify("Căn nhà cuối hẻm đang cháy, khói đen mù mịt.")
    assert burning.field == "an-ninh-trat-tu"
    # Typed without diacritics, the words cannot be told apart: the phrase counts.
    plain = classifier.classify("nha cuoi hem dang chay, khoi den mu mit")
    assert plain.field == "an-ninh-trat-tu"


def test_hoi_and_nga_are_one_tone(classifier: Classifier) -> None:
    # "hư hõng" is how many write "hư hỏng".
    result = classifier.classify("Con đường liên xã bị hư hõng nặng.", address="xã Diên Lạc")
    assert result.field == "giao-thong"
    assert "đường liên xã" in result.matched


def test_a_phrase_in_the_title_counts_more(classifier: Classifier) -> None:
    body = classifier.classify("Mất nước. Đề nghị kiểm tra.")
    titled = classifier.classify("Đề nghị kiểm tra.", title="Mất nước")
    assert titled.field == body.field == "cap-thoat-nuoc"
    assert titled.candidates[0].score == pytest.approx(1.5 * body.candidates[0].score)


def test_a_landmark_says_where_not_what(classifier: Classifier) -> None:
    result = classifier.classify(
        "Nắp cống trên vỉa hè đối diện dãy khách sạn bị bể, để lộ cái hố to.",
        address=IN_NHA_TRANG,
    )
    lodging = classifier.config.category("du-lich.luu-tru")
    weight = next(p.weight for p in lodging.phrases if p.text == "khách sạn")
    scores = {c.field: c.score for c in result.candidates}
    assert result.field == "cap-thoat-nuoc"
    assert scores["du-lich"] == pytest.approx(classifier.thresholds.landmark_factor * weight)


def test_a_clear_report_is_assigned_with_its_evidence(classifier: Classifier) -> None:
    result = classifier.classify(
        "Ổ gà lớn giữa đường Lê Hồng Phong, xe máy té ngã liên tục.", address=IN_NHA_TRANG
    )
    assert result.decision == "assign"
    assert (result.field, result.category) == ("giao-thong", "giao-thong.o-ga-hu-hong")
    assert result.lead_agency == "ubnd-phuong-nha-trang"
    assert result.co_agencies == ("so-xay-dung",)
    assert result.matched[0] == "ổ gà"
    assert 0 < result.confidence <= 1
    assert result.candidates[0].field == "giao-thong"
    assert result.candidates[0].agency == "ubnd-phuong-nha-trang"
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)


def test_a_complaint_about_a_decision_is_redirected(classifier: Classifier) -> None:
    result = classifier.classify(
        "Tôi khiếu nại Quyết định xử phạt vi phạm hành chính số 245/QĐ-XPHC phạt tôi 7,5 "
        "triệu đồng. Đề nghị hủy bỏ quyết định xử phạt.",
        address=IN_NHA_TRANG,
    )
    exclusion = next(e for e in classifier.config.exclusions if e.code == "khieu-nai")
    assert result.decision == "redirect"
    assert result.redirect is not None
    assert result.redirect.to == exclusion.redirect_to == "tiep-cong-dan-tinh"
    assert result.redirect.reason == exclusion.explanation
    assert "khiếu nại quyết định" in result.matched
    assert (result.lead_agency, result.co_agencies, result.working_days) == (None, (), None)


def test_a_denunciation_of_an_official_is_redirected(classifier: Classifier) -> None:
    result = classifier.classify(
        "Tôi xin tố cáo ông N.V.H., cán bộ địa chính xã, đã nhận của tôi 30 triệu đồng để lo "
        "hồ sơ cấp sổ đỏ."
    )
    assert result.decision == "redirect"
    assert result.redirect is not None and result.redirect.to == "thanh-tra-tinh"
    assert result.field == "dat-dai"  # what the text is about, for the record


@pytest.mark.parametrize(
    ("text", "to"),
    [
        # Words between the verb and its legal object: no phrase of the list is in these.
        (
            "Gia đình tôi khiếu nại về việc UBND phường Tây Nha Trang ban hành quyết định thu "
            "hồi đất mà không thông báo trước.",
            "tiep-cong-dan-tinh",
        ),
        (
            "Chúng tôi không đồng ý với phương án bồi thường, hỗ trợ khi thu hồi đất làm đường "
            "và kính đề nghị xem xét lại quyết định phê duyệt.",
            "tiep-cong-dan-tinh",
        ),
        (
            "Tố cáo một số cán bộ đội quản lý trật tự đô thị hằng tháng thu tiền của các hộ "
            "buôn bán ở chợ.",
            "thanh-tra-tinh",
        ),
        (
            "Cán bộ địa chính xã đã nhận của gia đình tôi 20 triệu đồng để làm sổ đỏ nhưng đến "
            "nay không làm.",
            "thanh-tra-tinh",
        ),
    ],
)
def test_complaints_and_denunciations_are_found_across_inserted_words(
    classifier: Classifier, text: str, to: str
) -> None:
    result = classifier.classify(text, address=IN_NHA_TRANG)
    assert result.decision == "redirect", (result.notes, result.matched)
    assert result.redirect is not None and result.redirect.to == to


def test_a_half_clear_complaint_is_triage_with_a_suggested_redirect(
    classifier: Classifier,
) -> None:
    result = classifier.classify(
        "Tôi tố cáo việc đổ xà bần ra bãi đất trống ở thôn 3, xã Diên Lạc.",
    )
    assert result.decision == "triage"
    assert result.redirect is None
    assert result.suggested_redirect is not None
    assert result.suggested_redirect.to == "thanh-tra-tinh"
    assert any("tố cáo" in note for note in result.notes)


def test_complaint_words_used_loosely_do_not_redirect(classifier: Classifier) -> None:
    result = classifier.classify(
        "Tôi đã phản ánh và khiếu nại nhiều lần mà ổ gà trên đường Lê Hồng Phong vẫn còn.",
        address=IN_NHA_TRANG,
    )
    assert result.decision == "assign"
    assert result.field == "giao-thong"
    assert result.suggested_redirect is None
    loose = classifier.classify(
        "Tôi muốn tố cáo tình trạng xả rác bừa bãi ở đầu hẻm, rác chất thành đống.",
        address=IN_NHA_TRANG,
    )
    assert (loose.decision, loose.field) == ("assign", "moi-truong")


def test_an_emergency_tells_which_hotline_to_call(classifier: Classifier) -> None:
    result = classifier.classify(
        "Dây điện đứt rơi xuống đường, còn tóe lửa, người dân đang chặn hai đầu.",
        address="phường Bắc Nha Trang",
    )
    assert result.priority is Priority.EMERGENCY
    assert result.decision == "assign"
    assert result.lead_agency == "dien-luc-khanh-hoa"
    assert any("114" in note for note in result.notes)
    assert "Dây điện đứt" in result.matched


def test_an_emergency_is_assigned_even_without_its_commune(classifier: Classifier) -> None:
    result = classifier.classify(
        "Cây đổ đè người trên đường Trần Phú, cần cấp cứu ngay!", address=None
    )
    assert result.priority is Priority.EMERGENCY
    assert result.decision == "assign"
    assert result.lead_agency is not None
    assert any(note.startswith(NO_COMMUNE) for note in result.notes)
    assert any("115" in note for note in result.notes)


def test_a_feared_emergency_is_urgent(classifier: Classifier) -> None:
    result = classifier.classify(
        "Tủ điện chiếu sáng bị bung cửa, dây điện lòi ra, trời mưa. Sợ chập cháy.",
        address=IN_NHA_TRANG,
    )
    assert result.priority is Priority.URGENT
    assert not any("114" in note for note in result.notes)


def test_an_emergency_negative_phrase_cancels_it(classifier: Classifier) -> None:
    result = classifier.classify("Bóng đèn cháy ở đầu hẻm, cháy nổ lụp bụp.")
    assert result.priority is not Priority.EMERGENCY


def test_the_address_box_decides_the_commune(classifier: Classifier) -> None:
    result = classifier.classify(
        "Đèn đường tắt cả tuần nay, giống hồi ở phường Vĩnh Hải.", address="phường Tây Nha Trang"
    )
    assert result.locality is not None
    assert result.locality.name == "Phường Tây Nha Trang"
    assert result.lead_agency == "ubnd-phuong-tay-nha-trang"


def test_an_old_ward_in_the_text_routes_to_its_new_ward(classifier: Classifier) -> None:
    result = classifier.classify("Ổ gà lớn ở hẻm 12, phường Vĩnh Phước, Nha Trang.")
    assert result.locality is not None
    assert (result.locality.code, result.locality.legacy_area) == ("22333", "Thành phố Nha Trang")
    assert result.locality.matched == "phường Vĩnh Phước"
    assert (result.decision, result.lead_agency) == ("assign", "ubnd-phuong-bac-nha-trang")


def test_only_the_old_area_and_a_commune_led_rule_is_triage(classifier: Classifier) -> None:
    result = classifier.classify("Đường Hùng Vương có nhiều ổ gà lớn.", address="TP Cam Ranh")
    assert result.locality is not None
    assert (result.locality.code, result.locality.legacy_area) == (None, "Thành phố Cam Ranh")
    assert result.field == "giao-thong"
    assert result.decision == "triage"
    assert NO_COMMUNE in result.notes
    assert result.lead_agency is None
    assert result.candidates[0].agency is None
    # Hùng Vương crosses the town's wards: the operator is shown them, none is guessed.
    assert len(result.locality_candidates) == 4


def test_only_the_old_area_is_enough_when_its_communes_share_the_rule(
    classifier: Classifier,
) -> None:
    # Every ward of the old Nha Trang city sends drainage to the water company.
    result = classifier.classify("Mất nắp hố ga trên đường Thái Nguyên.", address="Nha Trang")
    assert result.decision == "assign"
    assert result.lead_agency == "cap-thoat-nuoc-khanh-hoa"
    assert result.co_agencies == ()


def test_no_place_and_a_commune_led_rule_is_triage(classifier: Classifier) -> None:
    result = classifier.classify("Đèn đường trước nhà tôi hư, tối om cả tuần nay.")
    assert (result.field, result.decision) == ("chieu-sang", "triage")
    assert result.notes == (NO_COMMUNE,)


def test_no_evidence_is_triage(classifier: Classifier) -> None:
    empty = classifier.classify("")
    assert (empty.decision, empty.field, empty.confidence, empty.candidates) == (
        "triage",
        None,
        0.0,
        (),
    )
    assert empty.notes == (NO_EVIDENCE,)
    vague = classifier.classify("Tình trạng này kéo dài lâu rồi mà không ai giải quyết.")
    assert (vague.decision, vague.field, vague.confidence) == ("triage", None, 0.0)
    assert vague.notes[0] == NO_EVIDENCE
    # What the learnt model may add are suggestions for the operator, never an agency.
    assert all(c.agency is None for c in vague.candidates)


def test_thanks_are_triage(classifier: Classifier) -> None:
    result = classifier.classify(
        "Xin cảm ơn cán bộ phường đã nhiệt tình hướng dẫn, khen ngợi tinh thần phục vụ."
    )
    assert result.decision == "triage"
    assert result.category == "khac.gop-y-hoi-dap"


def test_a_near_tie_between_fields_is_triage(classifier: Classifier) -> None:
    result = classifier.classify("Ổ gà giữa đường và mất nước ba ngày nay.", address=IN_NHA_TRANG)
    assert result.decision == "triage"
    assert result.notes[0].startswith("có thể thuộc nhiều lĩnh vực: ")
    assert {c.field for c in result.candidates} >= {"giao-thong", "cap-thoat-nuoc"}


def test_stricter_thresholds_send_more_to_triage(classifier: Classifier) -> None:
    strict = Classifier(
        classifier.config, classifier.sla, thresholds=Thresholds(min_confidence=0.99)
    )
    text = "Ổ gà lớn giữa đường Lê Hồng Phong, xe máy té ngã liên tục."
    assert classifier.classify(text, address=IN_NHA_TRANG).decision == "assign"
    assert strict.classify(text, address=IN_NHA_TRANG).decision == "triage"


def test_an_infrastructure_incident_gets_one_working_day(classifier: Classifier) -> None:
    result = classifier.classify("Khu phố mất nước từ sáng hôm qua.", address=IN_NHA_TRANG)
    assert (result.category, result.incident) == ("cap-thoat-nuoc.mat-nuoc", True)
    assert result.working_days == 1
    assert result.decision == "assign"


def test_a_water_bill_is_no_incident(classifier: Classifier) -> None:
    result = classifier.classify(
        "Hóa đơn tiền nước tháng này tăng gấp năm lần, đề nghị kiểm tra đồng hồ.",
        address=IN_NHA_TRANG,
    )
    assert (result.category, result.incident) == ("cap-thoat-nuoc.hoa-don", False)
    assert result.working_days == classifier.sla.working_days_for(
        "cap-thoat-nuoc", "cap-thoat-nuoc.hoa-don"
    )
    assert result.working_days is not None and result.working_days > 1


def test_every_decision_carries_the_rules_version(classifier: Classifier) -> None:
    assert re.fullmatch(r"\d{4}\.\d{2}\.\d{2}-\d+", classifier.rules_version)
    assert classifier.rules_version == classifier.config.categories_file.rules_version
    assert classifier.classify("").rules_version == classifier.rules_version


def test_the_json_has_the_contract_keys_and_the_extras(classifier: Classifier) -> None:
    output = classifier.classify("Mất nắp hố ga", address="Nha Trang").as_json()
    assert set(output) >= CONTRACT_KEYS
    assert set(output) - CONTRACT_KEYS == {
        "incident",
        "redirect",
        "suggested_redirect",
        "rules_version",
        "locality_candidates",
    }
    assert {"field", "agency", "score"} <= set(output["candidates"][0])
    assert output["locality"]["legacy_area"] == "Thành phố Nha Trang"
    assert output["decision"] in {"assign", "triage", "redirect"}
