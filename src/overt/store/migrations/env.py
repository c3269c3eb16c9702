"""Alembic environment: run programmatically by :func:`overt.store.db.Database.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from overt.store.models import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("overt migrations run programmatically (overt init / opening the store)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
