"""Records kept about requests: the audit chain and idempotency keys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db
from tracker.models.types import UTCDateTime, utcnow


class AuditRecord(db.Model):
    """One write, appended; ``hash`` is an HMAC, by the key named ``kid``, of the record and its
    predecessor's hash. A record that wrote steps also seals their digest (see ``Step.audit_id``)."""

    __tablename__ = "audit_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str | None] = mapped_column(String(64), index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(128))
    change: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # NULL only on records written before the chain was keyed (``flask tracker audit-upgrade``).
    kid: Mapped[str | None] = mapped_column(String(16))
    # How many steps this record sealed, and the digest of their rows (``seals.StepDigest``).
    steps_sealed: Mapped[int | None] = mapped_column(Integer)
    steps_digest: Mapped[str | None] = mapped_column(String(64))


class AuditHead(db.Model):
    """The end of the audit chain: a single row, locked by each writer to keep the chain linear."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # An HMAC of (last_id, last_hash): cutting the chain's tail and moving the head back needs the key.
    kid: Mapped[str | None] = mapped_column(String(16))
    seal: Mapped[str | None] = mapped_column(String(64))


class IdempotencyKey(db.Model):
    """A create request's key and the response it got, replayed on retries."""

    __tablename__ = "idempotency_keys"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
