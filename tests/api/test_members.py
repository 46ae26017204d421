"""Household members, with every household rule of the domain enforced at once."""

from __future__ import annotations

import pytest

from .conftest import assert_error, audit_rows, create_draft, if_match, table_counts


@pytest.fixture
def draft(backend, clerk, people):
    return create_draft(backend, clerk, people.adult(), name="户主甲")


def add(backend, staff, d, body, version=None):
    v = d["version"] if version is None else version
    return backend.client.post(
        f"/applications/{d['id']}/members", json=body, headers=staff.h | if_match(v)
    )


def member(people, relation="配偶", name="成员乙", **details):
    body = {"name": name, "id_number": people.adult(), "relation": relation}
    if details:
        body["details"] = details
    return body


def test_add_update_remove(backend, clerk, people, draft):
    r = add(backend, clerk, draft, member(people, "配偶", phone="13900139000"))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"2"'
    d = r.json()
    assert d["version"] == 2 and len(d["members"]) == 1 and d["household_size"] == 2
    m = d["members"][0]
    assert m["relation"] == "配偶" and m["counted"] is True
    assert m["count_reason"] == "配偶，计入共同生活家庭成员"
    assert m["details"]["phone"] == "13900139000"

    r = backend.client.patch(
        f"/applications/{d['id']}/members/{m['id']}",
        json={"name": "成员丙", "details": {"exclusion": "服刑"}},
        headers=clerk.h | if_match(2),
    )
    assert r.status_code == 200, r.text
    d = r.json()
    m = d["members"][0]
    assert m["name"] == "成员丙" and m["counted"] is False and d["household_size"] == 1
    assert m["count_reason"] == "服刑人员不计入共同生活家庭成员"
    assert m["details"]["phone"] == "13900139000"  # untouched

    r = backend.client.delete(
        f"/applications/{d['id']}/members/{m['id']}", headers=clerk.h | if_match(3)
    )
    assert r.status_code == 200 and r.json()["members"] == [] and r.json()["version"] == 4
    actions = [a["action"] for a in audit_rows(backend, d["id"])]
    member_actions = [a for a in actions if a.startswith("member.")]
    assert member_actions == ["member.add", "member.update", "member.remove"]


def test_member_changes_need_the_version(backend, clerk, people, draft):
    r = backend.client.post(
        f"/applications/{draft['id']}/members", json=member(people), headers=clerk.h
    )
    assert r.status_code == 428
    assert add(backend, clerk, draft, member(people), version=7).status_code == 412


def test_applicant_cannot_be_removed(backend, clerk, draft):
    r = backend.client.delete(
        f"/applications/{draft['id']}/members/{draft['applicant']['id']}",
        headers=clerk.h | if_match(1),
    )
    assert_error(r, 422, "applicant_required", "申请人本人不能从家庭成员中删除")


def test_unknown_member_is_404(backend, clerk, draft):
    r = backend.client.patch(
        f"/applications/{draft['id']}/members/nope", json={"name": "某"},
        headers=clerk.h | if_match(1),
    )  # fmt: skip
    assert_error(r, 404, "not_found", "未找到该家庭成员")


def test_second_applicant_refused(backend, clerk, people, draft):
    r = add(backend, clerk, draft, member(people, "本人"))
    assert_error(
        r, 422, "household_multiple_applicants",
        "只能有一位申请人（本人），请选择该成员与申请人的关系", "relation",
    )  # fmt: skip


def test_second_spouse_refused(backend, clerk, people, draft):
    d = add(backend, clerk, draft, member(people, "配偶")).json()
    r = add(backend, clerk, d, member(people, "配偶"))
    assert_error(
        r, 422, "household_multiple_spouses", "配偶只能有一位，第1位家庭成员已登记为配偶",
        "relation",
    )  # fmt: skip


def test_duplicate_id_refused(backend, clerk, people, draft):
    # the applicant's own number, as a member's
    with backend.services.store.read() as tx:
        applicant_number = tx.drafts.get(draft["id"]).persons[0].id_number
    body = member(people, "子女") | {"id_number": applicant_number}
    r = add(backend, clerk, draft, body)
    assert_error(r, 422, "household_duplicate_id", "身份证号与申请人重复", "id_number")


def test_minor_needs_a_guardian(backend, clerk, people, draft):
    child = {"name": "小明", "id_number": people.child(), "relation": "子女"}
    r = add(backend, clerk, draft, child)
    assert_error(
        r, 422, "household_guardian_missing", "未成年人需指定监护人代为签字",
        "details.guardian_member_id",
    )  # fmt: skip
    r = add(backend, clerk, draft, child | {"details": {"guardian_member_id": "nobody"}})
    assert_error(
        r, 422, "household_guardian_unknown", "监护人应为本家庭中的另一位成员",
        "details.guardian_member_id",
    )  # fmt: skip
    guardian = draft["applicant"]["id"]
    r = add(backend, clerk, draft, child | {"details": {"guardian_member_id": guardian}})
    assert r.status_code == 201, r.text
    d = r.json()
    kid = d["members"][0]
    assert kid["counted"] is True and kid["count_reason"] == "未成年子女，计入共同生活家庭成员"
    # the guardian may not leave the child without one: here, the applicant loses capacity
    r = backend.client.patch(
        f"/applications/{d['id']}",
        json={"details": {"has_capacity": False}},
        headers=clerk.h | if_match(d["version"]),
    )
    items = assert_error(
        r, 422, "household_applicant_no_capacity",
        "申请人应具有完全民事行为能力，请由其监护人或其他成年家庭成员申请",
        "details.has_capacity",
    )  # fmt: skip
    # every problem at once: the child's guardian is now invalid as well
    assert any(
        i["code"] == "household_guardian_invalid"
        and i["field"] == "members[0].details.guardian_member_id"
        for i in items
    ), items


def test_removing_a_guardian_is_refused(backend, clerk, people, draft):
    d = add(backend, clerk, draft, member(people, "配偶", name="母亲")).json()
    mother = d["members"][0]["id"]
    child = {"name": "小红", "id_number": people.child(), "relation": "子女",
             "details": {"guardian_member_id": mother}}  # fmt: skip
    d = add(backend, clerk, d, child).json()
    r = backend.client.delete(
        f"/applications/{d['id']}/members/{mother}", headers=clerk.h | if_match(d["version"])
    )
    assert_error(
        r, 422, "household_guardian_unknown", "监护人应为本家庭中的另一位成员",
        "members[0].details.guardian_member_id",
    )  # fmt: skip


def test_minor_applicant_refused(backend, clerk, people):
    r = backend.client.post(
        "/applications",
        json={"name": "小刚", "id_number": people.child(age=15), "mode": "本人申请"},
        headers=clerk.h,
    )
    items = assert_error(r, 422, "household_applicant_minor", None, "id_number")
    assert items[0]["message"].startswith("申请人应年满18周岁（现15岁）")


def test_applicant_cannot_be_excluded(backend, clerk, draft):
    r = backend.client.patch(
        f"/applications/{draft['id']}", json={"details": {"exclusion": "宣告失踪"}},
        headers=clerk.h | if_match(1),
    )  # fmt: skip
    assert_error(
        r, 422, "household_applicant_excluded",
        "申请人不能是不计入共同生活家庭成员的人员（宣告失踪）", "details.exclusion",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("relation", "details", "counted", "reason"),
    [
        ("子女", {}, False, "成年子女已独立生活，不计入"),
        ("子女", {"full_time_student": True}, True,
         "在校接受全日制本科及以下学历教育的成年子女，计入共同生活家庭成员"),
        ("子女", {"cannot_live_independently": True}, True,
         "不能独立生活的成年子女，计入共同生活家庭成员"),
        ("父母", {}, True, "父母，具有法定赡养义务，计入共同生活家庭成员"),
        ("父母", {"co_resident": False}, False, "父母未与申请人长期共同居住，不计入"),
        ("兄弟姐妹", {"co_resident": True}, False,
         "兄弟姐妹未确认具有法定赡养、扶养或抚养义务，不计入"),
        ("祖父母", {"legal_support_duty": True}, False, "祖父母未确认长期共同居住，不计入"),
        ("其他", {"legal_support_duty": True, "co_resident": True}, True,
         "其他，具有法定赡养、扶养或抚养义务且长期共同居住，计入共同生活家庭成员"),
        ("配偶", {"exclusion": "宗教场所三年以上"}, False,
         "连续三年以上脱离家庭独立生活的宗教教职人员不计入共同生活家庭成员"),
        ("配偶", {"exclusion": "强制隔离戒毒"}, False, "强制隔离戒毒人员不计入共同生活家庭成员"),
    ],
)  # fmt: skip
def test_who_counts(backend, clerk, people, draft, relation, details, counted, reason):
    r = add(backend, clerk, draft, member(people, relation, **details))
    assert r.status_code == 201, r.text
    m = r.json()["members"][0]
    assert (m["counted"], m["count_reason"]) == (counted, reason)
    assert r.json()["household_size"] == 1 + counted


def test_all_problems_at_once_and_nothing_written(backend, clerk, people, draft):
    d = add(backend, clerk, draft, member(people, "配偶")).json()
    before = table_counts(backend)
    body = {
        "name": "成员丁",
        "id_number": people.adult(),
        "relation": "配偶",
        "details": {"phone": "12345", "hukou_division": "420199"},
    }
    r = add(backend, clerk, d, body)
    assert r.status_code == 422
    got = {(i["code"], i["field"], i["message"]) for i in r.json()["detail"]}
    assert got == {
        ("phone_invalid", "details.phone", "手机号应为11位（现有5位）"),
        ("division_unknown", "details.hukou_division", "行政区划代码不存在：420199"),
        ("household_multiple_spouses", "relation", "配偶只能有一位，第1位家庭成员已登记为配偶"),
    }
    assert table_counts(backend) == before
    g = backend.client.get(f"/applications/{d['id']}", headers=clerk.h)
    assert g.json()["version"] == d["version"] and len(g.json()["members"]) == 1


def test_hukou_division_accepts_streets_and_communities(backend, clerk, people, draft):
    # the demo streets and communities are loaded in development
    r = add(backend, clerk, draft, member(people, "配偶", hukou_division="420106001001"))
    assert r.status_code == 201, r.text
    assert r.json()["members"][0]["details"]["hukou_division"] == "420106001001"
