"""Authorization of every person: counter (本机授权) and remote links (远程授权), the state
machine, household changes, guardians, the signed document, the phone page's POST."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jiuzhutong.service.authorization import verify_signed_record
from jiuzhutong.store.models import remote_links_t

from .conftest import assert_error, audit_rows, create_draft, if_match, table_counts

SIGNATURE = "M 10 10 L 50 60 L 90 20 M 120 40 L 160 80"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")


@pytest.fixture
def draft(backend, clerk, people):
    return create_draft(backend, clerk, people.adult(), name="王大明")


def add_member(b, staff, d, body) -> dict:
    r = b.client.post(
        f"/applications/{d['id']}/members", json=body, headers=staff.h | if_match(d["version"])
    )
    assert r.status_code == 201, r.text
    return r.json()


def board(b, staff, d) -> dict:
    r = b.client.get(f"/applications/{d['id']}/authorizations", headers=staff.h)
    assert r.status_code == 200, r.text
    return r.json()


def person_url(d, person_id: str, tail: str) -> str:
    return f"/applications/{d['id']}/persons/{person_id}/{tail}"


def local_authorize(b, staff, d, person_id, check="现场核验身份证", **extra) -> dict:
    r = b.client.post(
        person_url(d, person_id, "local/identity"), json={"check": check, **extra}, headers=staff.h
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "人脸核验通过", r.text
    r = b.client.post(
        person_url(d, person_id, "local/signature"),
        json={"signature_svg_path": SIGNATURE},
        headers=staff.h,
    )
    assert r.status_code == 200, r.text
    return r.json()


def new_link(b, staff, d, person_id) -> dict:
    r = b.client.post(person_url(d, person_id, "link"), headers=staff.h)
    assert r.status_code == 201, r.text
    return r.json()


def open_page(b, link: dict):
    token = link["short_code"]
    return b.client.get(f"/r/{token}")


def page_nonce(html: str) -> str:
    m = re.search(r'data-nonce="([^"]+)"', html)
    assert m, "no nonce in the page"
    return m.group(1)


def phone_submit(b, link: dict, nonce: str, face="pass", signature=SIGNATURE):
    body = {
        "nonce": nonce,
        "face_consent": True,
        "face_result": face,
        "signature_svg_path": signature,
    }
    return b.client.post(f"/r/{link['short_code']}", json=body)


def expire_links(b, person_id: str) -> None:
    """Age the person's links past their lifetime (the clock stays: sessions would idle out)."""
    t = remote_links_t
    with b.engine.begin() as conn:
        conn.execute(
            sa.update(t)
            .where(t.c.person_id == person_id)
            .values(expires_at=b.clock.now() - timedelta(seconds=1))
        )


def states(board_json: dict) -> list[str]:
    return [p["state"] for p in board_json["persons"]]


# --- the board and the counter flow ----------------------------------------------------------


def test_new_draft_everyone_pending(backend, clerk, people, draft):
    d = add_member(
        backend, clerk, draft, {"name": "李小红", "id_number": people.adult(), "relation": "配偶"}
    )
    b = board(backend, clerk, d)
    assert b["application_id"] == d["id"] and b["version"] == d["version"]
    assert [p["name"] for p in b["persons"]] == ["王大明", "李小红"]
    assert states(b) == ["待授权", "待授权"] and b["all_authorized"] is False
    assert b["last_event_seq"] >= 1  # the added member was announced


def test_local_id_card_check_then_signature(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    out = local_authorize(backend, clerk, draft, pid)
    assert out["state"] == "已授权" and out["method"] == "本机授权"
    assert out["identity_check"] == "现场核验身份证"
    assert out["verified_by_staff_id"] == clerk.id
    assert re.fullmatch(r"[0-9a-f]{64}", out["document_sha256"])
    b = board(backend, clerk, draft)
    assert b["all_authorized"] is True and states(b) == ["已授权"]

    doc = backend.client.get(person_url(draft, pid, "signed-document"), headers=clerk.h)
    assert doc.status_code == 200, doc.text
    body = doc.json()
    assert body["sha256"] == out["document_sha256"]
    assert body["person_name"] == "王大明" and body["signer_name"] == "王大明"
    assert body["id_number_masked"] == draft["applicant"]["id_number"]  # masked, 420106****…
    assert "*" in body["id_number_masked"]
    assert body["signature_svg_path"] == SIGNATURE and body["method"] == "本机授权"
    assert body["verified_by_staff_id"] == clerk.id and body["document_version"] == "v1"
    actions = [r["action"] for r in audit_rows(backend, draft["id"])]
    assert "authorization.identity" in actions and "authorization.sign" in actions
    assert actions[-1] == "signed_document.read"
    # the stored record still hashes to what it says
    with backend.engine.connect() as conn:
        n = conn.execute(
            sa.text("SELECT count(*) FROM signed_documents WHERE sha256 = :s"),
            {"s": bytes.fromhex(out["document_sha256"])},
        ).scalar_one()
    assert n == 1


def test_signed_record_hash_is_checkable():
    record = {"a": 1, "b": "签名"}
    canonical = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert verify_signed_record(json.dumps({**record, "sha256": digest}))
    assert not verify_signed_record(json.dumps({**record, "b": "改", "sha256": digest}))


def test_counter_face_provider_and_signature_provider(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    r = backend.client.post(
        person_url(draft, pid, "local/identity"),
        json={"check": "人脸核验", "simulated_face_pass": False},
        headers=clerk.h,
    )
    assert r.status_code == 200 and r.json()["state"] == "失败"
    assert "未通过" in r.json()["reason"]
    # retry allowed: the simulated provider passes this time
    r = backend.client.post(
        person_url(draft, pid, "local/identity"), json={"check": "人脸核验"}, headers=clerk.h
    )
    assert r.json()["state"] == "人脸核验通过" and r.json()["reason"] is None
    r = backend.client.post(person_url(draft, pid, "local/signature"), json={}, headers=clerk.h)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "已授权" and r.json()["identity_check"] == "人脸核验"
    doc = backend.client.get(person_url(draft, pid, "signed-document"), headers=clerk.h).json()
    assert doc["signature_svg_path"].startswith("M")


def test_signature_before_identity_is_refused(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    before = table_counts(backend)
    r = backend.client.post(
        person_url(draft, pid, "local/signature"), json={"signature_svg_path": SIGNATURE},
        headers=clerk.h,
    )  # fmt: skip
    assert_error(
        r, 409, "authorization_state", "王大明的授权状态为“待授权”，请先在本机完成身份核验再签名"
    )
    assert table_counts(backend) == before


def test_bad_signature_and_bad_input(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    r = backend.client.post(
        person_url(draft, pid, "local/identity"), json={"check": "刷脸"}, headers=clerk.h
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "check"
    backend.client.post(
        person_url(draft, pid, "local/identity"), json={"check": "现场核验身份证"}, headers=clerk.h
    )
    before = table_counts(backend)
    r = backend.client.post(
        person_url(draft, pid, "local/signature"),
        json={"signature_svg_path": "<script>alert(1)</script>"},
        headers=clerk.h,
    )
    assert_error(r, 422, "signature_invalid", None, "signature_svg_path")
    assert table_counts(backend) == before


def test_unknown_person_and_out_of_region(backend, clerk, clerk_102, draft):
    r = backend.client.post(person_url(draft, "nope", "link"), headers=clerk.h)
    assert_error(r, 404, "not_found", "未找到该家庭成员")
    pid = draft["applicant"]["id"]
    r = backend.client.post(person_url(draft, pid, "link"), headers=clerk_102.h)
    assert_error(r, 404, "not_found", "未找到该申请，或不在您的服务区域内")
    r = backend.client.get(f"/applications/{draft['id']}/authorizations", headers=clerk_102.h)
    assert r.status_code == 404
    r = backend.client.get(person_url(draft, pid, "signed-document"), headers=clerk.h)
    assert_error(r, 404, "not_found", "王大明尚未签署告知书")


def test_authorized_person_cannot_get_a_link(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    local_authorize(backend, clerk, draft, pid)
    r = backend.client.post(person_url(draft, pid, "link"), headers=clerk.h)
    assert_error(r, 409, "already_authorized", "王大明已完成授权，无需再次授权")


# --- household changes -------------------------------------------------------------------------


def test_household_changes_reset_and_drop(backend, clerk, people, draft):
    d = add_member(
        backend, clerk, draft, {"name": "李小红", "id_number": people.adult(), "relation": "配偶"}
    )
    applicant, spouse = d["applicant"]["id"], d["members"][0]["id"]
    local_authorize(backend, clerk, d, applicant)
    local_authorize(backend, clerk, d, spouse)
    assert board(backend, clerk, d)["all_authorized"] is True

    # a name change of the spouse: authorize again
    r = backend.client.patch(
        f"/applications/{d['id']}/members/{spouse}",
        json={"name": "李晓红"},
        headers=clerk.h | if_match(d["version"]),
    )
    assert r.status_code == 200, r.text
    d = r.json()
    b = board(backend, clerk, d)
    assert states(b) == ["已授权", "待授权"]
    assert b["persons"][1]["reason"] == "姓名或身份证号已修改，需重新授权"
    assert b["persons"][1]["document_sha256"] is None
    # an unchanged value is no change
    r = backend.client.patch(
        f"/applications/{d['id']}",
        json={"name": "王大明"},
        headers=clerk.h | if_match(d["version"]),
    )
    d = r.json()
    assert states(board(backend, clerk, d)) == ["已授权", "待授权"]
    # the applicant's ID number changes: the applicant too
    r = backend.client.patch(
        f"/applications/{d['id']}",
        json={"id_number": people.adult()},
        headers=clerk.h | if_match(d["version"]),
    )
    assert r.status_code == 200, r.text
    d = r.json()
    assert states(board(backend, clerk, d)) == ["待授权", "待授权"]

    # a removed member loses the authorization; a re-added one starts at 待授权
    local_authorize(backend, clerk, d, spouse)
    link = new_link(backend, clerk, d, applicant)
    r = backend.client.delete(
        f"/applications/{d['id']}/members/{spouse}", headers=clerk.h | if_match(d["version"])
    )
    assert r.status_code == 200, r.text
    d = r.json()
    with backend.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT count(*) FROM authorizations WHERE person_id = :p"), {"p": spouse}
        ).scalar_one()
    assert rows == 0
    assert [p["person_id"] for p in board(backend, clerk, d)["persons"]] == [applicant]
    d = add_member(
        backend, clerk, d, {"name": "新成员", "id_number": people.adult(), "relation": "子女"}
    )
    assert states(board(backend, clerk, d)) == ["待授权", "待授权"]
    # the applicant's link survived a change to someone else
    assert open_page(backend, link).status_code == 200


def test_all_authorized_helper(backend, clerk, people, draft):
    from jiuzhutong.service.authorization import all_authorized

    d = add_member(
        backend, clerk, draft, {"name": "李小红", "id_number": people.adult(), "relation": "配偶"}
    )
    with backend.services.store.read() as tx:
        assert all_authorized(tx, d["id"]) == ["王大明", "李小红"]
    local_authorize(backend, clerk, d, d["applicant"]["id"])
    with backend.services.store.read() as tx:
        assert all_authorized(tx, d["id"]) == ["李小红"]
    local_authorize(backend, clerk, d, d["members"][0]["id"])
    with backend.services.store.read() as tx:
        assert all_authorized(tx, d["id"]) == []


def test_guardian_signs_for_a_child(backend, clerk, people, draft):
    d = add_member(
        backend,
        clerk,
        draft,
        {
            "name": "王小宝",
            "id_number": people.child(age=8),
            "relation": "子女",
            "details": {"guardian_member_id": draft["applicant"]["id"]},
        },
    )
    child = d["members"][0]["id"]
    b = board(backend, clerk, d)
    assert b["persons"][1]["signer_person_id"] == d["applicant"]["id"]
    assert b["persons"][1]["signer_name"] == "王大明"
    out = local_authorize(backend, clerk, d, child)
    assert out["signer_name"] == "王大明" and out["state"] == "已授权"
    doc = backend.client.get(person_url(d, child, "signed-document"), headers=clerk.h).json()
    assert doc["person_name"] == "王小宝" and doc["signer_name"] == "王大明"


# --- remote links and the phone POST ----------------------------------------------------------


def test_remote_link_flow(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    link = new_link(backend, clerk, draft, pid)
    assert TOKEN_RE.fullmatch(link["short_code"])
    assert link["url"] == f"{backend.settings.public_base_url}/r/{link['short_code']}"
    b = board(backend, clerk, draft)
    assert b["persons"][0]["method"] == "远程授权"
    assert b["persons"][0]["link_expires_at"] is not None
    # the token is stored only as its HMAC
    with backend.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT token_hash FROM remote_links WHERE person_id = :p"), {"p": pid}
        ).scalar_one()
    assert link["short_code"].encode() not in bytes(stored)

    page = open_page(backend, link)
    assert page.status_code == 200
    assert "王*明" in page.text and "王大明" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    nonce = page_nonce(page.text)

    r = phone_submit(backend, link, "wrong-nonce-123456")
    assert_error(r, 422, "nonce_invalid", "页面已过期，请刷新页面后重新签名", "nonce")
    r = phone_submit(backend, link, nonce, face="fail")
    assert_error(r, 422, "face_failed", None, "face_result")
    assert states(board(backend, clerk, draft)) == ["失败"]
    r = phone_submit(backend, link, nonce, signature="M 1 1")
    assert_error(r, 422, "signature_invalid", "签名数据格式错误", "signature_svg_path")
    r = phone_submit(backend, link, nonce)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (
        out["state"] == "已授权" and out["name"] == "王*明" and out["message"] == "签名业务已完成"
    )
    assert "id_number" not in out
    b = board(backend, clerk, draft)
    assert states(b) == ["已授权"] and b["persons"][0]["verified_by_staff_id"] is None
    doc = backend.client.get(person_url(draft, pid, "signed-document"), headers=clerk.h).json()
    assert doc["method"] == "远程授权" and doc["identity_check"] == "人脸核验"

    # single use: the page and the POST are gone
    again = open_page(backend, link)
    assert again.status_code == 410 and "链接无效或已失效" in again.text
    assert "王" not in again.text
    assert_error(phone_submit(backend, link, nonce), 410, "link_invalid", None)


def test_superseded_expired_and_unknown_links(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    first = new_link(backend, clerk, draft, pid)
    second = new_link(backend, clerk, draft, pid)
    assert first["short_code"] != second["short_code"]
    old, new = open_page(backend, first), open_page(backend, second)
    assert old.status_code == 410 and new.status_code == 200
    unknown = backend.client.get("/r/AAAAAAAAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404 and unknown.text == old.text  # the same plain page

    expire_links(backend, pid)
    expired = open_page(backend, second)
    assert expired.status_code == 410 and expired.text == old.text
    b = board(backend, clerk, draft)
    assert states(b) == ["已过期"] and b["persons"][0]["reason"] == "授权链接已过期，请重新生成"
    # a new link puts the person back to 待授权
    third = new_link(backend, clerk, draft, pid)
    assert states(board(backend, clerk, draft)) == ["待授权"]
    assert open_page(backend, third).status_code == 200


def test_board_marks_expired_links(backend, clerk, draft):
    new_link(backend, clerk, draft, draft["applicant"]["id"])
    expire_links(backend, draft["applicant"]["id"])
    assert states(board(backend, clerk, draft)) == ["已过期"]
    assert states(board(backend, clerk, draft)) == ["已过期"]  # once


def test_local_identity_supersedes_the_link(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    link = new_link(backend, clerk, draft, pid)
    local_authorize(backend, clerk, draft, pid)
    assert open_page(backend, link).status_code == 410


def test_link_lookups_are_rate_limited(backend, clerk, draft):
    limit = backend.settings.link_max_failures
    headers = {"X-Forwarded-For": "ignored"}
    link = new_link(backend, clerk, draft, draft["applicant"]["id"])
    with backend.services.store.write() as tx:  # a fresh budget for the test client's address
        tx.authorizations.prune_failures(backend.clock.now() + timedelta(days=1))
    for _ in range(limit):
        assert backend.client.get("/r/BBBBBBBBBBBBBBBBBBBBBB", headers=headers).status_code == 404
    r = open_page(backend, link)  # even a good token, from this address
    assert r.status_code == 429 and "retry-after" in r.headers
    r = phone_submit(backend, link, "whatever-nonce-1")
    assert_error(r, 429, "too_many_attempts", None)
    backend.clock.offset = timedelta(seconds=backend.settings.link_window_seconds + 1)
    assert open_page(backend, link).status_code == 200
    with backend.services.store.write() as tx:
        tx.authorizations.prune_failures(backend.clock.now() + timedelta(days=1))


def test_link_idempotency(backend, clerk, draft):
    url = person_url(draft, draft["applicant"]["id"], "link")
    h = clerk.h | {"Idempotency-Key": f"link-{draft['id']}"}
    a = backend.client.post(url, headers=h)
    b = backend.client.post(url, headers=h)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()


def test_counter_tablet_signs_after_the_clerks_identity_check(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    r = backend.client.post(
        person_url(draft, pid, "local/identity"), json={"check": "现场核验身份证"}, headers=clerk.h
    )
    assert r.json()["state"] == "人脸核验通过"
    link = new_link(backend, clerk, draft, pid)  # opened on the counter's tablet
    b = board(backend, clerk, draft)
    assert states(b) == ["人脸核验通过"] and b["persons"][0]["method"] == "本机授权"
    page = open_page(backend, link)
    assert page.status_code == 200
    r = phone_submit(backend, link, page_nonce(page.text))
    assert r.status_code == 200, r.text
    out = board(backend, clerk, draft)["persons"][0]
    assert out["state"] == "已授权" and out["method"] == "本机授权"
    assert out["verified_by_staff_id"] == clerk.id and out["identity_check"] == "现场核验身份证"
    doc = backend.client.get(person_url(draft, pid, "signed-document"), headers=clerk.h).json()
    assert doc["method"] == "本机授权" and doc["verified_by_staff_id"] == clerk.id
    assert open_page(backend, link).status_code == 410


def test_the_sweep_marks_ran_out_links_expired(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    new_link(backend, clerk, draft, pid)
    expire_links(backend, pid)
    assert backend.services.authorization.sweep_expired() >= 1
    with backend.services.store.read() as tx:
        last = tx.events.after(draft["id"], 0)[-1]
    assert json.loads(last.data_json)["state"] == "已过期"
    b = board(backend, clerk, draft)
    assert states(b) == ["已过期"] and b["last_event_seq"] == last.seq  # no second 已过期


def test_counter_authorization_after_an_expired_link(backend, clerk, draft):
    pid = draft["applicant"]["id"]
    new_link(backend, clerk, draft, pid)
    expire_links(backend, pid)
    assert states(board(backend, clerk, draft)) == ["已过期"]
    assert local_authorize(backend, clerk, draft, pid)["state"] == "已授权"


def test_disallowed_transition_is_refused(backend, clerk, draft):
    from jiuzhutong.contract.authorization import AuthState
    from jiuzhutong.service.authorization import ALLOWED

    assert AuthState.authorized not in ALLOWED[AuthState.pending]
    assert ALLOWED[AuthState.authorized] == frozenset()
    pid = draft["applicant"]["id"]
    local_authorize(backend, clerk, draft, pid)
    r = backend.client.post(
        person_url(draft, pid, "local/identity"), json={"check": "现场核验身份证"}, headers=clerk.h
    )
    assert_error(r, 409, "already_authorized", "王大明已完成授权，无需再次授权")


def test_guardian_signs_a_childs_link(backend, clerk, people, draft):
    guardian = draft["applicant"]["id"]
    body = {
        "name": "王小宝",
        "id_number": people.child(age=6),
        "relation": "子女",
        "details": {"guardian_member_id": guardian},
    }
    d = add_member(backend, clerk, draft, body)
    child = d["members"][0]["id"]
    link = new_link(backend, clerk, d, child)
    page = open_page(backend, link)
    assert "王*宝（由监护人王*明代签）" in page.text
    r = phone_submit(backend, link, page_nonce(page.text))
    assert r.status_code == 200 and r.json()["signer_name"] == "王*明"
    doc = backend.client.get(person_url(d, child, "signed-document"), headers=clerk.h).json()
    assert doc["person_name"] == "王小宝" and doc["signer_name"] == "王大明"
    assert doc["method"] == "远程授权"
