"""All use cases wired to one store, settings and clock."""

from __future__ import annotations

from jiuzhutong import __version__
from jiuzhutong.contract import HealthOut
from jiuzhutong.providers.registry import build_providers
from jiuzhutong.security import FieldCipher
from jiuzhutong.service.audit import AuditService
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.authorization import AuthorizationService
from jiuzhutong.service.clock import Clock, SystemClock
from jiuzhutong.service.context import Context, ServiceStore
from jiuzhutong.service.divisions import DivisionService
from jiuzhutong.service.drafts import DraftService
from jiuzhutong.service.economic import EconomicService
from jiuzhutong.service.events import EventService
from jiuzhutong.service.members import MemberService
from jiuzhutong.service.staff import StaffService
from jiuzhutong.service.submission import SubmissionService
from jiuzhutong.settings import Env, Settings
from jiuzhutong.store import Database, Store
from jiuzhutong.store import migrate as migrations


class Services:
    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None) -> None:
        # the store is wrapped so its infrastructure errors (busy, unreachable) leave as 503
        clock = clock or SystemClock()
        store = ServiceStore(store)
        self.store = store
        self.settings = settings
        self.clock = clock
        self.divisions = DivisionService(store, clock)
        ctx = Context(store=store, settings=settings, clock=clock, divisions=self.divisions)
        self.auth = AuthService(ctx)
        self.staff = StaffService(ctx, self.auth)
        self.drafts = DraftService(ctx, self.auth)
        self.members = MemberService(ctx, self.auth)
        self.audit = AuditService(ctx, self.auth)
        self.authorization = AuthorizationService(
            ctx, self.auth, lambda: build_providers(str(settings.env))
        )
        self.events = EventService(ctx, self.auth)
        self.economic = EconomicService(ctx, self.auth)
        self.submission = SubmissionService(ctx, self.auth, self.economic)

    # --- start-up ----------------------------------------------------------------------

    def prepare(self, *, migrate: bool | None = None) -> None:
        """Schema and reference data before serving.

        SQLite (one machine, the counter's own file) migrates itself; PostgreSQL is shared
        by several halls and is migrated deliberately, so a schema not at head is an error.
        """
        database = self.store.database
        if migrate is None:
            migrate = database.is_sqlite
        if migrate:
            migrations.upgrade(database)
        else:
            migrations.require_head(database)
        if self.settings.env is Env.development:
            self.divisions.load_demo_if_empty()
        self.divisions.reload()

    def health(self) -> HealthOut:
        self.store.ping()
        return HealthOut(status="ok", database=self.store.dialect, version=__version__)

    def fingerprint(self, method: str, path: str, body: bytes) -> bytes:
        return self.store.cipher.fingerprint(method.encode(), path.encode(), body)

    def close(self) -> None:
        self.events.stop_listening()
        self.economic.close()  # first: a running check still writes its progress
        self.store.close()


def build_services(
    settings: Settings, *, clock: Clock | None = None, database_url: str | None = None
) -> Services:
    url = database_url or settings.resolved_database_url
    store = Store(Database(url), FieldCipher(*settings.keys))
    return Services(store, settings, clock)
