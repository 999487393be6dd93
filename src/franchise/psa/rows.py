"""Reading a PSA ticket CSV into rows: header resolution and per-row checks. Pure.

Line numbers are physical lines in the file, the header being line 1, so a user can jump
to the bad row in an editor even when a quoted description spans several lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from franchise.errors import InvalidInput
from franchise.psa.categories import map_category
from franchise.psa.formats import REQUIRED, Format, resolve_columns
from franchise.psa.values import BadValue, read_date, read_priority, read_status

MAX_TITLE = 500
MAX_EXTERNAL_ID = 200


@dataclass(frozen=True)
class TicketRow:
    line: int
    external_id: str
    title: str
    body: str
    client: str | None
    # The affected user as the PSA names them: a contact name or e-mail address.
    requester: str | None
    # The PSA's own category text, and the runbook category it maps to (None: suggest).
    psa_category: str
    category: str | None
    priority: str
    status: str
    created_at: datetime | None


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (European Excel) or tab, whichever the header line uses most."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def read_rows(text: str, fmt: Format, tz: ZoneInfo) -> Iterator[TicketRow | RowProblem]:
    """Each data row parsed, or a RowProblem naming its line. A bad header raises at once."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = next(reader, None) or []
    fields, category_cols = resolve_columns(fmt, header)
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        accepted = "; ".join(
            f"{f}: {' / '.join(fmt.columns.get(f, ())) or '(give it in a mapping file)'}"
            for f in missing
        )
        raise InvalidInput(
            f"line 1: no column for {', '.join(missing)} in a {fmt.name} export "
            f"(accepted headers, any case: {accepted})"
        )
    seen: dict[str, int] = {}
    end_of_previous = reader.line_num
    for record in reader:
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            yield RowProblem(line, f"expected {len(header)} columns, found {len(record)}")
            continue
        cells = [c.strip() for c in record]
        try:
            row = _parse(line, cells, fields, category_cols, fmt, tz, header)
        except BadValue as exc:
            yield RowProblem(line, str(exc))
            continue
        if row.external_id in seen:
            yield RowProblem(
                line, f"ticket '{row.external_id}' is already on line {seen[row.external_id]}"
            )
            continue
        seen[row.external_id] = line
        yield row


def _parse(
    line: int,
    cells: list[str],
    fields: dict[str, int],
    category_cols: list[int],
    fmt: Format,
    tz: ZoneInfo,
    header: list[str],
) -> TicketRow:
    def cell(name: str) -> str:
        return cells[fields[name]] if name in fields else ""

    external_id = cell("external_id").lstrip("#").strip()
    if not external_id:
        raise BadValue(f"no ticket number (column '{header[fields['external_id']]}' is empty)")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise BadValue(f"ticket number longer than {MAX_EXTERNAL_ID} characters")
    title = cell("title")
    if not title:
        raise BadValue(f"no title (column '{header[fields['title']]}' is empty)")
    if len(title) > MAX_TITLE:
        raise BadValue(f"title longer than {MAX_TITLE} characters ({len(title)})")
    parts = [cells[i] for i in category_cols]
    created = read_date(cell("created_at"), order=fmt.date_order, fmt=fmt.date_format, tz=tz)
    return TicketRow(
        line=line,
        external_id=external_id,
        title=title,
        body=cell("body"),
        client=cell("client") or None,
        requester=cell("requester")[:320] or None,
        psa_category=" / ".join(p for p in parts if p),
        category=map_category(parts, fmt.category_map),
        priority=read_priority(cell("priority"), fmt.priority_map),
        status=read_status(cell("status"), fmt.status_map),
        created_at=created,
    )
