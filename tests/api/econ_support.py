"""Helpers of the economic-check and submission tests: households, authorization, waiting."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from jiuzhutong.contract.authorization import AuthState

from .conftest import Backend, Staff, create_draft, if_match

APPLICANT_DETAILS = {"hukou_division": "420106", "hukou_type": "城镇", "phone": "13900001111"}


def household(b: Backend, staff: Staff, people, *, members: int = 1, details=None) -> dict:
    """A draft of 420106 with a complete applicant and ``members`` adult members (spouse,
    then parents); returns the latest DraftOut."""
    number = people.adult(staff.region)
    d = create_draft(b, staff, number)
    version = d["version"]
    r = b.client.patch(
        f"/applications/{d['id']}",
        json={"details": APPLICANT_DETAILS if details is None else details},
        headers=staff.h | if_match(version),
    )
    assert r.status_code == 200, r.text
    d = r.json()
    relations = ["配偶", "父母", "父母"]
    for i in range(members):
        body = {
            "name": "成员" + "甲乙丙丁"[i],
            "id_number": people.adult(staff.region, 60 if i else 41),
            "relation": relations[i % len(relations)],
        }
        r = b.client.post(
            f"/applications/{d['id']}/members", json=body, headers=staff.h | if_match(d["version"])
        )
        assert r.status_code == 201, r.text
        d = r.json()
    d["_id_number"] = number  # the applicant's full number, for the tests' own use
    return d


def _has_route(b: Backend, suffix: str) -> bool:
    return any(path.endswith(suffix) for path in b.client.app.openapi()["paths"])


def authorize(b: Backend, staff: Staff, draft: dict, persons: list[dict] | None = None) -> None:
    """Every person (or ``persons``) to 已授权: 本机授权 through the API (ID check by the clerk,
    then the counter signature provider)."""
    persons = persons if persons is not None else [draft["applicant"], *draft["members"]]
    if _has_route(b, "/local/identity"):
        for p in persons:
            base = f"/applications/{draft['id']}/persons/{p['id']}/local"
            r = b.client.post(f"{base}/identity", json={"check": "现场核验身份证"}, headers=staff.h)
            assert r.status_code == 200, r.text
            r = b.client.post(f"{base}/signature", json={}, headers=staff.h)
            assert r.status_code == 200, r.text
            assert r.json()["state"] == AuthState.authorized.value, r.text
        return
    # until the authorization routes are mounted: the rows the service would have written
    from jiuzhutong.store.authorization import AuthorizationRecord

    with b.services.store.write() as tx:
        for p in persons:
            tx.authorizations.insert(
                AuthorizationRecord(
                    person_id=p["id"],
                    application_id=draft["id"],
                    state=AuthState.authorized.value,
                    method="本机授权",
                    identity_check="现场核验身份证",
                    reason=None,
                    signer_person_id=None,
                    verified_by_staff_id=staff.id,
                    document_id=None,
                    document_sha256=None,
                    updated_at=b.clock.now(),
                )
            )


def start_check(b: Backend, staff: Staff, draft_id: str):
    return b.client.post(f"/applications/{draft_id}/economic-check", headers=staff.h)


def wait_check(b: Backend, draft_id: str, timeout: float = 20) -> None:
    b.services.economic.wait(draft_id, timeout)


def run_check(b: Backend, staff: Staff, draft_id: str) -> dict:
    r = start_check(b, staff, draft_id)
    assert r.status_code == 202, r.text
    wait_check(b, draft_id)
    r = b.client.get(f"/applications/{draft_id}/economic-status", headers=staff.h)
    assert r.status_code == 200, r.text
    return r.json()


def events(b: Backend, draft_id: str) -> list[dict]:
    """The application's events, decrypted, in seq order."""
    with b.services.store.read() as tx:
        rows = tx.events.after(draft_id, 0)
    import json

    return [{"seq": r.seq, "type": r.type, "data": json.loads(r.data_json)} for r in rows]


def ready_draft(b: Backend, staff: Staff, people, members: int = 1) -> dict:
    """A draft with everything a submit needs: notice recorded, all authorized, confirmed."""
    d = household(b, staff, people, members=members)
    r = b.client.patch(
        f"/applications/{d['id']}",
        json={"notice_version": "v1"},
        headers=staff.h | if_match(d["version"]),
    )
    assert r.status_code == 200, r.text
    d = r.json() | {"_id_number": d["_id_number"]}
    authorize(b, staff, d)
    run_check(b, staff, d["id"])
    r = b.client.post(f"/applications/{d['id']}/economic-status/confirm", headers=staff.h)
    assert r.status_code == 200, r.text
    return d


def submit(b: Backend, staff: Staff, draft_id: str, key: str | None = None, **body):
    headers = staff.h | ({"Idempotency-Key": key} if key else {})
    return b.client.post(f"/applications/{draft_id}/submit", json=body or None, headers=headers)


def new_key() -> str:
    return str(uuid.uuid4())


def case_rows(b: Backend, division: str) -> list[tuple]:
    with b.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT application_id, case_number, seq FROM cases "
                    "WHERE division = :d ORDER BY seq"
                ),
                {"d": division},
            )
        )


def poll(predicate, timeout: float = 10.0, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)
