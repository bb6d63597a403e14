"""How Alembic's autogenerate writes the models into migration scripts."""
from __future__ import annotations

from tracker.models.types import UTCDateTime


def render_item(type_, obj, autogen_context):
    """Write the UTC timestamp type as a plain DateTime in migration scripts.

    Migrations must not import application code that may change later; the UTC
    handling lives in the model layer, the column is an ordinary timestamp.
    """
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


#: The options Flask-Migrate gives Alembic (batch mode for SQLite's ALTER TABLE).
MIGRATE_OPTIONS = {"render_as_batch": True, "compare_type": True, "render_item": render_item}
