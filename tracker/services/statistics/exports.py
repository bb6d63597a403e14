"""The II.06a table of a report, and that table as CSV and as an Excel workbook (reproducible bytes)."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from tracker.domain import statistics as rules_of
from tracker.domain.statuses import normalize_language

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

GROUP_HEADERS = {
    None: ("Phạm vi", "Scope"), "agency": ("Cơ quan, đơn vị", "Agency"),
    "procedure": ("Thủ tục hành chính", "Procedure"), "field": ("Lĩnh vực", "Field"),
    "month": ("Tháng", "Month"), "channel": ("Kênh nộp hồ sơ", "Channel"),
    "online_level": ("Mức độ dịch vụ trực tuyến", "Online service level"),
}
TOTAL_LABEL = {"vi": "Tổng cộng", "en": "Total"}


def _value(counters: dict, path: str):
    value = counters
    for part in path.split("."):
        value = value[part]
    return value


def table(body: dict, lang: str) -> tuple[list[str], list[list]]:
    """The II.06a table of a report: headers and rows (groups, then the totals row).

    Rates stay fractions and mean days stay numbers; formats decide how to print them.
    """
    english = normalize_language(lang) == "en"
    group_header = GROUP_HEADERS.get(body["filters"]["group_by"], GROUP_HEADERS[None])[english]
    headers = ["STT" if not english else "No.", "Mã" if not english else "Code", group_header]
    headers += [en if english else vi for _path, vi, en, _kind in rules_of.II06A_COLUMNS]
    rows = []
    for number, group in enumerate(body["groups"], start=1):
        rows.append([number, group["key"], group["name"],
                     *[_value(group, path) for path, *_ in rules_of.II06A_COLUMNS]])
    rows.append(["", "", TOTAL_LABEL["en" if english else "vi"],
                 *[_value(body["totals"], path) for path, *_ in rules_of.II06A_COLUMNS]])
    return headers, rows


def _csv_cell(value, kind: str | None):
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "days":
        return f"{value:.2f}"
    return value


def filename(body: dict, extension: str) -> str:
    """The download's name: the period's first and last day."""
    period = body["period"]
    return f"thong-ke-{period['from']}_{period['to']}.{extension}"


def _kinds() -> list[str | None]:
    return [None, None, None] + [kind for *_, kind in rules_of.II06A_COLUMNS]


def csv_bytes(body: dict, lang: str) -> bytes:
    """The II.06a table as UTF-8 CSV with a byte-order mark (so that Excel reads the Vietnamese)."""
    headers, rows = table(body, lang)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, _kinds())])
    return out.getvalue().encode("utf-8")


def workbook(body: dict, lang: str) -> bytes:
    """An .xlsx file: the II.06a table on the first sheet, the period and filters on the second."""
    english = normalize_language(lang) == "en"
    headers, rows = table(body, lang)
    kinds = _kinds()
    book = Workbook()
    sheet = book.active
    sheet.title = "II.06a"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(row)
        for cell, kind in zip(sheet[sheet.max_row], kinds):
            if kind == "rate":
                cell.number_format = "0.00%"
            elif kind == "days":
                cell.number_format = "0.00"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    for index in range(1, len(headers) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 40 if index == 3 else 14
    about = book.create_sheet("Kỳ báo cáo" if not english else "Period")
    period, filters = body["period"], body["filters"]
    about.append(["Từ ngày" if not english else "From", date.fromisoformat(period["from"])])
    about.append(["Đến ngày" if not english else "To", date.fromisoformat(period["to"])])
    for key, value in filters.items():
        about.append([key, value if value is not None else ""])
    for row in about.iter_rows(min_row=1, max_row=2, min_col=2, max_col=2):
        row[0].number_format = "dd/mm/yyyy"
    # A fixed creation time: the same figures give the same file.
    book.properties.created = book.properties.modified = datetime(2000, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return _without_timestamps(out.getvalue())


def _without_timestamps(data: bytes) -> bytes:
    """The same archive with every member dated 2000-01-01, so the file (and its ETag) is reproducible.

    The zip format stamps each member with the time it was written, and openpyxl
    stamps the document's "modified" property with the time of saving; two requests
    a second apart would otherwise give different bytes for the same figures.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            fixed = zipfile.ZipInfo(member.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(member.filename)
            if member.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            target.writestr(fixed, content)
    return out.getvalue()
