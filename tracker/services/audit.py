"""The audit trail: an append-only chain of every write, sealed with a key kept outside the database.

Each record's hash is an HMAC (``tracker.services.seals``) of its own fields and its
predecessor's hash, so editing, inserting or deleting a record behind the
application's back, or rewriting the whole history without the key, breaks the
chain. A record that wrote processing steps also seals their digest, and the head
row seals the chain's end, so a cut tail or an edited step shows too. ``tracker.services.audit_check``
names what broke.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from tracker.extensions import db
from tracker.models import AuditHead, AuditRecord
from tracker.models.types import utcnow
from tracker.services import seals
from tracker.services.seals import StepDigest

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


def digest(record: AuditRecord) -> str:
    """The HMAC a record must carry, by the key its ``kid`` names (``seals.UnknownKey`` otherwise)."""
    return seals.sign(record.kid, [
        record.id, record.at.isoformat(timespec="microseconds"), record.actor, record.client_ip,
        record.action, record.target_type, record.target_id, record.change, record.prev_hash, record.kid,
        record.steps_sealed, record.steps_digest])


def head_seal(kid: str, last_id: int, last_hash: str) -> str:
    """The HMAC the head row must carry for the chain to end at ``last_id``."""
    return seals.sign(kid, ["head", last_id, last_hash])


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


def next_id() -> int:
    """The id the next record of this transaction will get (locks the head until the end)."""
    return _lock_head().last_id + 1


def record(actor: Actor, action: str, target_type: str, target_id: str,
           change: dict | None = None, at: datetime | None = None,
           steps: StepDigest | None = None) -> AuditRecord:
    """Append one audit record to the chain inside the current transaction.

    ``change`` must already be free of personal numbers (see ``people.mask_secret``).
    ``steps`` is the digest of the steps this write added: their ``audit_id`` must name
    the record returned (``next_id`` gives it beforehand, ``seal_step`` sets it after).
    """
    head = _lock_head()
    kid = seals.current_kid()
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
        kid=kid,
        steps_sealed=steps.count if steps else None,
        steps_digest=steps.hexdigest() if steps else None,
    )
    entry.hash = digest(entry)
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(
        last_id=entry.id, last_hash=entry.hash, kid=kid, seal=head_seal(kid, entry.id, entry.hash)))
    db.session.expire(head)
    return entry


def record_step(actor: Actor, action: str, code: str, step, change: dict) -> AuditRecord:
    """Audit a write that added one step, sealing that step's content with the record."""
    one = StepDigest()
    one.add_step(code, step)
    entry = record(actor, action, "dossier", code, change, steps=one)
    step.audit_id = entry.id
    return entry


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
