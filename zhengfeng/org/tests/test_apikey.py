"""`zhengfeng apikey`: the key is the last line of `create`, works as a Bearer token, is stored hashed."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from zhengfeng.core.models import AuditLog
from zhengfeng.org.models import ApiKey

pytestmark = pytest.mark.django_db


def apikey(*args):
    out = io.StringIO()
    call_command("apikey", *args, stdout=out)
    return out.getvalue().splitlines()


def test_create_prints_the_key_alone_on_the_last_line(unit_a):
    lines = apikey("create", "12345 平台", "--scopes", "hotline,org")

    token = lines[-1]
    key = ApiKey.objects.get()
    assert token.startswith(f"zf_{key.prefix}_")
    assert lines[:-1] == [
        f"已创建接口密钥 12345 平台（前缀 {key.prefix}，权限 hotline,org）。",
        "密钥只显示这一次，请妥善保存：",
    ]
    assert key.scopes == ["hotline", "org"]


def test_the_key_is_stored_only_as_a_hash():
    token = apikey("create", "财政系统", "--scopes", "funds")[-1]
    secret = token.split("_", 2)[2]

    key = ApiKey.objects.get()
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [
        str(value) for value in ApiKey.objects.values_list("name", "prefix", "key_hash", "scopes").get()
    ]
    assert all(secret not in value for value in stored)
    assert secret not in str(list(AuditLog.objects.values_list("data", flat=True)))


def test_the_key_works_as_bearer_until_revoked(api_client, unit_a):
    token = apikey("create", "12345 平台", "--scopes", "hotline")[-1]

    response = api_client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [unit["code"] for unit in response.json()] == ["441800-A"]
    assert ApiKey.objects.get().last_used_at is not None

    assert apikey("revoke", "12345 平台") == ["接口密钥 12345 平台 已吊销。"]
    response = api_client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_a_wrong_secret_is_refused(api_client, unit_a):
    token = apikey("create", "12345 平台", "--scopes", "hotline")[-1]
    response = api_client.get("/api/v1/org/units", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert response.status_code == 401


def test_list_shows_state_without_secrets():
    apikey("create", "甲系统", "--scopes", "org")
    apikey("create", "乙系统", "--scopes", "sms")
    apikey("revoke", "乙系统")

    lines = apikey("list")
    assert lines[0] == "名称\t前缀\t权限范围\t创建时间\t最近使用\t状态"
    assert [line.split("\t")[0] for line in lines[1:]] == ["乙系统", "甲系统"]
    assert lines[1].split("\t")[5].startswith("已吊销（")
    assert lines[2].split("\t")[4:] == ["—", "有效"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["create", "甲系统", "--scopes", "org,payroll"],
            "未知的权限范围：payroll；可用：approvals, evaluation, funds, hotline, open311, org, sms, trading",
        ),
        (["create", "甲系统", "--scopes", " , "], "至少需要一个权限范围"),
        (["revoke", "没有这个"], "没有名称为 没有这个 的接口密钥"),
    ],
)
def test_errors(args, message):
    with pytest.raises(CommandError) as exc:
        apikey(*args)
    assert str(exc.value) == message
    assert ApiKey.objects.count() == 0


def test_duplicate_name_and_double_revoke_exit_1():
    # CommandError makes the console script print "CommandError: …" and exit with its returncode.
    apikey("create", "甲系统", "--scopes", "org")
    with pytest.raises(CommandError) as exc:
        apikey("create", "甲系统", "--scopes", "org")
    assert (exc.value.returncode, str(exc.value)) == (1, "名称为 甲系统 的接口密钥已存在")

    apikey("revoke", "甲系统")
    with pytest.raises(CommandError) as exc:
        apikey("revoke", "甲系统")
    assert (exc.value.returncode, str(exc.value)) == (1, "接口密钥 甲系统 已被吊销")
