"""CSV for spreadsheets, streamed row by row. A cell a spreadsheet would run as a formula
(starting with = + - @, or a tab or carriage return that some strip first) gets a leading
apostrophe: merchant references, emails and provider failure codes are other people's
text and must not become formulas on an operator's machine (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if cell is None else neutralise(cell) for cell in cells])
    return buffer.getvalue()


async def csv_stream(header: list[str], rows: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    yield csv_line(header).encode()
    async for row in rows:
        yield csv_line(row).encode()
