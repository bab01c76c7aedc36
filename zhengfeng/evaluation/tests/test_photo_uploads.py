"""Staff photos (admin and service) pass core.uploads.PHOTO: a renamed executable, an HTML page or an
oversized image is refused on the form and leaves no row and no file; a good photo is stored under a
random name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhengfeng.evaluation import services
from zhengfeng.evaluation.models import DisclosedStaff
from zhengfeng.evaluation.tests.test_admin import staff_form

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
EXE = b"MZ\x90\x00\x03\x00"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.UPLOAD_MAX_BYTES = {**settings.UPLOAD_MAX_BYTES, "image": 1024}
    return settings.MEDIA_ROOT


def stored_files(media) -> list[str]:
    return sorted(str(path) for path in media.rglob("*") if path.is_file()) if media.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("张三.jpg", EXE, "照片“张三.jpg”的内容不是 JPEG 文件，与扩展名 .jpg 不符"),
        ("张三.png", PNG + b"\x00" * 2048, "照片“张三.png”大小为 2.0 KB，超过 png 文件的上限 1.0 KB"),
        ("张三.html", b"<html></html>", "照片“张三.html”的类型不允许（允许：jpg、jpeg、png）"),
    ],
)
def test_the_admin_refuses_a_bad_photo_on_the_field(
    client, admin_user, unit_a, media, name, content, message
):
    client.force_login(admin_user)

    response = client.post(
        "/admin/evaluation/disclosedstaff/add/",
        {**staff_form(unit_a), "photo": SimpleUploadedFile(name, content)},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["photo"] == [message]
    assert DisclosedStaff.objects.count() == 0
    assert stored_files(media) == []


def test_the_service_refuses_a_disguised_photo_too(unit_a, media):
    with pytest.raises(ValidationError) as refused:
        services.create_staff(
            unit=unit_a, name="张三", title="队长", photo=SimpleUploadedFile("张三.png", EXE)
        )

    assert refused.value.messages == ["照片“张三.png”的内容不是 PNG 文件，与扩展名 .png 不符"]
    assert (DisclosedStaff.objects.count(), stored_files(media)) == (0, [])


def test_a_good_photo_is_stored_under_a_random_name(client, admin_user, unit_a, media):
    client.force_login(admin_user)

    client.post(
        "/admin/evaluation/disclosedstaff/add/",
        {**staff_form(unit_a), "photo": SimpleUploadedFile("张三.png", PNG)},
    )

    photo = DisclosedStaff.objects.get().photo
    assert photo.name.startswith("evaluation/staff/")
    assert photo.name.endswith(".png")
    assert "张三" not in photo.name
    assert (media / photo.name).read_bytes() == PNG


def test_a_new_photo_on_change_is_checked(unit_a, media):
    staff = services.create_staff(unit=unit_a, name="张三", title="队长")

    with pytest.raises(ValidationError) as refused:
        services.update_staff(staff, photo=SimpleUploadedFile("张三.jpg", EXE))

    assert refused.value.messages == ["照片“张三.jpg”的内容不是 JPEG 文件，与扩展名 .jpg 不符"]
    assert (DisclosedStaff.objects.get().photo.name, stored_files(media)) == ("", [])


def test_the_portal_serves_a_disclosed_photo_only(client, year, unit_a, zhang, li, media):
    services.update_staff(zhang, photo=SimpleUploadedFile("zhang.png", PNG))
    services.update_staff(li, photo=SimpleUploadedFile("li.png", PNG))
    zhang_url = reverse("portal:evaluation_staff_photo", args=["441800-A", zhang.pk])

    page = client.get(reverse("portal:evaluation_unit", args=["441800-A"]))
    photo = client.get(zhang_url)
    hidden = client.get(reverse("portal:evaluation_staff_photo", args=["441800-A", li.pk]))

    assert f'<img src="{zhang_url}" alt="张三" width="60">' in page.content.decode()
    assert b"".join(photo.streaming_content) == PNG
    assert (photo["Content-Type"], photo["Content-Disposition"], photo["X-Content-Type-Options"]) == (
        "image/png",
        "inline; filename*=utf-8''%E5%BC%A0%E4%B8%89.png",
        "nosniff",
    )
    assert hidden.status_code == 404
