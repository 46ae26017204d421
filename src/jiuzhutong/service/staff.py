"""Staff accounts: created by an admin (API) or by the operator (CLI)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from jiuzhutong.contract import Role, StaffCreate, StaffOut
from jiuzhutong.domain.errors import DomainError
from jiuzhutong.domain.permissions import can_manage_staff, default_can_reveal
from jiuzhutong.security import generate_password, hash_password
from jiuzhutong.service.actor import Actor
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import retry_once_on_race
from jiuzhutong.service.errors import Conflict, Forbidden, Invalid, Problem
from jiuzhutong.service.idempotency import IdempotencyRequest, remember, replay
from jiuzhutong.service.reply import Reply
from jiuzhutong.service.views import staff_out
from jiuzhutong.store import Tx
from jiuzhutong.store.errors import UniqueViolation
from jiuzhutong.store.records import AuditEntry, StaffRecord

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo"
DEMO_REGION = "420106"
DEMO_DISPLAY_NAME = "示例经办人"


@dataclass(frozen=True)
class DemoStaff:
    created: bool
    username: str | None = None
    password: str | None = None


def username_taken() -> Conflict:
    return Conflict("username_taken", "该用户名已被使用，请换一个", field="username")


class StaffService:
    def __init__(self, ctx: Context, auth: AuthService) -> None:
        self._ctx = ctx
        self._auth = auth

    # --- API (admin only) --------------------------------------------------------------

    def create(self, token: str, data: StaffCreate, idem: IdempotencyRequest | None) -> Reply:
        return retry_once_on_race(lambda: self._create(token, data, idem))

    def _create(self, token: str, data: StaffCreate, idem: IdempotencyRequest | None) -> Reply:
        self._validate(data)
        # hashed before the transaction: argon2 is slow and must not hold the write lock
        password_hash = hash_password(data.password)
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            self._require_admin(actor)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            if not actor.serves(data.region):
                raise Forbidden("只能为您所辖区域内的工作人员创建账号")
            if tx.staff.by_username(data.username) is not None:
                raise username_taken()
            record = self._insert(tx, data, password_hash, now)
            tx.audit.append(
                [actor.audit("staff.create", "staff", record.id, f"role={data.role}")], now
            )
            out = staff_out(record, ctx.divisions.registry)
            reply = Reply(201, out.model_dump_json())
            remember(tx, actor, idem, reply, now)
        log.info("staff %s created by %s", record.id, actor.staff_id)
        return reply

    def list(self, token: str) -> list[StaffOut]:
        actor = self._auth.read_actor(token)
        self._require_admin(actor)
        with self._ctx.store.read() as tx:
            rows = tx.staff.list()
        registry = self._ctx.divisions.registry
        return [staff_out(r, registry) for r in rows if actor.serves(r.region)]

    # --- operator (CLI) ----------------------------------------------------------------

    def create_unchecked(self, data: StaffCreate) -> StaffOut:
        """For the operator at the server's console, who needs no login to make the first admin."""
        self._validate(data)
        password_hash = hash_password(data.password)
        now = self._ctx.clock.now()
        try:
            with self._ctx.store.write() as tx:
                if tx.staff.by_username(data.username) is not None:
                    raise username_taken()
                record = self._insert(tx, data, password_hash, now)
                tx.audit.append([_console("staff.create", record.id, f"role={data.role}")], now)
        except UniqueViolation:
            raise username_taken() from None
        return staff_out(record, self._ctx.divisions.registry)

    def ensure_demo(self) -> DemoStaff:
        """First embedded start: a demo clerk when there is no staff at all, else nothing."""
        password = generate_password()
        data = StaffCreate(
            username=DEMO_USERNAME,
            password=password,
            display_name=DEMO_DISPLAY_NAME,
            role=Role.clerk,
            region=DEMO_REGION,
        )
        password_hash = hash_password(password)
        now = self._ctx.clock.now()
        try:
            with self._ctx.store.write() as tx:
                if tx.staff.count():
                    return DemoStaff(created=False)
                record = self._insert(tx, data, password_hash, now)
                tx.audit.append([_console("staff.create_demo", record.id, "role=clerk")], now)
        except UniqueViolation:  # a concurrent first start won
            return DemoStaff(created=False)
        return DemoStaff(created=True, username=DEMO_USERNAME, password=password)

    # --- shared ------------------------------------------------------------------------

    def _validate(self, data: StaffCreate) -> None:
        try:
            self._ctx.divisions.registry.validate(data.region, field="region")
        except DomainError as exc:
            raise Invalid([Problem.of(exc)]) from None

    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if not can_manage_staff(actor.role):
            raise Forbidden("只有系统管理员可以管理工作人员账号")

    @staticmethod
    def _insert(tx: Tx, data: StaffCreate, password_hash: str, now: datetime) -> StaffRecord:
        record = StaffRecord(
            id=str(uuid.uuid4()),
            username=data.username,
            display_name=data.display_name,
            role=data.role.value,
            region=data.region,
            can_reveal=default_can_reveal(data.role),
            active=True,
            created_at=now,
            password_hash=password_hash,
        )
        tx.staff.insert(record)
        return record


def _console(action: str, staff_id: str, detail: str) -> AuditEntry:
    return AuditEntry(
        action=action,
        subject_type="staff",
        subject_id=staff_id,
        staff_id=None,
        counter_id="console",
        detail=detail,
    )
