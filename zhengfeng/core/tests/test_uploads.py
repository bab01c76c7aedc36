"""core.uploads: a type is accepted by extension AND content, sizes per kind, names cleaned,
checksums exact, and stored files served with our Content-Type and nosniff."""

from __future__ import annotations

import hashlib
import io
import zipfile

import docx
import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.fields.files import FieldFile, FileField

from zhengfeng.core import uploads

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 body"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"


def a_docx() -> bytes:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    return buffer.getvalue()


def an_xlsx() -> bytes:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


def a_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("会议纪要.pdf", PDF, "document"),
        ("红头文件.ofd", a_zip({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<x/>"}), "document"),
        ("旧文档.doc", OLE, "document"),
        ("旧表格.xls", OLE, "document"),
        ("三定方案.docx", a_docx(), "document"),
        ("台帐.xlsx", an_xlsx(), "document"),
        ("现场.JPG", JPEG, "image"),
        ("现场.jpeg", JPEG, "image"),
        ("截图.png", PNG, "image"),
        ("材料.zip", a_zip({"a.pdf": PDF}), "archive"),
        ("摘录.txt", "三定方案摘录：第三条".encode(), "text"),
        ("摘录（GB18030）.txt", "三定方案摘录：第三条".encode("gb18030"), "text"),
    ],
)
def test_each_allowed_type_with_its_content_is_accepted(name, content, kind):
    checked = uploads.check_upload(SimpleUploadedFile(name, content), uploads.ATTACHMENT)

    assert (checked.name, checked.file_type.kind, checked.size) == (name, kind, len(content))
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.file.read() == content  # left at the start for the caller to store


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("通知.pdf", EXE, "附件“通知.pdf”的内容不是 PDF 文件，与扩展名 .pdf 不符"),
        ("照片.png", JPEG, "附件“照片.png”的内容不是 PNG 文件，与扩展名 .png 不符"),
        # An xlsx renamed .docx: a zip, but not a Word document.
        ("报告.docx", an_xlsx(), "附件“报告.docx”的内容不是 Word 文件，与扩展名 .docx 不符"),
        (
            "红头文件.ofd",
            a_zip({"a.xml": b"<x/>"}),
            "附件“红头文件.ofd”的内容不是 OFD 文件，与扩展名 .ofd 不符",
        ),
        ("坏的.zip", b"PK\x03\x04 truncated", "附件“坏的.zip”的内容不是 ZIP 文件，与扩展名 .zip 不符"),
        ("程序.txt", EXE, "附件“程序.txt”的内容不是 文本 文件，与扩展名 .txt 不符"),
        ("空.pdf", b"", "附件“空.pdf”是空文件"),
        (
            "页面.html",
            b"<html></html>",
            "附件“页面.html”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、zip、txt）",
        ),
        (
            "矢量图.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            "附件“矢量图.svg”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、zip、txt）",
        ),
        (
            "无扩展名",
            PDF,
            "附件“无扩展名”的类型不允许（允许：pdf、ofd、doc、docx、xls、xlsx、jpg、jpeg、png、zip、txt）",
        ),
        ("", PDF, "附件缺少文件名"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_with_the_reason(name, content, message):
    # A nameless upload (a multipart part without a filename) reaches the check as a bare file.
    upload = SimpleUploadedFile(name, content) if name else ContentFile(content)

    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(upload, uploads.ATTACHMENT)

    assert refused.value.messages == [message]


def test_size_limits_are_per_kind_and_from_settings(settings):
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "image": 100, "document": 3 * 1024 * 1024}
    big_png = PNG + b"\x00" * 200

    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(SimpleUploadedFile("截图.png", big_png), uploads.ATTACHMENT)
    accepted = uploads.check_upload(SimpleUploadedFile("报告.pdf", PDF + b"\x00" * 200), uploads.ATTACHMENT)

    assert refused.value.messages == ["附件“截图.png”大小为 0.2 KB，超过 png 文件的上限 0.1 KB"]
    assert accepted.size == len(PDF) + 200


def test_the_default_limits():
    from django.conf import settings

    assert settings.UPLOAD_MAX_BYTES == {
        "document": 20 * 1024 * 1024,
        "image": 10 * 1024 * 1024,
        "archive": 50 * 1024 * 1024,
        "text": 2 * 1024 * 1024,
        "data": 20 * 1024 * 1024,
    }


def test_each_profile_takes_only_its_types():
    assert uploads.EVIDENCE.extensions == (
        "pdf",
        "ofd",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "jpg",
        "jpeg",
        "png",
        "txt",
    )
    assert uploads.PHOTO.accept == ".jpg,.jpeg,.png"
    assert uploads.SPREADSHEET_IMPORT.extensions == ("xlsx",)
    with pytest.raises(ValidationError) as refused:
        uploads.check_upload(SimpleUploadedFile("会议纪要.pdf", PDF), uploads.PHOTO)
    assert refused.value.messages == ["照片“会议纪要.pdf”的类型不允许（允许：jpg、jpeg、png）"]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\桌面\\纪要.pdf", "纪要.pdf"),
        ('a<b>c:"d"|e?*.pdf', "a_b_c_d_e_.pdf"),
        ("报\x00告\r\n.pdf", "报_告_.pdf"),
        ("  ..隐藏  文件 .pdf", "隐藏 文件 .pdf"),
        ("长" * 250 + ".pdf", "长" * 196 + ".pdf"),
    ],
)
def test_names_are_cleaned_before_they_are_kept(raw, clean):
    assert uploads.clean_name(raw) == clean


def test_stored_paths_are_random_and_keep_only_the_extension():
    first, second = (
        uploads.random_path("ledger/441800/1", "PDF"),
        uploads.random_path("ledger/441800/1", "PDF"),
    )

    assert first != second
    assert first.startswith("ledger/441800/1/")
    assert first.endswith(".pdf")
    assert len(first.rsplit("/", 1)[-1]) == len("0123456789abcdef0123456789abcdef.pdf")


def stored(tmp_path, name, content):
    storage = FileSystemStorage(location=tmp_path)
    saved = storage.save(name, ContentFile(content))
    field = FileField(storage=storage)
    field.name = "file"
    return FieldFile(None, field, saved)  # type: ignore[arg-type]  # opening a file needs no row


@pytest.mark.parametrize(
    ("name", "content_type", "disposition"),
    [
        ("纪要.pdf", "application/pdf", "inline; filename*=utf-8''%E7%BA%AA%E8%A6%81.pdf"),
        ("现场.png", "image/png", "inline; filename*=utf-8''%E7%8E%B0%E5%9C%BA.png"),
        ("a.txt", "text/plain; charset=utf-8", 'attachment; filename="a.txt"'),
        (
            "a.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            'attachment; filename="a.xlsx"',
        ),
        # A file of a type we do not know (stored before the checks) is never served as a page.
        ("page.html", "application/octet-stream", 'attachment; filename="page.html"'),
    ],
)
def test_files_are_served_with_our_content_type_and_nosniff(tmp_path, name, content_type, disposition):
    response = uploads.file_response(stored(tmp_path, "f.bin", b"content"), name=name)

    assert response.getvalue() == b"content"
    # The file only: response.close() would signal request_finished, which touches the database.
    assert response.file_to_stream is not None
    response.file_to_stream.close()
    assert (
        response["Content-Type"],
        response["Content-Disposition"],
        response["X-Content-Type-Options"],
    ) == (
        content_type,
        disposition,
        "nosniff",
    )
