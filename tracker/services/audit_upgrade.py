"""Sealing, once, an audit trail written before the chain was keyed (``flask tracker audit-upgrade``).

Records written before then carry a plain SHA-256 chain and no key id, and the steps
of that time name no sealing record. The upgrade checks the old chain as it was
computed then, refuses to seal one that is broken, re-seals every record with the
current key, and seals the steps no record covers with one closing record.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select, update

from tracker.extensions import db
from tracker.models import AuditHead, AuditRecord, Dossier, Step
from tracker.services import audit, seals
from tracker.services.audit import GENESIS, Actor
from tracker.services.errors import Conflict
from tracker.services.seals import STEP_SEALED, StepDigest


def legacy_digest(record: AuditRecord) -> str:
    """The plain SHA-256 a record carried before the chain was keyed."""
    payload = json.dumps(
        [record.id, record.at.isoformat(timespec="microseconds"), record.actor, record.client_ip,
         record.action, record.target_type, record.target_id, record.change, record.prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _check_old_chain(records: list[AuditRecord]) -> None:
    """The chain as written: unkeyed records first, each matching its old hash, all linked."""
    previous, keyed_seen = GENESIS, False
    for expected_id, entry in enumerate(records, start=1):
        if entry.id != expected_id:
            raise Conflict(f"The audit trail misses record {expected_id}: it is not sealed as it is.")
        if entry.kid is None and keyed_seen:
            raise Conflict(f"Record {entry.id} has no key but follows keyed records: it is not sealed as it is.")
        keyed_seen = keyed_seen or entry.kid is not None
        expected = legacy_digest(entry) if entry.kid is None else audit.digest(entry)
        if entry.prev_hash != previous or entry.hash != expected:
            raise Conflict(f"The audit trail is broken at record {entry.id}: it is not sealed as it is.")
        previous = entry.hash


def upgrade(who: Actor) -> tuple[int, int]:
    """Re-seal the whole chain with the current key and seal the uncovered steps; returns
    (records re-sealed, steps sealed). Refused when there is nothing unkeyed to upgrade."""
    if db.session.scalar(select(func.count(AuditRecord.id)).where(AuditRecord.kid.is_(None))) == 0:
        raise Conflict("Every audit record is already sealed with a key: there is nothing to upgrade.")
    records = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
    _check_old_chain(records)
    kid, previous = seals.current_kid(), GENESIS
    for entry in records:
        entry.kid, entry.prev_hash = kid, previous
        entry.hash = previous = audit.digest(entry)
    db.session.flush()
    head = db.session.get(AuditHead, 1)
    head.last_hash, head.kid, head.seal = previous, kid, audit.head_seal(kid, head.last_id, previous)
    db.session.flush()
    sealed = StepDigest()
    columns = [Dossier.code, *(getattr(Step, name) for name in STEP_SEALED)]
    rows = db.session.execute(select(*columns).join(Dossier, Dossier.id == Step.dossier_id)
                              .where(Step.audit_id.is_(None)).order_by(Step.dossier_id, Step.seq))
    for row in rows:
        sealed.add(row[0], row[1:])
    closing = audit.next_id()
    db.session.execute(update(Step).where(Step.audit_id.is_(None)).values(audit_id=closing))
    audit.record(who, "audit.upgrade", "audit", "chain", {"records": len(records), "steps": sealed.count},
                 steps=sealed if sealed.count else None)
    return len(records), sealed.count
