"""Idempotency-Key: the first response to a mutating POST, replayed for a retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jiuzhutong.service.actor import Actor
from jiuzhutong.service.errors import IdempotencyKeyReused
from jiuzhutong.service.reply import Reply
from jiuzhutong.store import Tx
from jiuzhutong.store.records import StoredResponse


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    key: str
    fingerprint: bytes  # keyed digest of method, path and body (Services.fingerprint)


def replay(tx: Tx, actor: Actor, idem: IdempotencyRequest | None) -> Reply | None:
    if idem is None:
        return None
    stored = tx.idempotency.get(actor.staff_id, idem.key)
    if stored is None:
        return None
    if stored.fingerprint != idem.fingerprint:
        raise IdempotencyKeyReused()
    return Reply(stored.status, stored.body, stored.etag)


def remember(
    tx: Tx, actor: Actor, idem: IdempotencyRequest | None, reply: Reply, now: datetime
) -> None:
    if idem is not None:
        tx.idempotency.put(
            actor.staff_id,
            idem.key,
            StoredResponse(idem.fingerprint, reply.status, reply.body, reply.etag),
            now,
        )
