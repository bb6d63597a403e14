"""The audit trail: an append-only hash chain of every write.

Each record's hash covers its own fields and its predecessor's hash, so editing,
inserting or deleting a record behind the application's back breaks the chain
at that record, which ``verify`` names.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from tracker.extensions import db
from tracker.models import AuditHead, AuditRecord
from tracker.models.types import utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who is writing: a staff user (or none, for the system) and the client address."""

    user: object | None = None
    ip: str | None = None

    @property
    def username(self) -> str | None:
        return getattr(self.user, "username", None)

    @property
    def is_admin(self) -> bool:
        return getattr(self.user, "role", None) == "admin"


SYSTEM = Actor()


def _digest(record: AuditRecord) -> str:
    payload = json.dumps(
        [record.id, record.at.isoformat(timespec="microseconds"), record.actor, record.client_ip,
         record.action, record.target_type, record.target_id, record.change, record.prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _lock_head() -> AuditHead:
    # The head row is locked for the rest of the transaction, so two writers can
    # never chain to the same predecessor.
    head = db.session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record(actor: Actor, action: str, target_type: str, target_id: str,
           change: dict | None = None, at: datetime | None = None) -> AuditRecord:
    """Append one audit record to the chain inside the current transaction.

    ``change`` must already be free of personal numbers (see ``people.mask_secret``).
    """
    head = _lock_head()
    entry = AuditRecord(
        id=head.last_id + 1,
        at=at or utcnow(),
        actor=actor.username,
        client_ip=actor.ip,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        change=json.dumps(change or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=head.last_hash,
    )
    entry.hash = _digest(entry)
    db.session.add(entry)
    db.session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(last_id=entry.id, last_hash=entry.hash)
    )
    db.session.expire(head)
    return entry


def verify(batch: int = 5000) -> tuple[int, AuditRecord | None, str | None]:
    """Walk the chain; return (records checked, first broken record, why)."""
    expected_prev, expected_id, checked = GENESIS, 1, 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.id != expected_id:
                return checked, entry, f"record {expected_id} is missing"
            if entry.prev_hash != expected_prev:
                return checked, entry, "its link to the previous record does not match"
            if _digest(entry) != entry.hash:
                return checked, entry, "its content does not match its hash"
            expected_prev, expected_id, last_id = entry.hash, entry.id + 1, entry.id
            checked += 1
        db.session.expunge_all()
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.last_id != last_id or head.last_hash != expected_prev):
        return checked, None, f"the chain ends at record {last_id} but the head says {head.last_id}"
    return checked, None, None


def records_query(filters: dict):
    """Audit records, newest first, narrowed by ``target``, ``target_type``, ``actor``, ``action``,
    ``from_`` and ``to`` (each optional)."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc())
    columns = {"target": AuditRecord.target_id, "target_type": AuditRecord.target_type,
               "actor": AuditRecord.actor, "action": AuditRecord.action}
    for name, column in columns.items():
        if filters.get(name):
            query = query.where(column == filters[name])
    if filters.get("from_"):
        query = query.where(AuditRecord.at >= filters["from_"])
    if filters.get("to"):
        query = query.where(AuditRecord.at <= filters["to"])
    return query
