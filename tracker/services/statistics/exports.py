"""The II.06a table of a report, and that table as CSV and as an Excel workbook (reproducible bytes).

The table has the form's two header rows: "Received", "Resolved" and "Pending" over
their columns, and the columns of no group (withdrawn, the rates, the mean days)
spanning both rows; the page (rowspan/colspan), the CSV (two header lines) and the
workbook (merged cells) show the same layout, and the page and the CSV the same
figures written the same way (:func:`cell_text`).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from tracker.domain import statistics as rules_of
from tracker.domain.statuses import channel_label, normalize_language

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

GROUP_HEADERS = {
    None: ("Phạm vi", "Scope"), "agency": ("Cơ quan, đơn vị", "Agency"),
    "procedure": ("Thủ tục hành chính", "Procedure"), "field": ("Lĩnh vực", "Field"),
    "month": ("Tháng", "Month"), "channel": ("Kênh nộp hồ sơ", "Channel"),
    "online_level": ("Mức độ dịch vụ trực tuyến", "Online service level"),
}
TOTAL_LABEL = {"vi": "Tổng cộng", "en": "Total"}
PERIOD_LABELS = {
    "from": ("Từ ngày", "From"), "to": ("Đến ngày", "To"), "agency": ("Cơ quan", "Agency"),
    "procedure": ("Thủ tục", "Procedure"), "field": ("Lĩnh vực", "Field"), "channel": ("Kênh", "Channel"),
    "group_by": ("Nhóm theo", "Grouped by"), "min_resolved": ("Số hồ sơ giải quyết tối thiểu", "Minimum resolved"),
}


def _value(counters: dict, path: str):
    value = counters
    for part in path.split("."):
        value = value[part]
    return value


@dataclass
class HeaderCell:
    """A cell of the table's two header rows (``rowspan`` 2 for a column of no group)."""

    label: str
    colspan: int = 1
    rowspan: int = 1
    key: str = ""


@dataclass
class Table:
    """The II.06a table: its two header rows, the full label of each column, the kinds, the rows."""

    top: list[HeaderCell]
    sub: list[HeaderCell]
    labels: list[str]
    kinds: list[str | None]
    rows: list[list] = field(default_factory=list)


def _kinds(columns) -> list[str | None]:
    return [None, None, None] + [kind for *_, kind in columns]


def _header(english: bool, group_header: str, columns) -> tuple[list[HeaderCell], list[HeaderCell], list[str]]:
    top = [HeaderCell(label, rowspan=2, key=key) for key, label in
           (("number", "No." if english else "STT"), ("code", "Code" if english else "Mã"), ("name", group_header))]
    sub: list[HeaderCell] = []
    labels = [cell.label for cell in top]
    for path, vi, en, _kind in columns:
        labels.append(en if english else vi)
        group = path.split(".")[0] if "." in path else None
        if group is None:
            top.append(HeaderCell(en if english else vi, rowspan=2, key=path))
            continue
        if top[-1].key != group:
            top.append(HeaderCell(rules_of.II06A_GROUPS[group][english], colspan=0, key=group))
        top[-1].colspan += 1
        sub.append(HeaderCell(rules_of.II06A_SHORT.get(path, (vi, en))[english], key=path))
    return top, sub, labels


def table(body: dict, lang: str, columns=rules_of.II06A_COLUMNS) -> Table:
    """The II.06a table of a report: two header rows, then the groups' rows and the totals row.

    ``columns`` are the II.06a form's (the dashboard), or ``SPREADSHEET_COLUMNS`` with the
    Decision 766 figures after them (the downloads). Rates stay fractions and mean days
    stay numbers; formats decide how to print them (:func:`cell_text` for text).
    """
    english = normalize_language(lang) == "en"
    group_header = GROUP_HEADERS.get(body["filters"]["group_by"], GROUP_HEADERS[None])[english]
    top, sub, labels = _header(english, group_header, columns)
    result = Table(top=top, sub=sub, labels=labels, kinds=_kinds(columns))
    for number, group in enumerate(body["groups"], start=1):
        result.rows.append([number, group["key"], group["name"],
                            *[_value(group, path) for path, *_ in columns]])
    result.rows.append(["", "", TOTAL_LABEL["en" if english else "vi"],
                        *[_value(body["totals"], path) for path, *_ in columns]])
    return result


def cell_text(value, kind: str | None, lang: str) -> str:
    """A cell as people read it, the same on the page and in the CSV.

    Counts with the language's thousands separator (1.234 / 1,234), rates as
    percentages with two decimals (83,33% / 83.33%), days with two decimals; a dash
    for a figure that does not exist (no dossier resolved).
    """
    vietnamese = normalize_language(lang) == "vi"
    if kind in ("count", "rate", "days") and value is None:
        return "–"
    if kind == "rate":
        text = f"{value * 100:.2f}%"
    elif kind == "days":
        text = f"{value:.2f}"
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
        return text.replace(",", ".") if vietnamese else text
    else:
        return "" if value is None else str(value)
    return text.replace(".", ",") if vietnamese else text


def header_lines(result: Table) -> list[list[str]]:
    """The two header rows as plain lines: a group's label over its first column, blanks under
    a column that spans both rows (the CSV's first two lines)."""
    first, second = [], []
    sub = iter(result.sub)
    for cell in result.top:
        first += [cell.label] + [""] * (cell.colspan - 1)
        second += [next(sub).label for _ in range(cell.colspan)] if cell.rowspan == 1 else [""]
    return [first, second]


def filename(body: dict, extension: str) -> str:
    """The download's name: the period's first and last day."""
    period = body["period"]
    return f"thong-ke-{period['from']}_{period['to']}.{extension}"


def csv_bytes(body: dict, lang: str) -> bytes:
    """The II.06a table as UTF-8 CSV with a byte-order mark (so that Excel reads the Vietnamese):
    two header lines (the groups, then their columns), the figures written as on the page."""
    result = table(body, lang, rules_of.SPREADSHEET_COLUMNS)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(header_lines(result))
    for row in result.rows:
        writer.writerow([cell_text(value, kind, lang) for value, kind in zip(row, result.kinds)])
    return out.getvalue().encode("utf-8")


def _filter_value(key: str, value, english: bool):
    if value is None:
        return ""
    if key == "channel":
        return channel_label(value, "en" if english else "vi")
    if key == "group_by":
        return GROUP_HEADERS.get(value, (value, value))[english]
    return value


def _write_header(sheet, result: Table) -> None:
    bold, centred = Font(bold=True), Alignment(wrap_text=True, vertical="center", horizontal="center")
    lines = header_lines(result)
    for row_number, line in enumerate(lines, start=1):
        for column, label in enumerate(line, start=1):
            if label:
                sheet.cell(row=row_number, column=column, value=label)
    column = 1
    for cell in result.top:
        last_row = 2 if cell.rowspan == 2 else 1
        if cell.colspan > 1 or last_row == 2:
            sheet.merge_cells(start_row=1, start_column=column, end_row=last_row, end_column=column + cell.colspan - 1)
        column += cell.colspan
    for row in sheet.iter_rows(min_row=1, max_row=2):
        for cell in row:
            cell.font, cell.alignment = bold, centred


def workbook(body: dict, lang: str) -> bytes:
    """An .xlsx file: the II.06a table (two header rows, merged as on the form) on the first sheet,
    the period and the filters on the second."""
    english = normalize_language(lang) == "en"
    result = table(body, lang, rules_of.SPREADSHEET_COLUMNS)
    book = Workbook()
    sheet = book.active
    sheet.title = "II.06a"
    _write_header(sheet, result)
    for row in result.rows:
        sheet.append(row)
        for cell, kind in zip(sheet[sheet.max_row], result.kinds):
            if kind == "rate":
                cell.number_format = "0.00%"
            elif kind == "days":
                cell.number_format = "0.00"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D3"
    for index in range(1, len(result.labels) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 40 if index == 3 else 14
    about = book.create_sheet("Kỳ báo cáo" if not english else "Period")
    period, filters = body["period"], body["filters"]
    about.append([PERIOD_LABELS["from"][english], date.fromisoformat(period["from"])])
    about.append([PERIOD_LABELS["to"][english], date.fromisoformat(period["to"])])
    for key, value in filters.items():
        about.append([PERIOD_LABELS.get(key, (key, key))[english], _filter_value(key, value, english)])
    for row in about.iter_rows(min_row=1, max_row=2, min_col=2, max_col=2):
        row[0].number_format = "dd/mm/yyyy"
    about.column_dimensions["A"].width = 32
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
