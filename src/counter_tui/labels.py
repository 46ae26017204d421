"""Chinese words for wire values the screens show (the mini-program's vocabulary)."""

from __future__ import annotations

from jiuzhutong.contract import Role

ROLE_NAMES: dict[Role, str] = {
    Role.clerk: "窗口经办人",
    Role.township: "乡镇（街道）经办",
    Role.county: "县级民政",
    Role.investigator: "入户调查员",
    Role.admin: "系统管理员",
}

# The application flow's steps, in the order of the step bar (UX.md). A draft's ``step`` is
# one of these keys; anything else is shown as sent, so a newer server never blanks it out.
STEPS: dict[str, str] = {
    "notice": "告知书",
    "basic_info": "基本信息",
    "members": "家庭成员",
    "authorization": "授权签名",
    "economic": "经济状况",
    "submit": "提交",
}


def role_name(role: Role | str) -> str:
    try:
        return ROLE_NAMES[Role(role)]
    except ValueError:
        return str(role)


def step_name(step: str | None) -> str:
    if not step:
        return "未开始"
    return STEPS.get(step, step)
