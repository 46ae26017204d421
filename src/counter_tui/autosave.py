"""Never lose work: debounced saves with If-Match, and an outbox that survives a kill.

Every change a flow screen makes goes into the outbox first: in memory and in a 0600 file
in the TUI data directory (written on every change, so a kill -9 or a dropped SSH session,
online or not, loses nothing). A debounce timer (``DEBOUNCE_SECONDS`` after the last
keystroke; leaving a field or F2 sends at once) then sends the outbox in order, one request
at a time, each with ``If-Match`` of the draft's version:

- success → the entry leaves the outbox, listeners get the new draft (已保存 hh:mm:ss);
- 412 → the draft is read again and the same entry re-sent on the new version (its values
  are absolute, so re-applying it is exactly "the clerk's edit on top of the other change");
- 422/409 → the refused fields are taken out of the entry and reported at their fields (the
  rest is sent again); a member operation is dropped and its errors go to the member form;
- no connection / timeout → the entry stays, the flow shows the offline banner and sending is
  retried every ``RETRY_SECONDS``; the file is replayed on the next start of the flow.

Entries carry the staff id: only the clerk who made a change replays it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import ValidationError

from counter_tui.errors import (
    ApiError,
    BackendTimeout,
    BackendUnreachable,
    ClientError,
    Conflict,
    InvalidRequest,
    NotFound,
    StaleVersion,
    Unauthorized,
)
from jiuzhutong.contract import DraftOut, DraftUpdate, ErrorItem, MemberIn, MemberUpdate

if TYPE_CHECKING:
    from textual.timer import Timer

    from counter_tui.app import CounterApp

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.6
RETRY_SECONDS = 3.0
OUTBOX_FILE = "outbox.json"
MAX_STALE_RETRIES = 3

Op = Literal["update", "add_member", "update_member", "remove_member"]


def data_dir_of(app: object) -> Path:
    """The TUI's data directory: the app's ``data_dir`` when it has one, else the default
    (the same place ``counter-tui`` keeps its embedded server's data)."""
    explicit = getattr(app, "data_dir", None)
    if explicit:
        return Path(explicit)
    from platformdirs import user_data_dir

    return Path(user_data_dir("counter-tui"))


# --- the outbox ------------------------------------------------------------------------


@dataclass
class Entry:
    """One change not yet acknowledged by the server."""

    staff_id: str
    draft_id: str
    op: Op
    body: dict[str, Any] = field(default_factory=dict)
    member_id: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    queued_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    in_flight: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("in_flight")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            staff_id=str(data["staff_id"]),
            draft_id=str(data["draft_id"]),
            op=data["op"],
            body=dict(data.get("body") or {}),
            member_id=data.get("member_id"),
            id=str(data.get("id") or uuid.uuid4().hex),
            queued_at=str(data.get("queued_at") or ""),
        )


def merge_update(into: dict[str, Any], more: dict[str, Any]) -> None:
    """DraftUpdate bodies: later values win; ``details`` merge field by field."""
    for key, value in more.items():
        if key == "details" and isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key].update(value)
        elif key == "details" and isinstance(value, dict):
            into[key] = dict(value)
        else:
            into[key] = value


def drop_field(body: dict[str, Any], path: str | None) -> bool:
    """Remove a dotted field ("details.phone") from a body; False when it is not there."""
    if not path:
        return False
    head, _, rest = path.partition(".")
    if head not in body:
        return False
    if not rest:
        del body[head]
        return True
    inner = body[head]
    if not isinstance(inner, dict) or rest not in inner:
        return False
    del inner[rest]
    if not inner:
        del body[head]
    return True


class Outbox:
    """Ordered entries, mirrored to a JSON file only the owner can read (0600)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[Entry] = []
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries = [Entry.from_json(e) for e in data.get("entries", [])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Keep the unreadable file for a person to look at; never overwrite it.
            aside = self.path.with_name(f"{self.path.name}.unreadable-{uuid.uuid4().hex[:8]}")
            log.error("outbox %s unreadable (%s); moved to %s", self.path, exc, aside)
            with contextlib.suppress(OSError):
                self.path.rename(aside)
            self.entries = []

    def save(self) -> None:
        if self.path is None:
            return
        try:
            if not self.entries:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            payload = json.dumps(
                {"version": 1, "entries": [e.to_json() for e in self.entries]},
                ensure_ascii=False,
            ).encode()
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # also when the file existed with a wider mode
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            # The entries stay in memory; a read-only data dir must not stop the clerk.
            log.error("outbox %s not written: %s", self.path, exc)

    # --- changes -----------------------------------------------------------------------

    def put_update(self, staff_id: str, draft_id: str, body: dict[str, Any]) -> Entry:
        last = self.entries[-1] if self.entries else None
        if (
            last is not None
            and last.op == "update"
            and last.draft_id == draft_id
            and last.staff_id == staff_id
            and not last.in_flight
        ):
            merge_update(last.body, body)
            entry = last
        else:
            entry = Entry(staff_id, draft_id, "update", json.loads(json.dumps(body)))
            self.entries.append(entry)
        self.save()
        return entry

    def append(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        self.save()
        return entry

    def remove(self, entry: Entry) -> None:
        if entry in self.entries:
            self.entries.remove(entry)
        self.save()

    def first_for(self, staff_id: str) -> Entry | None:
        return next((e for e in self.entries if e.staff_id == staff_id), None)

    def for_draft(self, draft_id: str, staff_id: str | None = None) -> list[Entry]:
        return [
            e
            for e in self.entries
            if e.draft_id == draft_id and (staff_id is None or e.staff_id == staff_id)
        ]

    def pending_update(self, draft_id: str, staff_id: str) -> dict[str, Any]:
        """Every unsent DraftUpdate value of one draft, merged: what the form should show."""
        merged: dict[str, Any] = {}
        for e in self.for_draft(draft_id, staff_id):
            if e.op == "update":
                merge_update(merged, json.loads(json.dumps(e.body)))
        return merged


# --- outcomes and listeners -----------------------------------------------------------


@dataclass
class Saved:
    draft: DraftOut


@dataclass
class Rejected:
    items: list[ErrorItem]


@dataclass
class Queued:
    """Kept in the outbox: the service is unreachable; it is sent when it returns."""


Outcome = Saved | Rejected | Queued


class SaveListener(Protocol):
    """What the saver tells a flow about its draft (all optional to act on)."""

    def draft_saved(self, draft: DraftOut) -> None: ...
    def draft_reloaded(self, draft: DraftOut) -> None: ...
    def save_rejected(self, op: Op, items: list[ErrorItem]) -> None: ...
    def save_state(self, state: str, text: str) -> None: ...
    def offline_changed(self, offline: bool, pending: int) -> None: ...
    def draft_gone(self, message: str) -> None: ...


# --- the saver --------------------------------------------------------------------------


class AutoSaver:
    """One per app: sends the outbox in order; see the module docstring."""

    def __init__(
        self,
        app: CounterApp,
        path: Path | None,
        *,
        delay: float | None = None,
        retry: float | None = None,
    ) -> None:
        self.app = app
        self.outbox = Outbox(path)
        self.delay = DEBOUNCE_SECONDS if delay is None else delay
        self.retry = RETRY_SECONDS if retry is None else retry
        self.offline = False
        self.versions: dict[str, int] = {}
        self.listeners: dict[str, SaveListener] = {}
        self.results: dict[str, Outcome] = {}
        self._timer: Timer | None = None
        self._retry_timer: Timer | None = None
        self._lock: Any = None  # asyncio.Lock, made in the app's loop on first use

    # --- who is asking ----------------------------------------------------------------

    @property
    def staff_id(self) -> str | None:
        session = getattr(self.app, "session", None)
        return session.staff.id if session is not None else None

    def listen(self, draft_id: str, listener: SaveListener) -> None:
        self.listeners[draft_id] = listener

    def unlisten(self, draft_id: str, listener: SaveListener) -> None:
        if self.listeners.get(draft_id) is listener:
            del self.listeners[draft_id]

    def track(self, draft: DraftOut) -> None:
        """The newest version of a draft this run has seen."""
        if draft.version >= self.versions.get(draft.id, 0):
            self.versions[draft.id] = draft.version

    def pending_count(self, draft_id: str | None = None) -> int:
        staff = self.staff_id
        return sum(
            1
            for e in self.outbox.entries
            if e.staff_id == staff and (draft_id is None or e.draft_id == draft_id)
        )

    def pending_update(self, draft_id: str) -> dict[str, Any]:
        staff = self.staff_id
        return self.outbox.pending_update(draft_id, staff) if staff else {}

    def pending_members(self, draft_id: str) -> list[Entry]:
        return [e for e in self.outbox.for_draft(draft_id, self.staff_id) if e.op != "update"]

    # --- changes ----------------------------------------------------------------------

    def change(self, draft_id: str, body: dict[str, Any], *, now: bool = False) -> None:
        """A DraftUpdate (as JSON) made by the clerk; saved after the debounce or ``now``."""
        staff = self.staff_id
        if staff is None or not body:
            return
        try:
            DraftUpdate.model_validate(body)  # screens check first; this is a bug guard
        except ValidationError:
            log.exception("refusing to queue an invalid DraftUpdate for draft %s", draft_id)
            return
        self.outbox.put_update(staff, draft_id, body)
        self._tell(draft_id, "save_state", "pending", "有修改待保存")
        if now or self.offline:
            self.flush()
        else:
            self._restart_timer()

    async def member_op(
        self,
        draft_id: str,
        op: Op,
        body: dict[str, Any] | None = None,
        member_id: str | None = None,
    ) -> Outcome:
        """Add/change/remove a member; waits for the answer (or Queued when offline)."""
        staff = self.staff_id
        if staff is None:
            return Rejected([ErrorItem(code="unauthenticated", message="请先登录")])
        try:
            if op == "add_member":
                MemberIn.model_validate(body or {})
            elif op == "update_member":
                MemberUpdate.model_validate(body or {})
        except ValidationError as exc:
            from counter_tui.client import local_invalid

            return Rejected(local_invalid(exc).items)
        entry = self.outbox.append(Entry(staff, draft_id, op, dict(body or {}), member_id))
        await self.drain()
        return self.results.pop(entry.id, Queued())

    def flush(self) -> None:
        """Send what is pending now (F2, leaving a field, leaving a screen, a retry)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.pending_count() == 0:
            return
        self.app.run_worker(self.drain, group="autosave", exit_on_error=False)

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(self.delay, self.flush, name="autosave")

    def _schedule_retry(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
        self._retry_timer = self.app.set_timer(self.retry, self.flush, name="autosave-retry")

    # --- sending ------------------------------------------------------------------------

    async def drain(self) -> None:
        import asyncio

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                staff = self.staff_id
                entry = self.outbox.first_for(staff) if staff else None
                if entry is None:
                    return
                if not await self._send(entry):
                    return

    async def _send(self, entry: Entry) -> bool:
        """Send one entry; False stops the drain (offline, logged out)."""
        client = self.app.client
        self._tell(entry.draft_id, "save_state", "saving", "正在保存…")
        entry.in_flight = True
        try:
            for _ in range(MAX_STALE_RETRIES):
                try:
                    version = self.versions.get(entry.draft_id)
                    if version is None:
                        self.track(await client.get_draft(entry.draft_id))
                        version = self.versions[entry.draft_id]
                    draft = await self._request(entry, version)
                except StaleVersion:
                    # Someone else saved meanwhile: read it, then re-apply this edit.
                    fresh = await client.get_draft(entry.draft_id)
                    self.versions[entry.draft_id] = fresh.version
                    self._tell(entry.draft_id, "draft_reloaded", fresh)
                    continue
                self._acknowledged(entry, draft)
                return True
            raise StaleVersion(412, _error_body("stale_version", "该申请正被频繁修改，请稍后重试"))
        except (BackendUnreachable, BackendTimeout):
            self._went_offline(entry)
            return False
        except Unauthorized as exc:
            entry.in_flight = False
            self.app.explain(exc)  # back to the login screen; the outbox keeps the entry
            return False
        except NotFound as exc:
            self._not_found(entry, exc)
            return True
        except (InvalidRequest, Conflict) as exc:
            self._refused(entry, exc)
            return True
        except ApiError as exc:
            # 5xx and the like: nothing was applied (no partial writes); try again later.
            entry.in_flight = False
            self._tell(entry.draft_id, "save_state", "error", f"未保存：{exc.message}")
            self._schedule_retry()
            return False
        except ClientError as exc:
            entry.in_flight = False
            self._tell(entry.draft_id, "save_state", "error", f"未保存：{exc.message}")
            self._schedule_retry()
            return False
        finally:
            entry.in_flight = False

    async def _request(self, entry: Entry, version: int) -> DraftOut:
        client = self.app.client
        if entry.op == "update":
            update = DraftUpdate.model_validate(entry.body)
            return await client.update_draft(entry.draft_id, update, if_match=version)
        if entry.op == "add_member":
            member = MemberIn.model_validate(entry.body)
            return await client.add_member(
                entry.draft_id, member, if_match=version, idempotency_key=entry.id
            )
        assert entry.member_id is not None
        if entry.op == "update_member":
            change = MemberUpdate.model_validate(entry.body)
            return await client.update_member(
                entry.draft_id, entry.member_id, change, if_match=version
            )
        return await client.remove_member(entry.draft_id, entry.member_id, if_match=version)

    # --- outcomes ---------------------------------------------------------------------

    def _acknowledged(self, entry: Entry, draft: DraftOut) -> None:
        self.outbox.remove(entry)
        self.track(draft)
        if entry.op != "update":
            self.results[entry.id] = Saved(draft)
        self._set_offline(False)
        self._tell(entry.draft_id, "draft_saved", draft)
        if self.pending_count(entry.draft_id) == 0:
            stamp = self.app.clock.time_of_day()
            self._tell(entry.draft_id, "save_state", "saved", f"已保存 {stamp}")

    def _went_offline(self, entry: Entry) -> None:
        entry.in_flight = False
        self._set_offline(True)
        self._tell(
            entry.draft_id,
            "save_state",
            "queued",
            f"修改已保留（{self.pending_count(entry.draft_id)} 项待提交）",
        )
        self._schedule_retry()

    def _not_found(self, entry: Entry, exc: NotFound) -> None:
        self._set_offline(False)
        if entry.op in ("update_member", "remove_member") and entry.draft_id in self.versions:
            # The member is gone (removed elsewhere); the draft itself may still be there.
            self.outbox.remove(entry)
            self.results[entry.id] = Rejected(exc.items)
            self._tell(entry.draft_id, "save_rejected", entry.op, exc.items)
            return
        for e in self.outbox.for_draft(entry.draft_id):
            self.outbox.remove(e)
            if e.op != "update":
                self.results[e.id] = Rejected(exc.items)
        self.versions.pop(entry.draft_id, None)
        self._tell(entry.draft_id, "draft_gone", exc.message)

    def _refused(self, entry: Entry, exc: ApiError) -> None:
        self._set_offline(False)
        items = exc.items
        if entry.op == "update":
            dropped = [drop_field(entry.body, item.field) for item in items]
            if not all(dropped) or not entry.body:
                self.outbox.remove(entry)  # nothing left that the server would take
            else:
                self.outbox.save()
        else:
            self.outbox.remove(entry)
            self.results[entry.id] = Rejected(items)
        self._tell(entry.draft_id, "save_rejected", entry.op, items)
        self._tell(entry.draft_id, "save_state", "error", "有内容未保存，请按提示修改")

    def _set_offline(self, offline: bool) -> None:
        if offline == self.offline and not offline:
            return
        self.offline = offline
        if not offline and self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        for draft_id, listener in list(self.listeners.items()):
            with contextlib.suppress(Exception):
                listener.offline_changed(offline, self.pending_count(draft_id))

    def _tell(self, draft_id: str, what: str, *args: Any) -> None:
        listener = self.listeners.get(draft_id)
        if listener is None:
            return
        method: Callable[..., None] | None = getattr(listener, what, None)
        if method is not None:
            method(*args)


def _error_body(code: str, message: str):  # type: ignore[no-untyped-def]
    from jiuzhutong.contract import ErrorBody

    return ErrorBody(detail=[ErrorItem(code=code, message=message)])


_savers: weakref.WeakKeyDictionary[object, AutoSaver] = weakref.WeakKeyDictionary()


def saver_for(app: CounterApp) -> AutoSaver:
    """The app's saver, made on first use with the outbox file in the TUI data dir."""
    saver = _savers.get(app)
    if saver is None:
        saver = AutoSaver(app, data_dir_of(app) / OUTBOX_FILE)
        _savers[app] = saver
    return saver


def replay(app: CounterApp) -> None:
    """Send whatever a previous run left in the outbox (called when a flow starts)."""
    saver = saver_for(app)
    if saver.pending_count():
        saver.flush()
