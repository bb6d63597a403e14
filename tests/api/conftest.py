"""Fixtures shared by the API tests that need a second database."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_SETTINGS
from tracker import create_app
from tracker.extensions import db


@pytest.fixture
def second_app(empty_url):
    """An app on the empty database, its schema built by the migrations."""
    from flask_migrate import upgrade

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
