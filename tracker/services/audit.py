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

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from tracker.database import transaction_state
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


# Keys of the transaction's state (``database.transaction_state``): the records waiting
# for the commit, and whether this transaction already holds the head (``next_id``).
_PENDING = "tracker_audit_pending"
_HOLDS_HEAD = "tracker_audit_holds_head"


@dataclass
class _Entry:
    """An audit record waiting to be chained, with the steps that will name it."""

    actor: Actor
    action: str
    target_type: str
    target_id: str
    change: str
    at: datetime | None
    steps: StepDigest | None
    sealing: tuple = ()


def _lock_head(session: Session) -> AuditHead:
    # The head row is locked for the rest of the transaction, so two writers can
    # never chain to the same predecessor.
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    transaction_state(session)[_HOLDS_HEAD] = True
    return head


def next_id() -> int:
    """The id the next record of this transaction will get (locks the head until the end,
    and the records of this transaction are then chained at once, in order)."""
    return _lock_head(db.session).last_id + 1


def record(actor: Actor, action: str, target_type: str, target_id: str,
           change: dict | None = None, at: datetime | None = None,
           steps: StepDigest | None = None, sealing: tuple = ()) -> None:
    """Append one audit record to the chain as part of the current transaction.

    ``change`` must already be free of personal numbers (see ``people.mask_secret``).
    ``steps`` is the digest of the steps this write added; ``sealing`` holds those
    steps when they are rows of the session, whose ``audit_id`` is set to the record's
    id once it has one (an import sets its own beforehand, from ``next_id``).

    The record joins the chain when the transaction commits: the head row stays locked
    only for the last moments of the transaction, so concurrent writers queue for a few
    statements rather than for a whole request. After ``next_id`` it joins at once.
    """
    entry = _Entry(actor, action, target_type, str(target_id),
                   json.dumps(change or {}, ensure_ascii=False, sort_keys=True, default=str), at, steps, sealing)
    state = transaction_state(db.session())
    if state.get(_HOLDS_HEAD):
        _chain(db.session, entry)
    else:
        state.setdefault(_PENDING, []).append(entry)


def record_step(actor: Actor, action: str, code: str, step, change: dict) -> None:
    """Audit a write that added one step, sealing that step's content with the record."""
    one = StepDigest()
    one.add_step(code, step)
    record(actor, action, "dossier", code, change, steps=one, sealing=(step,))


def _chain(session: Session, pending: _Entry) -> AuditRecord:
    head = _lock_head(session)
    kid = seals.current_kid()
    entry = AuditRecord(
        id=head.last_id + 1,
        at=pending.at or utcnow(),
        actor=pending.actor.username,
        client_ip=pending.actor.ip,
        action=pending.action,
        target_type=pending.target_type,
        target_id=pending.target_id,
        change=pending.change,
        prev_hash=head.last_hash,
        kid=kid,
        steps_sealed=pending.steps.count if pending.steps else None,
        steps_digest=pending.steps.hexdigest() if pending.steps else None,
    )
    entry.hash = digest(entry)
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(
        last_id=entry.id, last_hash=entry.hash, kid=kid, seal=head_seal(kid, entry.id, entry.hash)))
    session.expire(head)
    for step in pending.sealing:
        step.audit_id = entry.id
    return entry


# First of the commit's work (``insert``): the counters are written after it, with the head held.
@event.listens_for(Session, "before_commit", insert=True)
def _chain_pending(session: Session) -> None:
    for pending in transaction_state(session).pop(_PENDING, ()):
        _chain(session, pending)


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
