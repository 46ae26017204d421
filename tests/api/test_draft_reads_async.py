"""GET /applications/{id} on PostgreSQL: its audited statement on the event loop (store.aio).

Whatever path serves a read, it is audited exactly once, and a failure of the asynchronous
connection falls back to the ordinary transaction rather than to an error or a lost row.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jiuzhutong.store import aio
from jiuzhutong.store.raw import RawStatement

from .conftest import audit_rows, create_draft, if_match


def _aio_backends(backend) -> int:
    with backend.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = :n AND datname = current_database()"
            ),
            {"n": aio.APPLICATION_NAME},
        ).scalar_one()


def _terminate_aio_backends(backend) -> int:
    with backend.engine.connect() as conn:
        n = conn.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :n AND datname = current_database()"
            ),
            {"n": aio.APPLICATION_NAME},
        ).scalar_one()
        conn.commit()
    return n


def _reads(backend, draft_id: str) -> int:
    return sum(r["action"] == "draft.read" for r in audit_rows(backend, draft_id))


@pytest.mark.postgres_only
def test_reads_run_on_the_async_pool_and_are_audited_once(backend, clerk, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    for n in range(1, 4):
        r = backend.client.get(url, headers=clerk.h)
        assert r.status_code == 200 and r.headers["etag"] == '"1"'
        assert _reads(backend, d["id"]) == n
    assert _aio_backends(backend) >= 1
    # a change: the next read answers the new version (the cache is keyed by it)
    assert backend.client.patch(url, json={"step": "s"}, headers=clerk.h | if_match(1)).is_success
    r = backend.client.get(url, headers=clerk.h)
    assert r.headers["etag"] == '"2"' and r.json()["step"] == "s"
    assert _reads(backend, d["id"]) == 4


@pytest.mark.postgres_only
def test_a_broken_async_connection_falls_back_and_audits_once(backend, clerk, people, caplog):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    assert backend.client.get(url, headers=clerk.h).status_code == 200
    assert _terminate_aio_backends(backend) >= 1
    for n in (2, 3):  # the broken connection, then a new one
        r = backend.client.get(url, headers=clerk.h)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == d["id"]
        assert _reads(backend, d["id"]) == n
    assert "read again" in caplog.text


@pytest.mark.postgres_only
def test_refused_reads_on_the_async_path_write_nothing(backend, clerk, clerk_102, people):
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    assert backend.client.get(url, headers=clerk_102.h).status_code == 404  # not served
    assert backend.client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert backend.client.get("/applications/nope", headers=clerk.h).status_code == 404
    assert _reads(backend, d["id"]) == 0


@pytest.mark.postgres_only
def test_a_touch_due_is_served_by_the_transaction(api, make_staff, people):
    me = make_staff()
    d = create_draft(api, me, people.adult())
    api.clock.offset += timedelta(seconds=90)  # past TOUCH_INTERVAL: the statement declines
    r = api.client.get(f"/applications/{d['id']}", headers=me.h)
    assert r.status_code == 200
    assert _reads(api, d["id"]) == 1
    with api.engine.connect() as conn:
        seen = conn.execute(
            sa.text("SELECT max(last_seen_at) FROM sessions WHERE staff_id = :s"), {"s": me.id}
        ).scalar_one()
    assert seen >= api.clock.now() - timedelta(seconds=5)  # touched


def test_sqlite_has_no_async_pool(backend):
    database = backend.services.store.database
    assert (database.async_pool is None) == database.is_sqlite


def test_pyformat_becomes_numbered_parameters():
    statement = RawStatement(
        sa.select(sa.literal_column("'a%b'"), sa.bindparam("x"), sa.bindparam("y")).where(
            sa.bindparam("x") == sa.bindparam("z")
        )
    )
    prepared = aio._Prepared(statement, b"t")
    assert prepared.names == ("x", "y", "z")
    text = prepared.query.decode()
    assert "$1" in text and "$2" in text and "$3" in text and "%(" not in text
    assert "'a%b'" in text  # a literal % is not a placeholder


@pytest.mark.postgres_only
def test_waiters_get_connections_in_turn(backend):
    """More statements than connections: they queue for one and all complete."""
    pool = aio.AsyncPool(backend.url, size=2)
    statement = RawStatement(sa.select(sa.func.pg_sleep(0.01), sa.bindparam("n")))
    # ints of several sizes: dumped as int2, int4, int8 — not all of the prepared type
    values = [*range(8), 2**20, 2**40]

    async def run() -> list:
        rows = await asyncio.gather(*(pool.fetchone(statement, {"n": v}) for v in values))
        return [r[1] for r in rows]

    try:
        assert asyncio.run(run()) == values
        assert pool._open <= 2
    finally:
        pool.close()
