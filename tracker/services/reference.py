"""Agencies and procedures: create, correct, list."""
from __future__ import annotations

from sqlalchemy import or_, select

from tracker.domain.agencies import AgencyTree
from tracker.domain.people import fold, nfc
from tracker.extensions import db
from tracker.models import Agency, Procedure
from tracker.services import audit
from tracker.services.audit import Actor
from tracker.services.errors import Conflict, Invalid
from tracker.services.scope import is_ancestor


def agency_by_code(code: str) -> Agency | None:
    """The agency with this code, or None."""
    return db.session.scalar(select(Agency).where(Agency.code == code))


def _parent(code: str | None) -> Agency | None:
    if code is None:
        return None
    parent = agency_by_code(code)
    if parent is None:
        raise Invalid({"parent_code": [f"No agency has the code {code}."]})
    return parent


def agencies_query(parent: str | None = None):
    """Agencies ordered by code, optionally only the children of ``parent``."""
    query = select(Agency).order_by(Agency.code)
    if parent is not None:
        parent_agency = agency_by_code(parent)
        query = query.where(Agency.parent_id == (parent_agency.id if parent_agency else -1))
    return query


def create_agency(who: Actor, data: dict) -> Agency:
    """Add an agency under an existing parent (or at the top)."""
    if agency_by_code(data["code"]) is not None:
        raise Conflict(f"An agency with the code {data['code']} already exists.")
    agency = Agency(code=data["code"], name=nfc(data["name"]), level=data.get("level") or "other",
                    parent=_parent(data.get("parent_code")))
    db.session.add(agency)
    db.session.flush()
    audit.record(who, "agency.create", "agency", agency.code, data)
    return agency


def update_agency(who: Actor, agency: Agency, data: dict) -> Agency:
    """Rename, re-level or move an agency; a move below itself is refused."""
    if "parent_code" in data:
        parent = _parent(data["parent_code"])
        if parent is not None and is_ancestor(agency.id, parent.id):
            raise Invalid({"parent_code": ["An agency cannot be moved below itself or its own subtree."]})
        agency.parent = parent
    if "name" in data:
        agency.name = nfc(data["name"])
    if "level" in data:
        agency.level = data["level"]
    db.session.flush()
    audit.record(who, "agency.update", "agency", agency.code, data)
    return agency


def procedure_by_code(code: str) -> Procedure | None:
    """The procedure with this code, or None."""
    return db.session.scalar(select(Procedure).where(Procedure.code == code))


def procedures_query(field: str | None = None, q: str | None = None, online_level: str | None = None):
    """Procedures ordered by code, filtered by field, online level and a code or name search."""
    query = select(Procedure).order_by(Procedure.code)
    if online_level:
        query = query.where(Procedure.online_level == online_level)
    if field:
        query = query.where(Procedure.field == nfc(field))
    if q:
        needle = fold(q)
        # autoescape: "%" and "_" in a search are letters, not LIKE wildcards.
        query = query.where(or_(Procedure.code.contains(q.strip(), autoescape=True),
                                Procedure.name_folded.contains(needle, autoescape=True)))
    return query


def _apply_procedure(procedure: Procedure, data: dict) -> None:
    if "name" in data:
        procedure.name = nfc(data["name"])
        procedure.name_folded = fold(data["name"])
    if "field" in data:
        procedure.field = nfc(data["field"])
    if "time_limit" in data:
        procedure.time_limit_value = data["time_limit"]["value"]
        procedure.time_limit_unit = data["time_limit"]["unit"]
    if "online_level" in data:
        procedure.online_level = data["online_level"]


def create_procedure(who: Actor, data: dict) -> Procedure:
    """Add a procedure."""
    if procedure_by_code(data["code"]) is not None:
        raise Conflict(f"A procedure with the code {data['code']} already exists.")
    procedure = Procedure(code=data["code"])
    _apply_procedure(procedure, data)
    db.session.add(procedure)
    db.session.flush()
    audit.record(who, "procedure.create", "procedure", procedure.code, data)
    return procedure


def update_procedure(who: Actor, procedure: Procedure, data: dict) -> Procedure:
    """Correct a procedure; dossiers already accepted keep the time limit they had."""
    _apply_procedure(procedure, data)
    db.session.flush()
    audit.record(who, "procedure.update", "procedure", procedure.code, data)
    return procedure


def agency_tree() -> AgencyTree:
    """The whole agency tree, read in one query."""
    return AgencyTree(db.session.execute(select(Agency.id, Agency.code, Agency.name, Agency.parent_id)).all())


def agency_options() -> list[tuple[str, str]]:
    """Every agency as ``(code, name indented by depth)``, in tree order, for a page's picker."""
    return [(row.code, "\u2003" * depth + row.name) for row, depth in agency_tree().walk()]


def top_agency_codes(limit: int = 2) -> list[str]:
    """Codes of (up to ``limit``) agencies without a parent."""
    return db.session.scalars(select(Agency.code).where(Agency.parent_id.is_(None)).limit(limit)).all()
