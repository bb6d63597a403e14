"""The import's own timestamp conversion gives exactly what SQLAlchemy would bind."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from tracker.models.types import UTCDateTime
from tracker.services.importing.writer import driver_datetime

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 30),
                        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=7)),
                                                   timezone(timedelta(hours=-9, minutes=-30))]))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()], ids=["sqlite", "postgresql"])
@given(value=instants)
def test_same_value_as_sqlalchemy(dialect, value):
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert driver_datetime(dialect)(value) == bind(value)
