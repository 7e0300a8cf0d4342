"""The Alembic history: it builds exactly the models' schema, inside a host's database, and undoes it."""
from __future__ import annotations

from typing import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hotel_community import migrations
from hotel_community.database import Base
from tests.conftest import fresh_postgres_database, make_app

HOST_TABLE = "host_bookings"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """A database holding only a table of the host app's own."""
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{tmp_path / 'host.sqlite3'}"])
    else:
        urls = fresh_postgres_database()
    for url in urls:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE TABLE {HOST_TABLE} (id INTEGER PRIMARY KEY)"))
        engine.dispose()
        yield url


def _tables(app) -> set[str]:
    return set(sa.inspect(app.extensions["sqlalchemy"].engine).get_table_names())


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["community", "db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert migrations.current_revision() == migrations.head_revision()
        assert {t.name for t in Base.metadata.sorted_tables} | {
            HOST_TABLE, migrations.VERSION_TABLE} == _tables(app)

        with app.extensions["sqlalchemy"].engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "include_name": migrations.include_name, "compare_type": True,
                "version_table": migrations.VERSION_TABLE})
            assert compare_metadata(context, Base.metadata) == []

        result = runner.invoke(args=["community", "db", "downgrade", "base"])
        assert result.exit_code == 0, result.output
        assert _tables(app) == {HOST_TABLE, migrations.VERSION_TABLE}

        assert runner.invoke(args=["community", "db", "upgrade"]).exit_code == 0
        assert migrations.current_revision() == migrations.head_revision()
        app.extensions["sqlalchemy"].engine.dispose()
