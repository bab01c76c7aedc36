import datetime as dt
import io

import docx
import pytest

from zhengfeng.alerts import services
from zhengfeng.alerts.documents import OfficialDocument, build_docx
from zhengfeng.alerts.models import Alert, AlertLevel, DocumentSerial
from zhengfeng.alerts.tests.conftest import MINUTE, NOW, make_clock

pytestmark = pytest.mark.django_db


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs if p.text]


def test_build_docx_has_the_gbt9704_parts():
    data = build_docx(
        OfficialDocument(
            header="清远市“正风”办公室文件",
            doc_number="清正风通〔2026〕12号",
            title="关于对市甲局有关问题的通报",
            addressee="市甲局",
            paragraphs=["第一段。", "第二段。"],
            issuer="清远市“正风”办公室",
            issued_on=dt.date(2026, 3, 11),
            copy_to="清远市纪委监委",
        )
    )

    document = docx.Document(io.BytesIO(data))
    assert paragraphs(data) == [
        "清远市“正风”办公室文件",
        "清正风通〔2026〕12号",
        "关于对市甲局有关问题的通报",
        "市甲局：",
        "第一段。",
        "第二段。",
        "清远市“正风”办公室",
        "2026年3月11日",
        "抄送：清远市纪委监委。",
        "清远市“正风”办公室\u3000\u30002026年3月11日印发",
    ]
    header = next(p for p in document.paragraphs if p.text == "清远市“正风”办公室文件")
    assert str(header.runs[0].font.color.rgb) == "E60012"
    title = next(p for p in document.paragraphs if p.text == "关于对市甲局有关问题的通报")
    size, top_margin = title.runs[0].font.size, document.sections[0].top_margin
    assert size is not None
    assert top_margin is not None
    assert size.pt == 22
    assert top_margin.mm == pytest.approx(37, abs=0.1)


def test_alert_document_is_built_once_and_reused(unit_a, city):
    make_clock(unit_a, due_at=services.overdue_cutoff(NOW, 3) - MINUTE)
    services.sweep(NOW)
    notice = Alert.objects.get(level=AlertLevel.NOTICE)

    first = services.ensure_document(notice)
    name = first.document.name
    again = services.ensure_document(Alert.objects.get(pk=notice.pk))

    assert again.document.name == name
    with again.document.open("rb") as handle:
        texts = paragraphs(handle.read())
    assert texts[:4] == ["清远市“正风”办公室文件", "清正风通〔2026〕1号", notice.title, "市甲局："]
    assert "抄送：清远市纪委监委。" in texts


def test_next_document_numbers_is_the_one_numbering_per_office_series_and_year(city, qingcheng):
    take = services.next_document_numbers
    assert take(issuer_code="441800", series="督", year=2026, count=2) == [
        "清正风督〔2026〕1号",
        "清正风督〔2026〕2号",
    ]
    # Another series, office or year has its own serial; a county office abbreviates with two characters.
    assert take(issuer_code="441800", series="通", year=2026) == ["清正风通〔2026〕1号"]
    assert take(issuer_code="441802", series="督", year=2026) == ["清城正风督〔2026〕1号"]
    assert take(issuer_code="441800", series="督", year=2027) == ["清正风督〔2027〕1号"]
    assert take(issuer_code="441800", series="督", year=2026, issuer_name="清远市") == ["清正风督〔2026〕3号"]
    assert DocumentSerial.objects.get(issuer_code="441800", series="督", year=2026).last_number == 3
    with pytest.raises(ValueError, match="正整数"):
        take(issuer_code="441800", series="督", year=2026, count=0)
