"""经济状况's words for items and corrections: classes, periods, amounts, 是否计入."""

from __future__ import annotations

from decimal import Decimal

from jiuzhutong.contract.economic import (
    SIMULATED_TEXT,
    CorrectionOut,
    EconomicItemOut,
    ItemKind,
    RigidExpense,
)

# Short words for the table's 类别 column (the full ones are in the detail line).
EXPENSE_SHORT = {RigidExpense.disability: "残疾康复护理", RigidExpense.illness: "大病医疗自付"}


# --- formatting -----------------------------------------------------------------------


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def class_text(item: EconomicItemOut) -> str:
    if item.income_class is not None:
        return item.income_class.value
    if item.property_class is not None:
        word = item.property_class.value
        return f"{word}×{item.quantity}" if item.quantity > 1 else word
    if item.expense_kind is not None:
        return EXPENSE_SHORT.get(item.expense_kind, item.expense_kind.value)
    return item.kind.value


def full_class(item: EconomicItemOut | CorrectionOut) -> str:
    for c in (item.income_class, item.property_class, item.expense_kind):
        if c is not None:
            return c.value
    return item.kind.value


def period_text(item: EconomicItemOut) -> str:
    if item.kind == ItemKind.property or item.period_start == item.period_end:
        return f"{item.period_end:%Y-%m-%d}"
    return f"{item.period_start:%Y.%m}–{item.period_end:%Y.%m}"


def counted_text(item: EconomicItemOut, *, compact: bool = False) -> str:
    if item.counted:
        return "✓ 扣减" if item.kind == ItemKind.expense else "✓ 计入"
    if compact:
        return "✗ 不计入"
    if item.excluded is not None:
        return f"✗ 不计入：{item.excluded.value}"
    return f"✗ {item.excluded_reason or '不计入'}"


def source_text(item: EconomicItemOut) -> str:
    return f"{item.source.value}·{SIMULATED_TEXT}" if item.simulated else item.source.value


def amount_text(
    item: EconomicItemOut, corrections: list[CorrectionOut], *, compact: bool = False
) -> str:
    """The generated amount, and beside it the declared one (→) or a note mark (※); in the
    compact table only the mark (the detail line below shows the declared value)."""
    text = money(item.amount)
    declared = [c for c in corrections if c.declared_amount is not None]
    if compact and corrections:
        text = f"{text} ※"
    elif declared:
        text = f"{text}→{money(declared[-1].declared_amount)}"
    elif corrections:
        text = f"{text} ※"
    return text


def correction_text(c: CorrectionOut) -> str:
    # No spaces in a CJK run: Rich wraps at spaces, and folds a long run anywhere.
    where = f"{c.person_name}·{c.source.value if c.source else '本人申报'}·{full_class(c)}"
    if c.declared_amount is None:
        figures = f"系统{money(c.generated_amount)}元，仅作说明"
    else:
        months = f"（{c.declared_months}个月）" if c.declared_months else ""
        figures = f"系统{money(c.generated_amount)}元→申报{money(c.declared_amount)}元{months}"
    text = f"{where}：{figures}；理由：{c.reason}"
    if c.note:
        text += f"；说明：{c.note}"
    return text
