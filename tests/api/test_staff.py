"""Staff accounts: admin only, within the admin's region; roles and region scope."""

from __future__ import annotations

import uuid

from .conftest import assert_error, create_draft, login, unique_name


def new_staff(role: str = "clerk", region: str = "420106", **extra) -> dict:
    return {
        "username": unique_name("new.").lower(),
        "password": "a-long-password-1",
        "display_name": "李四",
        "role": role,
        "region": region,
        **extra,
    }


def test_admin_creates_and_lists_staff(backend, admin):
    body = new_staff("county", "4201")
    r = backend.client.post("/staff", json=body, headers=admin.h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["role"] == "county" and out["region"] == "4201"
    assert out["region_name"] == "湖北省武汉市"
    assert out["can_reveal"] is True  # county confirms cases: reveal by default
    assert "password" not in r.text
    listed = backend.client.get("/staff", headers=admin.h).json()
    assert out in listed
    # the new account can log in with the password given
    r = backend.client.post(
        "/auth/login", json={"username": body["username"], "password": body["password"]}
    )
    assert r.status_code == 200


def test_only_admins_manage_staff(backend, clerk, county):
    for who in (clerk, county):
        r = backend.client.post("/staff", json=new_staff(), headers=who.h)
        assert_error(r, 403, "forbidden", "只有系统管理员可以管理工作人员账号")
        r = backend.client.get("/staff", headers=who.h)
        assert_error(r, 403, "forbidden", "只有系统管理员可以管理工作人员账号")


def test_username_taken_is_409(backend, admin):
    body = new_staff()
    assert backend.client.post("/staff", json=body, headers=admin.h).status_code == 201
    r = backend.client.post("/staff", json=body, headers=admin.h)
    assert_error(r, 409, "username_taken", "该用户名已被使用，请换一个", "username")


def test_staff_region_is_validated(backend, admin):
    r = backend.client.post("/staff", json=new_staff(region="429999"), headers=admin.h)
    assert_error(r, 422, "division_unknown", "行政区划代码不存在：429999", "region")
    r = backend.client.post("/staff", json=new_staff(region="4201x"), headers=admin.h)
    assert_error(r, 422, "string_pattern_mismatch", "区域代码应为2、4、6、9或12位数字", "region")
    r = backend.client.post("/staff", json=new_staff(role="mayor"), headers=admin.h)
    assert_error(
        r,
        422,
        "enum",
        "取值无效，应为以下之一：clerk、township、county、investigator、admin",
        "role",
    )


def test_regional_admin_stays_in_region(backend, make_staff):
    wuhan_admin = make_staff("admin", "4201")
    ok = backend.client.post("/staff", json=new_staff(region="420106"), headers=wuhan_admin.h)
    assert ok.status_code == 201
    r = backend.client.post("/staff", json=new_staff(region="4202"), headers=wuhan_admin.h)
    assert_error(r, 403, "forbidden", "只能为您所辖区域内的工作人员创建账号")
    listed = backend.client.get("/staff", headers=wuhan_admin.h).json()
    assert all(s["region"].startswith("4201") for s in listed)


def test_clerk_sees_only_own_region(backend, clerk, clerk_102, admin, county, people):
    d106 = create_draft(backend, clerk, people.adult("420106"))
    d102 = create_draft(backend, clerk_102, people.adult("420102"))
    assert d106["region"] == "420106" and d102["region"] == "420102"

    r = backend.client.get(f"/applications/{d102['id']}", headers=clerk.h)
    assert_error(r, 404, "not_found", "未找到该申请，或不在您的服务区域内")
    ids_106 = {d["id"] for d in backend.client.get("/applications", headers=clerk.h).json()}
    assert d106["id"] in ids_106 and d102["id"] not in ids_106
    # a change is refused the same way, without revealing that the draft exists
    r = backend.client.patch(
        f"/applications/{d102['id']}", json={"step": "x"}, headers=clerk.h | {"If-Match": '"1"'}
    )
    assert r.status_code == 404
    # 4201 (Wuhan) contains both districts; 42 (the admin) contains all of Hubei
    for wide in (county, admin):
        for d in (d106, d102):
            assert backend.client.get(f"/applications/{d['id']}", headers=wide.h).status_code == 200
    # an unknown id looks exactly like an out-of-region one
    r = backend.client.get(f"/applications/{uuid.uuid4()}", headers=clerk.h)
    assert_error(r, 404, "not_found", "未找到该申请，或不在您的服务区域内")


def test_every_role_can_log_in_with_its_scope(backend, make_staff, people):
    for role in ("clerk", "township", "county", "investigator", "admin"):
        s = make_staff(role, "420106")
        me = backend.client.get("/auth/me", headers=s.h).json()
        assert me["role"] == role and me["region"] == "420106"


def test_login_returns_counter_recorded_on_drafts(backend, people):
    from .conftest import insert_staff

    username = insert_staff(backend, role="clerk", region="420106")
    token = login(backend, username, counter="窗口-12")["token"]
    h = {"Authorization": f"Bearer {token}"}
    r = backend.client.post(
        "/applications",
        json={"name": "赵六", "id_number": people.adult(), "mode": "本人申请"},
        headers=h,
    )
    assert r.status_code == 201
    assert r.json()["counter_id"] == "窗口-12"
