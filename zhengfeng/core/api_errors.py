"""One wording of a typed-input error for the JSON API: a pydantic error (a JSON body field, or a query or
path parameter that Ninja validated) as a Chinese sentence naming the field, the value and the type wanted.

The hotline's bodies use it through `field_error`, and config/api.py turns every Ninja parameter error into
a 400 with it (instead of Ninja's generic English 422), so a caller reads one style whatever went wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TYPE_NAMES = {
    "int": "整数",
    "bool": "布尔值（true/false）",
    "string": "字符串",
    "list": "数组",
    "datetime": "带时区的日期时间（ISO 8601）",
    "float": "数字",
    "decimal": "数字",
}
# Where Ninja says a parameter came from (the first part of `loc`); not part of the field's name.
SOURCES = frozenset({"query", "path", "body", "header", "cookie", "form", "file"})


def field_error(error: Mapping[str, Any]) -> str:
    parts = [str(part) for part in error.get("loc", ())]
    if len(parts) > 1 and parts[0] in SOURCES:
        parts = parts[1:]
    field = ".".join(parts) or "请求体"
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"缺少字段 {field}"
    if kind == "extra_forbidden":
        return f"未知字段 {field}"
    expected = next((name for key, name in TYPE_NAMES.items() if kind.startswith(key)), "")
    # Ninja leaves the value out of a parameter's error; a body's error has it.
    what = f"字段 {field} 的值 {error['input']!r}" if "input" in error else f"字段 {field}"
    return f"{what} 无效" + (f"，应为{expected}" if expected else "")
