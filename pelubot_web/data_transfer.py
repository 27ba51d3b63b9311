"""Copy every row of a PeluBot database into another one: ``flask data export`` / ``import``.

The way off SQLite: export the dev database to a JSON-lines file, import it into a freshly
migrated PostgreSQL database. Ids, sync state and timestamps are copied as they are, and
PostgreSQL's id sequences are moved past the copied ids. The table list comes from the
models' metadata (in foreign-key order), so tables added later are copied without changes
here. Both sides must be at the same migration, so every column has a place to go.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Integer, Table, func, select, text
from sqlalchemy.exc import IntegrityError

from pelubot_web.db_engine import write_transaction_options
from pelubot_web.extensions import db

FORMAT = "pelubot-data"
FORMAT_VERSION = 1
BATCH_ROWS = 500

# JSON has no dates, times, decimals or bytes: such values travel as {"$<tag>": text}.
_ENCODERS: list[tuple[type, str, Any]] = [
    (datetime, "$datetime", lambda v: v.isoformat()),
    (date, "$date", lambda v: v.isoformat()),
    (time, "$time", lambda v: v.isoformat()),
    (Decimal, "$decimal", str),
    (bytes, "$bytes", lambda v: base64.b64encode(v).decode("ascii")),
]
_DECODERS: dict[str, Any] = {
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$decimal": Decimal,
    "$bytes": base64.b64decode,
}


class TransferError(Exception):
    """The copy cannot be made; the message says why and what to do."""


def tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(db.metadata.sorted_tables)


def encode(value: Any) -> Any:
    for kind, tag, to_text in _ENCODERS:
        if isinstance(value, kind):
            return {tag: to_text(value)}
    if isinstance(value, dict | list):  # a JSON column: wrapped so it is never taken for a tag
        return {"$json": value}
    return value


def decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    if tag == "$json":
        return raw
    return _DECODERS[tag](raw)


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def export_data(engine: Engine, out: IO[str]) -> dict[str, int]:
    """Write a header line, then one line per row; return the row count per table."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    counts: dict[str, int] = {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        # One transaction: the copy is a consistent snapshot even while the app runs.
        header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": _revision(conn)}
        out.write(json.dumps(header) + "\n")
        for table in tables():
            counts[table.name] = 0
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                values = {key: encode(value) for key, value in row._mapping.items()}
                out.write(json.dumps({"table": table.name, "row": values}) + "\n")
                counts[table.name] += 1
    return counts


def import_data(engine: Engine, lines: Iterable[str]) -> dict[str, int]:
    """Insert every row of an export into an empty database at the same migration."""
    rows = iter(lines)
    header = _read_header(next(rows, ""))
    known = {table.name: table for table in tables()}
    counts = dict.fromkeys(known, 0)
    with (
        engine.connect().execution_options(**write_transaction_options()) as conn,
        conn.begin(),
    ):
        _check_target(conn, header["revision"], known.values())
        for table, batch in _batches(rows, known):
            _insert(conn, table, batch)
            counts[table.name] += len(batch)
        if conn.dialect.name == "postgresql":
            _advance_sequences(conn, known.values())
    return counts


def _insert(conn: Connection, table: Table, batch: list[dict[str, Any]]) -> None:
    try:
        conn.execute(table.insert(), batch)
    except IntegrityError as exc:
        # e.g. overlapping reservations that only PostgreSQL's exclusion constraint sees.
        reason = str(exc.orig).strip().splitlines()[0]
        raise TransferError(f"{table.name}: the database refused a row: {reason}") from None


def _read_header(line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TransferError("not a PeluBot export (the first line is not its header)")
    if header.get("version") != FORMAT_VERSION:
        raise TransferError(f"export format version {header.get('version')} is not supported")
    return header


def _check_target(conn: Connection, revision: str | None, targets: Iterable[Table]) -> None:
    current = _revision(conn)
    if current != revision:
        raise TransferError(
            f"the export is at migration {revision}, this database at {current}: "
            "run `flask db upgrade` on both, then export again"
        )
    for table in targets:
        count = conn.scalar(select(func.count()).select_from(table))
        if count:
            raise TransferError(
                f"this database is not empty ({table.name} has {count} rows): "
                "import only into a freshly migrated database"
            )


def _batches(
    rows: Iterator[str], known: dict[str, Table]
) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
    """Consecutive rows of one table, at most BATCH_ROWS at a time."""
    table: Table | None = None
    batch: list[dict[str, Any]] = []
    for number, line in enumerate(rows, start=2):
        name, values = _parse_row(line, number, known)
        if batch and (known[name] is not table or len(batch) >= BATCH_ROWS):
            yield table, batch  # type: ignore[misc]
            batch = []
        table = known[name]
        batch.append(values)
    if batch and table is not None:
        yield table, batch


def _parse_row(line: str, number: int, known: dict[str, Table]) -> tuple[str, dict[str, Any]]:
    try:
        item = json.loads(line)
        name, raw = item["table"], item["row"]
        values = {key: decode(value) for key, value in raw.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise TransferError(f"line {number} is not a row of a PeluBot export ({exc})") from None
    table = known.get(name)
    if table is None:
        raise TransferError(f"line {number}: unknown table {name!r}")
    unknown = set(values) - set(table.columns.keys())
    if unknown:
        raise TransferError(f"line {number}: {name} has no column {', '.join(sorted(unknown))}")
    return name, values


def _advance_sequences(conn: Connection, targets: Iterable[Table]) -> None:
    """Next ids continue after the copied ones (PostgreSQL sequences do not follow inserts)."""
    for table in targets:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{keys[0].name}"), 0) + 1, false) FROM "{table.name}"'
            ),
            {"table": table.name, "column": keys[0].name},
        )
