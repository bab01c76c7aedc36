"""Set-based inserts for the periodic jobs that write thousands of rows per run (the alerts sweep).

`bulk_create` prepares every value through its field and sends one huge multi-row statement whose
placeholders psycopg re-parses on the client; at 10,000 rows that costs more than the database work.
On PostgreSQL `insert_rows` sends one `INSERT … SELECT FROM json_to_recordset(one JSON parameter)`.
Elsewhere (SQLite) a one-row statement through `executemany`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, models


def insert_rows(model: type[models.Model], columns: dict[str, list[Any]]) -> set[int] | None:
    """INSERT … ON CONFLICT DO NOTHING of many rows given column by column (keys are attnames).

    Values are plain Python values of the fields' types (ints, strings, Decimals, aware datetimes,
    None); a column left out takes its field's default. Returns, on PostgreSQL, the primary keys of
    the rows actually inserted; elsewhere None.
    """
    count = len(next(iter(columns.values()), []))
    if not count:
        return set() if connection.vendor == "postgresql" else None
    opts = model._meta
    # Columns not given take their field's default ("" for text, None when nullable), as a new
    # instance would: Django's defaults are not the database's.
    columns = dict(columns)
    for field in opts.concrete_fields:
        if field.attname not in columns and not field.primary_key:
            columns[field.attname] = [field.get_default()] * count
    names = list(columns)
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    fields = [_field(model, name) for name in names]
    quoted = ", ".join(quote(field.column) for field in fields)
    # Only quoted identifiers, column types and placeholders are interpolated; values are parameters.
    if connection.vendor == "postgresql":
        # One parameter: the rows as a JSON text, serialised in C (orjson) and parsed in C by the server.
        # Any per-value binding (Django's client-side quoting, psycopg's array dumpers) walks the
        # 100,000-odd values in Python and costs more than the insert itself.
        # `Field.cast_db_type` is public Django API that django-stubs does not declare.
        record = ", ".join(
            f"{quote(field.column)} {field.cast_db_type(connection)}"  # type: ignore[attr-defined]
            for field in fields
        )
        keys = [field.column for field in fields]
        rows = [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        sql = (
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM json_to_recordset(%s::json) AS r({record}) "  # noqa: S608
            f"ON CONFLICT DO NOTHING RETURNING {quote(opts.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [orjson.dumps(rows, default=_json_default).decode()])
            return {row[0] for row in cursor.fetchall()}
    # SQLite keeps JSON as text: JSON columns go through their field there (on PostgreSQL they travel
    # inside the rows' JSON as they are).
    values = [
        [field.get_db_prep_save(value, connection) for value in columns[name]]
        if isinstance(field, models.JSONField)
        else columns[name]
        for name, field in zip(names, fields, strict=True)
    ]
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(names))
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
        cursor.executemany(sql, list(zip(*values, strict=True)))
    return None


def _json_default(value: Any) -> str:
    # Decimals as their exact text: the server reads them back into numeric without rounding.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be sent as a bulk row value")


def _field(model: type[models.Model], attname: str) -> models.Field:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    raise LookupError(f"{model._meta.label} has no column {attname}")
