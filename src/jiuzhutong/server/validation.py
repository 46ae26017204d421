"""Pydantic validation errors → ErrorItem with a Chinese message a clerk can act on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jiuzhutong.contract import ErrorItem

_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})

_TYPE_MESSAGES = {
    "string_type": "类型错误：应为字符串",
    "string_unicode": "类型错误：应为字符串",
    "int_type": "类型错误：应为整数",
    "int_parsing": "类型错误：应为整数",
    "int_from_float": "类型错误：应为整数",
    "float_type": "类型错误：应为数字",
    "float_parsing": "类型错误：应为数字",
    "bool_type": "类型错误：应为 true 或 false",
    "bool_parsing": "类型错误：应为 true 或 false",
    "model_type": "类型错误：应为对象",
    "model_attributes_type": "类型错误：应为对象",
    "dict_type": "类型错误：应为对象",
    "list_type": "类型错误：应为数组",
    "date_type": "类型错误：应为日期（YYYY-MM-DD）",
    "date_parsing": "类型错误：应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "类型错误：应为日期（YYYY-MM-DD）",
    "datetime_type": "类型错误：应为日期时间",
    "datetime_parsing": "类型错误：应为日期时间",
    "none_required": "此项应为空",
    "json_invalid": "请求体不是有效的 JSON",
    "json_type": "请求体应为 JSON",
}

_PATTERN_MESSAGES = {
    "username": "用户名只能包含小写字母、数字和“_”“.”“-”",
    "region": "区域代码应为2、4、6、9或12位数字",
}


def field_path(loc: Sequence[str | int]) -> str | None:
    """("body", "details", "phone") → "details.phone"; list positions as "members[2]"."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or None


def _choices(ctx: Mapping[str, Any]) -> str:
    expected = str(ctx.get("expected", ""))
    values = re.findall(r"'([^']*)'", expected)
    return "、".join(values) if values else expected


def message_for(error: Mapping[str, Any], field: str | None) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "string_type" and "input" in error and error["input"] is None:
        return "此项不能为空"
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind == "missing":
        return "此项必填" if field else "请求体不能为空"
    if kind == "extra_forbidden":
        return f"不认识的字段“{_last(field)}”，请检查拼写"
    if kind in ("enum", "literal_error"):
        return f"取值无效，应为以下之一：{_choices(ctx)}"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "不能为空" if n == 1 else f"至少需要{n}个字符"
    if kind == "string_too_long":
        return f"不能超过{ctx.get('max_length')}个字符"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(_last(field), "格式不正确")
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于{ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于{ctx.get('le', ctx.get('lt'))}"
    if kind == "value_error":
        return str(error.get("msg", "")).removeprefix("Value error, ") or "取值无效"
    # the contract's own validators (text.py) already speak Chinese
    msg = str(error.get("msg", ""))
    return msg if _has_cjk(msg) else "取值无效"


def translate(errors: Iterable[Mapping[str, Any]]) -> list[ErrorItem]:
    items: list[ErrorItem] = []
    seen: set[tuple[str, str | None]] = set()
    for error in errors:
        code = str(error.get("type", "invalid"))
        # a JSON syntax error's location is a character offset, not a field
        field = None if code == "json_invalid" else field_path(error.get("loc", ()))
        key = (code, field)
        if key in seen:  # a union reports one mismatch per member; once is enough
            continue
        seen.add(key)
        items.append(ErrorItem(code=code, message=message_for(error, field), field=field))
    return items


def _last(field: str | None) -> str:
    if not field:
        return ""
    return re.split(r"[.\[]", field)[-1].rstrip("]")


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" for ch in text)
