"""Tests of dossier codes and applicant data helpers (normalisation, masking, validation)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.codes import (
    AGENCY_CODE_RE,
    MAX_DOSSIER_NUMBER,
    dossier_code,
    is_agency_code,
    normalize_dossier_code,
    parse_dossier_code,
)
from tracker.domain.people import (
    fold,
    id_matches,
    mask_name,
    mask_secret,
    nfc,
    normalize_phone,
    phone_matches,
    validate_email,
    validate_id_number,
    validate_phone,
)

# ---------------------------------------------------------------- agency and dossier codes

agency_codes = st.from_regex(r"\A[0-9A-Z.]{3,32}\Z", fullmatch=True)
code_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
numbers = st.integers(min_value=1, max_value=MAX_DOSSIER_NUMBER)


def test_agency_code_pattern() -> None:
    """Agency codes follow [0-9A-Z.]{3,32} exactly, nothing else."""
    assert AGENCY_CODE_RE == r"^[0-9A-Z.]{3,32}$"
    for good in ["000.00.00.H57", "H57", "A" * 32, "000.00.31.H57"]:
        assert is_agency_code(good), good
    for bad in ["", "AB", "A" * 33, "h57", "H57\n", "H 57", "H-57", "H57_", "١٢٣", None]:
        assert not is_agency_code(bad), bad  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "000.00.00.H57-250124-0001"),
        (42, "000.00.00.H57-250124-0042"),
        (9999, "000.00.00.H57-250124-9999"),
        (10000, "000.00.00.H57-250124-10000"),
        (123456, "000.00.00.H57-250124-123456"),
    ],
)
def test_dossier_code_format(number: int, expected: str) -> None:
    """Counters have four digits at least, more after 9999."""
    assert dossier_code("000.00.00.H57", date(2025, 1, 24), number) == expected


def test_dossier_code_date_part() -> None:
    """The date part is yyMMdd."""
    assert dossier_code("H57", date(2026, 12, 3), 7) == "H57-261203-0007"
    assert dossier_code("H57", date(2000, 1, 1), 1) == "H57-000101-0001"


@pytest.mark.parametrize(
    ("agency", "day", "number"),
    [
        ("H57", date(2025, 1, 1), 0),
        ("H57", date(2025, 1, 1), -1),
        ("H57", date(2025, 1, 1), True),
        ("H57", date(2025, 1, 1), 1.0),
        ("H57", date(2025, 1, 1), MAX_DOSSIER_NUMBER + 1),
        ("h57", date(2025, 1, 1), 1),
        ("H5", date(2025, 1, 1), 1),
        ("H-57", date(2025, 1, 1), 1),
        ("H57", date(1999, 12, 31), 1),
        ("H57", date(2100, 1, 1), 1),
    ],
)
def test_dossier_code_rejects_bad_input(agency: str, day: date, number: int) -> None:
    """Malformed agency codes, counters and unrepresentable years are refused."""
    with pytest.raises(ValueError):
        dossier_code(agency, day, number)


def test_normalize_dossier_code() -> None:
    """Typed codes are stripped and upper-cased; a canonical code is left as it is."""
    assert normalize_dossier_code(" abc-250101-0001 ") == "ABC-250101-0001"
    assert normalize_dossier_code("\t000.00.00.h57-250124-0001\n") == "000.00.00.H57-250124-0001"
    assert normalize_dossier_code("ABC-250101-0001") == "ABC-250101-0001"


def test_parse_dossier_code_examples() -> None:
    """Well-formed codes parse, in any case and with surrounding spaces."""
    assert parse_dossier_code("000.00.00.H57-250124-0001") == ("000.00.00.H57", date(2025, 1, 24), 1)
    assert parse_dossier_code(" abc-250101-0042 ") == ("ABC", date(2025, 1, 1), 42)
    assert parse_dossier_code("H57-250124-10000") == ("H57", date(2025, 1, 24), 10000)
    # As people type them: a space before a dash, full-width digits, a space for a dash.
    assert parse_dossier_code("H57 -250124-0001") == ("H57", date(2025, 1, 24), 1)
    assert parse_dossier_code("H57-２５0124-0001") == ("H57", date(2025, 1, 24), 1)
    assert parse_dossier_code("h57 250124 0001") == ("H57", date(2025, 1, 24), 1)


@pytest.mark.parametrize("typed", [
    "000.00.00.H57–250124–0001",  # en dashes
    "000.00.00.H57—250124—0001",  # em dashes
    "000.00.00.H57‐250124‑0001",  # hyphen, non-breaking hyphen
    "000.00.00.H57−250124﹣0001",  # minus sign, small hyphen-minus
    "000.00.00.H57－250124－0001",  # full-width hyphen-minus
    "０００.００.００.ｈ５７-２５０１２４-０００１",  # full-width letters and digits
    "000.00.00.H57 - 250124 - 0001",  # spaces around the dashes
    "000.00.00.H57 250124  0001",  # spaces for dashes
    "000.00.00.H57\u00a0–\u00a0250124\u30000001",  # no-break and ideographic spaces
    "\u200b000.00.00.H57-\u200c250124\u200d-\u20600001\ufeff",  # invisible characters
    "\ufeff  000.00.00.h57 — 250124 - 0001 \u200b",
])
def test_codes_as_people_type_them(typed: str) -> None:
    assert normalize_dossier_code(typed) == "000.00.00.H57-250124-0001"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "H57",
        "H57-250124",
        "H57-250124-001",  # too few digits
        "H57-250124-0000",  # counters start at 1
        "H57-250124-00001",  # not the canonical spelling of 1
        "H57-250230-0001",  # 30 February
        "H57-251301-0001",  # month 13
        "H57-25012-0001",
        "H57-2501245-0001",
        "H5-250124-0001",  # agency code too short
        "H_57-250124-0001",
        "H57-250124-0001-1",
        "H57-250124-0001\nx",
        "H57-250124-0001 1",  # a space is read as a dash: four parts
        "H57-250124-0​001 x",
        "H57-250124-" + "9" * 5000,  # hostile length
        None,
    ],
)
def test_parse_dossier_code_rejects(bad: str) -> None:
    """Malformed codes parse to None."""
    assert parse_dossier_code(bad) is None


@given(agency_codes, code_days, numbers)
def test_parse_round_trip(agency: str, day: date, number: int) -> None:
    """Formatting then parsing gives back the parts, and the reverse."""
    code = dossier_code(agency, day, number)
    assert parse_dossier_code(code) == (agency, day, number)
    assert parse_dossier_code(f"  {code.lower()} ") == (agency, day, number)
    assert dossier_code(*parse_dossier_code(code)) == code  # type: ignore[misc]


@given(st.text(max_size=60))
def test_parse_never_fails_and_is_canonical(text: str) -> None:
    """Parsing arbitrary text never fails; what parses is canonical."""
    parsed = parse_dossier_code(text)
    if parsed is not None:
        assert dossier_code(*parsed) == normalize_dossier_code(text)


# ---------------------------------------------------------------- names

def test_nfc() -> None:
    """nfc composes decomposed text and strips it."""
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert decomposed != "Nguyễn Văn An"
    assert nfc(f"  {decomposed}\n") == "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nguyễn Văn An", "nguyen van an"),
        ("ĐẶNG THỊ", "dang thi"),
        ("ĐẶNG", "dang"),
        ("đỗ  Đức   Hưng ", "do duc hung"),
        ("Trương Ngọc Ánh", "truong ngoc anh"),
        ("Phạm Thị Kiểm", "pham thi kiem"),
        ("Lê\tVĩnh\nỞ", "le vinh o"),
        ("", ""),
    ],
)
def test_fold_examples(text: str, expected: str) -> None:
    """fold removes case, diacritics and extra spaces, from NFC or NFD input."""
    assert fold(text) == expected
    assert fold(unicodedata.normalize("NFD", text)) == expected


def test_fold_decomposed_input() -> None:
    """Decomposed (NFD) input folds like precomposed input."""
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert len(nfd) > len("Nguyễn Văn An")
    assert fold(nfd) == "nguyen van an"


@given(st.text(max_size=40))
def test_fold_is_idempotent_and_ignores_normal_form(text: str) -> None:
    """fold is idempotent and independent of the normal form."""
    key = fold(text)
    assert fold(key) == key
    assert fold(unicodedata.normalize("NFD", text)) == key
    assert "đ" not in key and "  " not in key and key == key.strip()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Phạm Thị Kiểm", "P*** T** K***"),
        ("Nguyễn Văn An", "N***** V** A*"),
        ("  Lê   Ý  ", "L* Ý"),
        ("An", "A*"),
        ("Ý", "Ý"),
        ("", ""),
    ],
)
def test_mask_name_examples(name: str, expected: str) -> None:
    """Each word keeps its first letter; lengths are counted after NFC."""
    assert mask_name(name) == expected
    assert mask_name(unicodedata.normalize("NFD", name)) == expected


vietnamese_letters = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
letters = st.sampled_from(vietnamese_letters + vietnamese_letters.upper()) | st.characters(
    categories=("Lu", "Ll")
)
words = st.text(alphabet=letters, min_size=1, max_size=12)
names = st.lists(words, min_size=1, max_size=6).map(" ".join)


@given(names, st.booleans())
def test_mask_name_properties(name: str, decompose: bool) -> None:
    """Masked length equals the NFC length; first letters are kept, the rest are stars."""
    typed = unicodedata.normalize("NFD", name) if decompose else name
    masked = mask_name(typed)
    reference = nfc(name)
    assert len(masked) == len(reference)
    assert [w[0] for w in masked.split(" ")] == [w[0] for w in reference.split(" ")]
    assert all(set(w[1:]) <= {"*"} for w in masked.split(" "))


# ---------------------------------------------------------------- validators

@pytest.mark.parametrize("good", ["046195001122", "123456789", "046 195 001 122", " 123456789 "])
def test_validate_id_number_good(good: str) -> None:
    """9 or 12 digits, optionally in space-separated groups, are valid."""
    assert validate_id_number(good) is None


@pytest.mark.parametrize(
    "bad",
    ["", "12345678", "1234567890", "12345678901", "0461950011223", "04619500112a",
     "０４６１９５００１１２２", "046-195-001-122", None, 46195001122],
)
def test_validate_id_number_bad(bad: object) -> None:
    """Other lengths, letters, other digit scripts and non-strings are refused."""
    message = validate_id_number(bad)
    assert isinstance(message, str) and message


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("+84912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        (" +84-912.345 678 ", "+84912345678"),
    ],
)
def test_validate_phone_good(raw: str, normalized: str) -> None:
    """National and +84 numbers with separators are valid and normalised."""
    assert validate_phone(raw) is None
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize(
    "bad",
    ["", "091234567", "09123456789", "1912345678", "+8491234567", "+849123456789",
     "84912345678", "+840912345678", "+1 912345678", "0912/345/678", "09123a5678",
     "０９１２３４５６７８", None, 912345678],
)
def test_validate_phone_bad(bad: object) -> None:
    """Wrong lengths, prefixes and characters are refused."""
    message = validate_phone(bad)
    assert isinstance(message, str) and message


@pytest.mark.parametrize(
    "good", ["an@example.vn", "nguyen.van.an+hs@dichvucong.gov.vn", "a@b.co", "x@" + "a" * 240 + ".vn"]
)
def test_validate_email_good(good: str) -> None:
    """Plausible addresses pass."""
    assert validate_email(good) is None


@pytest.mark.parametrize(
    "bad",
    ["", "an", "an@", "@example.vn", "an@example", "an@@example.vn", "a@b@example.vn",
     "an @example.vn", "an@exa mple.vn", "an@example.vn ", "an@.vn", "an@example.",
     "an@example..vn", "x@" + "a" * 250 + ".vn", None],
)
def test_validate_email_bad(bad: object) -> None:
    """Addresses breaking the pragmatic rules are refused."""
    message = validate_email(bad)
    assert isinstance(message, str) and message


# ---------------------------------------------------------------- secrets and matching

def test_mask_secret() -> None:
    """Secrets keep their last 3 characters; short ones are fully masked."""
    assert mask_secret("046195001122") == "*********122"
    assert mask_secret("0912345678") == "*******678"
    assert mask_secret("abcd") == "*bcd"
    assert mask_secret("abc") == "***"
    assert mask_secret("") == ""
    assert mask_secret(None) is None


@given(st.text(min_size=4, max_size=40))
def test_mask_secret_property(secret: str) -> None:
    """Masking keeps the length and the last 3 characters only."""
    masked = mask_secret(secret)
    assert masked is not None
    assert len(masked) == len(secret)
    assert masked.endswith(secret[-3:])
    assert masked[:-3] == "*" * (len(secret) - 3)


@pytest.mark.parametrize(
    ("given_phone", "stored"),
    [
        ("0912345678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("0912345678", "+84912345678"),
        ("+84 912 345 678", "0912.345.678"),
        (" 0912-345-678 ", "+84912345678"),
    ],
)
def test_phone_matches(given_phone: str, stored: str) -> None:
    """Numbers match across +84/0 forms and separators."""
    assert phone_matches(given_phone, stored)


@pytest.mark.parametrize(
    ("given_phone", "stored"),
    [
        ("0912345679", "0912345678"),
        ("+84912345679", "0912345678"),
        ("", ""),
        ("", "0912345678"),
        ("abc", "abc"),
        ("Đ", "Đ"),  # non-ASCII must not crash hmac.compare_digest
        ("0912345678", None),
    ],
)
def test_phone_does_not_match(given_phone: str, stored: str) -> None:
    """Different, empty, invalid or missing numbers never match."""
    assert not phone_matches(given_phone, stored)


@given(st.from_regex(r"\A[0-9]{9}\Z", fullmatch=True), st.booleans(), st.booleans())
def test_phone_matches_across_forms(subscriber: str, given_intl: bool, stored_intl: bool) -> None:
    """Any subscriber matches itself in every spelling, and not its neighbour."""
    def spell(international: bool) -> str:
        """Spell the subscriber number in national or international form, with separators."""
        return ("+84 " if international else "0") + f"{subscriber[:3]} {subscriber[3:6]}.{subscriber[6:]}"

    assert phone_matches(spell(given_intl), spell(stored_intl))
    other = f"{(int(subscriber) + 1) % 10**9:09d}"
    assert not phone_matches("0" + other, spell(stored_intl))


def test_id_matches() -> None:
    """ID numbers match ignoring spaces; empty or different ones do not."""
    assert id_matches("046195001122", "046195001122")
    assert id_matches(" 046 195 001 122 ", "046195001122")
    assert not id_matches("046195001123", "046195001122")
    assert not id_matches("", "")
    assert not id_matches("   ", "")
    assert not id_matches("046195001122", None)  # type: ignore[arg-type]
    assert not id_matches("Đ46195001122", "046195001122")
