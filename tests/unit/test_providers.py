from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhutong.contract import Gender, PersonDetails, Relation
from jiuzhutong.contract.economic import (
    PropertyClass,
    ReferenceLabel,
    SourceName,
    SourceProgress,
    SourceState,
)
from jiuzhutong.domain.economic import EconomicItem, assemble_status
from jiuzhutong.domain.household import Person, check_household
from jiuzhutong.domain.idnumber import make_id_number, parse_id_number
from jiuzhutong.domain.income import IncomeClass
from jiuzhutong.domain.property import load_property_thresholds
from jiuzhutong.domain.standards import load_standards
from jiuzhutong.providers import (
    EconomicDataSource,
    FaceVerifier,
    SignatureCapture,
    SimulatedProviderRefused,
    build_providers,
    check_path_data,
    ensure_allowed,
    run_economic_check,
)
from jiuzhutong.providers.registry import Providers
from jiuzhutong.providers.scenarios import (
    ScenarioError,
    default_book,
    derived_items,
    load_scenarios,
)
from jiuzhutong.providers.simulated import (
    CounterSignatureCapture,
    SimulatedEconomicSource,
    SimulatedFaceVerifier,
    simulated_sources,
)
from jiuzhutong.settings import Env

D = Decimal
ON = date(2025, 7, 15)
AT = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)
BOOK = default_book()

# The scenario households and their applicants' ID numbers, pinned so a fixture change
# is a visible change (they are synthetic: make_id_number, valid check digit, nobody's).
APPLICANTS = {
    "elderly_couple": "422801194803121358",
    "single_parent_disabled_child": "420111198805203227",
    "car_and_deposits": "420102198211035178",
    "flexible_work_marginal": "420902197904188133",
    "serious_illness": "421002197010101571",
    "eight_member": "420116198007073714",
}


def persons_of(key: str) -> list[Person]:
    return BOOK.household(key).to_persons(ON)


def stranger(seq: int = 1, birth: date = date(1985, 6, 1), ref: str = "x") -> Person:
    number = make_id_number("420106", birth, seq)
    return Person(
        ref, "某某", parse_id_number(number, today=ON), Relation.applicant, PersonDetails()
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[SourceProgress] = []

    async def __call__(self, event: SourceProgress) -> None:
        self.events.append(event)

    def of(self, source: SourceName) -> list[tuple[SourceState, int]]:
        return [(e.state, e.attempt) for e in self.events if e.source is source]


async def check_and_assemble(key: str, **kw):
    persons = persons_of(key)
    result = await run_economic_check(
        simulated_sources(as_of=ON), persons, timeout_s=2, retries=1, **kw
    )
    status = assemble_status(
        result.items,
        persons,
        standards=load_standards(),
        thresholds=load_property_thresholds(),
        generated_at=AT,
        sources=result.final_states,
    )
    return result, status


# --- scenarios ---------------------------------------------------------------------


def test_scenario_households_are_synthetic_coherent_and_pinned():
    assert {h.key: h.persons[0].id_number for h in BOOK.households} == APPLICANTS
    assert 4 <= len(BOOK.households) <= 6
    for h in BOOK.households:
        persons = h.to_persons(ON)
        assert check_household(persons, on=ON) == [], h.key
        for p in persons:
            assert "某" in p.name  # fictional at a glance
            assert p.id_info.number == parse_id_number(p.id_info.number, today=ON).number
        assert persons[0].relation is Relation.applicant


def test_scenario_genders_follow_the_sequence_parity():
    for h in BOOK.households:
        for p in h.to_persons(ON):
            odd = int(p.id_info.number[16]) % 2 == 1
            assert (p.id_info.gender is Gender.male) == odd


@pytest.mark.parametrize("key", list(APPLICANTS))
async def test_each_scenario_gives_its_expected_reference(key):
    result, status = await check_and_assemble(key)
    assert result.complete
    assert status.generated.reference == BOOK.household(key).expected_reference
    assert all(it.simulated for it in status.items)
    assert "模拟" in status.notice


async def test_elderly_couple_is_below_the_sample_standard():
    _, status = await check_and_assemble("elderly_couple")
    out = status.to_out()
    assert out.reference is ReferenceLabel.below
    assert out.standard.sample is True and out.standard.monthly_amount == D("593.9")
    assert out.per_capita_monthly == D("50.00")
    # The residents' basic pension is listed but not counted.
    pensions = [i for i in out.items if i.excluded is not None]
    assert len(pensions) == 2 and not any(i.counted for i in pensions)
    assert out.property.flags == []


async def test_car_and_deposits_is_above_with_property_flags():
    _, status = await check_and_assemble("car_and_deposits")
    out = status.to_out()
    assert out.reference is ReferenceLabel.above
    assert out.reference_only is True
    assert [f.code for f in out.property.flags] == [
        "financial_assets_over",
        "vehicles_over",
        "housing_over",
    ]
    assert all(f.label == "超过参考线" and f.reference_only for f in out.property.flags)
    assert out.property.vehicle_count == 1 and out.property.housing_count == 2
    assert out.property.deposits_total == D("210000.00")


async def test_single_parent_deducts_the_disabled_childs_rigid_costs():
    _, status = await check_and_assemble("single_parent_disabled_child")
    out = status.to_out()
    assert out.deductions_monthly == D("800.00")
    assert out.deductions[0].person_name == "陈某宇"
    assert out.per_capita_monthly == D("850.00")


def test_scenario_file_refuses_typos_and_unmarked_data(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('sample = false\n[[households]]\nkey = "k"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="sample = true"):
        load_scenarios(f)
    f.write_text(
        'sample = true\n[[households]]\nkey = "k"\ntitle = "t"\nexpected_reference = "x"\n'
        '[[households.persons]]\nref = "r"\nname = "某"\nrelation = "本人"\n'
        'division = "420106"\nbirth = 1980-01-01\nseq = 1\n'
        '[[households.persons.items]]\nsource = "税务"\nincome_class = "工资性收入"\n'
        "amount = 100\nmonths = 12\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="strings"):
        load_scenarios(f)


# --- determinism -------------------------------------------------------------------


async def test_same_id_number_same_records():
    persons = [stranger(1), stranger(3, ref="y")]
    first = await run_economic_check(simulated_sources(as_of=ON), persons)
    again = await run_economic_check(simulated_sources(as_of=ON, book=load_scenarios()), persons)
    assert first.items == again.items
    # Another day of the same month: the same records.
    later = await run_economic_check(simulated_sources(as_of=date(2025, 7, 28)), persons)
    assert later.items == first.items


def test_derived_records_move_only_their_period_with_the_date():
    p = stranger(7)
    for source in SourceName:
        a = derived_items(p, source, ON)
        b = derived_items(p, source, date(2026, 3, 2))
        strip = [replace(i, period_start=ON, period_end=ON) for i in a]
        assert strip == [replace(i, period_start=ON, period_end=ON) for i in b]


def test_derived_records_differ_between_people():
    seen = {
        tuple(i.amount for i in derived_items(stranger(seq), SourceName.tax, ON))
        for seq in range(1, 40)
    }
    assert len(seen) > 5


@settings(max_examples=60, deadline=None)
@given(
    birth=st.dates(min_value=date(1930, 1, 1), max_value=date(2024, 12, 31)),
    seq=st.integers(0, 999),
)
def test_derived_records_are_modest_and_labelled(birth, seq):
    p = stranger(seq, birth)
    age = p.id_info.age_on(ON)
    for source in SourceName:
        for it in derived_items(p, source, ON):
            assert it.simulated and "模拟" in it.description
            if it.income_class is not None:
                assert it.monthly_amount <= D("4200")
            if it.property_class is not None:
                assert it.amount <= D("400000")
            if age < 18:
                pytest.fail(f"a child got a {source.value} record")
    assert derived_items(p, SourceName.hukou, ON) == []


# --- the check runner --------------------------------------------------------------


async def test_progress_per_source_querying_then_done():
    rec = Recorder()
    result = await run_economic_check(
        simulated_sources(as_of=ON), persons_of("elderly_couple"), on_progress=rec
    )
    assert list(result.states) == list(SourceName)
    for name in SourceName:
        assert rec.of(name) == [(SourceState.querying, 1), (SourceState.done, 1)]
        assert all("模拟" in e.message and e.simulated for e in rec.events if e.source is name)
    assert result.states[SourceName.deposit].item_count == 2
    assert result.complete and result.missing == []


async def test_a_failure_is_retried():
    rec = Recorder()
    sources = simulated_sources(as_of=ON, faults={SourceName.tax: ["fail"]})
    result = await run_economic_check(
        sources, persons_of("car_and_deposits"), retries=2, backoff_s=0, on_progress=rec
    )
    assert rec.of(SourceName.tax) == [
        (SourceState.querying, 1),
        (SourceState.querying, 2),
        (SourceState.done, 2),
    ]
    retry = [e for e in rec.events if e.source is SourceName.tax][1]
    assert "重试" in retry.message and "模拟故障" in retry.message
    assert result.complete
    assert any(i.source is SourceName.tax for i in result.items)


async def test_a_timeout_is_retried():
    rec = Recorder()
    sources = simulated_sources(as_of=ON, faults={SourceName.securities: ["hang"]})
    started = time.perf_counter()
    result = await run_economic_check(
        sources,
        persons_of("car_and_deposits"),
        timeout_s=0.05,
        retries=1,
        backoff_s=0,
        on_progress=rec,
    )
    assert time.perf_counter() - started < 2
    assert rec.of(SourceName.securities)[-1] == (SourceState.done, 2)
    assert "超时" in [e for e in rec.events if e.source is SourceName.securities][1].message
    assert result.complete


async def test_a_source_that_keeps_failing_is_reported_missing():
    rec = Recorder()
    sources = simulated_sources(
        as_of=ON, always={SourceName.vehicle: "hang", SourceName.deposit: "fail"}
    )
    persons = persons_of("car_and_deposits")
    result = await run_economic_check(
        sources, persons, timeout_s=0.02, retries=2, backoff_s=0, on_progress=rec
    )
    assert rec.of(SourceName.vehicle) == [
        (SourceState.querying, 1),
        (SourceState.querying, 2),
        (SourceState.querying, 3),
        (SourceState.failed, 3),
    ]
    final = result.states[SourceName.deposit]
    assert final.state is SourceState.failed and "已尝试3次" in final.message
    assert "超时" in result.states[SourceName.vehicle].message
    assert result.missing == [SourceName.vehicle, SourceName.deposit]
    assert not result.complete
    # The other sources still answered, and the status says what is missing.
    assert {i.source for i in result.items} >= {SourceName.tax, SourceName.real_estate}
    assert not any(i.source in (SourceName.vehicle, SourceName.deposit) for i in result.items)
    status = assemble_status(
        result.items,
        persons,
        standards=load_standards(),
        thresholds=load_property_thresholds(),
        generated_at=AT,
        sources=result.final_states,
    )
    out = status.to_out()
    assert out.missing_sources == [SourceName.vehicle, SourceName.deposit]
    assert "车船" in out.notice and "银行存款" in out.notice
    assert [s.state for s in out.sources].count(SourceState.failed) == 2


async def test_without_retries_one_attempt():
    rec = Recorder()
    sources = simulated_sources(as_of=ON, faults={SourceName.tax: ["fail"]})
    result = await run_economic_check(sources, [stranger()], retries=0, on_progress=rec)
    assert rec.of(SourceName.tax) == [(SourceState.querying, 1), (SourceState.failed, 1)]
    assert result.missing == [SourceName.tax]


class Adapter:
    """A hand-written adapter, to check what the runner does with what it returns."""

    simulated = False

    def __init__(self, name, behaviour):
        self.name = name
        self.behaviour = behaviour

    async def fetch(self, person):
        return await self.behaviour(person)


async def test_unexpected_errors_do_not_leak_personal_data():
    async def boom(person):
        raise RuntimeError(f"request for {person.id_info.number} failed")

    p = stranger()
    result = await run_economic_check([Adapter(SourceName.tax, boom)], [p], retries=0)
    message = result.states[SourceName.tax].message
    assert result.states[SourceName.tax].state is SourceState.failed
    assert p.id_info.number not in message and "RuntimeError" in message
    assert "模拟" not in message  # a real adapter is not labelled simulated


async def test_malformed_answers_are_a_failure():
    async def garbage(person):
        return [{"amount": 1}]

    result = await run_economic_check([Adapter(SourceName.tax, garbage)], [stranger()], retries=0)
    assert "格式不正确" in result.states[SourceName.tax].message


async def test_the_runner_stamps_whose_record_it_is():
    async def mislabelled(person):
        return [
            EconomicItem(
                person_ref="someone-else",
                source=SourceName.securities,
                period_start=ON,
                period_end=ON,
                amount=D("1"),
                income_class=IncomeClass.OTHER,
                months=1,
                id="whatever",
            )
        ]

    result = await run_economic_check(
        [Adapter(SourceName.tax, mislabelled)], [stranger(ref="me")], retries=0
    )
    (item,) = result.items
    assert (item.id, item.person_ref, item.source, item.simulated) == (
        "tax.me.0",
        "me",
        SourceName.tax,
        False,
    )


async def test_a_broken_progress_callback_is_not_a_missing_source():
    async def broken(event):
        raise LookupError("event store down")

    with pytest.raises(LookupError):
        await run_economic_check(simulated_sources(as_of=ON), [stranger()], on_progress=broken)


async def test_arguments_are_checked():
    s = simulated_sources(as_of=ON)
    with pytest.raises(ValueError):
        await run_economic_check([s[0], s[0]], [stranger()])
    with pytest.raises(ValueError):
        await run_economic_check(s, [stranger()], timeout_s=0)
    with pytest.raises(ValueError):
        await run_economic_check(s, [stranger()], retries=-1)
    with pytest.raises(ValueError):
        SimulatedEconomicSource(SourceName.tax, latency_s=-1)


async def test_cancelling_the_check_cancels_the_sources():
    sources = simulated_sources(as_of=ON, always={SourceName.tax: "hang"})
    task = asyncio.create_task(run_economic_check(sources, [stranger()], timeout_s=30))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_latency_is_configurable_and_concurrent():
    sources = simulated_sources(latency_s=0.05, as_of=ON)
    started = time.perf_counter()
    result = await run_economic_check(sources, persons_of("eight_member"))
    elapsed = time.perf_counter() - started
    # 10 sources × 8 persons at 50 ms each would take 4 s one after the other.
    assert result.complete and elapsed < 2


async def test_eight_members_with_latency_zero():
    persons = persons_of("eight_member")
    assert len(persons) == 8
    started = time.perf_counter()
    result = await run_economic_check(simulated_sources(latency_s=0, as_of=ON), persons)
    status = assemble_status(
        result.items,
        persons,
        standards=load_standards(),
        thresholds=load_property_thresholds(),
        generated_at=AT,
        sources=result.final_states,
    )
    out = status.to_out()
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"economic check, 8 members, latency 0: {elapsed_ms:.1f} ms (target < 300 ms)")
    assert result.complete
    assert out.household_size == 8
    assert out.per_capita_monthly == D("1056.25")
    assert out.reference is ReferenceLabel.marginal
    assert {i.person_ref for i in out.items} == {"em-1", "em-2", "em-3", "em-4"}


# --- face and signature ------------------------------------------------------------


async def test_face_verifier_pass_and_fail_control():
    ok = await SimulatedFaceVerifier().verify(id_number=APPLICANTS["eight_member"], name="王某军")
    assert ok.passed and ok.simulated and "模拟" in ok.provider_name and "模拟" in ok.reason
    failing = SimulatedFaceVerifier(failing_ids={APPLICANTS["eight_member"]})
    bad = await failing.verify(id_number=APPLICANTS["eight_member"], name="王某军")
    assert not bad.passed and "当面核验" in bad.reason  # the alternative to face recognition
    assert (await failing.verify(id_number="other", name="某")).passed
    assert not (await SimulatedFaceVerifier(passes=False).verify(id_number="x", name="某")).passed


async def test_signature_is_valid_bounded_and_deterministic():
    pad = CounterSignatureCapture()
    a = await pad.capture(signer_name="陈某芳", document_id="doc-1")
    assert a.simulated and "模拟" in a.provider_name
    assert check_path_data(a.path_data, width=a.width, height=a.height) == a.path_data
    assert (await pad.capture(signer_name="陈某芳", document_id="doc-1")) == a
    assert (await pad.capture(signer_name="陈某芳", document_id="doc-2")).path_data != a.path_data


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=st.characters(whitelist_categories=("Lo",)), min_size=1, max_size=40))
def test_signature_of_any_name_stays_in_the_box(name):
    pad = CounterSignatureCapture()
    check_path_data(pad.path_for(name, "doc"))


@pytest.mark.parametrize(
    "d",
    [
        "",
        "   ",
        "L1 1",
        "M1 1 L2",
        "M1 1 L700 10",
        "M1 1 L10 -1",
        "M1 1 C2 2 3 3 4 4",
        "M1 1<script>",
        "M1.234 1",
        "M12345 1",
        "M1 1 L" + " 2 2" * 5000,
    ],
)
def test_path_data_outside_the_subset_is_refused(d):
    with pytest.raises(ValueError):
        check_path_data(d)


def test_path_data_accepts_commas_and_several_strokes():
    assert check_path_data("M10,20 L30,40 35,45 M50 60L70 80")


def test_providers_satisfy_the_protocols():
    p = build_providers("development")
    assert isinstance(p.face, FaceVerifier)
    assert isinstance(p.signature, SignatureCapture)
    assert all(isinstance(s, EconomicDataSource) for s in p.sources)


# --- registry ----------------------------------------------------------------------


def test_development_gets_ten_simulated_sources():
    p = build_providers("development", latency_s=0.2, as_of=ON)
    assert p.simulated
    assert [s.name for s in p.sources] == list(SourceName)
    assert all(s.simulated and s.latency_s == 0.2 for s in p.sources)
    assert all("模拟" in s.display_name for s in p.sources)


@pytest.mark.parametrize("env", ["production", Env.production, " Production "])
def test_production_refuses_simulated_providers(env):
    with pytest.raises(SimulatedProviderRefused) as e:
        build_providers(env)
    assert "JZT_ENV=production" in str(e.value) and "模拟" in str(e.value)


def test_production_accepts_real_adapters_only():
    class Real:
        simulated = False
        name = "某县人脸核验"

    async def nothing(person):
        return []

    real = Providers(Real(), Real(), (Adapter(SourceName.tax, nothing),))
    assert ensure_allowed("production", real) is real
    mixed = Providers(Real(), Real(), (*real.sources, SimulatedEconomicSource(SourceName.deposit)))
    with pytest.raises(SimulatedProviderRefused, match="银行存款"):
        ensure_allowed("production", mixed)
    assert ensure_allowed("development", mixed) is mixed


def test_property_class_values_used_by_scenarios_exist():
    classes = {it.property_class for h in BOOK.households for p in h.persons for it in p.items} - {
        None
    }
    assert classes <= set(PropertyClass)
