"""Spreadsheet cells that cannot run: formula ("CSV") injection is neutralised in every export.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` is read by Excel, WPS and LibreOffice as
a formula (``=HYPERLINK("http://evil.example/", "点击")`` typed as a ledger step would be a live
link in the office's export); a leading tab or carriage return can hide such a prefix. Following
OWASP (https://owasp.org/www-community/attacks/CSV_Injection) such text gets a single quote ``'``
in front and is written as a string, so the file shows the original text and computes nothing.
The quote is visible in the cell: we chose it over dropping or replacing characters because it
loses nothing and can be undone exactly (`restore_cell`), which the ledger's Excel import needs so
that export then import changes nothing.

Only text is touched: numbers, dates and None pass through and stay numbers and dates. A text that
already starts with quotes followed by a dangerous character gets one more quote, so `restore_cell`
never strips a quote the user typed: `restore_cell(safe_cell(text)) == text` for every text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def _needs_quote(text: str) -> bool:
    return text.lstrip(QUOTE).startswith(DANGEROUS_PREFIXES)


def safe_cell(value: Any) -> Any:
    """The value to write into a cell: a dangerous text with a leading `'`, anything else unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """`safe_cell` of every value of a row (for `worksheet.append`)."""
    return [safe_cell(value) for value in values]


def restore_cell(value: Any) -> Any:
    """The inverse of `safe_cell`, for importers reading our own exports: drops exactly the quote
    `safe_cell` added, and nothing from a text it would not have quoted."""
    if isinstance(value, str) and value.startswith(QUOTE) and _needs_quote(value[1:]):
        return value[1:]
    return value
