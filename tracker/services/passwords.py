"""Passwords: the policy a new password must meet, and hashing with Argon2id.

The policy: at least 12 characters, not the username nor containing it, and not one
of the common passwords of ``common_passwords.txt`` (compared without case). Hashes
use Argon2id at the OWASP-recommended cost (19 MiB of memory, 2 passes, 1 lane).
"""
from __future__ import annotations

import secrets
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024



def owasp_hasher() -> PasswordHasher:
    """Argon2id with OWASP's first recommended configuration: m=19456 KiB, t=2, p=1."""
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)


_hasher = owasp_hasher()

# Verified against when the username is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("no such user")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    text = resources.files("tracker.services").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def policy_errors(password: str, username: str) -> list[str]:
    """Why ``password`` is refused for ``username`` (empty when it is acceptable)."""
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    lowered, name = password.lower(), username.strip().lower()
    if name and name in lowered:
        return ["The password must not contain the username."]
    if lowered in common_passwords():
        return ["This password is one of the most common ones: choose another."]
    return []


def generate_password(*usernames: str) -> str:
    """16 random URL-safe characters that meet the policy for each of ``usernames``."""
    while True:
        password = secrets.token_urlsafe(12)
        if not any(policy_errors(password, name) for name in usernames or ("",)):
            return password


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made at another cost than today's (then it is made again at login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; runs a full verification even without a hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
