"""``?page=1&page_size=50`` and the ``{items, page, page_size, total}`` answer."""
from __future__ import annotations

import marshmallow as ma

MAX_PAGE_SIZE = 100
# Far beyond any real list, and small enough that the row offset fits a 64-bit integer
# (a larger page number used to reach the database and fail there with a 500).
MAX_PAGE = 1_000_000_000


class PageArgs(ma.Schema):
    """``?page=1&page_size=50``."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PAGE_SIZE))


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """A ``{items, page, page_size, total}`` schema around ``item_schema``."""
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "page": ma.fields.Integer(),
            "page_size": ma.fields.Integer(),
            "total": ma.fields.Integer(),
        },
    )
