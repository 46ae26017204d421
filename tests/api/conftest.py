"""API tests: one migrated database per backend and test session, shared by all tests.

Tests isolate themselves by creating their own staff, regions and synthetic people (unique
ID numbers from ``people``), never by re-migrating. The PostgreSQL variant creates a fresh
database (jzt_test_<random>) and drops it at the end; it fails, not skips, when PostgreSQL
is unreachable.

A session-wide log capture (root at DEBUG, plus the uvicorn, sqlalchemy and httpx loggers)
fails any test during which a formatted log record contains an 18-character ID number.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from jiuzhutong.contract import Role
from jiuzhutong.domain.idnumber import make_id_number
from jiuzhutong.domain.permissions import default_can_reveal
from jiuzhutong.security import hash_password
from jiuzhutong.server import create_app
from jiuzhutong.service import Services, build_services
from jiuzhutong.service.clock import OffsetClock
from jiuzhutong.settings import Settings, new_key
from jiuzhutong.store import migrate as migrations
from jiuzhutong.store.models import Base
from jiuzhutong.store.records import StaffRecord

with warnings.catch_warnings():
    # starlette suggests httpx2; the TestClient works the same with httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ID_PATTERN = re.compile(r"\d{17}[\dXx]")
# Every window, overlapping: a number inside a longer run of digits is still found.
_ID_WINDOW = re.compile(r"(?=(\d{17}[\dXx]))")


def contains_id_number(line: str) -> bool:
    """An 18-character run with a valid GB 11643 check digit: every real or synthetic ID
    number has one, a hex digest or timestamp run passes only by chance (1 in 11), and
    then still fails the date and division checks of is_valid."""
    return any(ric.is_valid(m.group(1)) for m in _ID_WINDOW.finditer(line))


LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "httpx", "httpcore")
PASSWORD = "correct-horse-1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres_only: runs on the PostgreSQL backend only (its SQLite twin is dropped)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test about PostgreSQL behaviour keeps only its postgres parametrization; an indirect
    # parametrization would instead tear the session's backends down and build them again.
    dropped = [
        item
        for item in items
        if item.get_closest_marker("postgres_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") != "postgres"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


# --- the log capture ---------------------------------------------------------------------


class CaptureHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception as exc:  # a broken record must not hide; it fails the check below
            text = f"UNFORMATTABLE RECORD {record.name}: {exc!r}"
        self.lines.append(text)

    def leaks(self, start: int = 0) -> list[str]:
        return [line for line in self.lines[start:] if contains_id_number(line)]


@pytest.fixture(scope="session", autouse=True)
def log_capture() -> Iterator[CaptureHandler]:
    handler = CaptureHandler()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    attached = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        if not logger.propagate:  # uvicorn.access does not propagate by default
            logger.addHandler(handler)
            attached.append(logger)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    for logger in attached:
        logger.removeHandler(handler)
    leaks = handler.leaks()
    assert not leaks, f"ID numbers in log lines: {leaks[:5]}"


@pytest.fixture(autouse=True)
def no_id_in_logs(log_capture: CaptureHandler) -> Iterator[None]:
    start = len(log_capture.lines)
    yield
    leaks = log_capture.leaks(start)
    if leaks:
        pytest.fail(f"an ID number was logged: {leaks[:3]}", pytrace=False)


# --- backends ----------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    url: str
    settings: Settings
    services: Services
    clock: OffsetClock
    client: TestClient
    engine: sa.Engine  # for the tests' own look at the tables


def _create_pg_database() -> tuple[str, str]:
    name = f"jzt_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}", pytrace=False)
    finally:
        admin.dispose()
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_pg_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'api.sqlite3'}"
    else:
        pg_name, url = _create_pg_database()
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        encryption_key=new_key(),
        hmac_key=new_key(),
        log_level="DEBUG",
    )
    clock = OffsetClock()
    services = build_services(settings, clock=clock)
    migrations.upgrade(services.store.database)  # once per session, on both backends
    app = create_app(settings, services=services)
    engine = sa.create_engine(url)
    b = Backend(request.param, url, settings, services, clock, TestClient(app), engine)
    try:
        yield b
    finally:
        engine.dispose()
        services.close()
        if pg_name:
            _drop_pg_database(pg_name)


@pytest.fixture
def api(backend: Backend) -> Iterator[Backend]:
    """The backend, with the clock put back after the test."""
    yield backend
    backend.clock.offset = timedelta()


# --- synthetic people, staff and sessions ---------------------------------------------------

_serial = itertools.count(1)


class People:
    """Unique synthetic ID numbers (valid check digit) for each call, across the session."""

    def __init__(self) -> None:
        self._n = itertools.count(secrets.randbelow(1000) * 1000)

    def id(self, division: str = "420106", *, birth: date | None = None) -> str:
        n = next(self._n)
        if birth is None:
            birth = date(1950, 1, 1) + timedelta(days=(n // 900) % 18000)
        return make_id_number(division, birth, n % 900 + 50)

    def adult(self, division: str = "420106", age: int = 40) -> str:
        """Someone exactly ``age`` years old today (the birthday 1 to 300 days ago)."""
        today = date.today()
        anniversary = date(today.year - age, today.month, min(today.day, 28))
        return self.id(division, birth=anniversary - timedelta(days=next(self._n) % 300 + 1))

    def child(self, division: str = "420106", age: int = 8) -> str:
        return self.adult(division, age)


@pytest.fixture(scope="session")
def people() -> People:
    return People()


@dataclass
class Staff:
    id: str
    username: str
    token: str
    role: str
    region: str

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_name(prefix: str) -> str:
    return f"{prefix}{next(_serial)}.{secrets.token_hex(2)}"


_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


def insert_staff(b: Backend, *, role: str, region: str, can_reveal: bool | None = None) -> str:
    """A staff row straight into the store (skips argon2 per account); returns the username."""
    username = unique_name(role)
    record = StaffRecord(
        id=str(uuid.uuid4()),
        username=username,
        display_name="测试人员",
        role=role,
        region=region,
        can_reveal=default_can_reveal(Role(role)) if can_reveal is None else can_reveal,
        active=True,
        created_at=b.clock.now(),
        password_hash=_PASSWORD_HASH,
    )
    with b.services.store.write() as tx:
        tx.staff.insert(record)
    return username


def login(b: Backend, username: str, counter: str = "counter-7") -> dict:
    r = b.client.post(
        "/auth/login", json={"username": username, "password": PASSWORD, "counter_id": counter}
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def make_staff(backend: Backend) -> Callable[..., Staff]:
    def make(
        role: str = "clerk", region: str = "420106", *, can_reveal: bool | None = None
    ) -> Staff:
        username = insert_staff(backend, role=role, region=region, can_reveal=can_reveal)
        body = login(backend, username)
        return Staff(body["staff"]["id"], username, body["token"], role, region)

    return make


@pytest.fixture(scope="session")
def _shared_staff() -> dict:
    return {}


def _shared(backend: Backend, cache: dict, key: str, role: str, region: str, **kw) -> Staff:
    full = (backend.url, key)
    if full not in cache:
        username = insert_staff(backend, role=role, region=region, **kw)
        body = login(backend, username)
        cache[full] = Staff(body["staff"]["id"], username, body["token"], role, region)
    return cache[full]


@pytest.fixture
def clerk(backend: Backend, _shared_staff: dict) -> Staff:
    """A clerk of 420106 (武昌区), logged in once per backend."""
    return _shared(backend, _shared_staff, "clerk", "clerk", "420106")


@pytest.fixture
def clerk_102(backend: Backend, _shared_staff: dict) -> Staff:
    """A clerk of 420102 (江岸区)."""
    return _shared(backend, _shared_staff, "clerk_102", "clerk", "420102")


@pytest.fixture
def admin(backend: Backend, _shared_staff: dict) -> Staff:
    """An admin of 42 (all Hubei); admins may reveal."""
    return _shared(backend, _shared_staff, "admin", "admin", "42")


@pytest.fixture
def county(backend: Backend, _shared_staff: dict) -> Staff:
    """County staff of 4201 (武汉市), who may reveal full ID numbers."""
    return _shared(backend, _shared_staff, "county", "county", "4201")


# --- drafts ------------------------------------------------------------------------------------


def create_draft(
    b: Backend, staff: Staff, id_number: str, name: str = "测试申请人", **extra
) -> dict:
    body = {"name": name, "id_number": id_number, "mode": "本人申请", **extra}
    r = b.client.post("/applications", json=body, headers=staff.h)
    assert r.status_code == 201, r.text
    return r.json()


def if_match(version: int | str) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


def table_counts(b: Backend) -> dict[str, int]:
    """Row counts of every table (alembic_version included)."""
    with b.engine.connect() as conn:
        names = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
        return {n: conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def audit_rows(b: Backend, subject_id: str) -> list[dict]:
    with b.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, staff_id, counter_id, subject_type, subject_id, detail "
                "FROM audit_events WHERE subject_id = :s ORDER BY id"
            ),
            {"s": subject_id},
        ).mappings()
        return [dict(r) for r in rows]


def assert_error(r, status: int, code: str, message: str | None, field: str | None = None):
    assert r.status_code == status, r.text
    items = r.json()["detail"]
    matching = [i for i in items if i["code"] == code and i["field"] == field]
    assert matching, f"no {code}@{field} in {items}"
    if message is not None:
        assert matching[0]["message"] == message, matching[0]
    return items
