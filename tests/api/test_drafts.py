"""Draft applications: create, read, change, list, look up, delete; versions and 409."""

from __future__ import annotations

from datetime import datetime

import pytest

from .conftest import assert_error, audit_rows, create_draft, if_match


def test_create_and_read(backend, clerk, people):
    number = people.adult()
    r = backend.client.post(
        "/applications",
        json={"name": " 张三 ", "id_number": number, "mode": "本人申请"},
        headers=clerk.h,
    )
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    d = r.json()
    assert d["version"] == 1 and d["status"] == "草稿" and d["region"] == "420106"
    assert d["mode"] == "本人申请" and d["entrustment"] is None
    assert d["created_by"] == clerk.id and d["counter_id"] == "counter-7"
    a = d["applicant"]
    assert a["name"] == "张三"  # trimmed
    assert a["relation"] == "本人"
    assert a["id_number"] == number[:6] + "*" * 8 + number[-4:]
    assert a["id_revealed"] is False
    assert a["division_code"] == "420106" and a["division_name"] == "湖北省武汉市武昌区"
    assert a["counted"] is True and d["household_size"] == 1 and d["members"] == []

    g = backend.client.get(f"/applications/{d['id']}", headers=clerk.h)
    assert g.status_code == 200 and g.headers["etag"] == '"1"'
    assert g.json() == d


def test_entrusted_by_the_resident(backend, clerk, people):
    number = people.adult()
    d = create_draft(backend, clerk, number, name="王芳", mode="代他人申请")
    e = d["entrustment"]
    assert e["entrusting_name"] == "王芳" and e["resident_name"] == "王芳"
    assert e["entrusting_id_number"] == number[:6] + "********" + number[-4:]
    assert e["clerk_staff_id"] == clerk.id and e["counter_id"] == "counter-7"
    assert datetime.fromisoformat(e["entrusted_at"])
    assert [r["action"] for r in audit_rows(backend, d["id"])][:2] == [
        "draft.create",
        "draft.entrust",
    ]


def test_entrusted_by_another_person(backend, clerk, people):
    resident, other = people.adult(), people.adult("420102")
    d = create_draft(
        backend,
        clerk,
        resident,
        name="刘大爷",
        mode="代他人申请",
        entrusting_name="刘小明",
        entrusting_id_number=other,
    )
    e = d["entrustment"]
    assert e["entrusting_name"] == "刘小明" and e["resident_name"] == "刘大爷"
    assert e["entrusting_id_number"] == other[:6] + "********" + other[-4:]


def test_entrustment_fields_are_checked(backend, clerk, people):
    body = {"name": "甲", "id_number": people.adult(), "mode": "代他人申请"}
    r = backend.client.post("/applications", json=body | {"entrusting_name": "乙"}, headers=clerk.h)
    assert_error(r, 422, "entrustment_incomplete", "请填写委托人身份证号", "entrusting_id_number")
    r = backend.client.post(
        "/applications",
        json=body | {"mode": "本人申请", "entrusting_name": "乙"},
        headers=clerk.h,
    )
    assert_error(
        r, 422, "entrustment_not_applicable", "本人申请时无需填写委托人信息", "entrusting_name"
    )
    r = backend.client.post(
        "/applications",
        json=body | {"entrusting_name": "乙", "entrusting_id_number": body["id_number"][:-1]},
        headers=clerk.h,
    )
    assert_error(r, 422, "id_length", "身份证号应为18位（现有17位）", "entrusting_id_number")


@pytest.mark.parametrize("name", ["王𠮷", "䶮", "𠮷野家·阿依古丽"])
def test_rare_characters_round_trip(backend, clerk, people, name):
    d = create_draft(backend, clerk, people.adult(), name=name)
    assert d["applicant"]["name"] == name
    g = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    assert g["applicant"]["name"] == name
    summary = [s for s in backend.client.get("/applications", headers=clerk.h).json()
               if s["id"] == d["id"]]  # fmt: skip
    assert summary[0]["applicant_name"] == name


def test_one_open_draft_per_applicant(backend, clerk, clerk_102, people):
    number = people.adult()
    first = create_draft(backend, clerk, number)
    r = backend.client.post(
        "/applications", json={"name": "同一人", "id_number": number, "mode": "本人申请"},
        headers=clerk.h,
    )  # fmt: skip
    assert_error(
        r, 409, "draft_exists", "该申请人已有未完成的申请草稿，请继续办理该草稿", "id_number"
    )
    assert r.json()["existing_id"] == first["id"]
    # anywhere: another region's clerk gets the same answer
    r = backend.client.post(
        "/applications", json={"name": "同一人", "id_number": number, "mode": "本人申请"},
        headers=clerk_102.h,
    )  # fmt: skip
    assert r.status_code == 409 and r.json()["existing_id"] == first["id"]
    # lower-case x and spaces are the same number
    spaced = " ".join([number[:6], number[6:14], number[14:].lower()])
    r = backend.client.post(
        "/applications", json={"name": "同一人", "id_number": spaced, "mode": "本人申请"},
        headers=clerk.h,
    )  # fmt: skip
    assert r.status_code == 409
    # once deleted, a new draft may be opened
    assert (
        backend.client.delete(
            f"/applications/{first['id']}", headers=clerk.h | if_match(1)
        ).status_code
        == 204
    )
    assert create_draft(backend, clerk, number)["id"] != first["id"]


def test_patch_changes_only_what_is_sent(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    r = backend.client.patch(
        url,
        json={"details": {"phone": "138 0013 8000", "hukou_type": "城镇"}, "step": "basic_info"},
        headers=clerk.h | if_match(1),
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    out = r.json()
    assert out["version"] == 2 and out["step"] == "basic_info"
    assert out["applicant"]["details"]["phone"] == "13800138000"  # normalised by the domain
    assert out["applicant"]["details"]["hukou_type"] == "城镇"
    assert out["applicant"]["name"] == d["applicant"]["name"]

    # details merge field by field; null clears one
    r = backend.client.patch(
        url,
        json={"details": {"phone": None, "residence_address": "武昌区中北路1号"}},
        headers=clerk.h | {"If-Match": 'W/"2"'},
    )
    assert r.status_code == 200, r.text
    det = r.json()["applicant"]["details"]
    assert det["phone"] is None and det["hukou_type"] == "城镇"
    assert det["residence_address"] == "武昌区中北路1号"
    # notice_version and step clear with null too
    r = backend.client.patch(
        url, json={"step": None, "notice_version": "2024-1"}, headers=clerk.h | {"If-Match": "3"}
    )
    assert r.json()["step"] is None and r.json()["notice_version"] == "2024-1"
    assert r.json()["version"] == 4
    g = backend.client.get(url, headers=clerk.h)
    assert g.json() == r.json() and g.headers["etag"] == '"4"'


def test_patch_name_and_id_number(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    new_number = people.adult("420111")
    r = backend.client.patch(
        f"/applications/{d['id']}",
        json={"name": "李雷", "id_number": new_number},
        headers=clerk.h | if_match(1),
    )
    assert r.status_code == 200, r.text
    a = r.json()["applicant"]
    assert a["name"] == "李雷" and a["division_code"] == "420111"
    # the blind index moved with it: the new number finds the draft, the old one doesn't
    found = backend.client.post(
        "/applications/lookup", json={"id_number": new_number}, headers=clerk.h
    ).json()
    assert [s["id"] for s in found] == [d["id"]]
    # and a second draft for the new number is refused
    r = backend.client.post(
        "/applications", json={"name": "李雷", "id_number": new_number, "mode": "本人申请"},
        headers=clerk.h,
    )  # fmt: skip
    assert r.status_code == 409 and r.json()["existing_id"] == d["id"]


def test_patch_onto_another_open_drafts_number_is_409(backend, clerk, people):
    a, b = people.adult(), people.adult()
    da, db = create_draft(backend, clerk, a), create_draft(backend, clerk, b)
    r = backend.client.patch(
        f"/applications/{db['id']}", json={"id_number": a}, headers=clerk.h | if_match(1)
    )
    assert r.status_code == 409 and r.json()["existing_id"] == da["id"]


def test_if_match_required_and_checked(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    r = backend.client.patch(url, json={"step": "x"}, headers=clerk.h)
    assert_error(
        r, 428, "precondition_required", "修改前需提供当前版本号（If-Match 请求头），请刷新后再改"
    )
    assert (
        backend.client.patch(url, json={"step": "x"}, headers=clerk.h | if_match(1)).json()[
            "version"
        ]
        == 2
    )
    r = backend.client.patch(url, json={"step": "y"}, headers=clerk.h | if_match(1))
    assert_error(r, 412, "stale_version", "该申请已被他人修改（当前为第2版），请刷新后再改")
    r = backend.client.patch(url, json={"step": "y"}, headers=clerk.h | {"If-Match": "v2"})
    assert r.status_code == 412
    r = backend.client.delete(url, headers=clerk.h)
    assert r.status_code == 428
    r = backend.client.delete(url, headers=clerk.h | if_match(1))
    assert r.status_code == 412
    assert backend.client.get(url, headers=clerk.h).json()["step"] == "x"


def test_list_is_newest_first_and_unfinished_only(backend, make_staff, people):
    me = make_staff("clerk", "420112")  # a region of its own: the list is just this test's
    ids = [create_draft(backend, me, people.adult("420112"))["id"] for _ in range(3)]
    backend.client.patch(
        f"/applications/{ids[0]}", json={"step": "members"}, headers=me.h | if_match(1)
    )
    backend.client.delete(f"/applications/{ids[1]}", headers=me.h | if_match(1))
    listed = backend.client.get("/applications", headers=me.h).json()
    assert [s["id"] for s in listed] == [ids[0], ids[2]]
    first = listed[0]
    assert first["version"] == 2 and first["step"] == "members" and first["member_count"] == 0
    assert "*" in first["applicant_id_number"]


def test_lookup_is_exact_and_region_scoped(backend, clerk, clerk_102, people):
    number = people.adult()
    d = create_draft(backend, clerk, number)
    r = backend.client.post("/applications/lookup", json={"id_number": number}, headers=clerk.h)
    assert [s["id"] for s in r.json()] == [d["id"]]
    assert r.json()[0]["applicant_id_number"] == number[:6] + "********" + number[-4:]
    r = backend.client.post("/applications/lookup", json={"id_number": number}, headers=clerk_102.h)
    assert r.json() == []
    r = backend.client.post(
        "/applications/lookup", json={"id_number": people.adult()}, headers=clerk.h
    )
    assert r.json() == []
    r = backend.client.post(
        "/applications/lookup", json={"id_number": number[:-1] + "Y"}, headers=clerk.h
    )
    assert_error(r, 422, "id_format", "前17位应为数字，最后一位为数字或X", "id_number")


def test_delete_is_soft_and_final(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    assert backend.client.delete(url, headers=clerk.h | if_match(1)).status_code == 204
    assert backend.client.get(url, headers=clerk.h).status_code == 404
    assert backend.client.delete(url, headers=clerk.h | if_match(2)).status_code == 404
    with backend.engine.connect() as conn:
        import sqlalchemy as sa

        status, version = conn.execute(
            sa.text("SELECT status, version FROM applications WHERE id = :i"), {"i": d["id"]}
        ).one()
    assert status == "已删除" and version == 2
