"""Bounded, printable text types with Chinese error messages.

Rare CJK characters outside the BMP (𠮷, 䶮) are ordinary characters here; control
characters, emoji and overlong values are refused with a message a clerk can act on.
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

NAME_MAX = 40
SHORT_MAX = 100
LONG_MAX = 500

_NAME_PUNCT = {"·", "•", "・"}  # minority names: 阿依古丽·买买提


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x1F900 <= cp <= 0x1F9FF
        or cp in (0xFE0F, 0x200D, 0x20E3)
    )


def _check_chars(value: str) -> str:
    for ch in value:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn") and not _is_emoji(ch):
            raise PydanticCustomError(
                "text_control", "不能包含控制字符或不可见字符（U+{cp}）", {"cp": f"{ord(ch):04X}"}
            )
        if _is_emoji(ch):
            raise PydanticCustomError("text_emoji", "不能包含表情符号")
    return value


def _strip(value: object) -> object:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def _bounded(max_len: int, min_len: int = 0):
    def check(value: str) -> str:
        n = len(value)
        if n < min_len:
            raise PydanticCustomError("text_empty", "不能为空")
        if n > max_len:
            raise PydanticCustomError(
                "text_too_long", "不能超过{max}个字符（现有{n}个）", {"max": max_len, "n": n}
            )
        return _check_chars(value)

    return check


def _name(value: str) -> str:
    if not value:
        raise PydanticCustomError("name_empty", "姓名不能为空")
    if len(value) > NAME_MAX:
        raise PydanticCustomError(
            "name_too_long",
            "姓名不能超过{max}个字符（现有{n}个）",
            {"max": NAME_MAX, "n": len(value)},
        )
    _check_chars(value)
    for ch in value:
        if ch in _NAME_PUNCT or ch == " ":
            continue
        if not unicodedata.category(ch).startswith("L"):
            raise PydanticCustomError(
                "name_char", "姓名只能包含文字和间隔号“·”，不能包含“{ch}”", {"ch": ch}
            )
    return value


Name = Annotated[str, BeforeValidator(_strip), AfterValidator(_name)]
ShortText = Annotated[str, BeforeValidator(_strip), AfterValidator(_bounded(SHORT_MAX))]
LongText = Annotated[str, BeforeValidator(_strip), AfterValidator(_bounded(LONG_MAX))]
RequiredShortText = Annotated[
    str, BeforeValidator(_strip), AfterValidator(_bounded(SHORT_MAX, min_len=1))
]
# ID numbers are checked by jiuzhutong.domain.idnumber, which knows the rules; here only
# the size is bounded so a huge value never reaches it.
IdNumberText = Annotated[
    str,
    BeforeValidator(lambda v: _strip(v).upper() if isinstance(v, str) else v),
    AfterValidator(_bounded(32, min_len=1)),
]
