"""Alembic migrations of the extension's tables, inside the host's database.

The history is the extension's own (version table ``hc_alembic_version``), so
it never mixes with a host app's Flask-Migrate history in the same database.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hotel_community.database import session

FOLDER = Path(__file__).parent
VERSION_TABLE = "hc_alembic_version"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic looks only at the extension's own tables, never at the host's."""
    return type_ != "table" or bool(name and name.startswith("hc_"))


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head") -> None:
    with session.get_bind().begin() as connection:
        command.upgrade(_config(connection), revision)


def downgrade(revision: str) -> None:
    with session.get_bind().begin() as connection:
        command.downgrade(_config(connection), revision)


def current_revision() -> str | None:
    with session.get_bind().connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def revision(message: str) -> None:
    """Autogenerate a new revision (for developers of hotel-community)."""
    with session.get_bind().begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)
