"""Login, logout and the session check every other use case starts with."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from jiuzhutong.contract import LoginRequest, LoginResponse, StaffOut
from jiuzhutong.security import new_token, token_hash, verify_password
from jiuzhutong.service.actor import Actor
from jiuzhutong.service.context import Context
from jiuzhutong.service.errors import BadCredentials, TooManyAttempts, Unauthenticated
from jiuzhutong.service.views import staff_out
from jiuzhutong.store import Tx
from jiuzhutong.store.records import AuditEntry, SessionRecord

log = logging.getLogger(__name__)

# A read should not also be a session write: last_seen moves at most once a minute, so idle
# expiry is exact to within this much.
TOUCH_INTERVAL = timedelta(seconds=60)


class AuthService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        s = ctx.settings
        self._idle = timedelta(minutes=s.session_idle_minutes)
        self._max_age = timedelta(hours=s.session_max_hours)
        self._max_failures = s.login_max_failures
        self._window = timedelta(seconds=s.login_window_seconds)

    # --- the check every use case starts with ------------------------------------------

    def authenticate(self, tx: Tx, token: str, now: datetime) -> Actor:
        """The actor behind a bearer token, checked inside the caller's write transaction."""
        actor, due = self._check(tx, token, now)
        if due:
            tx.sessions.touch(actor.session_id, now)
        return actor

    def read_actor(self, token: str) -> Actor:
        """Authenticate in a read transaction (for use cases that write nothing else)."""
        now = self._ctx.clock.now()
        with self._ctx.store.read() as tx:
            actor, due = self._check(tx, token, now)
        if due:
            with self._ctx.store.write() as tx:
                tx.sessions.touch(actor.session_id, now)
        return actor

    def authenticate_session(self, tx: Tx, session: SessionRecord | None, now: datetime) -> Actor:
        """authenticate() for a session the caller read itself (combined with its own read)."""
        actor, due = self.check_session(session, now)
        if due:
            tx.sessions.touch(actor.session_id, now)
        return actor

    def _check(self, tx: Tx, token: str, now: datetime) -> tuple[Actor, bool]:
        session = tx.sessions.by_token_hash(token_hash(token)) if token else None
        return self.check_session(session, now)

    @property
    def idle_limit(self) -> timedelta:
        return self._idle

    def check_session(self, session: SessionRecord | None, now: datetime) -> tuple[Actor, bool]:
        """The actor of a session read by the caller, and whether last_seen is due a touch;
        Unauthenticated if the session is missing, expired, idle or its staff disabled."""
        if session is None:
            raise Unauthenticated()
        if now >= session.expires_at:
            raise Unauthenticated("登录已超过最长有效期，请重新登录")
        idle = now - session.last_seen_at
        if idle > self._idle:
            raise Unauthenticated("长时间未操作，登录已失效，请重新登录")
        if not session.staff.active:
            raise Unauthenticated("该账号已停用")
        return Actor(session.staff, session.id, session.counter_id), idle >= TOUCH_INTERVAL

    # --- endpoints -----------------------------------------------------------------------

    def login(self, request: LoginRequest) -> LoginResponse:
        ctx = self._ctx
        now = ctx.clock.now()
        username = request.username.strip().lower()
        # Counted under a keyed hash: a resident's ID number typed into the wrong box must
        # not end up stored in clear, and neither it nor any unknown name goes to logs.
        counted_as = ctx.store.cipher.blind_index(username, b"login").hex()
        with ctx.store.write() as tx:
            staff = tx.staff.by_username(username)
            subject = staff.id if staff else None
            locked = tx.login_failures.count_since(counted_as, now - self._window) >= (
                self._max_failures
            )
            if locked:
                tx.audit.append([_anon("auth.throttled", request.counter_id, subject)], now)
        if locked:
            log.info("login throttled (staff %s)", subject or "unknown")
            raise TooManyAttempts(int(self._window.total_seconds()))

        # argon2 takes tens of milliseconds: outside any transaction and its lock
        usable = staff is not None and staff.active
        ok = verify_password(staff.password_hash if usable else None, request.password)
        with ctx.store.write() as tx:
            if not ok:
                tx.login_failures.record(counted_as, now)
                tx.login_failures.prune_before(now - self._window - timedelta(hours=1))
                tx.audit.append([_anon("auth.login_failed", request.counter_id, subject)], now)
            else:
                assert staff is not None
                token = new_token()
                session_id = str(uuid.uuid4())
                expires_at = now + self._max_age
                tx.sessions.insert(
                    session_id=session_id,
                    token_hash=token_hash(token),
                    staff_id=staff.id,
                    counter_id=request.counter_id,
                    now=now,
                    expires_at=expires_at,
                )
                actor = Actor(staff, session_id, request.counter_id)
                tx.audit.append([actor.audit("auth.login", "session", session_id)], now)
        if not ok:
            log.info("login failed (staff %s)", subject or "unknown")
            raise BadCredentials()
        assert staff is not None
        log.info("staff %s logged in at counter %s", staff.id, request.counter_id)
        return LoginResponse(
            token=token,
            expires_at=expires_at,
            idle_timeout_seconds=int(self._idle.total_seconds()),
            staff=staff_out(staff, ctx.divisions.registry),
        )

    def logout(self, token: str) -> None:
        now = self._ctx.clock.now()
        with self._ctx.store.write() as tx:
            actor, _ = self._check(tx, token, now)
            tx.sessions.end(actor.session_id, now)
            tx.audit.append([actor.audit("auth.logout", "session", actor.session_id)], now)

    def me(self, token: str) -> StaffOut:
        actor = self.read_actor(token)
        return staff_out(actor.staff, self._ctx.divisions.registry)


def _anon(action: str, counter_id: str, staff_id: str | None) -> AuditEntry:
    return AuditEntry(
        action=action,
        subject_type="staff",
        subject_id=staff_id,
        staff_id=None,
        counter_id=counter_id,
        detail=None if staff_id else "未知用户名",
    )
