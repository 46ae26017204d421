"""The economic check through the API: start, progress events, status, corrections, confirm."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jiuzhutong.contract.economic import SourceName
from jiuzhutong.providers.registry import Providers
from jiuzhutong.providers.simulated import simulated_sources

from .conftest import assert_error, audit_rows, create_draft, if_match
from .econ_support import authorize, events, household, run_check, start_check, wait_check

ALL_SOURCES = [s.value for s in SourceName]


@pytest.fixture
def faulty(backend):
    """Swap the service's sources for the test (and back): faults by source."""
    economic = backend.services.economic
    saved = economic.providers, economic.backoff_s, economic.timeout_s

    def use(**kw) -> None:
        p = economic.providers
        economic.providers = Providers(p.face, p.signature, tuple(simulated_sources(**kw)))
        economic.backoff_s = 0.0

    yield use
    economic.providers, economic.backoff_s, economic.timeout_s = saved


def test_check_refused_until_everyone_is_authorized(backend, clerk, people):
    d = household(backend, clerk, people, members=2)
    r = start_check(backend, clerk, d["id"])
    items = assert_error(
        r, 422, "person_not_authorized", "测试申请人尚未完成授权（应为“已授权”）", "authorizations"
    )
    assert [i["message"] for i in items] == [
        "测试申请人尚未完成授权（应为“已授权”）",
        "成员甲尚未完成授权（应为“已授权”）",
        "成员乙尚未完成授权（应为“已授权”）",
    ]
    authorize(backend, clerk, d, [d["applicant"]])
    r = start_check(backend, clerk, d["id"])
    assert [i["message"] for i in r.json()["detail"]] == [
        "成员甲尚未完成授权（应为“已授权”）",
        "成员乙尚未完成授权（应为“已授权”）",
    ]
    r = backend.client.get(f"/applications/{d['id']}/economic-status", headers=clerk.h)
    assert_error(r, 404, "not_found", "尚未进行家庭经济状况核对，请在全部成员授权后发起核对")


def test_whole_check_with_progress_events_in_order(backend, clerk, people):
    d = household(backend, clerk, people, members=2)
    authorize(backend, clerk, d)
    r = start_check(backend, clerk, d["id"])
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["state"] == "查询中" and started["sources"] == ALL_SOURCES
    wait_check(backend, d["id"])

    evs = [e for e in events(backend, d["id"]) if e["type"].startswith("economic")]
    assert [e["seq"] for e in evs] == sorted(e["seq"] for e in evs)
    progress = [e["data"] for e in evs if e["type"] == "economic.progress"]
    assert evs[-1]["type"] == "economic.done"
    assert sum(e["type"] == "economic.done" for e in evs) == 1
    for source in ALL_SOURCES:
        states = [p["state"] for p in progress if p["source"] == source]
        assert states == ["查询中", "完成"], (source, states)
        assert all(p["simulated"] for p in progress if p["source"] == source)
    done = evs[-1]["data"]
    assert done["state"] == "完成" and done["complete"] is True and done["missing_sources"] == []

    r = backend.client.get(f"/applications/{d['id']}/economic-status", headers=clerk.h)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["complete"] and s["missing_sources"] == [] and s["simulated"]
    assert s["household_size"] == 3 and s["division_code"] == "420106"
    assert s["hukou_type"] == "城镇" and s["standard"]["hukou_type"] == "城镇"
    assert s["reference_only"] is True and s["reference_text"].startswith("参考")
    assert Decimal(s["per_capita_monthly"]) == Decimal(done["per_capita_monthly"])
    assert {p["state"] for p in s["sources"]} == {"完成"}
    assert not s["confirmed"] and s["corrections"] == []
    names = {i["person_name"] for i in s["items"]}
    assert names <= {"测试申请人", "成员甲", "成员乙"}
    # 18-digit numbers appear nowhere in the status
    assert not any(p["id_number"] in r.text for p in [d["applicant"]])
    actions = [a["action"] for a in audit_rows(backend, d["id"])]
    assert "economic.start" in actions and "economic.done" in actions
    assert actions[-1] == "economic.read"


def test_failing_source_is_reported_failed(backend, clerk, people, faulty):
    faulty(always={SourceName.tax: "fail"})
    d = household(backend, clerk, people)
    authorize(backend, clerk, d)
    s = run_check(backend, clerk, d["id"])
    assert s["missing_sources"] == ["税务"] and not s["complete"]
    tax = next(p for p in s["sources"] if p["source"] == "税务")
    assert tax["state"] == "失败" and tax["attempt"] == 3
    assert "税务（模拟）查询失败" in tax["message"] and "已尝试3次" in tax["message"]
    assert "以下来源未查询成功，结果不完整：税务" in s["notice"]
    progress = [
        e["data"]
        for e in events(backend, d["id"])
        if e["type"] == "economic.progress" and e["data"]["source"] == "税务"
    ]
    assert [(p["state"], p["attempt"]) for p in progress] == [
        ("查询中", 1),
        ("查询中", 2),
        ("查询中", 3),
        ("失败", 3),
    ]
    done = events(backend, d["id"])[-1]
    assert done["type"] == "economic.done" and done["data"]["missing_sources"] == ["税务"]


def test_hanging_source_times_out_and_the_others_finish(backend, clerk, people, faulty):
    faulty(faults={SourceName.deposit: ["hang"]})
    backend.services.economic.timeout_s = 0.2
    d = household(backend, clerk, people, members=0)
    authorize(backend, clerk, d)
    s = run_check(backend, clerk, d["id"])
    deposit = next(p for p in s["sources"] if p["source"] == "银行存款")
    assert deposit["state"] == "完成" and deposit["attempt"] == 2  # the retry answered
    msgs = [
        e["data"]["message"]
        for e in events(backend, d["id"])
        if e["type"] == "economic.progress" and e["data"]["source"] == "银行存款"
    ]
    assert "超时" in msgs[1]


def test_second_start_while_running_is_409(backend, clerk, people, faulty):
    faulty(faults={SourceName.vehicle: ["hang"]})
    backend.services.economic.timeout_s = 1.0
    d = household(backend, clerk, people, members=0)
    authorize(backend, clerk, d)
    assert start_check(backend, clerk, d["id"]).status_code == 202
    r = start_check(backend, clerk, d["id"])
    assert_error(r, 409, "economic_check_running", "经济状况核对正在进行中，请等待完成")
    r = backend.client.get(f"/applications/{d['id']}/economic-status", headers=clerk.h)
    assert_error(r, 404, "not_found", "经济状况核对正在进行中，尚无结果，请等待完成")
    wait_check(backend, d["id"])
    assert start_check(backend, clerk, d["id"]).status_code == 202  # a rerun once it ended
    wait_check(backend, d["id"])


def test_corrections_are_kept_beside_generated_values(backend, clerk, people):
    d = household(backend, clerk, people, members=1)
    authorize(backend, clerk, d)
    s = run_check(backend, clerk, d["id"])
    item = next(i for i in s["items"] if i["kind"] == "收入" or i["kind"] == "财产")
    url = f"/applications/{d['id']}/economic-status"
    r = backend.client.post(f"{url}/confirm", headers=clerk.h)
    assert r.status_code == 200 and r.json()["confirmed"] is True

    body = {"item_id": item["id"], "declared_amount": "100.00", "reason": "已于上月离职"}
    r = backend.client.post(f"{url}/corrections", json=body, headers=clerk.h)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["confirmed"] is False  # a correction clears the confirmation
    same = next(i for i in c["items"] if i["id"] == item["id"])
    assert same == item  # the generated item is untouched
    assert c["per_capita_monthly"] == s["per_capita_monthly"]  # so are the generated figures
    [corr] = c["corrections"]
    assert corr["item_id"] == item["id"] and corr["reason"] == "已于上月离职"
    assert Decimal(corr["generated_amount"]) == Decimal(item["amount"])
    assert Decimal(corr["declared_amount"]) == Decimal("100.00")
    assert c["corrected"] is not None

    # an annotation only, and a declared item the sources did not return
    r = backend.client.post(
        f"{url}/corrections",
        json={"item_id": item["id"], "reason": "金额以单位证明为准"},
        headers=clerk.h,
    )
    assert r.status_code == 200
    r = backend.client.post(
        f"{url}/corrections",
        json={
            "person_ref": d["members"][0]["id"],
            "income_class": "工资性收入",
            "declared_amount": "6000",
            "declared_months": 12,
            "reason": "零工收入，来源未查到",
        },
        headers=clerk.h,
    )
    assert r.status_code == 200, r.text
    s2 = backend.client.get(url, headers=clerk.h).json()
    assert len(s2["corrections"]) == 3 and s2["items"] == c["items"]
    assert (
        s2["corrections"][2]["source"] is None and s2["corrections"][2]["person_name"] == "成员甲"
    )

    # refused corrections: every problem, no row
    r = backend.client.post(
        f"{url}/corrections",
        json={"item_id": "tax.nobody.0", "reason": "x"},
        headers=clerk.h,
    )
    assert_error(r, 422, "correction_item_unknown", "要更正的记录不存在", "item_id")
    r = backend.client.post(
        f"{url}/corrections",
        json={"person_ref": "someone-else", "property_class": "车辆", "reason": "x"},
        headers=clerk.h,
    )
    assert_error(r, 422, "correction_person_unknown", "申报的成员不在本家庭中", "person_ref")
    r = backend.client.post(f"{url}/corrections", json={"item_id": item["id"]}, headers=clerk.h)
    assert r.status_code == 422
    assert len(backend.client.get(url, headers=clerk.h).json()["corrections"]) == 3

    r = backend.client.post(f"{url}/confirm", headers=clerk.h)
    assert r.json()["confirmed"] is True and r.json()["confirmed_at"]
    actions = [a["action"] for a in audit_rows(backend, d["id"])]
    assert actions.count("economic.correct") == 3 and actions.count("economic.confirm") == 2
    detail = next(
        a["detail"] for a in audit_rows(backend, d["id"]) if a["action"] == "economic.correct"
    )
    assert "confirmation_cleared" in detail


def test_a_household_change_makes_the_result_stale(backend, clerk, people):
    d = household(backend, clerk, people, members=1)
    authorize(backend, clerk, d)
    run_check(backend, clerk, d["id"])
    head = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    r = backend.client.patch(
        f"/applications/{d['id']}/members/{d['members'][0]['id']}",
        json={"name": "改名者"},
        headers=clerk.h | if_match(head["version"]),
    )
    assert r.status_code == 200, r.text
    r = backend.client.get(f"/applications/{d['id']}/economic-status", headers=clerk.h)
    assert_error(
        r, 409, "economic_check_stale",
        "核对后家庭成员或其姓名、身份证号有变更，请重新发起家庭经济状况核对",
    )  # fmt: skip


def test_other_regions_see_nothing(backend, clerk, clerk_102, people):
    d = create_draft(backend, clerk, people.adult())
    for path in ("economic-status", "economic-check", "economic-status/confirm"):
        method = backend.client.get if path == "economic-status" else backend.client.post
        r = method(f"/applications/{d['id']}/{path}", headers=clerk_102.h)
        assert r.status_code == 404, (path, r.text)
    r = backend.client.get(f"/applications/{d['id']}/economic-status")
    assert r.status_code == 401


def test_production_refuses_simulated_sources_at_start(tmp_path):
    from jiuzhutong.providers.registry import SimulatedProviderRefused
    from jiuzhutong.server import create_app
    from jiuzhutong.service import build_services
    from jiuzhutong.settings import Settings, new_key

    settings = Settings(
        env="production",
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        encryption_key=new_key(),
        hmac_key=new_key(),
    )
    services = build_services(settings)  # the admin CLI still works: nothing built yet
    try:
        with pytest.raises(SimulatedProviderRefused, match="经济状况数据源"):
            create_app(settings, services=services)
    finally:
        services.close()
