"""Reveal permission and the append-only audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .conftest import assert_error, audit_rows, create_draft, if_match


def test_reveal_needs_permission_and_is_audited(backend, clerk, county, people):
    number = people.adult()
    d = create_draft(backend, clerk, number, mode="代他人申请")
    url = f"/applications/{d['id']}"
    backend.client.patch(
        url, json={"details": {"bank_account": "6222021234567890123"}},
        headers=clerk.h | if_match(1),
    )  # fmt: skip

    r = backend.client.get(url + "?reveal=true", headers=clerk.h)
    assert_error(r, 403, "forbidden", "您没有查看完整身份证号的权限")
    masked = backend.client.get(url, headers=county.h).json()
    assert masked["applicant"]["id_number"] == number[:6] + "********" + number[-4:]
    assert masked["applicant"]["details"]["bank_account"] == "622202*********0123"

    before = len(audit_rows(backend, d["id"]))
    r = backend.client.get(url + "?reveal=true", headers=county.h)
    assert r.status_code == 200
    out = r.json()
    assert out["applicant"]["id_number"] == number and out["applicant"]["id_revealed"] is True
    assert out["entrustment"]["entrusting_id_number"] == number
    assert out["applicant"]["details"]["bank_account"] == "6222021234567890123"
    new = audit_rows(backend, d["id"])[before:]
    assert [a["action"] for a in new] == ["draft.read", "id.reveal"]
    reveal = new[1]
    assert reveal["staff_id"] == county.id and reveal["counter_id"] == "counter-7"
    assert reveal["subject_type"] == "application"
    assert number not in (reveal["detail"] or "")


def test_every_read_and_change_is_audited(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    backend.client.get(url, headers=clerk.h)
    backend.client.get(url, headers=clerk.h)  # served from the cache: still audited
    backend.client.patch(url, json={"step": "s"}, headers=clerk.h | if_match(1))
    m = backend.client.post(
        url + "/members", json={"name": "配偶", "id_number": people.adult(), "relation": "配偶"},
        headers=clerk.h | if_match(2),
    ).json()["members"][0]  # fmt: skip
    backend.client.delete(f"{url}/members/{m['id']}", headers=clerk.h | if_match(3))
    backend.client.delete(url, headers=clerk.h | if_match(4))
    rows = audit_rows(backend, d["id"])
    assert [r["action"] for r in rows] == [
        "draft.create", "draft.read", "draft.read", "draft.update", "member.add",
        "member.remove", "draft.delete",
    ]  # fmt: skip
    assert all(r["staff_id"] == clerk.id and r["counter_id"] == "counter-7" for r in rows)
    assert rows[3]["detail"] == "fields=step"


def test_failed_reads_write_no_audit_row(backend, clerk, clerk_102, people):
    d = create_draft(backend, clerk, people.adult())
    before = audit_rows(backend, d["id"])
    assert backend.client.get(f"/applications/{d['id']}", headers=clerk_102.h).status_code == 404
    assert audit_rows(backend, d["id"]) == before


def test_list_and_lookup_are_audited(backend, make_staff, people):
    me = make_staff("clerk", "420113")  # a region of its own
    number = people.adult("420113")
    create_draft(backend, me, number)
    backend.client.get("/applications", headers=me.h)
    backend.client.post("/applications/lookup", json={"id_number": number}, headers=me.h)
    with backend.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, detail FROM audit_events WHERE staff_id = :s "
                "AND action IN ('draft.list', 'draft.lookup') ORDER BY id"
            ),
            {"s": me.id},
        ).all()
    assert [tuple(r) for r in rows] == [("draft.list", "count=1"), ("draft.lookup", "count=1")]


def test_admin_reads_the_audit_trail(backend, admin, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    backend.client.get(f"/applications/{d['id']}", headers=clerk.h)
    r = backend.client.get(f"/admin/audit?subject_id={d['id']}", headers=admin.h)
    assert r.status_code == 200
    events = r.json()
    assert [e["action"] for e in events] == ["draft.create", "draft.read"]
    assert events[0]["staff_id"] == clerk.id and events[0]["subject_type"] == "application"
    # paging: oldest first after after_id
    r = backend.client.get(
        f"/admin/audit?subject_id={d['id']}&after_id={events[0]['id']}", headers=admin.h
    )
    assert [e["id"] for e in r.json()] == [events[1]["id"]]
    r = backend.client.get("/admin/audit?action=draft.read&limit=2", headers=admin.h)
    assert len(r.json()) == 2 and {e["action"] for e in r.json()} == {"draft.read"}
    r = backend.client.get("/admin/audit?limit=501", headers=admin.h)
    assert_error(r, 422, "less_than_equal", "不能大于500", "limit")
    r = backend.client.get("/admin/audit", headers=clerk.h)
    assert_error(r, 403, "forbidden", "只有系统管理员可以查看审计记录")


def test_no_route_changes_the_audit_trail(backend, admin):
    paths = backend.client.app.openapi()["paths"]
    audit_paths = {p: set(ops) for p, ops in paths.items() if "audit" in p}
    assert audit_paths == {"/admin/audit": {"get"}}
    for method in ("put", "patch", "delete", "post"):
        r = getattr(backend.client, method)("/admin/audit", headers=admin.h)
        assert r.status_code == 405


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET detail = 'x'", "DELETE FROM audit_events"]
)
def test_the_database_refuses_to_change_audit_rows(backend, statement):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), backend.engine.begin() as conn:
        conn.execute(sa.text(statement))
