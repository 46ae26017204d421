"""Wire models of the household economic check (家庭经济状况核对, DOMAIN.md Art 12–14, 17).

The generated status is a proposal the applicant checks and confirms (PIPL Art 24), so the
models keep three things apart: what the sources returned (items), what the applicant
declared beside them (corrections, never merged into the items), and the reference
comparison with the standard, which is labelled 参考 and is never a decision.

Imports only pydantic and the standard library. The income classes and exclusions mirror
``jiuzhutong.domain.income`` value for value (a unit test keeps them in step): the contract
may not import the domain, and clients need the words, not the rules.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from jiuzhutong.contract.enums import HukouType
from jiuzhutong.contract.text import LongText, RequiredShortText

REFERENCE_ONLY_TEXT = "参考"  # the word every comparison and flag carries on screen
SIMULATED_TEXT = "模拟"  # the word every simulated provider carries on screen


class SourceName(StrEnum):
    """The agencies whose data the check queries (Art 13); one EconomicDataSource each."""

    hukou = "户籍"
    tax = "税务"
    social_insurance = "社保"
    real_estate = "不动产"
    business = "市场主体"
    housing_fund = "公积金"
    vehicle = "车船"
    deposit = "银行存款"
    insurance = "商业保险"
    securities = "证券"


class SourceState(StrEnum):
    querying = "查询中"
    done = "完成"
    failed = "失败"


class ItemKind(StrEnum):
    income = "收入"
    property = "财产"
    expense = "刚性支出"


class IncomeClassName(StrEnum):
    """Same values as jiuzhutong.domain.income.IncomeClass."""

    wages = "工资性收入"
    business = "经营净收入"
    property = "财产净收入"
    transfer = "转移净收入"
    other = "其他收入"


class ExcludedIncomeName(StrEnum):
    """Same values as jiuzhutong.domain.income.ExcludedIncome."""

    preferential_pension = "优待抚恤金"
    family_planning = "计划生育奖励与扶助金"
    awards = "奖学金/助学金/见义勇为等奖励"
    social_assistance = "政府社会救助资金"
    basic_pension = "城乡居民基础养老金"
    local = "地方规定不计入的收入"


class PropertyClass(StrEnum):
    """Movables and immovables of DOMAIN.md "Property"; the domain's property rule uses it."""

    deposit = "存款"
    securities = "证券"
    fund = "基金"
    insurance = "商业保险"
    claim = "债权"
    online_financial = "互联网金融资产"
    vehicle = "车辆"
    housing = "住房"
    trees = "林木"
    other = "其他"


class RigidExpense(StrEnum):
    """Rigid costs that may be deducted from income (DOMAIN.md: disability, serious illness)."""

    disability = "残疾人康复护理等刚性支出"
    illness = "重特大疾病医疗自付费用"


class ReferenceLabel(StrEnum):
    """Result of comparing per-capita income with the standard: a reference, not a decision."""

    below = "低于标准"
    marginal = "低保边缘"
    above = "高于标准"


Money = Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), max_digits=14, decimal_places=2)]
Months = Annotated[int, Field(ge=1, le=120)]
Ref = Annotated[str, Field(min_length=1, max_length=64)]


class _In(BaseModel):
    """Inbound models refuse unknown fields, so a typo is an error rather than silently lost."""

    model_config = ConfigDict(extra="forbid")


# --- progress ------------------------------------------------------------------------


class SourceProgress(BaseModel):
    """One progress event of one source; the last one per source is its final state."""

    source: SourceName
    state: SourceState
    attempt: Annotated[int, Field(ge=1)]  # 1 for the first query, 2 for the first retry ...
    message: str  # Chinese, shown as is; names the source and says 模拟 for simulated ones
    simulated: bool = False
    item_count: int | None = None  # records returned, with state 完成


class CheckStartedOut(BaseModel):
    """POST …/economic-check's 202 body: the run, and the sources it will query."""

    application_id: str
    run_id: str
    state: SourceState
    started_at: datetime
    sources: list[SourceName]


# --- items ---------------------------------------------------------------------------


class EconomicItemOut(BaseModel):
    """One record a source returned, as generated; corrections never change it.

    Exactly one of income_class, property_class and expense_kind is set, matching ``kind``.
    The person is named, not identified by ID number: the screen needs no more (PIPL Art 6).
    """

    id: str  # stable within a check: "<source>.<person_ref>.<n>"
    kind: ItemKind
    person_ref: str
    person_name: str
    source: SourceName
    income_class: IncomeClassName | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    period_start: date
    period_end: date  # for property: both are the date of the balance or valuation
    amount: Decimal  # income/expense: over `months`; property: value at period_end
    cost: Decimal = Decimal(0)  # necessary employment or business cost over the same months
    months: int | None = None  # income and expense only
    monthly_amount: Decimal | None = None  # (amount - cost) / months, to the fen
    quantity: int = 1  # property: vehicles, dwellings ...
    excluded: ExcludedIncomeName | None = None
    counted: bool = True  # False when excluded or when the person is not a counted member
    excluded_reason: str | None = None  # why it is not counted, in Chinese
    description: str = ""
    simulated: bool = False


class DeductionOut(BaseModel):
    item_id: str
    person_ref: str
    person_name: str
    kind: RigidExpense
    amount: Decimal
    months: int
    monthly_amount: Decimal


# --- corrections ---------------------------------------------------------------------


class CorrectionIn(_In):
    """The applicant's correction or annotation of the generated status.

    Either ``item_id`` names a generated item, or ``person_ref`` with exactly one class names
    something the sources did not return (``source`` None: declared by the applicant).
    ``declared_amount`` None is an annotation only: the reason is kept, the figures are not
    touched. The declared value is stored beside the generated one and never replaces it.
    """

    item_id: Ref | None = None
    person_ref: Ref | None = None
    source: SourceName | None = None
    income_class: IncomeClassName | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    declared_amount: Money | None = None  # same meaning as the item's amount
    declared_months: Months | None = None  # income/expense: months the amount covers
    reason: RequiredShortText  # 更正或说明的理由
    note: LongText | None = None  # longer explanation, optional

    @model_validator(mode="after")
    def _target(self) -> "CorrectionIn":
        classes = [
            c for c in (self.income_class, self.property_class, self.expense_kind) if c is not None
        ]
        if self.item_id is not None:
            if self.person_ref is not None or self.source is not None or classes:
                raise ValueError("更正已有记录时只需指明记录编号，不要同时填写成员、来源或类别")
            return self
        if self.person_ref is None:
            raise ValueError("请指明要更正的记录编号，或指明家庭成员和类别")
        if len(classes) != 1:
            raise ValueError("新申报的项目应且只应选择一个类别（收入、财产或刚性支出）")
        if (
            self.declared_amount is not None
            and self.property_class is None
            and self.declared_months is None
        ):
            raise ValueError("新申报的收入或刚性支出需填写所涉月数")
        return self


class CorrectionOut(BaseModel):
    id: str
    item_id: str | None
    person_ref: str
    person_name: str
    source: SourceName | None  # None: declared by the applicant, no source
    kind: ItemKind
    income_class: IncomeClassName | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    generated_amount: Decimal | None  # the item's generated amount, for side-by-side display
    declared_amount: Decimal | None  # None: annotation only
    declared_months: int | None = None
    reason: str
    note: str | None = None
    created_at: datetime | None = None


# --- summaries -----------------------------------------------------------------------


class PropertyTotalOut(BaseModel):
    property_class: PropertyClass
    count: int
    total: Decimal


class PropertyFlagOut(BaseModel):
    """A property figure above its configured reference line: 参考 only, never a decision."""

    code: str  # "financial_assets_over" | "vehicles_over" | "housing_over"
    label: Literal["超过参考线"] = "超过参考线"
    message: str  # Chinese, includes the figure and the reference line
    value: Decimal
    threshold: Decimal
    reference_only: Literal[True] = True


class PropertySummaryOut(BaseModel):
    totals: list[PropertyTotalOut]  # every class, in PropertyClass order
    financial_total: Decimal  # 存款, 证券, 基金, 商业保险, 债权, 互联网金融资产
    financial_per_capita: Decimal
    deposits_total: Decimal
    deposits_per_capita: Decimal
    vehicle_count: int
    housing_count: int
    flags: list[PropertyFlagOut]
    thresholds_sample: bool  # the reference lines are 示例 data: label them so
    thresholds_source: str


class StandardOut(BaseModel):
    monthly_amount: Decimal
    division_code: str  # the prefix the standard is keyed by ("4201", "42")
    hukou_type: HukouType
    effective_from: date
    sample: bool  # 示例数据: show it
    source: str


class EconomicViewOut(BaseModel):
    """Figures computed from one set of values (generated, or with the declared values)."""

    by_class: dict[IncomeClassName, Decimal]
    household_monthly: Decimal
    per_capita_monthly: Decimal
    deductions_monthly: Decimal
    excluded_monthly: Decimal
    property: PropertySummaryOut
    reference: ReferenceLabel | None  # None: no standard to compare with
    reference_text: str  # "参考：……", a sentence the screen shows as is


class EconomicStatusOut(BaseModel):
    """The household economic status the check generated, with the applicant's corrections.

    Top-level figures are the generated ones; ``corrected`` holds the same figures computed
    with the declared values, when there are any, for side-by-side display.
    """

    items: list[EconomicItemOut]
    corrections: list[CorrectionOut]
    deductions: list[DeductionOut]
    household_size: int
    by_class: dict[IncomeClassName, Decimal]
    household_monthly: Decimal
    per_capita_monthly: Decimal
    deductions_monthly: Decimal
    excluded_monthly: Decimal
    property: PropertySummaryOut
    division_code: str  # the applicant's 户籍 division the standard was looked up for
    hukou_type: HukouType | None
    standard: StandardOut | None
    reference: ReferenceLabel | None
    reference_text: str
    reference_only: Literal[True] = True
    corrected: EconomicViewOut | None = None
    confirmed: bool = False
    confirmed_at: datetime | None = None
    generated_at: datetime
    sources: list[SourceProgress]  # final state per source
    missing_sources: list[SourceName]  # sources without a completed query
    complete: bool  # every source answered
    simulated: bool  # at least one item or source is simulated: show 模拟
    notice: str  # Chinese paragraph: 模拟/示例 labels, 参考 not a decision, please confirm
