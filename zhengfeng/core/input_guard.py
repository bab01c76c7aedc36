"""One place that refuses input no view can store: NUL characters and lone surrogates in any string, JSON
nested beyond MAX_JSON_DEPTH, and bodies Django itself cannot parse (multipart without a boundary, more
than DATA_UPLOAD_MAX_* allows).

Why here and not in each view: PostgreSQL refuses a NUL in a text value and every driver refuses a lone
surrogate (`"\\ud800"` is valid JSON but not valid UTF-8), so such a value turned into a 500 at whichever
query first met it, in dozens of places. The middleware answers 400 with a Chinese message before any view
runs, in the format the caller reads: settings.INPUT_REFUSAL_FORMATS maps a path prefix to a renderer
(the JSON API's `{"detail"}`, Open311's error list, the SMS webhook's `{"ok": false}`); any other path
gets an HTML page. docs/security.md ("No 5xx on any input") lists what is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

# Deeper than any document our endpoints take (theirs are two levels); Python's parser recurses per level.
MAX_JSON_DEPTH = 32
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
# C0 controls other than tab, LF and CR: nobody types them, and XML 1.0 cannot carry them at all.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

Refusal = Callable[[HttpRequest, int, str], HttpResponse]


class RefusedInputError(Exception):
    """A request no view should see; `message` is what the caller is told."""


def bad_character(text: str) -> str | None:
    """What is wrong with `text` in Chinese, or None: a NUL or a lone surrogate cannot be stored."""
    match = _BAD_CHARACTER.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "含有空字符（NUL，\\u0000），请删除后重试"
    return f"含有无效的 Unicode 字符（孤立的代理项 U+{ord(match.group()):04X}），请检查文本编码"


def control_character(text: str) -> str | None:
    """The first C0 control character of `text` other than tab, LF and CR, as `U+0007`, or None.

    The one rule for free text that is published (Open311's descriptions reach XML clients); intake
    refuses such a text rather than silently changing what the citizen wrote.
    """
    match = _CONTROL_CHARACTER.search(text)
    return f"U+{ord(match.group()):04X}" if match is not None else None


def nul_in_file(text: str, *, name: str) -> str | None:
    """The Chinese refusal of an imported text file holding a NUL (naming its line), or None.

    Python's csv reader passes NUL through and PostgreSQL then refuses the row with a driver error; an
    import says which line of the file is wrong instead.
    """
    position = text.find("\x00")
    if position < 0:
        return None
    line = text.count("\n", 0, position) + 1
    return f"文件 {name} 第 {line} 行含有空字符（NUL），请检查文件是否损坏或另存为 UTF-8 编码的 CSV"


def check_text(text: str, *, where: str) -> None:
    problem = bad_character(text)
    if problem is not None:
        raise RefusedInputError(f"{where}{problem}")


def _check_pairs(pairs: Iterable[tuple[str, list[Any]]], *, kind: str) -> None:
    for name, values in pairs:
        check_text(name, where=f"{kind}名")
        for value in values:
            check_text(value, where=f"{kind} {name} ")


def _check_json(value: Any) -> None:
    """Every key and string of a parsed document, without recursion (the depth is checked here too)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "请求体")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_JSON_DEPTH:
            raise RefusedInputError(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层")
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, where="JSON 字段名")
                stack.append((child, depth + 1, f"JSON 字段 {key} "))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, where) for child in item)
        elif isinstance(item, str):
            check_text(item, where=where)


def check_request(request: HttpRequest) -> None:
    """Raise RefusedInputError for what `zhengfeng.core.input_guard` refuses (see the module docstring)."""
    check_text(request.path, where="请求路径")
    check_text(request.headers.get("Authorization", ""), where="请求头 Authorization ")
    try:
        _check_pairs(request.GET.lists(), kind="查询参数")
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.content_type in FORM_TYPES:
            if _fits_in_memory(request):
                # Read first, so that a view reading the body (a JSON endpoint sent a form) still can;
                # a larger upload is streamed to disk by the parser, and the body is gone after it.
                request.body  # noqa: B018 (the read is the point)
            _check_pairs(request.POST.lists(), kind="表单字段")
            for name, files in request.FILES.lists():
                for upload in files:
                    check_text(upload.name or "", where=f"上传文件 {name} 的文件名")
            return
        body = request.body
    except MultiPartParserError as exc:
        raise RefusedInputError(f"multipart 请求体无法解析（须带有效的 boundary）：{exc}") from exc
    except RequestDataTooBig as exc:
        raise RefusedInputError(
            f"请求体过大：超过 {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} 字节（上传文件请用 multipart）"
        ) from exc
    except TooManyFieldsSent as exc:
        raise RefusedInputError(f"参数过多：最多 {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} 个") from exc
    except SuspiciousOperation as exc:  # TooManyFilesSent and Django's other refusals of a body
        raise RefusedInputError(f"请求体无法处理：{exc}") from exc
    if not body.strip():
        return
    try:
        document = json.loads(body)
    except RecursionError as exc:
        raise RefusedInputError(f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层") from exc
    except ValueError:
        # Not JSON (or not UTF-8): the view says so in its own words, and nothing here can be stored.
        return
    _check_json(document)


def _fits_in_memory(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is None or length <= limit


def json_refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """The JSON API's error shape (django-ninja's `{"detail": …}`)."""
    return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})


def html_refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    # Rendered without the request: the session and the user are not loaded yet at this point.
    return HttpResponse(render_to_string("core/refused.html", {"message": message}), status=status)


def _refusal_for(path: str) -> Refusal:
    for prefix, dotted in settings.INPUT_REFUSAL_FORMATS.items():
        if path.startswith(prefix):
            renderer: Refusal = import_string(dotted)
            return renderer
    return html_refusal


class InputGuardMiddleware:
    """Settings.MIDDLEWARE, before the session and CSRF middleware (CSRF reads the form too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            check_request(request)
        except RefusedInputError as exc:
            return _refusal_for(request.path)(request, 400, str(exc))
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view reading the body of a large multipart upload it does not take: the parser has
        consumed the stream (see check_request), and the view's read would be a 500."""
        if isinstance(exception, RawPostDataException):
            message = f"此接口不接受 {request.content_type} 请求体"
            return _refusal_for(request.path)(request, 400, message)
        return None
