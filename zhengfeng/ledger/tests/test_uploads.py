"""Every ledger upload site goes through core.uploads: progress attachments (page), quarterly report
attachments (service and download) and the Excel import. Refused files leave no row and no file."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhengfeng.ledger.models import Ledger, ProgressEntry, ReportAttachment
from zhengfeng.ledger.reports import services as report_services
from zhengfeng.ledger.tests.conftest import local
from zhengfeng.ledger.tests.test_ledger_excel import write_sheet
from zhengfeng.ledger.tests.test_reports_services import report_of

PDF = b"%PDF-1.4 minutes"
EXE = b"MZ\x90\x00\x03\x00"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
ALLOWED = "pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、zip、txt"
REFUSED = [
    ("纪要.pdf", EXE, "附件“纪要.pdf”的内容不是 PDF 文件，与扩展名 .pdf 不符"),
    (
        "页面.html",
        b"<html><script>alert(1)</script></html>",
        f"附件“页面.html”的类型不允许（允许：{ALLOWED}）",
    ),
    ("大.pdf", PDF + b"0" * 2048, "附件“大.pdf”大小为 2.0 KB，超过 pdf 文件的上限 1.0 KB"),
]


@pytest.fixture
def small_limits(settings):
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "document": 1024, "data": 1024}


def stored_files(media) -> list[str]:
    return sorted(str(path) for path in media.rglob("*") if path.is_file()) if media.exists() else []


@pytest.fixture
def ledger_a(task_one, unit_a):
    from zhengfeng.ledger.ledgers import services

    return services.create_ledger(task=task_one, unit=unit_a)


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_progress_page_refuses_bad_attachments(
    client, liaison_a, ledger_a, media, small_limits, name, content, message
):
    client.force_login(liaison_a)

    response = client.post(
        reverse("ledger:progress_add", args=[ledger_a.pk]),
        {
            "text": "召开会议",
            "files": [SimpleUploadedFile("好的.pdf", PDF), SimpleUploadedFile(name, content)],
        },
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert (ProgressEntry.objects.count(), Ledger.objects.get(pk=ledger_a.pk).status) == (0, "not_started")
    assert stored_files(media) == []


def test_a_progress_attachment_keeps_its_checksum(client, liaison_a, ledger_a, media):
    client.force_login(liaison_a)

    client.post(
        reverse("ledger:progress_add", args=[ledger_a.pk]),
        {"text": "召开会议", "files": [SimpleUploadedFile("纪要.pdf", PDF)]},
    )

    attachment = ProgressEntry.objects.get().attachments.get()
    assert (attachment.name, attachment.size, attachment.sha256) == (
        "纪要.pdf",
        len(PDF),
        "d3a9e0fa368eb7b7c5b5b40b0dc1b7a6980bbb6e8aea60c243ddeecb84618eb4",
    )


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_report_attachments_refuse_bad_files(
    scheduled, report_org, liaison_a, media, travel, small_limits, name, content, message
):
    travel(local(2015, 4, 7, 10, 0))
    files = [SimpleUploadedFile("好的.pdf", PDF), SimpleUploadedFile(name, content)]

    with pytest.raises(ValidationError) as refused:
        report_services.save_report(report_of(report_org["a"]), summary="x", files=files, by=liaison_a)

    assert refused.value.messages == [message]
    assert (ReportAttachment.objects.count(), report_of(report_org["a"]).summary) == (0, "")
    assert stored_files(media) == []


def test_a_report_attachment_is_served_with_safe_headers(
    client, scheduled, report_org, liaison_a, media, travel
):
    travel(local(2015, 4, 7, 10, 0))
    report_services.save_report(
        report_of(report_org["a"]),
        summary="x",
        files=[SimpleUploadedFile("材料.zip", _zip()), SimpleUploadedFile("照片.png", PNG)],
        by=liaison_a,
    )
    client.force_login(liaison_a)

    served = {
        attachment.name: client.get(reverse("ledger:report_attachment", args=[attachment.pk]))
        for attachment in ReportAttachment.objects.all()
    }

    assert {name: b"".join(response.streaming_content) for name, response in served.items()} == {
        "材料.zip": _zip(),
        "照片.png": PNG,
    }
    assert {
        name: (response["Content-Type"], response["Content-Disposition"], response["X-Content-Type-Options"])
        for name, response in served.items()
    } == {
        "材料.zip": ("application/zip", "attachment; filename*=utf-8''%E6%9D%90%E6%96%99.zip", "nosniff"),
        "照片.png": ("image/png", "inline; filename*=utf-8''%E7%85%A7%E7%89%87.png", "nosniff"),
    }


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("纪要.pdf", PDF)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("台帐.xlsx", EXE, "导入文件“台帐.xlsx”的内容不是 Excel 文件，与扩展名 .xlsx 不符"),
        ("台帐.html", b"<html></html>", "导入文件“台帐.html”的类型不允许（允许：xlsx）"),
        ("台帐.csv", b"a,b\n", "导入文件“台帐.csv”的类型不允许（允许：xlsx）"),
        ("台帐.xlsx", None, "导入文件“台帐.xlsx”大小为 {size} KB，超过 xlsx 文件的上限 1.0 KB"),
    ],
)
def test_the_import_page_refuses_a_file_that_is_not_a_spreadsheet(
    client, liaison_a, ledger_plan, small_limits, name, content, message
):
    if content is None:
        content = write_sheet([[None, None, "1", None, None, "步骤" * 400, None, None, None, None, None]])
        message = message.format(size=f"{len(content) / 1024:.1f}")
    client.force_login(liaison_a)

    response = client.post(
        reverse("ledger:ledger_import"), {"file": SimpleUploadedFile(name, content), "plan": ledger_plan.pk}
    )

    assert response.status_code == 400
    assert response.context["errors"] == [message]
    assert Ledger.objects.count() == 0
