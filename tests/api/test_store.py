"""The store: encryption at rest, the blind-index lookup plan, bulk loading, the schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jiuzhutong.store.bulk import insert_synthetic_drafts
from jiuzhutong.store.models import Base

from .conftest import create_draft, if_match


def all_cells(backend) -> list[bytes]:
    out = []
    with backend.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for v in row:
                    if isinstance(v, bytes | bytearray | memoryview):
                        out.append(bytes(v))
                    elif v is not None:
                        out.append(str(v).encode())
    return out


def test_personal_data_is_encrypted_at_rest(backend, clerk, people):
    number, other = people.adult(), people.adult("420102")
    name, other_name, account = "欧阳明月", "司马长风", "6222029876543210987"
    d = create_draft(
        backend, clerk, number, name=name, mode="代他人申请",
        entrusting_name=other_name, entrusting_id_number=other,
    )  # fmt: skip
    backend.client.patch(
        f"/applications/{d['id']}",
        json={"details": {"bank_account": account, "hukou_address": "武昌区秘密路8号"}},
        headers=clerk.h | if_match(1),
    )
    cells = all_cells(backend)
    for secret in (number, other, name, other_name, account, "秘密路"):
        assert not any(secret.encode() in c for c in cells), secret
    if backend.name == "sqlite":  # and not in the file either (WAL included)
        path = backend.url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            for secret in (number, name, account):
                assert secret.encode() not in data


def test_lookup_uses_the_blind_index(backend, clerk, people):
    from jiuzhutong.store.drafts import IS_OPEN, a, region_range

    cipher = backend.services.store.cipher
    lo, hi = region_range("420106")
    stmt = sa.select(a.c.id).where(
        a.c.applicant_blind == cipher.blind_index(people.adult()), IS_OPEN,
        a.c.region >= lo, a.c.region < hi,
    )  # fmt: skip
    with backend.engine.connect() as conn:
        compiled = stmt.compile(conn, compile_kwargs={"literal_binds": False})
        params = compiled.params
        if backend.name == "sqlite":
            plan = " ".join(
                str(r[-1]) for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(compiled), tuple(params.values())
                )
            )  # fmt: skip
            assert "uq_applications_open_applicant" in plan, plan
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # a small table; ask for the plan
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), params))
            assert "uq_applications_open_applicant" in plan, plan


def test_bulk_insert_is_readable_like_any_draft(backend, make_staff, people):
    me = make_staff("clerk", "420117")
    numbers = [people.adult("420117") for _ in range(50)]
    rows = [{"name": f"批量{chr(0x4E00 + i)}", "id_number": n, "region": "420117"}
            for i, n in enumerate(numbers)]  # fmt: skip
    store = backend.services.store
    inserted = insert_synthetic_drafts(
        store.database.engine, backend.settings.keys, rows, batch_size=20
    )
    assert inserted == 50
    found = backend.client.post(
        "/applications/lookup", json={"id_number": numbers[7]}, headers=me.h
    ).json()
    assert len(found) == 1 and found[0]["applicant_name"] == "批量" + chr(0x4E07)
    d = backend.client.get(f"/applications/{found[0]['id']}", headers=me.h)
    assert d.status_code == 200 and d.json()["applicant"]["id_number"].endswith(numbers[7][-4:])
    listed = backend.client.get("/applications", headers=me.h).json()
    assert len(listed) == 50


def test_schema_matches_the_models(backend):
    with backend.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
