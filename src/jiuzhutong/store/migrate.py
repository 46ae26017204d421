"""Programmatic Alembic: no alembic.ini, so migrations run the same from a wheel."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from jiuzhutong.store.engine import Database
from jiuzhutong.store.errors import SchemaNotAtHead

SCRIPT_LOCATION = "jiuzhutong.store:migrations"
# Any constant: concurrent `migrate` runs against one PostgreSQL database queue on it.
_PG_MIGRATION_LOCK = 0x4A5A54  # "JZT"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    with database.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> str | None:
    """Bring the schema to ``revision`` in one transaction; returns the new revision."""
    with database.write() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), revision)
    return current_revision(database)


def is_at_head(database: Database) -> bool:
    return current_revision(database) == head_revision()


def require_head(database: Database) -> None:
    current, head = current_revision(database), head_revision()
    if current != head:
        raise SchemaNotAtHead(current, head)
