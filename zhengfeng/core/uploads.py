"""The one check every uploaded file passes, and the one way a stored file is served back.

Every upload site (hotline return evidence, ledger progress and report attachments, staff photos, the
ledger Excel import) names a `Profile`: the file types it takes. A file is accepted only when its
extension is in the profile AND its first bytes (and, for zip-based formats, its inner manifest) are
those of that type, so an `.exe` renamed `.pdf` or an `.html` page is refused with a Chinese message
naming the file and the reason. Size limits are per kind of file (`settings.UPLOAD_MAX_BYTES`).

Serving: `file_response` answers with the Content-Type of our own table (never the browser's guess and
never text/html), `Content-Disposition: attachment` unless the type is one a browser shows safely
(PDF, PNG, JPEG), and `X-Content-Type-Options: nosniff`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.http import FileResponse

# Longest original name kept (the model columns are 200 wide).
NAME_MAX_LENGTH = 200
_HEAD_BYTES = 16
# Text files are read whole to check their encoding; the "text" size limit keeps that small.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04",)


class Kind:
    """Kinds of file, each with its own size limit in settings.UPLOAD_MAX_BYTES."""

    DOCUMENT = "document"  # pdf, ofd, doc(x), xls(x)
    IMAGE = "image"  # jpg, png
    ARCHIVE = "archive"  # zip
    TEXT = "text"  # txt
    DATA = "data"  # spreadsheets read by an import


def _starts_with(*signatures: bytes) -> Callable[[IO[bytes]], bool]:
    def check(stream: IO[bytes]) -> bool:
        head = stream.read(_HEAD_BYTES)
        return any(head.startswith(signature) for signature in signatures)

    return check


def _zip_with(member: str, marker: bytes | None = None) -> Callable[[IO[bytes]], bool]:
    """A zip archive holding `member` (whose text contains `marker`): how OOXML and OFD are told apart."""

    def check(stream: IO[bytes]) -> bool:
        if not _starts_with(*_ZIP)(stream):
            return False
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                if member not in archive.namelist():
                    return False
                if marker is None:
                    return True
                # The manifest is small; reading at most 1 MB of it keeps a zip bomb out.
                with archive.open(member) as inner:
                    return marker in inner.read(1024 * 1024)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            return False

    return check


def _any_zip(stream: IO[bytes]) -> bool:
    if not _starts_with(*_ZIP)(stream):
        return False
    stream.seek(0)
    try:
        # The central directory must read; members are not decompressed (a zip bomb costs nothing here).
        with zipfile.ZipFile(stream) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return False


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain_text(stream: IO[bytes]) -> bool:
    """UTF-8 or GB18030 text without NUL or other control characters (a binary file is not text)."""
    content = stream.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not _CONTROL.search(text)
    return False


@dataclass(frozen=True)
class FileType:
    extension: str
    label: str
    kind: str
    content_type: str
    check: Callable[[IO[bytes]], bool]
    # Shown in the browser when opened (a PDF or a photo); every other type is downloaded.
    inline: bool = False


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TYPES = [
    FileType("pdf", "PDF", Kind.DOCUMENT, "application/pdf", _starts_with(b"%PDF-"), inline=True),
    # OFD (GB/T 33190): the national layout format of official documents, a zip with OFD.xml at its root.
    FileType("ofd", "OFD", Kind.DOCUMENT, "application/ofd", _zip_with("OFD.xml")),
    FileType("doc", "Word 97-2003", Kind.DOCUMENT, "application/msword", _starts_with(_OLE)),
    FileType("xls", "Excel 97-2003", Kind.DOCUMENT, "application/vnd.ms-excel", _starts_with(_OLE)),
    FileType("docx", "Word", Kind.DOCUMENT, _DOCX, _zip_with("[Content_Types].xml", b"wordprocessingml")),
    FileType("xlsx", "Excel", Kind.DOCUMENT, _XLSX, _zip_with("[Content_Types].xml", b"spreadsheetml")),
    FileType("jpg", "JPEG", Kind.IMAGE, "image/jpeg", _starts_with(b"\xff\xd8\xff"), inline=True),
    FileType("jpeg", "JPEG", Kind.IMAGE, "image/jpeg", _starts_with(b"\xff\xd8\xff"), inline=True),
    FileType("png", "PNG", Kind.IMAGE, "image/png", _starts_with(b"\x89PNG\r\n\x1a\n"), inline=True),
    FileType("zip", "ZIP", Kind.ARCHIVE, "application/zip", _any_zip),
    FileType("txt", "文本", Kind.TEXT, "text/plain; charset=utf-8", _plain_text),
]
FILE_TYPES: dict[str, FileType] = {file_type.extension: file_type for file_type in _TYPES}


@dataclass(frozen=True)
class Profile:
    """What one upload site takes: a label for messages and its file types by extension."""

    label: str
    types: Mapping[str, FileType]

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(self.types)

    @property
    def accept(self) -> str:
        """The `accept` attribute of the file input (a hint to the browser; the server still checks)."""
        return ",".join(f".{extension}" for extension in self.types)


def _profile(label: str, *extensions: str) -> Profile:
    return Profile(label, {extension: FILE_TYPES[extension] for extension in extensions})


# Evidence of a unit's remit (三定方案, 权责清单 entries): documents, scans, photos, a plain text excerpt.
EVIDENCE = _profile("依据材料", "pdf", "ofd", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "txt")
# Ledger progress and quarterly report attachments: the same, plus zip archives offices exchange.
ATTACHMENT = _profile("附件", "pdf", "ofd", "doc", "docx", "xls", "xlsx", "jpg", "jpeg", "png", "zip", "txt")
# A disclosed staff member's photo on the portal.
PHOTO = _profile("照片", "jpg", "jpeg", "png")
# Data files read by an import: their own limit (settings.UPLOAD_MAX_BYTES["data"]).
SPREADSHEET_IMPORT = Profile(
    "导入文件", {"xlsx": FileType("xlsx", "Excel", Kind.DATA, _XLSX, FILE_TYPES["xlsx"].check)}
)


@dataclass(frozen=True)
class CheckedUpload:
    """An accepted file: its clean original name, type, size and SHA-256 (hex)."""

    file: File
    name: str
    file_type: FileType
    size: int
    sha256: str

    @property
    def extension(self) -> str:
        return self.file_type.extension


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def clean_name(raw: str) -> str:
    """The original file name made safe to keep and show: no folders, control or reserved characters,
    no leading dots, at most NAME_MAX_LENGTH characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name)
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) < 10:
            name = stem[: NAME_MAX_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:NAME_MAX_LENGTH]
    return name


def _mb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def max_bytes(kind: str) -> int:
    limits: Mapping[str, int] = settings.UPLOAD_MAX_BYTES
    return limits[kind]


def check_upload(upload: File, profile: Profile) -> CheckedUpload:
    """Check one uploaded file against `profile`; return what to store. Nothing is written here.

    Raises ValidationError naming the file and the reason: no name, a type the profile does not take,
    an empty or oversized file, or content that is not what the extension says.
    """
    name = clean_name(upload.name or "")
    if not name:
        raise ValidationError(f"{profile.label}缺少文件名")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    file_type = profile.types.get(extension)
    if file_type is None:
        allowed = "、".join(profile.extensions)
        raise ValidationError(f"{profile.label}“{name}”的类型不允许（允许：{allowed}）")
    size = upload.size or 0
    if size == 0:
        raise ValidationError(f"{profile.label}“{name}”是空文件")
    limit = max_bytes(file_type.kind)
    if size > limit:
        raise ValidationError(
            f"{profile.label}“{name}”大小为 {_mb(size)}，超过 {extension} 文件的上限 {_mb(limit)}"
        )
    upload.seek(0)
    try:
        matches = file_type.check(upload)
    finally:
        upload.seek(0)
    if not matches:
        raise ValidationError(
            f"{profile.label}“{name}”的内容不是 {file_type.label} 文件，与扩展名 .{extension} 不符"
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(file=upload, name=name, file_type=file_type, size=size, sha256=digest.hexdigest())


def random_path(folder: str, extension: str) -> str:
    """Where a file is stored: a random name under `folder`, never the uploader's name as a path."""
    return f"{folder}/{uuid.uuid4().hex}.{extension.lower() or 'bin'}"


def file_type_of(name: str) -> FileType | None:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return FILE_TYPES.get(extension)


def file_response(stored: FieldFile, *, name: str) -> FileResponse:
    """Serve a stored file under its original `name`, with a Content-Type of ours and nosniff.

    PDF and images open in the browser; anything else (and anything of an unknown type) downloads as
    application/octet-stream. A stored file never comes back as text/html.
    """
    file_type = file_type_of(name) or file_type_of(stored.name or "")
    inline = file_type is not None and file_type.inline
    response = FileResponse(
        stored.open("rb"),
        as_attachment=not inline,
        # The name goes out RFC 6266-encoded by Django; reserved characters become "_".
        filename=_UNSAFE_NAME.sub("_", name).strip() or "file",
        content_type=file_type.content_type if file_type else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
