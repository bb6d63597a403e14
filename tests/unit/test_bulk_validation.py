"""The import's fast validation path answers exactly like the schema, or defers to it."""
import marshmallow as ma
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.services.importing.validation import load_dossier
from tracker.services.importing.records import dossier_loader

GOOD_TIMES = st.sampled_from(["2025-01-24T10:00:00+07:00", "2025-01-24T03:00:00+00:00",
                               "2025-01-24T10:00:00.123456+07:00", "2025-01-24T10:00:00Z"])
# Well-formed but outside the years 2000-2099 that the schemas accept (a typo, never a 500).
FAR_TIMES = ["1999-12-31T23:00:00+07:00", "2100-01-01T00:00:00+07:00", "0001-01-01T00:00:00+00:00",
             "9999-12-31T23:59:59+00:00", "2000-01-01T00:00:00+00:00"]
BAD_TIMES = st.sampled_from(["2025-01-24T10:00:00", "2025-01-24", "24/01/2025", "", 17, *FAR_TIMES])
GOOD_TEXT = st.one_of(st.text(min_size=1, max_size=30).filter(str.strip),
                      st.sampled_from(["Nguyễn Văn An", "Nguye\u0302\u0303n Thị", "Đặng", "  An  ",
                                       "\u0958" * 200, "\u0958" * 2100]))
BAD = st.sampled_from([None, 5, "", "   ", "x" * 5000, [], {}, True, 3.0, "3", 0, 3651, -1])

applicants = st.fixed_dictionaries(
    {"name": GOOD_TEXT},
    optional={"id_number": st.sampled_from(["046195001122", "123456789", "0461 9500 1122", None]),
              "phone": st.sampled_from(["0934555666", "+84934555666", "0934.555.666", None]),
              "email": st.sampled_from(["an@example.vn", None]),
              "address": st.one_of(st.none(), GOOD_TEXT)})
steps = st.fixed_dictionaries(
    {"action": st.sampled_from(["process", "complete", "request_supplement", "comment"]), "at": GOOD_TIMES},
    optional={"note": st.one_of(st.none(), GOOD_TEXT), "public_note": st.one_of(st.none(), GOOD_TEXT),
              "handler": GOOD_TEXT, "reason": GOOD_TEXT, "to_agency_code": st.sampled_from(["000.00.01.H57", None]),
              "result": st.sampled_from(["approved", "denied", None]), "new_appointment_at": GOOD_TIMES,
              "digitized": st.booleans(), "online": st.booleans(), "electronic_result": st.booleans()})
LEVELS = st.sampled_from(["very_satisfied", "satisfied", "dissatisfied"])
evaluations = st.one_of(st.none(), st.fixed_dictionaries(
    {"overall": LEVELS, "first_given_at": GOOD_TIMES, "given_at": GOOD_TIMES},
    optional={"criteria": st.dictionaries(st.sampled_from(["thai_do", "thoi_gian", "x" * 32, "y" * 33]), LEVELS,
                                          max_size=3),
              "comment": st.one_of(st.none(), GOOD_TEXT)}))
time_limits = st.fixed_dictionaries({"value": st.integers(1, 3650),
                                     "unit": st.sampled_from(["working_days", "working_hours"])})
valid_records = st.fixed_dictionaries(
    {"code": st.sampled_from(["000.00.01.H57-250124-0001", "OLD/2024/17", "abc"]),
     "procedure_code": st.sampled_from(["1.000001", "2.000815"]),
     "channel": st.sampled_from(["direct", "online", "postal"]),
     "applicant": applicants, "agency_code": st.sampled_from(["000.00.01.H57", "X"])},
    optional={"type": st.just("dossier"), "status": st.sampled_from(["accepted", "registered"]),
              "note": st.one_of(st.none(), GOOD_TEXT), "accepted_at": st.one_of(st.none(), GOOD_TIMES),
              "submitted_at": st.one_of(st.none(), GOOD_TIMES), "time_limit": time_limits,
              "steps": st.lists(steps, max_size=4), "digitized": st.booleans(), "paid_online": st.booleans(),
              "online_level": st.sampled_from(["full", "partial", "none"]), "evaluation": evaluations})
PATHS = [("code",), ("procedure_code",), ("channel",), ("applicant",), ("agency_code",), ("status",), ("note",),
         ("accepted_at",), ("submitted_at",), ("time_limit",), ("time_limit", "value"), ("time_limit", "unit"),
         ("time_limit", "colour"), ("steps",), ("applicant", "name"), ("applicant", "id_number"),
         ("applicant", "phone"), ("applicant", "email"), ("applicant", "address"), ("applicant", "nickname"), ("colour",),
         ("steps", 0, "action"), ("steps", 0, "at"), ("steps", 0, "result"), ("steps", 0, "handler"),
         ("steps", 0, "new_appointment_at"), ("steps", 0, "colour"), ("digitized",), ("paid_online",),
         ("online_level",), ("steps", 0, "digitized"), ("steps", 0, "online"), ("steps", 0, "electronic_result"),
         ("evaluation",), ("evaluation", "overall"), ("evaluation", "criteria"), ("evaluation", "comment"),
         ("evaluation", "first_given_at"), ("evaluation", "given_at"), ("evaluation", "colour"),
         ("evaluation", "criteria", "thai_do")]


@st.composite
def records(draw):
    """A valid record, often with one value spoiled."""
    record = draw(valid_records)
    if draw(st.booleans()):
        path = draw(st.sampled_from(PATHS))
        target = record
        for key in path[:-1]:
            if isinstance(target, dict) and key in target or isinstance(target, list) and len(target) > key:
                target = target[key]
            else:
                return record
        if isinstance(target, dict):
            target[path[-1]] = draw(st.one_of(BAD, BAD_TIMES))
    return record


def schema_answer(record):
    try:
        return dossier_loader.load(record)
    except ma.ValidationError:
        return "invalid"


@settings(max_examples=600, deadline=None)
@given(records())
def test_fast_path_agrees_with_the_schema(record):
    fast = load_dossier(record)
    if fast is not None:
        assert fast == schema_answer(record)


def test_fast_path_takes_an_ordinary_record():
    record = {"type": "dossier", "code": "000.00.01.H57-250124-0001", "procedure_code": "1.000001",
              "channel": "direct", "agency_code": "000.00.01.H57", "accepted_at": "2025-01-24T10:00:00+07:00",
              "applicant": {"name": "Nguye\u0302\u0303n Văn An", "id_number": "0461 9500 1122", "phone": "0934.555.666"},
              "steps": [{"action": "process", "at": "2025-01-24T11:00:00+07:00", "public_note": "Đang xử lý"}]}
    fast = load_dossier(record)
    assert fast is not None
    assert fast == dossier_loader.load(record)
    assert fast["applicant"] == {"name": "Nguyễn Văn An", "id_number": "046195001122", "phone": "0934555666"}


def test_fast_path_leaves_implausible_times_to_the_schema():
    """Times outside 2000-2099 are refused by the schema; the fast path must not let them through."""
    base = {"type": "dossier", "code": "000.00.01.H57-250124-0001", "procedure_code": "1.000001",
            "channel": "direct", "agency_code": "000.00.01.H57", "accepted_at": "2025-01-24T10:00:00+07:00",
            "applicant": {"name": "An"}, "steps": [{"action": "process", "at": "2025-01-24T11:00:00+07:00"}]}
    for far in FAR_TIMES[:4]:
        for spoil in (lambda r: r.update(accepted_at=far), lambda r: r.update(submitted_at=far),
                      lambda r: r["steps"][0].update(at=far),
                      lambda r: r["steps"][0].update(new_appointment_at=far)):
            record = {**base, "steps": [dict(base["steps"][0])]}
            spoil(record)
            assert schema_answer(record) == "invalid", record
            assert load_dossier(record) is None, record


def test_fast_path_takes_an_evaluated_record():
    """Exported dossiers carry their evaluation; the fast path takes it as the schema does."""
    record = {"type": "dossier", "code": "OLD/2024/17", "procedure_code": "1.000001", "channel": "online",
              "agency_code": "X", "accepted_at": "2025-01-24T10:00:00+07:00", "applicant": {"name": "An"},
              "steps": [{"action": "complete", "at": "2025-01-25T10:00:00+07:00", "result": "approved"}],
              "evaluation": {"overall": "satisfied", "first_given_at": "2025-01-26T09:00:00+07:00",
                             "given_at": "2025-01-26T09:00:00+07:00"}}
    fast = load_dossier(record)
    assert fast is not None and fast == dossier_loader.load(record)
    assert fast["evaluation"]["criteria"] == {}
    for spoiled in ({**record["evaluation"], "overall": "happy"}, {**record["evaluation"], "criteria": None},
                    {**record["evaluation"], "criteria": {"k" * 33: "satisfied"}}, {"overall": "satisfied"},
                    {**record["evaluation"], "given_at": "2025-01-26"}, {**record["evaluation"], "comment": 5}):
        assert schema_answer({**record, "evaluation": spoiled}) == "invalid", spoiled
        assert load_dossier({**record, "evaluation": spoiled}) is None, spoiled


def test_fast_path_takes_the_time_limit_a_dossier_was_accepted_with():
    record = {"type": "dossier", "code": "OLD/2024/17", "procedure_code": "1.000001", "channel": "postal",
              "agency_code": "X", "accepted_at": "2025-01-24T10:00:00+07:00", "applicant": {"name": "An"},
              "time_limit": {"value": 10, "unit": "working_days"}}
    assert load_dossier(record) == dossier_loader.load(record)
    assert load_dossier(record)["time_limit"] == {"value": 10, "unit": "working_days"}
    for spoiled in ({"value": True, "unit": "working_days"}, {"value": "10", "unit": "working_days"},
                    {"value": 10.0, "unit": "working_days"}, {"value": 0, "unit": "working_days"},
                    {"value": 10, "unit": "days"}, {"value": 10}, {"value": 10, "unit": "working_days", "x": 1}):
        fast = load_dossier({**record, "time_limit": spoiled})
        assert fast is None or fast == schema_answer({**record, "time_limit": spoiled}), spoiled
