"""The household economic status (家庭经济状况, Art 12–14, 17) assembled from source records.

The sources' records are facts as received; the applicant's corrections are kept beside them
and produce a second, separately computed view, so the generated figures stay visible and
unchanged (PIPL Art 24: the status is a proposal a person confirms, not an automated
decision). The comparison with the standard is labelled 参考.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from jiuzhutong.contract import HukouType
from jiuzhutong.contract.economic import (
    CorrectionIn,
    CorrectionOut,
    DeductionOut,
    EconomicItemOut,
    EconomicStatusOut,
    EconomicViewOut,
    ExcludedIncomeName,
    IncomeClassName,
    ItemKind,
    PropertyClass,
    PropertyFlagOut,
    PropertySummaryOut,
    PropertyTotalOut,
    ReferenceLabel,
    RigidExpense,
    SourceName,
    SourceProgress,
    SourceState,
    StandardOut,
)
from jiuzhutong.domain.errors import DomainError, DomainErrors
from jiuzhutong.domain.household import Person, classify_member
from jiuzhutong.domain.income import (
    MARGINAL_FACTOR,
    Deduction,
    ExcludedIncome,
    IncomeClass,
    IncomeItem,
    IncomeResult,
    compare_with_standard,
    per_capita_monthly_income,
)
from jiuzhutong.domain.property import (
    PropertyItem,
    PropertySummary,
    PropertyThresholds,
    property_summary,
)
from jiuzhutong.domain.standards import Standard, StandardsTable

CENT = Decimal("0.01")
DECLARED_SOURCE = "申请人申报"  # shown where a declared item has no source


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def period_for(as_of: date, months: int) -> tuple[date, date]:
    """The ``months`` whole calendar months ending with the month before ``as_of``.

    Sources report closed months; the month of the check is not over yet.
    """
    if months < 1:
        raise ValueError(f"months must be >= 1: {months}")
    end = as_of.replace(day=1) - timedelta(days=1)
    index = end.year * 12 + (end.month - 1) - (months - 1)
    return date(index // 12, index % 12 + 1, 1), end


# --- items ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EconomicItem:
    """One record a source returned about one person: income, property or a rigid expense.

    ``id`` is stamped by the check runner ("<source>.<person_ref>.<n>"), so corrections can
    name the item and a rerun with the same data gives the same ids.
    """

    person_ref: str
    source: SourceName
    period_start: date
    period_end: date
    amount: Decimal  # income/expense over `months`; property: value at period_end
    income_class: IncomeClass | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    months: int | None = None
    cost: Decimal = Decimal(0)
    excluded: ExcludedIncome | None = None
    quantity: int = 1
    description: str = ""
    simulated: bool = False
    id: str = ""

    def __post_init__(self) -> None:
        errors = self.problems()
        if errors:
            raise DomainErrors(errors)

    def problems(self) -> list[DomainError]:
        def err(message: str, name: str) -> DomainError:
            return DomainError("economic_item_invalid", message, name)

        errors = []
        kinds = [
            k for k in (self.income_class, self.property_class, self.expense_kind) if k is not None
        ]
        if len(kinds) != 1:
            errors.append(err("每条记录应且只应属于收入、财产或刚性支出中的一类", "kind"))
        amount = Decimal(self.amount)
        if not amount.is_finite() or amount < 0:
            errors.append(err("金额不能为负数", "amount"))
        cost = Decimal(self.cost)
        if not cost.is_finite() or cost < 0:
            errors.append(err("成本不能为负数", "cost"))
        if self.period_end < self.period_start:
            errors.append(err("起始日期不能晚于截止日期", "period_end"))
        if self.property_class is None:
            m = self.months
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                errors.append(err("收入或支出应注明不小于1的月数", "months"))
        if self.income_class is None and (cost != 0 or self.excluded is not None):
            errors.append(err("只有收入记录可以有成本或不计入收入的情形", "cost"))
        q = self.quantity
        if isinstance(q, bool) or not isinstance(q, int) or q < 0:
            errors.append(err("数量应为不小于0的整数", "quantity"))
        return errors

    @property
    def kind(self) -> ItemKind:
        if self.income_class is not None:
            return ItemKind.income
        if self.property_class is not None:
            return ItemKind.property
        return ItemKind.expense

    @property
    def monthly_amount(self) -> Decimal | None:
        """Net per month to the fen; None for property, which is a stock, not a flow."""
        if self.property_class is not None or not self.months:
            return None
        net = max(Decimal(self.amount) - Decimal(self.cost), Decimal(0))
        return _money(net / self.months)

    def to_out(self, person_name: str, *, counted_person: bool = True) -> EconomicItemOut:
        reason = None
        if not counted_person:
            reason = f"{person_name}不计入共同生活家庭成员，该记录不计入家庭收入和财产"
        elif self.excluded is not None:
            reason = f"不计入收入：{self.excluded.value}"
        return EconomicItemOut(
            id=self.id,
            kind=self.kind,
            person_ref=self.person_ref,
            person_name=person_name,
            source=self.source,
            income_class=_wire_class(self.income_class),
            property_class=self.property_class,
            expense_kind=self.expense_kind,
            period_start=self.period_start,
            period_end=self.period_end,
            amount=Decimal(self.amount),
            cost=Decimal(self.cost),
            months=self.months,
            monthly_amount=self.monthly_amount,
            quantity=self.quantity,
            excluded=ExcludedIncomeName(self.excluded.value) if self.excluded else None,
            counted=counted_person and self.excluded is None,
            excluded_reason=reason,
            description=self.description,
            simulated=self.simulated,
        )


def item_from_out(out: EconomicItemOut) -> EconomicItem:
    """Rebuild a stored item (the store may keep items as their wire JSON)."""
    return EconomicItem(
        id=out.id,
        person_ref=out.person_ref,
        source=out.source,
        period_start=out.period_start,
        period_end=out.period_end,
        amount=out.amount,
        income_class=IncomeClass(out.income_class.value) if out.income_class else None,
        property_class=out.property_class,
        expense_kind=out.expense_kind,
        months=out.months,
        cost=out.cost,
        excluded=ExcludedIncome(out.excluded.value) if out.excluded else None,
        quantity=out.quantity,
        description=out.description,
        simulated=out.simulated,
    )


def _wire_class(c: IncomeClass | None) -> IncomeClassName | None:
    return IncomeClassName(c.value) if c is not None else None


# --- corrections ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Correction:
    """The applicant's declared value (or annotation only) beside a generated item."""

    id: str
    reason: str
    item_id: str | None = None  # a generated item, or:
    person_ref: str | None = None  # ... a person and exactly one class the sources missed
    source: SourceName | None = None  # None: declared by the applicant
    income_class: IncomeClass | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    declared_amount: Decimal | None = None  # None: annotation only, figures untouched
    declared_months: int | None = None
    note: str | None = None
    created_at: datetime | None = None


def correction_from_in(
    data: CorrectionIn, *, id: str, created_at: datetime | None = None
) -> Correction:
    return Correction(
        id=id,
        reason=data.reason,
        item_id=data.item_id,
        person_ref=data.person_ref,
        source=data.source,
        income_class=IncomeClass(data.income_class.value) if data.income_class else None,
        property_class=data.property_class,
        expense_kind=data.expense_kind,
        declared_amount=data.declared_amount,
        declared_months=data.declared_months,
        note=data.note,
        created_at=created_at,
    )


def check_corrections(
    corrections: Sequence[Correction],
    items: Sequence[EconomicItem],
    persons: Sequence[Person],
) -> list[DomainError]:
    """Every problem at once (一次性告知); field paths "corrections[i].*"."""
    by_id = {it.id: it for it in items}
    refs = {p.ref for p in persons}
    errors: list[DomainError] = []
    for i, c in enumerate(corrections):

        def err(code: str, message: str, name: str | None = None, i: int = i) -> None:
            where = f"corrections[{i}]"
            errors.append(DomainError(code, message, f"{where}.{name}" if name else where))

        if not c.reason.strip():
            err("correction_reason_missing", "请填写更正或说明的理由", "reason")
        if c.item_id is not None:
            item = by_id.get(c.item_id)
            if item is None:
                err("correction_item_unknown", "要更正的记录不存在", "item_id")
                continue
            is_property = item.property_class is not None
        else:
            if c.person_ref not in refs:
                err("correction_person_unknown", "申报的成员不在本家庭中", "person_ref")
            kinds = [k for k in (c.income_class, c.property_class, c.expense_kind) if k]
            if len(kinds) != 1:
                err(
                    "correction_class_invalid",
                    "新申报的项目应且只应选择一个类别（收入、财产或刚性支出）",
                )
                continue
            is_property = c.property_class is not None
            if c.declared_amount is not None and not is_property and c.declared_months is None:
                err(
                    "correction_months_missing",
                    "新申报的收入或刚性支出需填写所涉月数",
                    "declared_months",
                )
        if c.declared_amount is not None:
            amount = Decimal(c.declared_amount)
            if not amount.is_finite() or amount < 0:
                err("correction_amount_invalid", "申报金额不能为负数", "declared_amount")
        if c.declared_months is not None:
            if is_property:
                err(
                    "correction_months_invalid",
                    "财产是某一日的价值，不需填写月数",
                    "declared_months",
                )
            elif c.declared_months < 1:
                err("correction_months_invalid", "月数应为不小于1的整数", "declared_months")
    return errors


# --- the status ----------------------------------------------------------------------


@dataclass(frozen=True)
class EconomicView:
    """Figures computed from one set of values: the generated ones, or with declarations."""

    income: IncomeResult
    property: PropertySummary
    excluded_monthly: Decimal
    reference: ReferenceLabel | None
    reference_text: str

    def to_out(self) -> EconomicViewOut:
        return EconomicViewOut(
            by_class={IncomeClassName(c.value): v for c, v in self.income.by_class.items()},
            household_monthly=self.income.household_monthly,
            per_capita_monthly=self.income.per_capita_monthly,
            deductions_monthly=self.income.deductions_monthly,
            excluded_monthly=self.excluded_monthly,
            property=_property_out(self.property),
            reference=self.reference,
            reference_text=self.reference_text,
        )


@dataclass(frozen=True)
class EconomicStatus:
    items: tuple[EconomicItem, ...]
    corrections: tuple[Correction, ...]
    person_names: dict[str, str]
    counted_refs: frozenset[str]
    household_size: int
    division_code: str
    hukou_type: HukouType | None
    standard: Standard | None
    generated: EconomicView
    corrected: EconomicView | None  # None when no correction declares a value
    sources: tuple[SourceProgress, ...]
    generated_at: datetime
    confirmed_at: datetime | None = None
    notice: str = ""

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def missing_sources(self) -> list[SourceName]:
        done = {s.source for s in self.sources if s.state is SourceState.done}
        return [s for s in SourceName if s not in done]

    @property
    def complete(self) -> bool:
        return not self.missing_sources

    @property
    def simulated(self) -> bool:
        return any(it.simulated for it in self.items) or any(s.simulated for s in self.sources)

    @property
    def deductions(self) -> list[EconomicItem]:
        return [
            it
            for it in self.items
            if it.expense_kind is not None and it.person_ref in self.counted_refs
        ]

    def to_out(self) -> EconomicStatusOut:
        gen = self.generated
        by_id = {it.id: it for it in self.items}
        return EconomicStatusOut(
            items=[
                it.to_out(
                    self.person_names.get(it.person_ref, ""),
                    counted_person=it.person_ref in self.counted_refs,
                )
                for it in self.items
            ],
            corrections=[self._correction_out(c, by_id) for c in self.corrections],
            deductions=[
                DeductionOut(
                    item_id=it.id,
                    person_ref=it.person_ref,
                    person_name=self.person_names.get(it.person_ref, ""),
                    kind=it.expense_kind,
                    amount=Decimal(it.amount),
                    months=it.months,
                    monthly_amount=it.monthly_amount,
                )
                for it in self.deductions
            ],
            household_size=self.household_size,
            by_class={IncomeClassName(c.value): v for c, v in gen.income.by_class.items()},
            household_monthly=gen.income.household_monthly,
            per_capita_monthly=gen.income.per_capita_monthly,
            deductions_monthly=gen.income.deductions_monthly,
            excluded_monthly=gen.excluded_monthly,
            property=_property_out(gen.property),
            division_code=self.division_code,
            hukou_type=self.hukou_type,
            standard=_standard_out(self.standard),
            reference=gen.reference,
            reference_text=gen.reference_text,
            corrected=self.corrected.to_out() if self.corrected else None,
            confirmed=self.confirmed,
            confirmed_at=self.confirmed_at,
            generated_at=self.generated_at,
            sources=list(self.sources),
            missing_sources=self.missing_sources,
            complete=self.complete,
            simulated=self.simulated,
            notice=self.notice,
        )

    def _correction_out(self, c: Correction, by_id: dict[str, EconomicItem]) -> CorrectionOut:
        item = by_id.get(c.item_id) if c.item_id else None
        if item is not None:
            person_ref, source, kind = item.person_ref, item.source, item.kind
            ic, pc, ek = item.income_class, item.property_class, item.expense_kind
        else:
            person_ref, source = c.person_ref or "", c.source
            ic, pc, ek = c.income_class, c.property_class, c.expense_kind
            kind = ItemKind.income if ic else ItemKind.property if pc else ItemKind.expense
        return CorrectionOut(
            id=c.id,
            item_id=c.item_id,
            person_ref=person_ref,
            person_name=self.person_names.get(person_ref, ""),
            source=source,
            kind=kind,
            income_class=_wire_class(ic),
            property_class=pc,
            expense_kind=ek,
            generated_amount=Decimal(item.amount) if item else None,
            declared_amount=c.declared_amount,
            declared_months=c.declared_months,
            reason=c.reason,
            note=c.note,
            created_at=c.created_at,
        )


def confirm(status: EconomicStatus, at: datetime) -> EconomicStatus:
    """The applicant confirmed what the screen showed; the figures themselves do not change."""
    return replace(status, confirmed_at=at)


def applicant_hukou(persons: Sequence[Person]) -> tuple[str, HukouType | None]:
    """(division code, 城镇/农村) of the applicant's 户籍, for the standard look-up.

    The declared 户籍所在地 wins over the ID number's address code, which is where the
    number was issued and may be decades old.
    """
    if not persons:
        raise DomainError("household_no_applicant", "请先填写申请人本人信息", "applicant")
    applicant = persons[0]
    details = applicant.details
    division = (details.hukou_division or "").strip() or applicant.id_info.division_code
    return division, details.hukou_type


def assemble_status(
    items: Iterable[EconomicItem],
    persons: Sequence[Person],
    *,
    standards: StandardsTable,
    thresholds: PropertyThresholds,
    generated_at: datetime,
    on: date | None = None,
    sources: Iterable[SourceProgress] = (),
    corrections: Iterable[Correction] = (),
    confirmed_at: datetime | None = None,
    division_code: str | None = None,
    hukou_type: HukouType | None = None,
) -> EconomicStatus:
    """The status of ``persons`` (applicant first) from the sources' items.

    ``sources`` are the final progress states per source (from the check runner).
    ``division_code``/``hukou_type`` default to the applicant's (see ``applicant_hukou``).
    Raises DomainErrors when an item names an unknown person or a correction is invalid.
    """
    on = on or generated_at.date()
    items = tuple(items)
    corrections = tuple(corrections)
    refs = {p.ref for p in persons}
    errors = [
        DomainError("economic_item_person_unknown", "记录所属成员不在本家庭中", f"items[{i}]")
        for i, it in enumerate(items)
        if it.person_ref not in refs
    ]
    errors.extend(check_corrections(corrections, items, persons))
    if errors:
        raise DomainErrors(errors)

    counted = frozenset(p.ref for p in persons if classify_member(p, on=on)[0])
    size = len(counted)
    default_division, default_hukou = applicant_hukou(persons)
    division = division_code or default_division
    hukou = hukou_type or default_hukou
    standard = standards.lookup(division, hukou, on) if hukou is not None else None

    live = [it for it in items if it.person_ref in counted]
    generated = _view(
        [_income(it) for it in live if it.income_class is not None],
        [_property(it) for it in live if it.property_class is not None],
        [_deduction(it) for it in live if it.expense_kind is not None],
        size,
        standard,
        thresholds,
        division,
        hukou,
    )
    corrected = None
    if any(c.declared_amount is not None for c in corrections):
        incomes, props, deds = _declared_values(live, corrections, counted)
        corrected = _view(incomes, props, deds, size, standard, thresholds, division, hukou)

    states = _final_states(sources)
    status = EconomicStatus(
        items=items,
        corrections=corrections,
        person_names={p.ref: p.name for p in persons},
        counted_refs=counted,
        household_size=size,
        division_code=division,
        hukou_type=hukou,
        standard=standard,
        generated=generated,
        corrected=corrected,
        sources=states,
        generated_at=generated_at,
        confirmed_at=confirmed_at,
    )
    return replace(status, notice=_notice(status, thresholds))


def _final_states(sources: Iterable[SourceProgress]) -> tuple[SourceProgress, ...]:
    # The last event per source is its final state; SourceName order keeps the screen stable.
    last: dict[SourceName, SourceProgress] = {}
    for s in sources:
        last[s.source] = s
    return tuple(last[n] for n in SourceName if n in last)


def _income(it: EconomicItem) -> IncomeItem:
    assert it.income_class is not None and it.months is not None
    return IncomeItem(
        it.person_ref,
        it.income_class,
        Decimal(it.amount),
        it.months,
        cost=Decimal(it.cost),
        excluded=it.excluded,
        description=it.description,
    )


def _property(it: EconomicItem) -> PropertyItem:
    assert it.property_class is not None
    return PropertyItem(
        it.person_ref, it.property_class, Decimal(it.amount), it.quantity, it.description
    )


def _deduction(it: EconomicItem) -> Deduction:
    assert it.expense_kind is not None and it.months is not None
    return Deduction(it.person_ref, it.expense_kind.value, Decimal(it.amount), it.months)


def _declared_values(
    live: Sequence[EconomicItem], corrections: Sequence[Correction], counted: frozenset[str]
) -> tuple[list[IncomeItem], list[PropertyItem], list[Deduction]]:
    """The values with every declared amount in place of the generated one.

    The latest declaration for an item wins. A declared income replaces the gross amount;
    the generated cost stays, prorated when the declared months differ. A property declared
    at 0 is taken as not held (quantity 0), so it no longer counts as a vehicle or dwelling.
    """
    latest: dict[str, Correction] = {}
    added: list[Correction] = []
    for c in corrections:
        if c.declared_amount is None:
            continue
        if c.item_id is not None:
            latest[c.item_id] = c
        elif c.person_ref in counted:
            added.append(c)

    incomes, props, deds = [], [], []
    for it in live:
        c = latest.get(it.id)
        if c is None:
            adjusted = it
        else:
            amount = Decimal(c.declared_amount)
            if it.property_class is not None:
                quantity = it.quantity if amount > 0 else 0
                adjusted = replace(it, amount=amount, quantity=quantity)
            else:
                months = c.declared_months or it.months
                cost = Decimal(it.cost)
                if months != it.months and cost:
                    cost = cost * months / it.months
                adjusted = replace(it, amount=amount, months=months, cost=cost)
        if adjusted.income_class is not None:
            incomes.append(_income(adjusted))
        elif adjusted.property_class is not None:
            props.append(_property(adjusted))
        else:
            deds.append(_deduction(adjusted))
    for c in added:
        amount = Decimal(c.declared_amount)
        assert c.person_ref is not None
        if c.income_class is not None:
            incomes.append(IncomeItem(c.person_ref, c.income_class, amount, c.declared_months or 1))
        elif c.property_class is not None:
            props.append(
                PropertyItem(c.person_ref, c.property_class, amount, 1 if amount > 0 else 0)
            )
        elif c.expense_kind is not None:
            deds.append(
                Deduction(c.person_ref, c.expense_kind.value, amount, c.declared_months or 1)
            )
    return incomes, props, deds


def _view(
    incomes: list[IncomeItem],
    props: list[PropertyItem],
    deds: list[Deduction],
    size: int,
    standard: Standard | None,
    thresholds: PropertyThresholds,
    division: str,
    hukou: HukouType | None,
) -> EconomicView:
    income = per_capita_monthly_income(incomes, deds, size)
    excluded = sum(
        (
            max(Decimal(it.amount) - Decimal(it.cost), Decimal(0)) / it.months
            for it in income.excluded
        ),
        Decimal(0),
    )
    summary = property_summary(props, size, thresholds)
    if standard is None:
        reference = None
        if hukou is None:
            text = "参考：未填写户籍类型（城镇/农村），无法与低保标准比较。"
        else:
            text = f"参考：未找到区划{division}的{hukou.value}低保标准，无法比较。"
    else:
        reference = ReferenceLabel(compare_with_standard(income.per_capita_monthly, standard))
        text = _reference_text(income.per_capita_monthly, reference, standard)
    return EconomicView(income, summary, _money(excluded), reference, text)


_REFERENCE_PHRASE = {
    ReferenceLabel.below: "低于低保标准",
    ReferenceLabel.marginal: "不低于低保标准但低于其1.5倍，属低保边缘",
    ReferenceLabel.above: "不低于低保标准的1.5倍，高于低保边缘线",
}


def _reference_text(per_capita: Decimal, label: ReferenceLabel, standard: Standard) -> str:
    edge = _money(standard.monthly_amount * MARGINAL_FACTOR)
    sample = "（示例数据）" if standard.sample else ""
    return (
        f"参考：家庭人均月收入{per_capita}元，{_REFERENCE_PHRASE[label]}。"
        f"{standard.hukou_type.value}低保标准{standard.monthly_amount}元/人·月{sample}，"
        f"低保边缘线{edge}元。仅供参考，不是审核结论。"
    )


def _notice(status: EconomicStatus, thresholds: PropertyThresholds) -> str:
    parts = []
    if status.simulated:
        parts.append("本结果由模拟数据源生成（模拟），不是真实的核对结果。")
    missing = status.missing_sources
    if missing:
        parts.append(f"以下来源未查询成功，结果不完整：{'、'.join(s.value for s in missing)}。")
    if status.standard is not None and status.standard.sample:
        parts.append("低保标准为示例数据。")
    if thresholds.sample:
        parts.append("财产参考线为示例数据。")
    parts.append(
        "与标准的比较和财产提示仅供参考，不是审核结论；请申请人逐项核对，"
        "如有出入可更正或说明，确认后提交。"
    )
    return "".join(parts)


def _property_out(s: PropertySummary) -> PropertySummaryOut:
    return PropertySummaryOut(
        totals=[
            PropertyTotalOut(property_class=c, count=s.counts[c], total=s.totals[c])
            for c in PropertyClass
        ],
        financial_total=s.financial_total,
        financial_per_capita=s.financial_per_capita,
        deposits_total=s.deposits_total,
        deposits_per_capita=s.deposits_per_capita,
        vehicle_count=s.vehicle_count,
        housing_count=s.housing_count,
        flags=[
            PropertyFlagOut(code=f.code, message=f.message, value=f.value, threshold=f.threshold)
            for f in s.flags
        ],
        thresholds_sample=s.thresholds.sample,
        thresholds_source=s.thresholds.source,
    )


def _standard_out(s: Standard | None) -> StandardOut | None:
    if s is None:
        return None
    return StandardOut(
        monthly_amount=s.monthly_amount,
        division_code=s.division_code,
        hukou_type=s.hukou_type,
        effective_from=s.effective_from,
        sample=s.sample,
        source=s.source,
    )
