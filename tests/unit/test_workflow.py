"""Tests of the status list, labels, language choice and the dossier state machine.

The expected transitions are the hand-written table of ``tests/action_table.py``, kept
independently of ``tracker.domain.workflow.RULES``, so that a typo in either shows up as a failure.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.action_table import TABLE
from tracker.domain.statuses import (
    CHANNEL_CODES,
    STATUS_CODES,
    Channel,
    Status,
    pick_language,
    status_label,
)
from tracker.domain.workflow import (
    ACTION_LABELS,
    CLOSED,
    FINISHED,
    PAUSING_ACTIONS,
    RESUMING_ACTIONS,
    RULES,
    Action,
    MissingFields,
    TransitionRefused,
    allowed_actions,
    next_status,
)

ALL_STATUSES = [
    "registered",
    "accepted",
    "not_accepted",
    "processing",
    "supplement_requested",
    "payment_requested",
    "withdrawn",
    "stopped",
    "done",
    "returned",
]
ALL_ACTIONS = [
    "accept",
    "refuse_intake",
    "process",
    "request_supplement",
    "receive_supplement",
    "request_payment",
    "receive_payment",
    "complete",
    "stop",
    "withdraw",
    "return_result",
    "apologize",
    "comment",
]
# action -> (source statuses, or None for any; target, or None for unchanged), by hand from docs/rules.md.
EXPECTED_TABLE = TABLE

# Fields that satisfy every action's requirements, so the transition test sees only transitions.
VALID_FIELDS: dict[str, dict[str, object]] = {
    "accept": {},
    "refuse_intake": {"reason": "Thiếu giấy tờ"},
    "process": {},
    "request_supplement": {"reason": "Thiếu bản sao CCCD"},
    "receive_supplement": {},
    "request_payment": {},
    "receive_payment": {},
    "complete": {"result": "approved"},
    "stop": {"reason": "Không đủ điều kiện"},
    "withdraw": {},
    "return_result": {},
    "apologize": {"reason": "Chậm thẩm định", "new_appointment_at": "2025-03-01T17:00:00+07:00"},
    "comment": {"note": "Đã gọi điện cho công dân"},
}


def expected_allowed(status: str) -> list[str]:
    """Allowed actions for ``status`` per the literal table, in table order."""
    return [
        action
        for action, (sources, _target) in EXPECTED_TABLE.items()
        if sources is None or status in sources
    ]


def test_enumerations_match_the_rule_book() -> None:
    """Status and Action values, and the RULES order, are those of docs/rules.md."""
    assert [s.value for s in Status] == ALL_STATUSES
    assert [a.value for a in Action] == ALL_ACTIONS
    assert list(RULES) == [Action(a) for a in ALL_ACTIONS]
    assert list(EXPECTED_TABLE) == ALL_ACTIONS


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_every_action_status_pair(action: str, status: str) -> None:
    """Each of the 13 x 10 pairs is allowed with the right target, or refused with the allowed list."""
    sources, target = EXPECTED_TABLE[action]
    if sources is None or status in sources:
        expected = status if target is None else target
        result = next_status(status, action, VALID_FIELDS[action])
        assert result == expected
        assert type(result) is str  # plain str, not the enum, so JSON and DB layers see a str
        assert action in allowed_actions(status)
    else:
        with pytest.raises(TransitionRefused) as info:
            next_status(status, action, VALID_FIELDS[action])
        assert info.value.action == action
        assert info.value.status == status
        assert info.value.allowed == allowed_actions(status)
        assert info.value.allowed == expected_allowed(status)
        assert action not in info.value.allowed


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_allowed_actions_in_table_order(status: str) -> None:
    """allowed_actions follows the literal table, in table order, as plain strings."""
    assert allowed_actions(status) == expected_allowed(status)
    assert all(type(a) is str for a in allowed_actions(status))


def test_transition_is_checked_before_fields() -> None:
    # A refused transition must say so even if fields are missing too: 409 beats 422.
    """A refused transition wins over missing fields (409 before 422)."""
    with pytest.raises(TransitionRefused):
        next_status("processing", "refuse_intake", {})
    with pytest.raises(TransitionRefused):
        next_status("returned", "complete", {"result": "maybe"})


def test_unknown_action_or_status_is_a_value_error() -> None:
    """Unknown actions and statuses are ValueErrors, distinct from refusals."""
    with pytest.raises(ValueError):
        next_status("processing", "teleport", {})
    with pytest.raises(ValueError):
        next_status("lost", "comment", {"note": "x"})
    with pytest.raises(ValueError):
        allowed_actions("lost")
    # TransitionRefused must not be a ValueError, or callers could not tell 409 from 400.
    assert not issubclass(TransitionRefused, ValueError)


REQUIRED_CASES = [
    ("refuse_intake", "registered", ["reason"]),
    ("request_supplement", "accepted", ["reason"]),
    ("request_supplement", "processing", ["reason"]),
    ("complete", "processing", ["result"]),
    ("stop", "payment_requested", ["reason"]),
    ("apologize", "processing", ["reason", "new_appointment_at"]),
]
BLANKS = [None, "", "   ", "\t\n"]


@pytest.mark.parametrize(("action", "status", "required"), REQUIRED_CASES)
def test_required_fields_absent(action: str, status: str, required: list[str]) -> None:
    """Absent required fields are all reported, each with a message."""
    with pytest.raises(MissingFields) as info:
        next_status(status, action, {})
    assert sorted(info.value.errors) == sorted(required)
    for messages in info.value.errors.values():
        assert messages and all(isinstance(m, str) and m for m in messages)


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize(("action", "status", "required"), REQUIRED_CASES)
def test_required_fields_blank(action: str, status: str, required: list[str], blank: object) -> None:
    """None and whitespace-only strings count as missing."""
    for field in required:
        fields = dict(VALID_FIELDS[action])
        fields[field] = blank
        with pytest.raises(MissingFields) as info:
            next_status(status, action, fields)
        assert list(info.value.errors) == [field]


@pytest.mark.parametrize(("action", "status", "required"), REQUIRED_CASES)
def test_required_fields_present(action: str, status: str, required: list[str]) -> None:
    """Giving exactly the required fields is enough."""
    fields = {name: VALID_FIELDS[action][name] for name in required}
    expected_target = EXPECTED_TABLE[action][1]
    expected = status if expected_target is None else expected_target
    assert next_status(status, action, fields) == expected


@pytest.mark.parametrize("action", ["accept", "process", "withdraw", "receive_supplement"])
def test_actions_without_required_fields_accept_empty_input(action: str) -> None:
    """Actions without required fields need no input."""
    status = sorted(EXPECTED_TABLE[action][0])[0]
    assert next_status(status, action, {}) == EXPECTED_TABLE[action][1]


def test_complete_result_values() -> None:
    """complete accepts only approved/denied and names them when refusing."""
    assert next_status("processing", "complete", {"result": "approved"}) == "done"
    assert next_status("processing", "complete", {"result": "denied"}) == "done"
    for bad in ["ok", "Approved", "APPROVED", 1, True, ["approved"]]:
        with pytest.raises(MissingFields) as info:
            next_status("processing", "complete", {"result": bad})
        assert list(info.value.errors) == ["result"]
        message = " ".join(info.value.errors["result"])
        assert "approved" in message and "denied" in message


def test_comment_needs_note_or_public_note() -> None:
    """comment is allowed anywhere but needs a note or a public note."""
    for status in ALL_STATUSES:
        assert next_status(status, "comment", {"note": "nội bộ"}) == status
        assert next_status(status, "comment", {"public_note": "Hồ sơ đang thẩm định"}) == status
        assert next_status(status, "comment", {"note": "a", "public_note": " "}) == status
    for fields in [{}, {"note": None}, {"note": " ", "public_note": ""}, {"reason": "x"}]:
        with pytest.raises(MissingFields) as info:
            next_status("processing", "comment", fields)
        assert set(info.value.errors) == {"note", "public_note"}


def test_rule_objects_describe_required_fields() -> None:
    """Rule objects expose the required fields of the table."""
    assert RULES[Action.REFUSE_INTAKE].required == ("reason",)
    assert RULES[Action.REQUEST_SUPPLEMENT].required == ("reason",)
    assert RULES[Action.COMPLETE].required == ("result",)
    assert RULES[Action.STOP].required == ("reason",)
    assert set(RULES[Action.APOLOGIZE].required) == {"reason", "new_appointment_at"}
    assert set(RULES[Action.COMMENT].required_any) == {"note", "public_note"}
    assert RULES[Action.COMMENT].sources is None
    assert RULES[Action.COMMENT].target is None
    assert RULES[Action.APOLOGIZE].target is None
    for action in ["accept", "process", "receive_supplement", "request_payment",
                   "receive_payment", "withdraw", "return_result"]:
        assert RULES[Action(action)].required == ()


def test_status_groups() -> None:
    """Pausing/resuming actions and finished/closed statuses match the table."""
    assert PAUSING_ACTIONS == {"request_supplement", "request_payment"}
    assert RESUMING_ACTIONS == {"receive_supplement", "receive_payment"}
    assert FINISHED == {"done", "returned", "stopped"}
    assert CLOSED == {"not_accepted", "withdrawn", "stopped", "returned"}
    for status in CLOSED:
        assert allowed_actions(status) == ["comment"]


@given(
    st.sampled_from(ALL_STATUSES),
    st.lists(st.sampled_from(ALL_ACTIONS), max_size=30),
)
def test_random_walks_stay_on_the_table(start: str, actions: list[str]) -> None:
    """Any sequence of actions follows the literal table; closed statuses never change."""
    status = start
    for action in actions:
        sources, target = EXPECTED_TABLE[action]
        if sources is None or status in sources:
            new = next_status(status, action, VALID_FIELDS[action])
            assert new == (status if target is None else target)
            status = new
        else:
            with pytest.raises(TransitionRefused):
                next_status(status, action, VALID_FIELDS[action])
        # A closed dossier never leaves its status.
        if start in CLOSED:
            assert status == start


EXPECTED_LABELS = {
    "registered": ("Mới đăng ký", "Submitted, awaiting acceptance"),
    "accepted": ("Đã tiếp nhận", "Accepted"),
    "not_accepted": ("Không được tiếp nhận", "Not accepted"),
    "processing": ("Đang xử lý", "Processing"),
    "supplement_requested": ("Yêu cầu bổ sung hồ sơ", "Additional documents requested"),
    "payment_requested": (
        "Yêu cầu thực hiện nghĩa vụ tài chính",
        "Payment of fees/obligations requested",
    ),
    "withdrawn": ("Công dân yêu cầu rút hồ sơ", "Withdrawn at the applicant's request"),
    "stopped": ("Dừng xử lý", "Processing stopped"),
    "done": ("Đã xử lý xong", "Processing done, result ready"),
    "returned": ("Đã trả kết quả", "Result handed over"),
}


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_status_labels(status: str) -> None:
    """Labels are exactly those of docs/rules.md, with Vietnamese as the fallback."""
    vi, en = EXPECTED_LABELS[status]
    assert status_label(status) == vi
    assert status_label(status, "vi") == vi
    assert status_label(status, "en") == en
    assert status_label(status, "en-US") == en
    assert status_label(status, "fr") == vi  # unknown language falls back to Vietnamese


def test_status_label_unknown_status() -> None:
    """An unknown status has no label."""
    with pytest.raises(ValueError):
        status_label("lost")


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_action_labels(action: str) -> None:
    """Every action has a Vietnamese and an English timeline label."""
    labels = ACTION_LABELS[Action(action)]
    assert set(labels) == {"vi", "en"}
    assert labels["vi"].strip() and labels["en"].strip()
    assert labels["vi"] != labels["en"]
    assert labels["en"].isascii()


def test_action_labels_are_distinct() -> None:
    """No two actions share a label, so the timeline is unambiguous."""
    assert len({labels["vi"] for labels in ACTION_LABELS.values()}) == len(ALL_ACTIONS)
    assert len({labels["en"] for labels in ACTION_LABELS.values()}) == len(ALL_ACTIONS)
    assert ACTION_LABELS[Action.ACCEPT] == {"vi": "Tiếp nhận hồ sơ", "en": "Dossier accepted"}


def test_status_codes() -> None:
    """Status codes are the national 1..10 in table order."""
    assert {str(s): c for s, c in STATUS_CODES.items()} == {
        status: index for index, status in enumerate(ALL_STATUSES, start=1)
    }
    assert sorted(STATUS_CODES.values()) == list(range(1, 11))


def test_channel_codes() -> None:
    """Channel codes are the national 1, 2, 3."""
    assert [c.value for c in Channel] == ["direct", "online", "postal"]
    assert CHANNEL_CODES == {Channel.DIRECT: 1, Channel.ONLINE: 2, Channel.POSTAL: 3}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "vi"),
        ("", "vi"),
        ("garbage;;;,,==", "vi"),
        ("*", "vi"),
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("en-US,en;q=0.9,vi;q=0.8", "en"),
        ("vi,en;q=0.5", "vi"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("en;q=0.5,vi;q=0.8", "vi"),
        ("vi;q=0.5,en;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("fr-FR,fr;q=0.9", "vi"),
        ("en;q=0", "vi"),
        ("en;q=0.000,vi;q=0.1", "vi"),
        ("en;q=abc", "vi"),
        ("en;q=2", "vi"),
        ("en, vi", "en"),
        ("vi, en", "vi"),
        ("en;q=0.8, vi;q=0.8", "en"),
        (" en-GB ; q=0.9 , vi ; q=0.3 ", "en"),
    ],
)
def test_pick_language(header: str | None, expected: str) -> None:
    """Accept-Language headers pick the preferred supported language."""
    assert pick_language(header) == expected


@given(st.text(max_size=200))
def test_pick_language_never_fails(header: str) -> None:
    """Any header gives vi or en, never an exception."""
    assert pick_language(header) in {"vi", "en"}
