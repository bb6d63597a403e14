"""What each field of the OpenAPI document means, written once for every schema that carries it.

A field name means the same thing wherever it appears (``due_at`` of a dossier, of a
deadline preview...), so descriptions and examples live here, by name, with an entry
``"Schema.field"`` where one schema uses a name differently. ``describe_field`` is an
apispec attribute function: it fills in what a field's own metadata does not say.
"""
from __future__ import annotations

from tracker.domain.statuses import Status
from tracker.domain.workflow import RULES, Action

TIME = "2025-01-24T10:00:00+07:00"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"
DIGEST = "9f2c" + "0" * 60

#: name -> (description, example or None)
FIELDS: dict[str, tuple[str, object]] = {
    # lists
    "items": ("The entries of this page.", None),
    "page": ("Page number, from 1.", 1),
    "page_size": ("Entries per page (at most 100).", 50),
    "total": ("How many entries the whole list has.", 137),
    # problems
    "type": ("A URI naming the kind of problem; `about:blank` when the status says it all.", "about:blank"),
    "title": ("The HTTP status phrase.", "Unprocessable Entity"),
    "Problem.status": ("The HTTP status code.", 422),
    "status": ("The dossier's status key (national list).", "processing"),
    "detail": ("What went wrong, in a sentence a person understands.", "The action 'complete' needs more fields."),
    "errors": ("Per field (dotted path), the messages of what is wrong with it.", {"result": ["Required."]}),
    "allowed_actions": ("Actions the dossier's current status allows, in the order of the actions table.",
                        ["process", "request_supplement", "stop", "withdraw", "apologize", "comment"]),
    # people and tokens
    "username": ("Login name (case-insensitive).", "tuphap.motcua"),
    "password": ("Write-only: never returned.", "Correct-Horse-42"),
    "full_name": ("The person's name.", "Nguyễn Thị Lan"),
    "role": ("admin, manager, clerk or viewer.", "clerk"),
    "active": ("A disabled account can no longer log in or use its tokens.", True),
    "access_token": ("Bearer token for the Authorization header.", TOKEN),
    "refresh_token": ("Token for `POST /auth/refresh` (send it as the bearer token there).", TOKEN),
    "token_type": ("Always `Bearer`.", "Bearer"),
    "expires_in": ("Seconds until the access token expires.", 900),
    # reference data
    "code": ("The identifier in the national code style.", "000.00.00.H57"),
    "name": ("The name, in Vietnamese.", "Sở Tư pháp"),
    "parent_code": ("Code of the agency above this one; null for a top-level agency.", "000.00.00.H57"),
    "level": ("province, department, commune or other (descriptive only: the tree may have any depth).",
              "department"),
    "field": ("The procedure's field (lĩnh vực).", "Hộ tịch"),
    "time_limit": ("The legal time limit: a number of working days or working hours.",
                   {"value": 3, "unit": "working_days"}),
    "value": ("How many units.", 3),
    "unit": ("`working_days` or `working_hours`.", "working_days"),
    "agency_code": ("Agency code.", "000.01.00.H57"),
    "procedure_code": ("Procedure code.", "1.004227"),
    "date": ("A local date.", "2026-04-30"),
    "working": ("Whether the date is a working day.", False),
    "Day.name": ("The holiday or override name; null on an ordinary day.", "Ngày Giải phóng miền Nam"),
    "Override.name": ("Why the date is overridden (the local decision).", "Nghỉ bù theo quyết định của UBND"),
    # dossiers
    "channel": ("How it was submitted: `direct` (in person), `online`, `postal`.", "direct"),
    "status_code": ("National status code, 1 to 10.", 4),
    "status_label": ("The status in the caller's language (Vietnamese by default).", "Đang xử lý"),
    "applicant": ("The applicant (personal data: staff only).", None),
    "id_number": ("Citizen ID (CCCD, 12 digits) or old ID card (9 digits).", "046195001122"),
    "phone": ("Vietnamese phone number.", "0934555666"),
    "email": ("E-mail address.", "lan@example.vn"),
    "address": ("Postal address.", "12 Lê Lợi, Huế"),
    "note": ("Internal note: staff only, never shown to the citizen.", "Đã kiểm tra bản gốc"),
    "public_note": ("A note the citizen sees on the lookup.", "Hồ sơ đang được thẩm định"),
    "reason": ("The text of the official notice (refusal, supplement request, stop, apology); "
               "the citizen sees it.", "Thiếu bản sao giấy khai sinh có chứng thực"),
    "handler": ("Name of the official handling the step (staff only).", "Trần Văn Minh"),
    "to_agency_code": ("For `process`: the agency the dossier is handed to (liên thông).", "000.02.00.H57"),
    "result": ("For `complete`: `approved` or `denied`.", "approved"),
    "new_appointment_at": ("For `apologize`: the new appointment, later than the current one.",
                           "2025-02-10T16:00:00+07:00"),
    "at": ("When the step happened (server clock; admins may give it to load history).", TIME),
    "seq": ("The step's number in the dossier's history, from 1.", 2),
    "action": ("The step's action (see the actions table).", "process"),
    "label": ("The step in the caller's language.", "Xử lý hồ sơ"),
    "status_before": ("Status before the step; null for the first step.", "accepted"),
    "status_after": ("Status after the step.", "processing"),
    "user": ("Username of the staff member who recorded it.", "tuphap.motcua"),
    "agency": ("The agency.", None),
    "Step.agency": ("Code of the agency that recorded the step.", "000.01.00.H57"),
    "PublicStep.agency": ("Code of the agency that recorded the step.", "000.01.00.H57"),
    "agency_name": ("Name of the agency that recorded the step.", "Sở Tư pháp"),
    "procedure": ("The procedure.", None),
    "handling_agency": ("The agency handling it now (after hand-offs).", None),
    "submitted_at": ("When it was submitted (registered or received at the desk).", TIME),
    "accepted_at": ("When it was accepted; null while awaiting acceptance.", TIME),
    "effective_intake_at": ("Acceptance moved past the cut-off and days off: where the clock starts.", TIME),
    "due_at": ("The legal deadline (moved by pauses, never by apologies).", "2025-02-05T17:00:00+07:00"),
    "appointment_at": ("The appointment given to the citizen (an apology moves it).", "2025-02-05T17:00:00+07:00"),
    "finished_at": ("When it reached done (or returned, or stopped): timeliness is judged at this time.",
                    "2025-02-04T09:15:00+07:00"),
    "returned_at": ("When the result was handed over.", "2025-02-05T08:30:00+07:00"),
    "withdrawn_at": ("When the applicant withdrew it.", "2025-01-27T14:00:00+07:00"),
    "supplement_count": ("How many times documents were requested (more than once makes it late).", 0),
    "timeliness": ("`early`, `on_time` or `late` once finished; null before.", "on_time"),
    "overdue": ("Not finished and past its deadline now.", False),
    "version": ("Grows with every change; the ETag names it.", 3),
    "steps": ("The history, in order.", None),
    "step": ("The step just recorded.", None),
    "dossier": ("The dossier after the step.", None),
    "paused_since": ("When the clock was paused to wait for the applicant; null when it is running.",
                     "2025-01-27T09:00:00+07:00"),
    "verify": ("The applicant's ID number or phone number: shows the full name when it matches.",
               "046195001122"),
    "verified": ("Whether `verify` matched the applicant (then the full name is shown).", False),
    "applicant_name": ("The applicant's name, masked unless `verify` matched.", "N***** T** L**"),
    "days": ("A limit of this many working days (instead of a procedure).", 3),
    "hours": ("A limit of this many working hours (instead of a procedure).", 8),
    "accepted_from": ("Accepted on or after this local date.", "2025-01-01"),
    "accepted_to": ("Accepted on or before this local date.", "2025-12-31"),
    # audit
    "id": ("Record number.", 1024),
    "actor": ("Username, or `system` for commands.", "admin"),
    "client_ip": ("The caller's address.", "203.0.113.7"),
    "target_type": ("What was written: dossier, user, agency, procedure, calendar_override...", "dossier"),
    "target_id": ("Its identifier (a code, a username, a date).", "000.01.00.H57-250124-0001"),
    "change": ("What changed (personal numbers masked).", None),
    "prev_hash": ("The chain value of the record before.", DIGEST),
    "hash": ("This record's chain value (an HMAC under the audit key).", DIGEST),
    "kid": ("Which audit key sealed the record (its public name).", "5d41402abc4b2a76"),
    "steps_sealed": ("How many dossier steps this record seals.", 1),
    # statistics
    "period": ("The local days covered.", None),
    "from": ("First local day.", "2025-01-01"),
    "to": ("Last local day, included.", "2025-12-31"),
    "filters": ("The filters the figures were computed with.", None),
    "Filters.agency": ("The agency filter (its whole subtree); null for the whole city.", "000.00.00.H57"),
    "Filters.procedure": ("The procedure filter; null for every procedure.", "1.004227"),
    "on_time_rate": ("(early + on_time) / resolved, 4 decimals; null when nothing was resolved.", 0.9524),
    "progress_rate": ("(early + on_time + pending within deadline) / (resolved + pending), 4 decimals.", 0.9091),
    "avg_processing_working_days": ("Mean working days from intake to finish over resolved dossiers, "
                                    "pauses excluded.", 2.35),
    "group_by": ("agency, procedure, field, month, channel or online_level.", "agency"),
    "min_resolved": ("Groups that resolved fewer dossiers are left out (rankings).", 5),
    "totals": ("The figures over everything the filters select.", None),
    "groups": ("One entry per group, in display order.", None),
    "received": ("Received: carried over plus accepted in the period by channel.", None),
    "resolved": ("Finished in the period, by timeliness.", None),
    "pending": ("Open at the end of the period.", None),
    "carried_over": ("Accepted before the period, still open when it began.", 12),
    "online": ("Accepted in the period, submitted online.", 40),
    "direct": ("Accepted in the period, submitted in person.", 55),
    "postal": ("Accepted in the period, sent by the public postal service.", 3),
    "early": ("Finished on an earlier local date than the deadline.", 30),
    "on_time": ("Finished on the deadline's local date (hour limits: by the deadline itself).", 50),
    "late": ("Finished after the deadline, or after more than one supplement request.", 4),
    "within_deadline": ("Open and not past the deadline, judged at the end of the period.", 20),
    "withdrawn": ("Withdrawn at the applicant's request in the period.", 1),
    "Received.total": ("carried_over + online + direct + postal.", 110),
    "Resolved.total": ("early + on_time + late.", 84),
    "Pending.total": ("within_deadline + overdue.", 25),
    "Pending.overdue": ("Open and past the deadline, judged at the end of the period (or now).", 5),
    "Group.key": ("Agency or procedure code, field, `YYYY-MM` or channel.", "000.01.00.H57"),
    "Group.name": ("The group's name in the caller's language.", "Sở Tư pháp"),
    # service levels (docs/rules.md#rates)
    "online_level": ("full (toàn trình), partial (một phần) or none (in person or by post only).", "partial"),
    "digitized": ("The documents were digitised at intake (số hóa hồ sơ).", True),
    "paid_online": ("The fees were paid through online payment.", False),
    "electronic_result": ("The result was issued as an electronic document.", True),
    "Step.online": ("`receive_payment`: paid through online payment.", True),
    "StepCreate.online": ("`receive_payment` only: paid through online payment.", True),
    "StepResult.online": ("`receive_payment`: paid through online payment.", True),
    # evaluations
    "verify": ("The applicant's ID number or phone number (0… or +84…).", "0912345678"),
    "overall": ("very_satisfied (Rất hài lòng), satisfied (Hài lòng) or dissatisfied (Không hài lòng).",
                "satisfied"),
    "overall_label": ("The overall level in the caller's language.", "Hài lòng"),
    "criteria": ("A level per criterion key (see `GET /public/evaluation-criteria`).", {"timeliness": "satisfied"}),
    "comment": ("Free text for the agency; read by staff only, never published.", "Cán bộ hướng dẫn tận tình."),
    "first_given_at": ("When the dossier was first evaluated; a new evaluation replaces it for 30 days after.",
                       TIME),
    "given_at": ("When this evaluation was given.", TIME),
    "label_vi": ("The label in Vietnamese.", "Thời gian giải quyết"),
    "label_en": ("The label in English.", "Processing time"),
    "position": ("Display order, smallest first.", 1),
    "Criterion.key": ("The criterion's key: lowercase letters, digits and _.", "timeliness"),
    "CriterionPatch.active": ("false retires the criterion from new evaluations.", True),
    "PublicCriterion.key": ("The criterion's key, used in an evaluation's `criteria`.", "timeliness"),
    "PublicCriterion.label": ("The criterion in the caller's language.", "Thời gian giải quyết"),
    "evaluations": ("Evaluations of the dossiers resolved in the period, by overall level.", None),
    "very_satisfied": ("Evaluated very satisfied (Rất hài lòng).", 20),
    "satisfied": ("Evaluated satisfied (Hài lòng).", 50),
    "dissatisfied": ("Evaluated dissatisfied (Không hài lòng).", 3),
    "Evaluations.total": ("very_satisfied + satisfied + dissatisfied.", 73),
    "online_rate": ("Received online / received, among dossiers of procedures offered online (full or partial); "
                    "4 decimals, null when none.", 0.6),
    "online_payment_rate": ("Paid online / paid, among the dossiers received in the period.", 0.4),
    "digitized_rate": ("Digitised at intake / received in the period.", 0.7),
    "electronic_result_rate": ("With an electronic result / resolved through `complete` in the period.", 0.5),
    "satisfaction_rate": ("(resolved − evaluated dissatisfied) / resolved in the period.", 0.98),
    "evaluation_rate": ("Resolved dossiers with an evaluation / resolved in the period.", 0.35),
    # the service index
    "weights": ("The points each measured group is worth.", None),
    "progress": ("Progress and results (Tiến độ, kết quả giải quyết).", 20),
    "Weights.online": ("Online service (Cung cấp dịch vụ trực tuyến).", 22),
    "digitization": ("Digitisation (Số hóa hồ sơ).", 22),
    "satisfaction": ("Satisfaction (Mức độ hài lòng).", 18),
    "rate": ("The group's rate (0 to 1); null when there is nothing to measure.", 0.9),
    "points": ("rate × max_points, 2 decimals; null when unmeasured.", 18.0),
    "max_points": ("The group's weight.", 20.0),
    "score": ("The sum of the measured groups' points.", 70.5),
    "max_score": ("The points the measured groups allow: 82 with the default weights, never scaled to 100.",
                  82.0),
    "IndexRow.key": ("Agency or procedure code, field, `YYYY-MM`, channel or online level.", "000.01.00.H57"),
    "IndexRow.name": ("The group's name in the caller's language.", "Sở Tư pháp"),
    "Index.online": ("Online service: the mean of online_rate and online_payment_rate.", None),
    "IndexRow.online": ("Online service: the mean of online_rate and online_payment_rate.", None),
    # late dossiers
    "apology": ("The apology (Phiếu xin lỗi) for the delay, if one was given; null otherwise.", None),
    "Apology.at": ("When the apology was recorded.", TIME),
}


def describe_field(converter, field, ret: dict, **_) -> dict:
    """apispec attribute function (bound to its converter): a description and an example from the
    glossary where the field's own metadata gives none."""
    name = field.data_key or field.name
    if not name:
        return {}
    schema = type(field.parent).__name__.removesuffix("Schema") if field.parent is not None else ""
    entry = FIELDS.get(f"{schema}.{name}") or FIELDS.get(name)
    if entry is None:
        return {}
    description, example = entry
    extra = {}
    if "description" not in ret and not field.metadata.get("description"):
        extra["description"] = description
    if example is not None and "example" not in ret and "example" not in field.metadata:
        extra["example"] = example
    return extra


def actions_table() -> str:
    """The actions table as Markdown, from the rules themselves (so it cannot drift from them)."""
    rows = ["| action | from | to | required fields |", "|---|---|---|---|"]
    for action, rule in RULES.items():
        sources = "any" if rule.sources is None else ", ".join(s.value for s in Status if s in rule.sources)
        target = rule.target.value if rule.target is not None else "unchanged"
        required = [f"`{name}`" for name in rule.required]
        if rule.required_any:
            required.append(" or ".join(f"`{name}`" for name in rule.required_any))
        if action == Action.PROCESS:
            required.append("(`to_agency_code` for a hand-off to another agency)")
        rows.append(f"| `{action.value}` | {sources} | {target} | {', '.join(required) or '—'} |")
    return "\n".join(rows)
