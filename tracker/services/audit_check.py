"""Checking the audit trail (``flask tracker audit-verify``): the chain, its head and the steps it seals."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import AuditHead, AuditRecord, Dossier, Step
from tracker.services.audit import GENESIS, digest, head_seal
from tracker.services.seals import STEP_SEALED, StepDigest, UnknownKey

Result = tuple[int, AuditRecord | None, str | None]


def verify(batch: int = 5000) -> Result:
    """Walk the chain, then the steps; return (records checked, first broken record, why).

    ``why`` is None when everything holds. A problem found outside any one record (the
    head, the steps) comes with no record.
    """
    checked, broken, why, last_id, last_hash = _walk_chain(batch)
    if why is not None:
        return checked, broken, why
    why = _check_head(last_id, last_hash)
    if why is None:
        why = _check_steps(batch)
    return checked, None, why


def _records(batch: int, *conditions) -> Iterator[AuditRecord]:
    """Audit records in id order, read a batch at a time."""
    last_id = 0
    while True:
        rows = db.session.scalars(select(AuditRecord).where(AuditRecord.id > last_id, *conditions)
                                  .order_by(AuditRecord.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.expunge_all()


def _walk_chain(batch: int) -> tuple[int, AuditRecord | None, str | None, int, str]:
    expected_prev, expected_id, checked = GENESIS, 1, 0
    for entry in _records(batch):
        if entry.id != expected_id:
            return checked, entry, f"record {expected_id} is missing", 0, ""
        if entry.prev_hash != expected_prev:
            return checked, entry, "its link to the previous record does not match", 0, ""
        if entry.kid is None:
            return checked, entry, ("it is not sealed with a key (a record from before keyed sealing: "
                                    "run `flask tracker audit-upgrade` once)"), 0, ""
        try:
            sealed = digest(entry)
        except UnknownKey:
            return checked, entry, (f"it was sealed with the key {entry.kid}, which is not configured "
                                    "(add it to TRACKER_OLD_AUDIT_KEYS)"), 0, ""
        if sealed != entry.hash:
            return checked, entry, "its content does not match its seal", 0, ""
        expected_prev, expected_id = entry.hash, entry.id + 1
        checked += 1
    return checked, None, None, expected_id - 1, expected_prev


def _check_head(last_id: int, last_hash: str) -> str | None:
    head = db.session.get(AuditHead, 1)
    if head is None:
        return None if last_id == 0 else f"the chain ends at record {last_id} but it has no head"
    if head.last_id != last_id or head.last_hash != last_hash:
        return f"the chain ends at record {last_id} but the head says {head.last_id}"
    if last_id == 0:
        return None
    try:
        expected = head_seal(head.kid, head.last_id, head.last_hash) if head.kid else None
    except UnknownKey:
        expected = None
    if expected is None or expected != head.seal:
        return (f"the head, at record {head.last_id}, is not sealed with the key: "
                "the chain's end was moved (records after it may have been removed)")
    return None


def _steps(batch: int) -> Iterator[tuple]:
    """(audit id, dossier code, sealed values...) of every sealed step, by record, dossier and seq."""
    columns = [Step.audit_id, Dossier.code, *(getattr(Step, name) for name in STEP_SEALED)]
    query = (select(*columns).join(Dossier, Dossier.id == Step.dossier_id)
             .where(Step.audit_id.is_not(None)).order_by(Step.audit_id, Step.dossier_id, Step.seq))
    yield from db.session.execute(query.execution_options(yield_per=batch))


def _check_steps(batch: int) -> str | None:
    """Every step sealed by exactly the record its ``audit_id`` names, with the same content."""
    unsealed = db.session.execute(
        select(func.count(Step.id), func.min(Step.id)).where(Step.audit_id.is_(None))).one()
    if unsealed[0]:
        first = db.session.execute(select(Step.seq, Dossier.code).join(Dossier, Dossier.id == Step.dossier_id)
                                   .where(Step.id == unsealed[1])).one()
        return (f"{unsealed[0]} step(s) are sealed by no audit record (the first: step {first.seq} "
                f"of dossier {first.code})")
    sealing = _records(batch, AuditRecord.steps_sealed > 0)
    current = next(sealing, None)
    group: tuple[int, StepDigest, str, int] | None = None  # audit id, digest, first code and seq
    for row in _steps(batch):
        audit_id, code, values = row[0], row[1], row[2:]
        if group is None or group[0] != audit_id:
            if group is not None:
                why = _compare(group, current)
                if why:
                    return why
                current = next(sealing, None)
            if current is not None and current.id < audit_id:
                return _describe_missing(current)
            if current is None or current.id != audit_id:
                return f"step {values[0]} of dossier {code} names record {audit_id}, which sealed no steps"
            group = (audit_id, StepDigest(), code, values[0])
        group[1].add(code, values)
    if group is not None:
        why = _compare(group, current)
        if why:
            return why
        current = next(sealing, None)
    if current is not None:
        return _describe_missing(current)
    return None


def _what(entry: AuditRecord) -> str:
    return f"record {entry.id} ({entry.action} {entry.target_type} {entry.target_id})"


def _describe_missing(entry: AuditRecord) -> str:
    return f"{_what(entry)} sealed {entry.steps_sealed} step(s) that are no longer there"


def _compare(group: tuple[int, StepDigest, str, int], entry: AuditRecord) -> str | None:
    _, steps, code, seq = group
    if steps.count != entry.steps_sealed:
        return f"{_what(entry)} sealed {entry.steps_sealed} step(s), {steps.count} are there"
    if steps.hexdigest() != entry.steps_digest:
        if steps.count == 1:
            return f"step {seq} of dossier {code} does not match what {_what(entry)} sealed"
        return f"one of the {steps.count} steps sealed by {_what(entry)} was changed (the first is of dossier {code})"
    return None
