"""Database triggers that make a table append-only (no UPDATE, no DELETE).

Used for the system log, and for the money ledger later. The model refuses updates and deletes
too, but only the database can stop a raw query, a bulk ``.update()`` or a hand-typed SQL
statement. Both SQLite and PostgreSQL are covered.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION openprepaid_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
"""


def _names(table: str) -> tuple[str, str]:
    return f"{table}_no_update", f"{table}_no_delete"


def install(connection: BaseDatabaseWrapper, table: str) -> None:
    no_update, no_delete = _names(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            for name, event in ((no_update, "UPDATE"), (no_delete, "DELETE")):
                cursor.execute(
                    f'CREATE OR REPLACE TRIGGER "{name}" BEFORE {event} ON "{table}" '
                    "FOR EACH ROW EXECUTE FUNCTION openprepaid_refuse_change()"
                )
        elif connection.vendor == "sqlite":
            for name, event in ((no_update, "UPDATE"), (no_delete, "DELETE")):
                cursor.execute(
                    f'CREATE TRIGGER IF NOT EXISTS "{name}" BEFORE {event} ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only'); END"
                )
        else:  # pragma: no cover - only the two supported databases
            raise RuntimeError(f"append-only triggers not written for {connection.vendor}")


def uninstall(connection: BaseDatabaseWrapper, table: str) -> None:
    """Drop the triggers. Only for migrations that go backwards and for tests that must empty
    the whole database between cases."""
    with connection.cursor() as cursor:
        for name in _names(table):
            if connection.vendor == "postgresql":
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
            else:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
