"""`zhengfeng openapi`: docs/openapi.json and docs/api.md are what the code produces, and --check says so;
the access table (config/api_access.py) is what the API enforces and what the document declares."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from ninja import Router

from config import api_access
from config.api import ROUTERS, UNAUTHENTICATED
from config.api_access import ACCESS, ANY_KEY, Access
from zhengfeng.org.auth import CSRF_FAILED, ApiKeyAuth, SessionAuth
from zhengfeng.org.services import create_api_key

DOCS = Path(settings.BASE_DIR) / "docs"


def _generate(directory: Path) -> dict[str, str]:
    call_command("openapi", "--dir", str(directory))
    return {name: (directory / name).read_text(encoding="utf-8") for name in ("openapi.json", "api.md")}


# ----------------------------------------------------------------------------------- the command


def test_check_passes_on_the_committed_copies(capsys):
    call_command("openapi", "--check")

    assert capsys.readouterr().out == "docs/openapi.json 与 docs/api.md 已是最新\n"


def test_generated_files_equal_the_committed_ones_and_do_not_change_between_runs(tmp_path):
    first = _generate(tmp_path / "one")
    second = _generate(tmp_path / "two")

    assert first == second
    assert first == {name: (DOCS / name).read_text(encoding="utf-8") for name in ("openapi.json", "api.md")}


def test_check_fails_with_exit_1_after_a_change_and_writes_nothing(tmp_path):
    _generate(tmp_path)
    schema = json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8"))
    schema["info"]["title"] = "旧的标题"
    stale = json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (tmp_path / "openapi.json").write_text(stale, encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        call_command("openapi", "--dir", str(tmp_path), "--check")

    assert raised.value.returncode == 1
    assert str(raised.value) == (
        f"{tmp_path / 'openapi.json'} 与代码不一致：请运行 `zhengfeng openapi` 重新生成并提交"
    )
    assert (tmp_path / "openapi.json").read_text(encoding="utf-8") == stale


def test_the_console_script_exits_1_on_a_stale_copy(tmp_path):
    _generate(tmp_path)
    with (tmp_path / "api.md").open("a", encoding="utf-8") as docs:
        docs.write("手改的一行\n")
    env = {
        key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")
    }

    done = subprocess.run(  # noqa: S603 (our own console script, fixed arguments)
        [sys.executable, "-m", "zhengfeng.cli", "openapi", "--dir", str(tmp_path), "--check"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"CommandError: {tmp_path / 'api.md'} 与代码不一致：请运行 `zhengfeng openapi` 重新生成并提交\n"
    )


def test_check_fails_on_a_missing_file(tmp_path):
    _generate(tmp_path)
    (tmp_path / "api.md").unlink()

    with pytest.raises(CommandError) as raised:
        call_command("openapi", "--dir", str(tmp_path), "--check")

    assert (raised.value.returncode, str(raised.value)) == (
        1,
        f"{tmp_path / 'api.md'} 与代码不一致：请运行 `zhengfeng openapi` 重新生成并提交",
    )
    assert not (tmp_path / "api.md").exists()


def test_the_served_document_is_the_committed_one(api_client, db):
    served = api_client.get("/api/v1/openapi.json").json()

    assert served == json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))


def test_api_md_has_one_row_per_endpoint():
    rows = [
        line for line in (DOCS / "api.md").read_text(encoding="utf-8").splitlines() if line.startswith("| ")
    ]

    assert len(rows) == 1 + len(ACCESS)  # the header, then one row per table entry
    assert (
        "| POST | `/api/v1/evaluation/actions` | 登记执法监督记录（发送评议短信） | `evaluation` | — |  |"
        in rows
    )
    assert (
        "| GET | `/api/v1/org/units` | 单位名录 | any live key | any staff user | 会话按权限范围；接口密钥看全部单位 |"
    ) in rows


# ----------------------------------------------------------------------------------- the table


def test_the_document_declares_each_operation_from_the_table():
    schema = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    declared = {
        (method.upper(), path.removeprefix("/api/v1")): (
            operation.get("security"),
            operation["x-zhengfeng-access"],
        )
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }

    assert set(declared) == set(ACCESS)
    assert declared[("GET", "/evaluation/scores")] == (
        [{"SessionAuth": ["admin", "inspector", "office"]}, {"ApiKeyAuth": ["evaluation"]}],
        {
            "api_key_scope": "evaluation",
            "note": "会话按所在区划取数；接口密钥取全部",
            "public": False,
            "session": True,
            "session_roles": ["admin", "inspector", "office"],
        },
    )
    assert declared[("GET", "/evaluation/staff")] == (
        None,
        {"api_key_scope": None, "note": "", "public": True, "session": False, "session_roles": None},
    )
    assert declared[("GET", "/org/units")][0] == [{"SessionAuth": []}, {"ApiKeyAuth": []}]
    assert declared[("POST", "/hotline/orders/{code}/sign")][0] == [
        {"SessionAuth": []},
        {"ApiKeyAuth": ["hotline"]},
    ]


def _url(path: str) -> str:
    return "/api/v1" + path.replace("{code}", "QY20260101-000001")


def _call(api_client, method: str, path: str, **headers):
    if method == "GET":
        return api_client.get(_url(path), headers=headers)
    return api_client.post(_url(path), "{}", content_type="application/json", headers=headers)


SCOPED = sorted(key for key, access in ACCESS.items() if access.key_scope not in (None, ANY_KEY))
NOT_PUBLIC = sorted(key for key, access in ACCESS.items() if not access.public)


@pytest.mark.parametrize(("method", "path"), SCOPED)
def test_a_key_without_the_required_scope_is_refused(api_client, db, method, path):
    scope = ACCESS[(method, path)].key_scope
    other = "sms"
    token = create_api_key(name="短信平台", scopes=[other])[1]

    response = _call(api_client, method, path, Authorization=f"Bearer {token}")

    assert (response.status_code, response.json()) == (403, {"detail": f"接口密钥没有 {scope} 权限"})


@pytest.mark.parametrize(("method", "path"), NOT_PUBLIC)
def test_no_credentials_is_401(api_client, db, method, path):
    response = _call(api_client, method, path)

    assert (response.status_code, response.json()) == (401, {"detail": UNAUTHENTICATED})


KEY_WRITES = sorted(key for key, access in ACCESS.items() if key[0] != "GET" and access.key_scope is not None)
SESSION_WRITES = sorted(key for key, access in ACCESS.items() if key[0] != "GET" and access.session)


def _lax_client() -> Client:
    """Django's default test client, which skips CSRF: the answer a request gets past the CSRF check."""
    return Client()


def test_the_api_client_enforces_csrf(api_client):
    assert api_client.handler.enforce_csrf_checks is True


@pytest.mark.parametrize(("method", "path"), KEY_WRITES)
def test_a_key_write_is_judged_by_the_key_not_by_csrf(api_client, db, method, path):
    # Issue #10: with CSRF enforced, every key-only write was 403 "CSRF check Failed". With the key's
    # scope it now gets exactly what a client that skips CSRF gets (the endpoint's own answer to `{}`).
    scope = ACCESS[(method, path)].key_scope
    token = create_api_key(name="对接系统", scopes=[scope or "hotline"])[1]

    strict = _call(api_client, method, path, Authorization=f"Bearer {token}")
    lax = _call(_lax_client(), method, path, Authorization=f"Bearer {token}")

    assert (strict.status_code, strict.json()) == (lax.status_code, lax.json())
    assert strict.status_code in (400, 403)
    assert strict.json() != {"detail": CSRF_FAILED}


@pytest.mark.parametrize(("method", "path"), SESSION_WRITES)
def test_a_session_write_needs_the_csrf_token(api_client, admin_user, method, path):
    api_client.force_login(admin_user)
    without = _call(api_client, method, path)
    with_token = _call(api_client, method, path, **api_client.csrf_headers())
    lax = _lax_client()
    lax.force_login(admin_user)
    past_the_check = _call(lax, method, path)

    assert (without.status_code, without.json()) == (403, {"detail": CSRF_FAILED})
    assert (with_token.status_code, with_token.json()) == (past_the_check.status_code, past_the_check.json())


@pytest.mark.parametrize(("method", "path"), SESSION_WRITES)
def test_a_session_with_a_wrong_csrf_token_is_403(api_client, admin_user, method, path):
    api_client.force_login(admin_user)
    api_client.csrf_headers()  # the cookie is set; the header below does not match it

    response = _call(api_client, method, path, **{"X-CSRFToken": "x" * 32})

    assert (response.status_code, response.json()) == (403, {"detail": CSRF_FAILED})


def test_apply_gives_each_operation_the_callbacks_of_its_row():
    router = Router()

    @router.get("/ping")
    def ping(request):
        return {}

    @router.post("/ping")
    def pong(request):
        return {}

    api_access.apply(
        {"/x/": router},
        {
            ("GET", "/x/ping"): Access(key_scope="org", roles=frozenset({"office"})),
            ("POST", "/x/ping"): Access(None, False),
        },
    )

    get, post = router.path_operations["/ping"].operations
    session, key = get.auth_callbacks
    assert (type(session), type(key)) == (SessionAuth, ApiKeyAuth)
    # The same again, for the type checker.
    assert isinstance(session, SessionAuth)
    assert isinstance(key, ApiKeyAuth)
    assert (session.roles, key.scope) == (frozenset({"office"}), "org")
    assert (post.auth_param, post.auth_callbacks) == (None, [])


def test_an_operation_without_a_row_stops_start_up():
    router = Router()

    @router.get("/ping")
    def ping(request):
        return {}

    with pytest.raises(ImproperlyConfigured) as raised:
        api_access.apply({"/x/": router}, {})

    assert str(raised.value) == "GET /x/ping：没有在 config/api_access.py 的 ACCESS 中声明调用权限"


def test_a_row_without_an_operation_stops_start_up():
    router = Router()

    @router.get("/ping")
    def ping(request):
        return {}

    with pytest.raises(ImproperlyConfigured) as raised:
        api_access.apply(
            {"/x/": router}, {("GET", "/x/ping"): Access("org"), ("DELETE", "/x/gone"): Access("org")}
        )

    assert str(raised.value) == "config/api_access.py 的 ACCESS 中有不存在的接口：DELETE /x/gone"


def test_every_mounted_router_is_covered_by_the_table():
    mounted = {
        (method, api_access.full_path(prefix, path))
        for prefix, router in ROUTERS.items()
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }

    assert mounted == set(ACCESS)


def test_every_operation_documents_the_answers_it_can_give():
    """400 anywhere (core.input_guard refuses a NUL on any path); 401 and 403 wherever a key or a session
    is needed. The fuzz test (test_fuzz.py) fails on any status the document does not list."""
    document = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            expected = {"400"} | ({"401", "403"} if "security" in operation else set())
            assert expected <= set(operation["responses"]), (method, path)
