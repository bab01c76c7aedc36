"""Publishing the results: frozen, audited, withdrawable; score events idempotent; public pages show no
personal data; Excel export; quarter scores."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from zhengfeng.assessment.models import Dimension, ScoreEvent
from zhengfeng.core.models import AuditLog, PublicationStatus
from zhengfeng.core.periods import Period
from zhengfeng.evaluation import publishing, queries, services
from zhengfeng.evaluation.tests.conftest import NOW, invite, local, process, reply

pytestmark = pytest.mark.django_db

SENT = NOW + dt.timedelta(minutes=30)


@pytest.fixture
def answered(year, unit_a, unit_b, zhang, wang):
    """市甲局: 满意 + 不满意 (50.00); 市乙局: 满意 (100.00)."""
    for n, (unit, member, text) in enumerate(
        [(unit_a, zhang, "1"), (unit_a, zhang, "3"), (unit_b, wang, "1")]
    ):
        phone = f"1390000{n:04d}"
        invite(unit, member, phone=phone, name="某某律师事务所")
        reply(text, at=SENT + dt.timedelta(minutes=1), phone=phone)
    process(SENT + dt.timedelta(minutes=2))
    return year


def test_publishing_freezes_the_table_and_records_score_events(answered, city_office, unit_a, unit_b, zhang):
    publication = publishing.publish_results(answered, by=city_office)

    rows = publication.data["rows"]
    assert [(r["rank"], r["unit_name"], r["sms_score"], r["votes"], r["total"]) for r in rows] == [
        (1, "市乙局", "100.00", 0, "100.00"),
        (2, "市甲局", "50.00", 0, "50.00"),
    ]
    # Deduction = 10 × (100 − 50) / 100; a unit with 100 gets no event.
    events = ScoreEvent.objects.filter(dimension=Dimension.EVALUATION)
    assert [(e.unit, e.points, e.year) for e in events] == [(unit_a, Decimal("-5.00"), 2015)]
    assert AuditLog.objects.get(action="evaluation.results_published").data == {
        "year": 2015,
        "units": 2,
        "score_events": {"recorded": 1, "kept": 0, "voided": 0},
    }
    # A later answer does not move the published figures.
    invite(unit_a, zhang, phone="13900009999", at=local(11, 25, 10))
    reply("1", at=local(11, 25, 11), phone="13900009999")
    process(local(11, 25, 12))
    publication.refresh_from_db()
    assert publication.data["rows"][1]["sms_score"] == "50.00"


def test_score_events_are_idempotent_and_voided_on_recompute(answered, city_office, unit_a, zhang):
    publication = publishing.publish_results(answered, by=city_office)
    rows = publication.data["rows"]

    again = publishing.record_score_events(answered, rows, by=city_office)

    assert again == {"recorded": 0, "kept": 1, "voided": 0}
    assert ScoreEvent.objects.count() == 1
    publishing.withdraw_results(publication, by=city_office, reason="数据有误")
    assert ScoreEvent.objects.counted().count() == 0
    invite(unit_a, zhang, phone="13900009999", at=local(11, 25, 10))
    reply("1", at=local(11, 25, 11), phone="13900009999")
    process(local(11, 25, 12))
    republished = publishing.publish_results(answered, by=city_office)
    live = ScoreEvent.objects.counted().get()
    # 市甲局 now 200/3 = 66.67 → 10 × 33.33 / 100 = 3.33
    assert (live.points, live.source_id) == (Decimal("-3.33"), f"{answered.pk}:{unit_a.pk}:2")
    assert republished.status == PublicationStatus.PUBLISHED


def test_withdrawing_needs_a_reason_and_is_audited(answered, city_office, client):
    publication = publishing.publish_results(answered, by=city_office)
    with pytest.raises(ValidationError) as exc:
        publishing.withdraw_results(publication, by=city_office, reason="")
    assert exc.value.messages == ["撤回理由不能为空"]

    publishing.withdraw_results(publication, by=city_office, reason="数据有误")

    publication.refresh_from_db()
    assert (publication.status, publication.withdraw_reason) == (PublicationStatus.WITHDRAWN, "数据有误")
    assert AuditLog.objects.get(action="evaluation.results_withdrawn").data == {
        "reason": "数据有误",
        "voided": 1,
    }
    assert client.get(reverse("portal:evaluation_result", args=[publication.pk])).status_code == 410
    with pytest.raises(ValidationError) as exc:
        publishing.withdraw_results(publication, by=city_office, reason="再撤")
    assert exc.value.messages == [f"“{publication.title}”已撤回"]


def test_publishing_twice_pending_flags_and_other_offices_are_refused(answered, city_office, county_office):
    action = queries.actions_for(city_office).first()
    assert action is not None
    evaluation = services.flag_evaluation(action.evaluation, reason="人工标记", by=city_office)
    assert evaluation is True
    with pytest.raises(ValidationError) as exc:
        publishing.publish_results(answered, by=city_office)
    assert exc.value.messages == ["还有 1 条待复核的评议，请先复核后再发布"]
    with pytest.raises(PermissionDenied):
        publishing.publish_results(answered, by=county_office)
    flagged = queries.flagged_evaluations_for(city_office).get()
    services.review_flag(flagged, confirm=False, reason="无误", by=city_office)
    publishing.publish_results(answered, by=city_office)
    with pytest.raises(ValidationError) as exc:
        publishing.publish_results(answered, by=city_office)
    assert exc.value.messages == ["2015年清远市“公述民评”的结果已发布；如需更正，请先撤回"]


def test_public_pages_show_figures_and_no_personal_data(answered, city_office, client, zhang):
    publication = publishing.publish_results(answered, by=city_office)

    listing = client.get(reverse("portal:evaluation_results")).content.decode()
    detail = client.get(reverse("portal:evaluation_result", args=[publication.pk])).content.decode()
    index = client.get(reverse("portal:evaluation_index")).content.decode()

    assert publication.title in listing
    assert "市甲局" in detail
    assert "50.00" in detail
    for page in (listing, detail, index):
        assert "1390000" not in page
        assert "139****" not in page
        assert "某某律师事务所" not in page
        assert "某*" not in page
    assert zhang.name not in detail


def test_publishing_from_the_scores_page(answered, city_office, client):
    client.force_login(city_office)

    page = client.get(reverse("evaluation:scores"), {"year": 2015, "by": "unit"})
    response = client.post(reverse("evaluation:results_publish", args=[answered.pk]))

    assert "发布2015年清远市“公述民评”结果" in page.content.decode()
    assert response.status_code == 302
    assert queries.year_publications(answered).get().status == PublicationStatus.PUBLISHED


def test_excel_export_has_units_and_staff(answered, city_office, client):
    client.force_login(city_office)

    response = client.get(reverse("evaluation:score_export"), {"year": 2015})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="evaluation-scores-2015.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    units = list(book["按单位"].iter_rows(values_only=True))
    staff = list(book["按执法人员"].iter_rows(values_only=True))
    assert units[0][:3] == ("单位编码", "单位名称", "发出短信")
    assert units[1] == ("441800-A", "市甲局", 2, 2, 1, 0, 1, 0, 50.0, 0, 0, 0, 0, 0, None, 50.0)
    assert staff[1] == ("441800-A", "市甲局", "张三", 2, 2, 1, 0, 1, 0, 50.0)


def test_excel_export_neutralises_formula_text(answered, city_office, unit_a, zhang, client):
    evil = '=HYPERLINK("http://evil.example/","市甲局")'
    type(unit_a).objects.filter(pk=unit_a.pk).update(name=evil)
    type(zhang).objects.filter(pk=zhang.pk).update(name="@张三")
    client.force_login(city_office)

    response = client.get(reverse("evaluation:score_export"), {"year": 2015})

    book = load_workbook(io.BytesIO(response.content))
    unit_row = next(row for row in book["按单位"].iter_rows(min_row=2) if row[0].value == "441800-A")
    staff_row = next(row for row in book["按执法人员"].iter_rows(min_row=2) if row[0].value == "441800-A")
    assert [(cell.data_type, cell.value) for cell in unit_row[1:3]] == [("s", "'" + evil), ("n", 2)]
    assert (unit_row[8].data_type, unit_row[8].value) == ("n", 50.0)
    assert [(cell.data_type, cell.value) for cell in staff_row[1:4]] == [
        ("s", "'" + evil),
        ("s", "'@张三"),
        ("n", 2),
    ]


def test_excel_export_is_for_score_roles(answered, liaison_a, client):
    client.force_login(liaison_a)

    assert client.get(reverse("evaluation:score_export"), {"year": 2015}).status_code == 403


def test_scores_per_quarter(answered, unit_a, zhang):
    invite(unit_a, zhang, phone="13900008888", at=local(9, 10, 10))
    reply("2", at=local(9, 10, 11), phone="13900008888")
    process(local(9, 10, 12))

    q3 = {r.unit_code: r for r in queries.unit_results(2015, everything=True, period=Period.quarter(2015, 3))}
    q4 = {r.unit_code: r for r in queries.unit_results(2015, everything=True, period=Period.quarter(2015, 4))}
    year = {r.unit_code: r for r in queries.unit_results(2015, everything=True)}

    assert (q3["441800-A"].sms.answered, q3["441800-A"].total) == (1, Decimal("60.00"))
    assert (q4["441800-A"].sms.answered, q4["441800-A"].total) == (2, Decimal("50.00"))
    assert (year["441800-A"].sms.answered, year["441800-A"].total) == (3, Decimal("53.33"))


def test_the_unit_total_weights_sms_and_votes():
    assert queries.combine(Decimal("50.00"), Decimal("100.00"), 30) == Decimal("65.00")
    assert queries.combine(Decimal("50.00"), None, 30) == Decimal("50.00")
    assert queries.combine(None, Decimal("80.00"), 30) == Decimal("80.00")
    assert queries.combine(None, None, 30) is None


def test_withdrawing_from_the_scores_page(answered, city_office, client):
    publication = publishing.publish_results(answered, by=city_office)
    client.force_login(city_office)

    refused = client.post(reverse("evaluation:results_withdraw", args=[publication.pk]), {"reason": ""})
    response = client.post(
        reverse("evaluation:results_withdraw", args=[publication.pk]), {"reason": "数据有误"}
    )

    assert refused.status_code == 302
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('evaluation:scores')}?year=2015&by=unit"
    publication.refresh_from_db()
    assert (publication.status, publication.withdraw_reason) == (PublicationStatus.WITHDRAWN, "数据有误")
    page = client.get(reverse("evaluation:scores"), {"year": 2015, "by": "unit"}).content.decode()
    assert "已撤回（数据有误）" in page
