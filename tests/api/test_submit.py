"""Submitting an application: everything missing at once, case numbers, idempotency, races."""

from __future__ import annotations

import re
import secrets
import threading
import time

import httpx
import pytest
import uvicorn

from jiuzhutong.server.run import uvicorn_config

from .conftest import assert_error, audit_rows, create_draft, if_match, table_counts
from .econ_support import case_rows, events, new_key, ready_draft, start_check, submit
from .test_concurrency import free_port

CASE_NUMBER = re.compile(r"^420106-\d{4}-\d{6}$")


def test_submit_refused_listing_everything_missing(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult(), name="缺项者")
    before = table_counts(backend)
    r = submit(backend, clerk, d["id"], new_key())
    assert r.status_code == 422, r.text
    got = [(i["code"], i["field"], i["message"]) for i in r.json()["detail"]]
    assert got == [
        ("notice_not_recorded", "notice_version", "尚未记录申请人阅读并签署的告知书版本"),
        ("field_required", "applicant.details.hukou_division", "请填写申请人的户籍所在地"),
        ("field_required", "applicant.details.hukou_type", "请填写申请人的户籍类型（城镇/农村）"),
        ("field_required", "applicant.details.phone", "请填写申请人的联系电话"),
        ("person_not_authorized", "authorizations", "缺项者尚未完成授权（应为“已授权”）"),
        ("economic_status_missing", "economic_status", "尚未进行家庭经济状况核对"),
    ]
    assert table_counts(backend) == before  # nothing written, not even a counter


def test_submit_requires_an_idempotency_key(backend, clerk, people):
    d = ready_draft(backend, clerk, people, members=0)
    r = submit(backend, clerk, d["id"])
    assert_error(
        r, 428, "idempotency_key_required",
        "提交申请须带 Idempotency-Key 请求头（每次提交生成一个新键，重试时沿用同一个键）",
    )  # fmt: skip


def test_unconfirmed_after_a_correction(backend, clerk, people):
    d = ready_draft(backend, clerk, people, members=0)
    url = f"/applications/{d['id']}/economic-status"
    item = backend.client.get(url, headers=clerk.h).json()["items"]
    body = {"person_ref": d["applicant"]["id"], "property_class": "车辆", "reason": "有旧车一辆",
            "declared_amount": "3000"}  # fmt: skip
    assert backend.client.post(f"{url}/corrections", json=body, headers=clerk.h).status_code == 200
    r = submit(backend, clerk, d["id"], new_key())
    assert [(i["code"], i["field"]) for i in r.json()["detail"]] == [
        ("economic_status_unconfirmed", "economic_status")
    ], item


def test_submit_assigns_a_case_and_closes_the_draft(backend, clerk, people):
    d = ready_draft(backend, clerk, people, members=1)
    key = new_key()
    r = submit(backend, clerk, d["id"], key, note="材料齐全")
    assert r.status_code == 201, r.text
    case = r.json()
    assert CASE_NUMBER.match(case["case_number"]), case
    assert case["status"] == "已提交" and case["application_id"] == d["id"]
    assert [t["status"] for t in case["timeline"]] == ["草稿", "草稿", "已提交"]
    assert (
        case["timeline"][-1]["note"]
        == f"提交申请，已受理，案件编号{case['case_number']}（材料齐全）"
    )

    again = submit(backend, clerk, d["id"], key, note="材料齐全")
    assert again.status_code == 201 and again.content == r.content  # the same case
    other = submit(backend, clerk, d["id"], new_key())
    assert_error(
        other, 409, "already_submitted",
        f"该申请已提交（受理），案件编号{case['case_number']}，不能重复提交",
    )  # fmt: skip

    evs = [e for e in events(backend, d["id"]) if e["type"] == "submitted"]
    assert len(evs) == 1 and evs[0]["data"]["case_number"] == case["case_number"]
    audit = [a for a in audit_rows(backend, d["id"]) if a["action"] == "application.submit"]
    assert len(audit) == 1 and audit[0]["detail"] == f"case={case['case_number']}"

    # the draft can no longer be changed, deleted or re-checked
    message = "该申请已提交（受理），不能再修改、删除或重新核对"
    r = backend.client.patch(
        f"/applications/{d['id']}", json={"step": "x"}, headers=clerk.h | if_match(d["version"])
    )
    assert_error(r, 409, "application_submitted", message)
    r = backend.client.delete(f"/applications/{d['id']}", headers=clerk.h | if_match(9))
    assert_error(r, 409, "application_submitted", message)
    r = backend.client.post(
        f"/applications/{d['id']}/members",
        json={"name": "新人", "id_number": people.adult(), "relation": "配偶"},
        headers=clerk.h | if_match(9),
    )
    assert_error(r, 409, "application_submitted", message)
    assert_error(start_check(backend, clerk, d["id"]), 409, "application_submitted", message)
    # its economic status can still be read, no longer changed
    url = f"/applications/{d['id']}/economic-status"
    r = backend.client.get(url, headers=clerk.h)
    assert r.status_code == 200 and r.json()["confirmed"] is True
    assert_error(
        backend.client.post(f"{url}/confirm", headers=clerk.h),
        409,
        "application_submitted",
        message,
    )
    # and no longer counts as the applicant's open draft
    listed = backend.client.get("/applications", headers=clerk.h).json()
    assert d["id"] not in {x["id"] for x in listed}
    assert create_draft(backend, clerk, d["_id_number"])["id"] != d["id"]
    number = backend.client.get(f"/applications/{d['id']}?reveal=true", headers=clerk.h)
    assert number.status_code == 404
    # the authorization board and every signed document can still be shown
    board = backend.client.get(f"/applications/{d['id']}/authorizations", headers=clerk.h)
    assert board.status_code == 200 and board.json()["all_authorized"] is True
    for row in board.json()["persons"]:
        doc = backend.client.get(
            f"/applications/{d['id']}/persons/{row['person_id']}/signed-document",
            headers=clerk.h,
        )
        assert doc.status_code == 200 and doc.json()["sha256"] == row["document_sha256"]


def test_the_case_reads_back_as_filed(backend, clerk, clerk_102, county, people):
    d = ready_draft(backend, clerk, people, members=1)
    url = f"/applications/{d['id']}/case"
    assert_error(
        backend.client.get(url, headers=clerk.h), 404, "not_submitted", "该申请尚未提交，没有案件"
    )
    before = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    case = submit(backend, clerk, d["id"], new_key()).json()

    r = backend.client.get(url, headers=clerk.h)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["case"] == case  # number, time and timeline as the submit answered
    filed = got["application"]
    assert filed["status"] == "已提交"
    assert filed["applicant"] == before["applicant"] and filed["members"] == before["members"]
    assert "*" in filed["applicant"]["id_number"]  # masked unless revealed
    assert backend.client.get(f"{url}?reveal=true", headers=clerk.h).status_code == 403
    revealed = backend.client.get(f"{url}?reveal=true", headers=county.h).json()
    assert revealed["application"]["applicant"]["id_number"] == d["_id_number"]
    actions = [a["action"] for a in audit_rows(backend, d["id"])]
    assert actions.count("case.read") == 2 and actions[-1] == "id.reveal"
    assert backend.client.get(url, headers=clerk_102.h).status_code == 404  # another region


def test_submit_of_another_region_is_404(backend, clerk, clerk_102, people):
    d = ready_draft(backend, clerk, people, members=0)
    r = submit(backend, clerk_102, d["id"], new_key())
    assert r.status_code == 404


SERVERS = 4


@pytest.fixture
def server_urls(backend):
    """Several real uvicorn servers over the backend's app, each with its own event loop on
    its own thread: requests to different servers really overlap in the database (one
    server's loop runs the synchronous store calls of its requests one after another)."""
    servers, threads, urls = [], [], []
    for _ in range(SERVERS):
        port = free_port()
        config = uvicorn_config(backend.client.app, "127.0.0.1", port, lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 10
    while not all(s.started for s in servers):
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield urls
    for s in servers:
        s.should_exit = True
    for t in threads:
        t.join(10)


def _race(urls: list[str], token: str, jobs: list[tuple[str, str]]) -> list[httpx.Response]:
    """POST submit for each (draft id, key) at once, each from its own connection, spread
    over the servers."""
    clients = [
        httpx.Client(
            base_url=urls[i % len(urls)], headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        for i in range(len(jobs))
    ]
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def go(i: int) -> None:
        draft_id, key = jobs[i]
        barrier.wait()
        results[i] = clients[i].post(
            f"/applications/{draft_id}/submit", headers={"Idempotency-Key": key}
        )

    try:
        for c in clients:
            assert c.get("/healthz").status_code == 200
        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for c in clients:
            c.close()
    return results


N_DRAFTS = 8


@pytest.mark.postgres_only
def test_concurrent_submits_get_distinct_consecutive_numbers(backend, clerk, people, server_urls):
    drafts = [ready_draft(backend, clerk, people, members=0) for _ in range(N_DRAFTS)]
    results = _race(server_urls, clerk.token, [(d["id"], new_key()) for d in drafts])
    assert [r.status_code for r in results] == [201] * N_DRAFTS, [r.text for r in results]
    numbers = [r.json()["case_number"] for r in results]
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert len(set(numbers)) == N_DRAFTS
    assert seqs == list(range(seqs[0], seqs[0] + N_DRAFTS)), seqs
    rows = {row[0]: row[1] for row in case_rows(backend, "420106")}
    assert all(
        rows[d["id"]] == r.json()["case_number"] for d, r in zip(drafts, results, strict=True)
    )


@pytest.mark.parametrize("same_key", [False, True])
def test_concurrent_double_submit_makes_one_case(backend, clerk, people, server_urls, same_key):
    d = ready_draft(backend, clerk, people, members=0)
    key = new_key()
    jobs = [(d["id"], key if same_key else new_key()) for _ in range(4)]
    results = _race(server_urls, clerk.token, jobs)
    statuses = sorted(r.status_code for r in results)
    if same_key:
        assert statuses == [201] * 4, [r.text for r in results]
        assert len({r.content for r in results}) == 1
    else:
        assert statuses == [201, 409, 409, 409], [r.text for r in results]
        for r in results:
            if r.status_code == 409:
                assert r.json()["detail"][0]["code"] == "already_submitted"
    assert [row[0] for row in case_rows(backend, "420106")].count(d["id"]) == 1
    assert len([e for e in events(backend, d["id"]) if e["type"] == "submitted"]) == 1


def test_case_counter_under_concurrent_transactions(backend):
    """The store alone: threads, each its own connection and transaction, one number each."""
    division = f"9{secrets.randbelow(10**5):05d}"
    barrier = threading.Barrier(N_DRAFTS)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        barrier.wait()
        with backend.services.store.write() as tx:
            seq = tx.cases.next_seq(division, 2026)
            time.sleep(0.01)  # hold the transaction open while the others queue
        with lock:
            got.append(seq)

    threads = [threading.Thread(target=take) for _ in range(N_DRAFTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got) == list(range(1, N_DRAFTS + 1))


def test_a_rolled_back_submit_gives_its_number_back(backend):
    division = f"8{secrets.randbelow(10**5):05d}"
    with backend.services.store.write() as tx:
        assert tx.cases.next_seq(division, 2026) == 1
    with pytest.raises(RuntimeError), backend.services.store.write() as tx:
        assert tx.cases.next_seq(division, 2026) == 2
        raise RuntimeError("the submit failed after taking a number")
    with backend.services.store.write() as tx:
        assert tx.cases.next_seq(division, 2026) == 2
        assert tx.cases.next_seq(division, 2027) == 1


def test_a_confirmation_lapses_when_the_figures_change(backend, clerk, people):
    d = ready_draft(backend, clerk, people, members=0)
    url = f"/applications/{d['id']}/economic-status"
    before = backend.client.get(url, headers=clerk.h).json()
    assert before["confirmed"] is True and before["standard"]["hukou_type"] == "城镇"
    head = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    r = backend.client.patch(
        f"/applications/{d['id']}",
        json={"details": {"hukou_type": "农村"}},  # another standard: another comparison
        headers=clerk.h | if_match(head["version"]),
    )
    assert r.status_code == 200, r.text
    after = backend.client.get(url, headers=clerk.h).json()
    assert after["confirmed"] is False and after["standard"]["hukou_type"] == "农村"
    r = submit(backend, clerk, d["id"], new_key())
    assert_error(
        r, 422, "economic_status_unconfirmed",
        "确认后家庭情况有变更，核对结果随之变化，请申请人重新确认家庭经济状况", "economic_status",
    )  # fmt: skip
    assert backend.client.post(f"{url}/confirm", headers=clerk.h).json()["confirmed"] is True
    assert submit(backend, clerk, d["id"], new_key()).status_code == 201


def test_a_key_reused_for_another_draft_is_422(backend, clerk, people):
    first, second = (ready_draft(backend, clerk, people, members=0) for _ in range(2))
    key = new_key()
    assert submit(backend, clerk, first["id"], key).status_code == 201
    r = submit(backend, clerk, second["id"], key)
    assert_error(
        r, 422, "idempotency_key_reused",
        "该 Idempotency-Key 已用于另一个请求，请为新的请求生成新的键",
    )  # fmt: skip
    assert submit(backend, clerk, second["id"], new_key()).status_code == 201
