"""The database models. The schema itself is only ever built by the migrations."""
from tracker.models.reference import Agency, CalendarOverride, Procedure
from tracker.models.people import LoginSession, RevokedToken, User
from tracker.models.dossiers import Dossier, DossierCounter, Step
from tracker.models.records import AuditHead, AuditRecord, IdempotencyKey
from tracker.models.statistics import StatAgencyCell, StatCell, StatProcedureCell
from tracker.models.evaluations import Evaluation, EvaluationCriterion, ServiceIndexWeight
from tracker.models.revision import DataRevision

__all__ = [
    "Agency", "AuditHead", "AuditRecord", "CalendarOverride", "Dossier", "DossierCounter",
    "IdempotencyKey", "LoginSession", "Procedure", "RevokedToken", "Step", "User", "Evaluation",
    "EvaluationCriterion", "ServiceIndexWeight", "DataRevision",
]
