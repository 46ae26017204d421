"""Idempotency-Key on mutating POSTs: a retry replays the first response."""

from __future__ import annotations

import uuid

from .conftest import assert_error, create_draft, if_match, table_counts


def test_create_replayed(backend, clerk, people):
    key = str(uuid.uuid4())
    body = {"name": "重试者", "id_number": people.adult(), "mode": "本人申请"}
    first = backend.client.post(
        "/applications", json=body, headers=clerk.h | {"Idempotency-Key": key}
    )
    assert first.status_code == 201
    before = table_counts(backend)
    again = backend.client.post(
        "/applications", json=body, headers=clerk.h | {"Idempotency-Key": key}
    )
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    # nothing new but the audit trail of the session check (none: a replay writes nothing)
    assert table_counts(backend) == before
    # without the key the same body is a conflict, as it should be
    r = backend.client.post("/applications", json=body, headers=clerk.h)
    assert r.status_code == 409 and r.json()["existing_id"] == first.json()["id"]


def test_key_reused_with_another_body_is_422(backend, clerk, people):
    key = str(uuid.uuid4())
    a = {"name": "甲", "id_number": people.adult(), "mode": "本人申请"}
    b = {"name": "乙", "id_number": people.adult(), "mode": "本人申请"}
    assert (
        backend.client.post(
            "/applications", json=a, headers=clerk.h | {"Idempotency-Key": key}
        ).status_code
        == 201
    )
    before = table_counts(backend)
    r = backend.client.post("/applications", json=b, headers=clerk.h | {"Idempotency-Key": key})
    assert_error(
        r, 422, "idempotency_key_reused",
        "该 Idempotency-Key 已用于另一个请求，请为新的请求生成新的键",
    )  # fmt: skip
    assert table_counts(backend) == before


def test_keys_are_per_staff(backend, clerk, make_staff, people):
    other = make_staff("clerk", "420106")
    key = str(uuid.uuid4())
    a = {"name": "甲", "id_number": people.adult(), "mode": "本人申请"}
    b = {"name": "乙", "id_number": people.adult(), "mode": "本人申请"}
    assert (
        backend.client.post(
            "/applications", json=a, headers=clerk.h | {"Idempotency-Key": key}
        ).status_code
        == 201
    )
    r = backend.client.post("/applications", json=b, headers=other.h | {"Idempotency-Key": key})
    assert r.status_code == 201 and r.json()["applicant"]["name"] == "乙"


def test_member_add_replayed_even_after_the_version_moved(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    key = str(uuid.uuid4())
    body = {"name": "配偶甲", "id_number": people.adult(), "relation": "配偶"}
    url = f"/applications/{d['id']}/members"
    first = backend.client.post(
        url, json=body, headers=clerk.h | if_match(1) | {"Idempotency-Key": key}
    )
    assert first.status_code == 201 and first.headers["etag"] == '"2"'
    # the retry still carries If-Match 1 (it is the same request): replayed, not 412
    again = backend.client.post(
        url, json=body, headers=clerk.h | if_match(1) | {"Idempotency-Key": key}
    )
    assert again.status_code == 201 and again.content == first.content
    assert again.headers["etag"] == '"2"'
    g = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    assert len(g["members"]) == 1 and g["version"] == 2
    # the same key on another path is a reuse
    other = create_draft(backend, clerk, people.adult())
    r = backend.client.post(
        f"/applications/{other['id']}/members", json=body,
        headers=clerk.h | if_match(1) | {"Idempotency-Key": key},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["code"] == "idempotency_key_reused"


def test_failed_requests_do_not_use_up_the_key(backend, clerk, people):
    key = str(uuid.uuid4())
    bad = {"name": "甲", "id_number": "420106199902300000", "mode": "本人申请"}
    r = backend.client.post("/applications", json=bad, headers=clerk.h | {"Idempotency-Key": key})
    assert r.status_code == 422
    good = {"name": "甲", "id_number": people.adult(), "mode": "本人申请"}
    r = backend.client.post("/applications", json=good, headers=clerk.h | {"Idempotency-Key": key})
    assert r.status_code == 201


def test_staff_create_replayed(backend, admin):
    key = str(uuid.uuid4())
    body = {"username": f"idem.{uuid.uuid4().hex[:8]}", "password": "a-long-password-1",
            "display_name": "王五", "role": "clerk", "region": "420106"}  # fmt: skip
    first = backend.client.post("/staff", json=body, headers=admin.h | {"Idempotency-Key": key})
    again = backend.client.post("/staff", json=body, headers=admin.h | {"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.content == again.content


def test_key_must_be_printable_and_bounded(backend, clerk, people):
    body = {"name": "甲", "id_number": people.adult(), "mode": "本人申请"}
    for key in ("x" * 201, "ключ".encode()):
        r = backend.client.post(
            "/applications", json=body, headers=clerk.h | {"Idempotency-Key": key}
        )
        assert_error(
            r, 422, "idempotency_key_invalid", "Idempotency-Key 应为1至200个可打印的ASCII字符"
        )
