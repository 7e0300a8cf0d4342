"""The declarative base and the session the extension works with.

The tables live on their own ``MetaData`` (prefixed ``hc_``) so they can sit in
the host's database beside its own tables and be migrated by the extension's
own Alembic history. Queries go through the Flask-SQLAlchemy ``db`` the
extension was given (the host's) or made (its own): :data:`session`.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import Insert, MetaData, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, scoped_session
from werkzeug.local import LocalProxy

from hotel_community.errors import ServiceUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _session() -> scoped_session:
    return current_app.extensions["hotel_community"].db.session


#: The Flask-SQLAlchemy session of the current app's extension.
session: scoped_session = LocalProxy(_session)  # type: ignore[assignment]


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column stores naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """One unit of work: commit at the end, roll back on any error.

    A database failure becomes :class:`ServiceUnavailable` (HTTP 503): nothing
    of the unit was stored and the caller may retry.
    """
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise ServiceUnavailable(
            "The database could not complete the change; nothing was stored. Please retry."
        ) from exc
    except BaseException:
        session.rollback()
        raise


def release_connection() -> None:
    """End the session's transaction (it only read) before waiting on an outside system.

    The connection goes back to the pool instead of sitting idle in a
    transaction while a PMS takes seconds to answer: with many such waits at
    once, requests that need the database would otherwise queue for a
    connection. Loaded objects keep what they hold (they are not expired), so
    reading them does not open a transaction again.
    """
    current = session()
    expire_on_commit, current.expire_on_commit = current.expire_on_commit, False
    try:
        current.commit()
    finally:
        current.expire_on_commit = expire_on_commit


def lease_next(model: type[Base], due: tuple, lease_until: datetime, *columns: Any) -> Any:
    """Lease the first due row of an outbox table to this worker; its ``id`` and ``columns``.

    ``model`` has ``id``, ``next_attempt_at`` and ``claimed_until``; ``due`` says
    which rows may be taken. One conditional UPDATE of ``id = (SELECT ... FOR
    UPDATE SKIP LOCKED LIMIT 1)``: two workers never lease one row (SQLite
    ignores the locking clause; its writes are serial). ``None`` when no row is due.
    """
    candidate = (select(model.id).where(*due).order_by(model.next_attempt_at, model.id)
                 .limit(1).with_for_update(skip_locked=True))
    with transaction():
        # "= (scalar subquery)", evaluated once; PostgreSQL may run an "IN (subquery)"
        # again for each row it scans, and so lease every due row at once.
        return session.execute(
            update(model).where(model.id == candidate.scalar_subquery(), *due)
            .values(claimed_until=lease_until).returning(model.id, *columns)
            .execution_options(synchronize_session=False)).first()


def insert_or_ignore(model: type[Base], *conflict_columns: str) -> Insert:
    """``INSERT INTO <model's table> ... ON CONFLICT (conflict_columns) DO NOTHING``.

    Add ``.values()`` and ``.returning()``: no row comes back when the row
    exists. One statement, where a plain INSERT would need a savepoint around
    it (three) to survive its IntegrityError. On PostgreSQL a conflicting row
    that another transaction has not committed yet makes it wait for that
    transaction, so of two concurrent inserts of one key exactly one returns a
    row. PostgreSQL and SQLite (3.35+, for RETURNING) both have it.
    """
    return upsert(model).on_conflict_do_nothing(index_elements=list(conflict_columns))


def upsert(model: type[Base]) -> Insert:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` and ``on_conflict_do_update``."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"hotel-community runs on PostgreSQL or SQLite, not {dialect}.")
