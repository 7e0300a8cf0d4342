"""Alembic environment: runs on the connection handed over in ``config.attributes``."""
from alembic import context

import hotel_community.models  # noqa: F401  (registers the tables)
from hotel_community.database import Base
from hotel_community.migrations import VERSION_TABLE, include_name

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    include_name=include_name,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
