"""Return evidence (退单依据) passes core.uploads.EVIDENCE on the page and in the API: a renamed
executable, an HTML page or an oversized file is refused with the reason and leaves no row and no
file; a good file is stored under a random name with its checksum and served with safe headers."""

from __future__ import annotations

import hashlib
import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhengfeng.core.models import AuditLog
from zhengfeng.hotline.models import ReturnRequest, WorkOrder

from .conftest import dispatched

PDF = b"%PDF-1.4 evidence"
EXE = b"MZ\x90\x00\x03\x00\x00\x00"

REFUSED = [
    ("三定方案.pdf", EXE, "依据材料“三定方案.pdf”的内容不是 PDF 文件，与扩展名 .pdf 不符"),
    (
        "说明.html",
        b"<html><script>alert(1)</script></html>",
        "依据材料“说明.html”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、txt）",
    ),
    ("扫描件.pdf", PDF + b"0" * 2048, "依据材料“扫描件.pdf”大小为 2.0 KB，超过 pdf 文件的上限 1.0 KB"),
    (
        "tool.exe",
        EXE,
        "依据材料“tool.exe”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、txt）",
    ),
]


@pytest.fixture
def small_limit(settings):
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "document": 1024}


def stored_files(settings) -> list[str]:
    return sorted(str(path) for path in settings.MEDIA_ROOT.rglob("*") if path.is_file())


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_the_page_refuses_bad_evidence_and_keeps_nothing(
    client, settings, small_limit, operator, liaison_a, name, content, message
):
    order = dispatched(operator, liaison_a.unit)
    client.force_login(liaison_a)

    response = client.post(
        reverse("hotline:act", args=[order.pk, "request_return"]),
        {"reason": "不属本单位职责", "evidence": SimpleUploadedFile(name, content)},
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert (ReturnRequest.objects.count(), WorkOrder.objects.get(pk=order.pk).status) == (0, "dispatched")
    assert stored_files(settings) == []


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_the_api_refuses_bad_evidence_and_keeps_nothing(
    api_client, settings, small_limit, operator, liaison_a, name, content, message
):
    order = dispatched(operator, liaison_a.unit)
    api_client.force_login(liaison_a)

    response = api_client.post(
        f"/api/v1/hotline/orders/{order.code}/return",
        {"reason": "不属本单位职责", "evidence": SimpleUploadedFile(name, content)},
        headers=api_client.csrf_headers(),
    )

    assert (response.status_code, response.json()["detail"]) == (400, message)
    assert ReturnRequest.objects.count() == 0
    assert stored_files(settings) == []


def test_good_evidence_is_stored_with_its_checksum_and_served_safely(client, settings, operator, liaison_a):
    order = dispatched(operator, liaison_a.unit)
    client.force_login(liaison_a)

    client.post(
        reverse("hotline:act", args=[order.pk, "request_return"]),
        {"reason": "不属本单位职责", "evidence": SimpleUploadedFile("../权责清单<第3条>.pdf", PDF)},
    )
    returned = ReturnRequest.objects.get()
    client.force_login(operator)
    download = client.get(reverse("hotline:return_evidence", args=[returned.pk]))

    assert (returned.evidence_name, returned.evidence_sha256) == (
        "权责清单_第3条_.pdf",
        hashlib.sha256(PDF).hexdigest(),
    )
    # Stored under a random name, never the uploader's.
    assert returned.evidence.name.rsplit("/", 1)[-1] != "权责清单_第3条_.pdf"
    assert returned.evidence.name.endswith(".pdf")
    assert (
        AuditLog.objects.get(action="hotline.request_return").data["evidence_sha256"]
        == returned.evidence_sha256
    )
    assert (download.status_code, b"".join(download.streaming_content)) == (200, PDF)
    assert (
        download["Content-Type"],
        download["Content-Disposition"],
        download["X-Content-Type-Options"],
    ) == (
        "application/pdf",
        "inline; filename*=utf-8''%E6%9D%83%E8%B4%A3%E6%B8%85%E5%8D%95_%E7%AC%AC3%E6%9D%A1_.pdf",
        "nosniff",
    )


def test_a_word_file_is_downloaded_not_shown(client, settings, operator, liaison_a):
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    order = dispatched(operator, liaison_a.unit)
    client.force_login(liaison_a)
    client.post(
        reverse("hotline:act", args=[order.pk, "request_return"]),
        {"reason": "不属本单位职责", "evidence": SimpleUploadedFile("三定方案.docx", buffer.getvalue())},
    )

    download = client.get(reverse("hotline:return_evidence", args=[ReturnRequest.objects.get().pk]))

    assert b"".join(download.streaming_content) == buffer.getvalue()
    assert (download["Content-Type"], download["Content-Disposition"]) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "attachment; filename*=utf-8''%E4%B8%89%E5%AE%9A%E6%96%B9%E6%A1%88.docx",
    )
