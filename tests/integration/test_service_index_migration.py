"""The service-level migration seeds the evaluation criteria and the Decision 766 weights."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import TEST_SETTINGS
from tracker import create_app
from tracker.extensions import db
from tracker.models import EvaluationCriterion, ServiceIndexWeight


def test_the_migration_seeds_the_criteria_and_the_weights(tmp_path):
    from flask_migrate import upgrade

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'seeded.db'}"})
    with app.app_context():
        upgrade()
        labels = db.session.execute(select(EvaluationCriterion.key, EvaluationCriterion.label_vi)
                                    .order_by(EvaluationCriterion.position)).all()
        weights = dict(db.session.execute(select(ServiceIndexWeight.group, ServiceIndexWeight.weight)).all())
        db.engine.dispose()
    assert [tuple(row) for row in labels] == [
        ("timeliness", "Thời gian giải quyết"), ("staff_attitude", "Thái độ của cán bộ"), ("ease", "Mức độ thuận tiện"),
        ("clarity", "Sự rõ ràng của yêu cầu hồ sơ"), ("visits", "Số lần phải đi lại")]
    assert weights == {"progress": 20.0, "online": 22.0, "digitization": 22.0, "satisfaction": 18.0}
    assert sum(weights.values()) == 82
