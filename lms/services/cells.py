"""Cells of every exported spreadsheet (CSV and XLSX): text never runs as a formula.

Names, badge numbers, ranks and course titles are typed by people, so one that starts with
`=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets skip before looking
for a formula) would run when the file is opened (OWASP "CSV injection"). Every export writes
its cells through this module:

- CSV has no types, so such text gets a leading `'`, which spreadsheets show as a text marker;
- XLSX keeps the text exactly, as a string cell with Excel's own "quote prefix" (what Excel
  stores when someone types `'=...`), so it is shown, sorted and re-saved as text.

Characters XML cannot hold (NUL and the other C0 controls but tab, newline and CR) are dropped
from XLSX text, so one stray byte in a stored name cannot break an agency's whole export.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any


class Percent(float):
    """A share (0.5 is 50%): a percent-formatted number in XLSX, "50.0%" in CSV."""


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def starts_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell: text that starts like a formula gets a leading `'`.

    Numbers stay numbers (a negative count is not a formula); None is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date | datetime):
        return value.isoformat()  # machines read CSV: ISO 8601
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def xlsx_row(sheet, values: Iterable[Any], *, date_format: str = "mmm d, yyyy") -> list[Any]:
    """`values` as cells of a write-only openpyxl `sheet`: every text a string cell, dates
    real date cells shown with `date_format`, shares as percentages, numbers as numbers."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        if isinstance(value, datetime):
            # Excel has no time zones: the UTC wall time, said so in the format
            cell = WriteOnlyCell(sheet, value=value.astimezone(UTC).replace(tzinfo=None))
            cell.number_format = f'{date_format} h:mm AM/PM "UTC"'
            row.append(cell)
        elif isinstance(value, date):
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = date_format
            row.append(cell)
        elif isinstance(value, Percent):
            cell = WriteOnlyCell(sheet, value=float(value))
            cell.number_format = "0.0%"
            row.append(cell)
        elif isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=_NOT_IN_XML.sub("", value))
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            if starts_like_formula(value):
                cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    return row
