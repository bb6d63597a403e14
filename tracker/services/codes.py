"""Dossier codes: a gap-free counter per agency and local day."""
from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tracker.domain.codes import dossier_code
from tracker.extensions import db
from tracker.models import Agency, DossierCounter


def _upsert():
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert


def next_code(agency: Agency, day: date) -> str:
    """Take the agency's next number for ``day`` inside the current transaction.

    The counter row is incremented by an upsert, which locks it until the
    transaction ends: concurrent creators wait for each other, and a rolled-back
    creation gives its number back, so codes stay gap-free.
    """
    insert = _upsert()
    stmt = insert(DossierCounter).values(agency_id=agency.id, day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DossierCounter.agency_id, DossierCounter.day],
        set_={"last": DossierCounter.last + 1},
    ).returning(DossierCounter.last)
    number = db.session.execute(stmt).scalar_one()
    return dossier_code(agency.code, day, number)


def reserve_numbers(highest: dict[tuple[int, date], int]) -> None:
    """Raise counters to the numbers imported codes already use, in one statement.

    ``highest`` maps (agency id, day) to the largest number seen; a counter already
    higher is left alone, so imported codes and new ones never collide.
    """
    if not highest:
        return
    insert = _upsert()
    stmt = insert(DossierCounter)
    excluded = stmt.excluded.last
    stmt = stmt.on_conflict_do_update(
        index_elements=[DossierCounter.agency_id, DossierCounter.day],
        set_={"last": db.case((DossierCounter.last < excluded, excluded), else_=DossierCounter.last)},
    )
    rows = [{"agency_id": agency_id, "day": day, "last": number} for (agency_id, day), number in highest.items()]
    db.session.execute(stmt, rows)
