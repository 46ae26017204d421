"""Bulk loading of synthetic drafts, for benchmarks and load tests. Not used by the server.

Rows are encrypted exactly as the repository does (same AAD and blind index), so the server
reads them like any draft. SQLite uses executemany in big batches in one transaction with
the secondary indexes rebuilt at the end; PostgreSQL uses COPY, which is several times
faster than INSERT for a million rows.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine, insert, select

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.drafts import person_columns
from jiuzhutong.store.models import DRAFT, applications_t, persons_t, staff_t
from jiuzhutong.store.raw import RawExecutor, RawStatement
from jiuzhutong.store.records import PersonRecord

SYNTHETIC_STAFF = "bench.synthetic"
_APP_COLUMNS = [
    "id", "version", "status", "region", "mode", "applicant_blind", "created_by",
    "counter_id", "notice_version", "step", "created_at", "updated_at",
]  # fmt: skip
_PERSON_COLUMNS = [
    "id", "application_id", "position", "relation", "created_at", "updated_at",
    "name_enc", "id_enc", "id_blind", "details_enc",
]  # fmt: skip
_INSERT_APPLICATION = RawStatement(insert(applications_t), _APP_COLUMNS)
_INSERT_PERSON = RawStatement(insert(persons_t), _PERSON_COLUMNS)
_APPLICANT = "本人"
_MODE = "本人申请"


def insert_synthetic_drafts(
    engine: Engine,
    keys: tuple[bytes, bytes],
    rows: Iterable[Mapping[str, Any]],
    *,
    created_by: str | None = None,
    batch_size: int = 10_000,
) -> int:
    """Insert one open draft (applicant only) per row {"name", "id_number", "region"}.

    ``id_number`` must be normalised and unique among open drafts (the unique index holds).
    ``created_by`` defaults to an admin, else any staff, else a disabled synthetic account.
    Returns the number of drafts inserted.
    """
    now = datetime.now(UTC)
    with engine.begin() as conn:
        staff_id = created_by or _default_creator(conn, now)
    total = 0
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        driver = conn.connection.driver_connection
        raw = RawExecutor(driver, conn.dialect)
        stamp = raw.bind_time(now) if sqlite else now
        if not sqlite:
            for apps, persons in _encrypted(keys, rows, staff_id, stamp, batch_size):
                with conn.begin():
                    _copy(conn, applications_t, apps)
                    _copy(conn, persons_t, persons)
                total += len(apps)
            return total
        # SQLite: one transaction, the secondary indexes of both tables dropped first and
        # re-created from their exact stored SQL at the end (one sort each instead of a
        # million random b-tree inserts per index: the measured ~140 s for 1M rows were
        # mostly these). All or nothing: a failure rolls the drop back with the rows.
        # A big page cache for this connection only; the primary keys still take random
        # inserts.
        driver.execute("PRAGMA cache_size=-524288")
        driver.execute("PRAGMA temp_store=MEMORY")
        tables = (applications_t.name, persons_t.name)
        driver.execute("BEGIN IMMEDIATE")
        try:
            indexes = driver.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND tbl_name IN (?, ?)",
                tables,
            ).fetchall()
            for name, _sql in indexes:
                driver.execute(f'DROP INDEX "{name}"')
            a_sql, a_order, _ = _INSERT_APPLICATION.compiled(conn.dialect)
            p_sql, p_order, _ = _INSERT_PERSON.compiled(conn.dialect)
            assert a_order is not None and p_order is not None  # qmark: positional
            orders = (a_order, p_order)
            # the workers hand back parameter tuples in the statements' order (the
            # timestamps are bound already), so this process only runs the INSERTs
            for apps, persons in _encrypted(keys, rows, staff_id, stamp, batch_size, orders):
                driver.executemany(a_sql, apps)
                driver.executemany(p_sql, persons)
                total += len(apps)
            for _name, sql in indexes:
                # fails (and rolls everything back) if the rows broke a unique index
                driver.execute(sql)
            driver.commit()
        except BaseException:
            driver.rollback()
            raise
        finally:
            driver.execute("PRAGMA cache_size=-2000")
    return total


def _default_creator(conn: Any, now: datetime) -> str:
    row = conn.execute(
        select(staff_t.c.id).order_by((staff_t.c.role == "admin").desc(), staff_t.c.created_at)
    ).first()
    if row is not None:
        return row[0]
    staff_id = str(uuid.uuid4())
    conn.execute(
        insert(staff_t).values(
            id=staff_id,
            username=SYNTHETIC_STAFF,
            display_name="合成数据",
            role="clerk",
            region="42",
            can_reveal=False,
            password_hash="!disabled",  # not an argon2 hash: no password can match
            active=False,
            created_at=now,
        )
    )
    return staff_id


def _batches(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


_worker_cipher: FieldCipher | None = None


def _init_worker(keys: tuple[bytes, bytes]) -> None:
    global _worker_cipher
    _worker_cipher = FieldCipher(*keys)


_Orders = tuple[list[str], list[str]] | None


def _encrypt_batch(
    cipher: FieldCipher, args: tuple[list[Mapping[str, Any]], str, Any, _Orders]
) -> Any:
    batch, staff_id, stamp, orders = args
    apps, persons = _encrypt(cipher, batch, staff_id, stamp)
    if orders is None:
        return apps, persons
    a_order, p_order = orders
    return (
        [tuple(r[c] for c in a_order) for r in apps],
        [tuple(r[c] for c in p_order) for r in persons],
    )


def _encrypt_in_worker(args: tuple[list[Mapping[str, Any]], str, Any, _Orders]) -> Any:
    assert _worker_cipher is not None
    return _encrypt_batch(_worker_cipher, args)


def _encrypted(
    keys: tuple[bytes, bytes],
    rows: Iterable[Mapping[str, Any]],
    staff_id: str,
    stamp: Any,
    batch_size: int,
    orders: _Orders = None,
) -> Iterator[Any]:
    """(application rows, person rows) per batch, in order: dicts, or with ``orders``
    tuples of those columns. The AES-GCM and HMAC work (~55 µs a row, as much as the
    INSERTs) runs in worker processes while the caller inserts the batches already done;
    forked workers on Linux, else in this process."""
    batches = ((batch, staff_id, stamp, orders) for batch in _batches(rows, batch_size))
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        cipher = FieldCipher(*keys)
        for args in batches:
            yield _encrypt_batch(cipher, args)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(os.cpu_count(), initializer=_init_worker, initargs=(keys,)) as pool:
        yield from pool.imap(_encrypt_in_worker, batches)


def _encrypt(
    cipher: FieldCipher, batch: list[Mapping[str, Any]], staff_id: str, now: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    apps, persons = [], []
    for row in batch:
        app_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
        person = PersonRecord(
            id=person_id,
            position=0,
            relation=_APPLICANT,
            name=row["name"],
            id_number=row["id_number"],
            details=dict(row.get("details") or {}),
        )
        cols = person_columns(cipher, person)
        apps.append(
            {
                "id": app_id,
                "version": 1,
                "status": DRAFT,
                "region": row["region"],
                "mode": _MODE,
                "applicant_blind": cols["id_blind"],
                "created_by": staff_id,
                "counter_id": row.get("counter_id", "synthetic"),
                "notice_version": None,
                "step": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        persons.append(
            {
                "id": person_id,
                "application_id": app_id,
                "position": 0,
                "relation": _APPLICANT,
                "created_at": now,
                "updated_at": now,
                **cols,
            }
        )
    return apps, persons


def _copy(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
