"""The store's entry point: ``Store.write()`` / ``Store.read()`` yield a ``Tx`` whose
repositories all run in that one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.audit import AuditRepository
from jiuzhutong.store.authorization import AuthorizationRepository
from jiuzhutong.store.cases import CaseRepository
from jiuzhutong.store.divisions import DivisionRepository
from jiuzhutong.store.drafts import DraftRepository
from jiuzhutong.store.economic import EconomicRepository
from jiuzhutong.store.engine import DEFERRED, Database
from jiuzhutong.store.events import EventRepository
from jiuzhutong.store.idempotency import IdempotencyRepository
from jiuzhutong.store.login_failures import LoginFailureRepository
from jiuzhutong.store.raw import RawExecutor
from jiuzhutong.store.staff import SessionRepository, StaffRepository


class Tx:
    """The repositories of one transaction, each made on first use.

    Plain properties over slots rather than functools.cached_property, whose per-access
    lock (Python 3.11) shows up on a request that makes three repository calls.
    """

    __slots__ = (
        "_after_commit",
        "_audit",
        "_cipher",
        "_conn",
        "_drafts",
        "_idempotency",
        "_raw",
        "_sessions",
    )

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher
        self._raw: RawExecutor | None = None
        self._sessions: SessionRepository | None = None
        self._drafts: DraftRepository | None = None
        self._audit: AuditRepository | None = None
        self._idempotency: IdempotencyRepository | None = None
        self._after_commit: list[Callable[[], None]] | None = None

    def _executor(self) -> RawExecutor:
        if self._raw is None:
            conn = self._conn
            self._raw = RawExecutor(
                conn.connection.driver_connection, conn.dialect, conn.info.get(DEFERRED)
            )
        return self._raw

    @property
    def sessions(self) -> SessionRepository:
        if self._sessions is None:
            self._sessions = SessionRepository(self._conn, self._executor())
        return self._sessions

    @property
    def drafts(self) -> DraftRepository:
        if self._drafts is None:
            self._drafts = DraftRepository(self._conn, self._executor(), self._cipher)
        return self._drafts

    @property
    def audit(self) -> AuditRepository:
        if self._audit is None:
            self._audit = AuditRepository(self._conn, self._executor())
        return self._audit

    @property
    def idempotency(self) -> IdempotencyRepository:
        if self._idempotency is None:
            self._idempotency = IdempotencyRepository(self._conn, self._executor(), self._cipher)
        return self._idempotency

    @property
    def authorizations(self) -> AuthorizationRepository:
        return AuthorizationRepository(self._conn, self._cipher)

    @property
    def events(self) -> EventRepository:
        return EventRepository(self._conn, self._cipher)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed (never after a rollback)."""
        if self._after_commit is None:
            self._after_commit = []
        self._after_commit.append(callback)

    def run_after_commit(self) -> None:
        """Called by whoever committed the transaction; each callback runs once."""
        callbacks, self._after_commit = self._after_commit, None
        for callback in callbacks or ():
            callback()

    @property
    def staff(self) -> StaffRepository:
        return StaffRepository(self._conn)

    @property
    def login_failures(self) -> LoginFailureRepository:
        return LoginFailureRepository(self._conn)

    @property
    def divisions(self) -> DivisionRepository:
        return DivisionRepository(self._conn)

    @property
    def economic(self) -> EconomicRepository:
        return EconomicRepository(self._conn, self._cipher)

    @property
    def cases(self) -> CaseRepository:
        return CaseRepository(self._conn, self._cipher)


class Store:
    def __init__(self, database: Database, cipher: FieldCipher) -> None:
        self.database = database
        self.cipher = cipher

    @classmethod
    def open(cls, url: str, keys: tuple[bytes, bytes]) -> Store:
        return cls(Database(url), FieldCipher(*keys))

    @property
    def dialect(self) -> str:
        return self.database.dialect

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.database.write() as conn:
            tx = Tx(conn, self.cipher)
            yield tx
        tx.run_after_commit()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.database.read() as conn:
            yield Tx(conn, self.cipher)

    def ping(self) -> None:
        with self.database.read() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.database.dispose()
