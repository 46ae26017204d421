"""Fill a (migrated, stopped-server) SQLite database with many synthetic draft applications.

Two ways (``method``):

- "store": the store's own helper, jiuzhutong.store.bulk.insert_synthetic_drafts, as it is.
  Measured here at ~150 µs a row (one process, SQLAlchemy executemany of dicts, indexes
  maintained row by row): a million rows take minutes.
- "fast" (default): inserts here, with the store's tables and the store's own encryption
  helper (jiuzhutong.store.drafts.person_columns: the same AES-GCM, AAD and HMAC blind
  index as the server) and the keys the server will use (Settings(data_dir=...).keys, i.e.
  JZT_DATA_DIR/keys.json); about 40 s for a million on 2 cores:

- ciphertexts are computed in worker processes in chunks while the main process inserts;
- the insert runs on its own connection with population-only PRAGMAs (no journal, no sync,
  big cache, exclusive lock), in one transaction, with executemany;
- the secondary indexes of the two tables are dropped first and re-created afterwards from
  their exact stored SQL (sorting once beats a million random b-tree inserts); row ids are
  uuid4 like the server's, sorted so the primary keys append;
- no ANALYZE (a deployment wouldn't have run one); journal_mode goes back to WAL, the
  connection is closed, the file is fsynced, and the server then opens it normally.

    python bench/populate.py --db sqlite:////tmp/x.sqlite3 --data-dir /tmp/data -n 100000
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

CHUNK = 20_000
CN_DIGITS = "零一二三四五六七八九"


def cn_name(i: int) -> str:
    """A valid person name (letters only) that is unique per index: 基准甲一二三."""
    return "基准甲" + "".join(CN_DIGITS[int(d)] for d in str(i))


DRAFT = "草稿"
MODE = "本人申请"
APPLICANT = "本人"

_cipher = None


def _init_worker(enc: bytes, mac: bytes) -> None:
    global _cipher
    from jiuzhutong.security import FieldCipher

    os.nice(10)  # the inserting main process comes first; workers use what is left

    _cipher = FieldCipher(enc, mac)


def _encrypt_chunk(args: tuple[int, list[str], list[str], list[str]]):
    """(start, numbers, app ids, person ids) → (application rows, person rows)."""
    from jiuzhutong.store.drafts import person_columns
    from jiuzhutong.store.records import PersonRecord

    start, numbers, app_ids, person_ids = args
    apps, persons = [], []
    for k, (number, app_id, pid) in enumerate(zip(numbers, app_ids, person_ids, strict=True)):
        rec = PersonRecord(
            id=pid, position=0, relation=APPLICANT, name=cn_name(start + k), id_number=number
        )
        cols = person_columns(_cipher, rec)
        apps.append((app_id, cols["id_blind"]))
        persons.append((pid, app_id, cols["name_enc"], cols["id_enc"], cols["id_blind"],
                        cols["details_enc"]))  # fmt: skip
    return apps, persons


def fast_uuid4s(n: int) -> list[str]:
    """n random version-4 UUID strings (what uuid.uuid4() gives), ~5x faster in bulk."""
    h = os.urandom(16 * n).hex()
    variant = "89ab89ab89ab89ab"
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-"
        f"{variant[int(h[i + 16], 16)]}{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def _sqlite_path(db_url: str) -> str:
    from sqlalchemy import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise ValueError(f"populate needs a SQLite file URL, got {db_url}")
    return url.database


def _bind(table, column: str, value, dialect):
    """A value as the store's column type would bind it (e.g. UtcDateTime on SQLite)."""
    proc = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return proc(value) if proc else value


def populate(
    db_url: str,
    data_dir: Path,
    numbers: list[str],
    region: str,
    *,
    start_index: int = 0,
    created_by_username: str = "bench.admin",
    workers: int | None = None,
    method: str = "fast",
) -> dict:
    """method "fast" (here, parallel) or "store" (jiuzhutong.store.bulk, as it is)."""
    from jiuzhutong.settings import Settings

    enc, mac = Settings(data_dir=data_dir).keys
    if method == "store":
        from jiuzhutong.store import bulk

        info = _populate_with_store_helper(bulk, db_url, (enc, mac), numbers, region, start_index)
    else:
        info = _populate_here(
            db_url, (enc, mac), numbers, region, start_index, created_by_username, workers
        )
    # Population wrote with synchronous=OFF: without this the server's first WAL checkpoint
    # would pay for flushing hundreds of MB of our dirty pages (a ~0.5 s stall at 1M).
    t0 = time.monotonic()
    fd = os.open(_sqlite_path(db_url), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    info["fsync_s"] = round(time.monotonic() - t0, 2)
    return info


def _populate_with_store_helper(bulk, db_url, keys, numbers, region, start_index) -> dict:
    """Adapter to jiuzhutong.store.bulk.insert_synthetic_drafts(engine, keys, rows)."""
    from jiuzhutong.store.engine import make_engine

    engine = make_engine(db_url)
    try:
        rows = [
            {"name": cn_name(start_index + k), "id_number": n, "region": region}
            for k, n in enumerate(numbers)
        ]
        t0 = time.monotonic()
        result = bulk.insert_synthetic_drafts(engine, keys, rows)
        return {
            "method": "jiuzhutong.store.bulk.insert_synthetic_drafts",
            "rows": len(rows),
            "insert_s": round(time.monotonic() - t0, 2),
            "helper_result": result if isinstance(result, int | float | str | dict) else None,
        }
    finally:
        engine.dispose()


def _populate_here(db_url, keys, numbers, region, start_index, created_by_username, workers):
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from jiuzhutong.store.models import applications_t, persons_t

    dialect = sqlite_dialect.dialect()
    path = _sqlite_path(db_url)
    now = datetime.now(UTC)
    now_db = _bind(applications_t, "created_at", now, dialect)
    n = len(numbers)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    app_ids = sorted(fast_uuid4s(n))
    person_ids = sorted(fast_uuid4s(n))
    timings["ids_s"] = time.monotonic() - t0

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        cur = conn.cursor()
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
            "locking_mode=EXCLUSIVE",
            "foreign_keys=OFF",
        ):
            cur.execute(f"PRAGMA {pragma}")
        row = cur.execute(
            "SELECT id FROM staff WHERE username = ?", (created_by_username,)
        ).fetchone()
        if row is None:
            raise RuntimeError(f"staff {created_by_username!r} not found (create it first)")
        staff_id = row[0]
        tables = (applications_t.name, persons_t.name)
        indexes = cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({','.join('?' * len(tables))})",
            tables,
        ).fetchall()
        cur.execute("BEGIN")
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        a_cols = ["id", "version", "status", "region", "mode", "applicant_blind", "created_by",
                  "counter_id", "created_at", "updated_at"]  # fmt: skip
        p_cols = ["id", "application_id", "name_enc", "id_enc", "id_blind", "details_enc",
                  "position", "relation", "created_at", "updated_at"]  # fmt: skip
        a_sql = (
            f"INSERT INTO {applications_t.name} ({', '.join(a_cols)}) "
            f"VALUES (?, 1, '{DRAFT}', ?, '{MODE}', ?, ?, 'bench-populate', ?, ?)"
        )
        p_sql = (
            f"INSERT INTO {persons_t.name} ({', '.join(p_cols)}) "
            f"VALUES (?, ?, ?, ?, ?, ?, 0, '{APPLICANT}', ?, ?)"
        )
        chunks = [
            (start_index + i, numbers[i : i + CHUNK], app_ids[i : i + CHUNK],
             person_ids[i : i + CHUNK])
            for i in range(0, n, CHUNK)
        ]  # fmt: skip
        t_ins = 0.0
        t1 = time.monotonic()
        nworkers = workers or max(1, min(len(chunks), (os.cpu_count() or 2)))
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ctx.Pool(nworkers, initializer=_init_worker, initargs=keys) as pool:
            for apps, persons in pool.imap(_encrypt_chunk, chunks):
                ti = time.monotonic()
                cur.executemany(
                    a_sql, [(aid, region, blind, staff_id, now_db, now_db) for aid, blind in apps]
                )
                cur.executemany(p_sql, [(*p, now_db, now_db) for p in persons])
                t_ins += time.monotonic() - ti
        timings["encrypt_and_insert_s"] = time.monotonic() - t1
        timings["insert_only_s"] = t_ins
        t2 = time.monotonic()
        for _, sql in indexes:
            cur.execute(sql)
        cur.execute("COMMIT")
        timings["reindex_s"] = time.monotonic() - t2
        # no ANALYZE: the planner sees what it would see on a real deployment
        cur.execute("PRAGMA locking_mode=NORMAL")
        cur.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return {
        "method": "bench/populate.py (store tables + jiuzhutong.store.drafts.person_columns)",
        "rows": n,
        "workers": nworkers,
        "indexes_rebuilt": [name for name, _ in indexes],
        **{k: round(v, 2) for k, v in timings.items()},
    }


def main() -> int:
    from datetime import date, timedelta

    from jiuzhutong.domain.idnumber import make_id_number

    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--data-dir", required=True, type=Path)
    p.add_argument("-n", type=int, default=10_000)
    p.add_argument("--region", default="420106")
    p.add_argument("--method", choices=["fast", "store"], default="fast")
    args = p.parse_args()
    base = date(1940, 1, 1)
    numbers = [
        make_id_number(args.region, base + timedelta(days=i // 1000), i % 1000)
        for i in range(args.n)
    ]
    t0 = time.monotonic()
    info = populate(args.db, args.data_dir, numbers, args.region, method=args.method)
    info["total_s"] = round(time.monotonic() - t0, 2)
    print(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
