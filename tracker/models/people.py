"""Staff accounts, their login sessions and revoked tokens."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import db
from tracker.models.reference import Agency
from tracker.models.types import UTCDateTime, utcnow

ROLES = ("admin", "manager", "clerk", "viewer")


class User(db.Model):
    """A staff member; the role applies within the agency's subtree."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    agency: Mapped[Agency | None] = relationship(lazy="joined")

    # Usernames are compared without case: stored lower-case, so "Admin" and "admin" cannot both exist.
    __table_args__ = (CheckConstraint("username = lower(username)", name="username_lower_case"),)

    @property
    def agency_code(self) -> str | None:
        return self.agency.code if self.agency else None


class RevokedToken(db.Model):
    """A token refused from logout on; kept in the database so a restart does not revive it."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginSession(db.Model):
    """One login: its access and refresh tokens carry this id (claim ``sid``) and die with it.

    Logging out ends the session; a password change or a disabled account ends all of the
    user's sessions. Rows are forgotten once their refresh token would have expired.
    """

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
