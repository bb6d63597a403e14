"""Agency subtrees: the one rule that scopes every staff endpoint."""
from __future__ import annotations

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Agency


def subtree_ids(agency_id: int) -> set[int]:
    """The agency and all its descendants."""
    tree = select(Agency.id).where(Agency.id == agency_id).cte(recursive=True)
    tree = tree.union_all(select(Agency.id).where(Agency.parent_id == tree.c.id))
    return set(db.session.scalars(select(tree.c.id)))


def user_scope(user) -> set[int] | None:
    """Agency ids a user may see; ``None`` means everything (admins)."""
    if user.role == "admin":
        return None
    if user.agency_id is None:
        return set()
    return subtree_ids(user.agency_id)


def in_scope(user, agency_id: int | None) -> bool:
    """Whether ``agency_id`` lies within the user's subtree."""
    scope = user_scope(user)
    return scope is None or (agency_id is not None and agency_id in scope)


def is_ancestor(ancestor_id: int, agency_id: int) -> bool:
    """Whether ``ancestor_id`` is ``agency_id`` or above it (used to refuse cycles)."""
    return agency_id in subtree_ids(ancestor_id)
