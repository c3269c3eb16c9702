"""Persistence: SQLAlchemy 2 models, Alembic migrations, repositories that encrypt.

``Database``, ``Store``, ``Tx`` and ``Policy`` are imported lazily (``overt.audit`` uses the
models and the store uses the audit log).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overt.store.db import Database
    from overt.store.store import Policy, Store, Tx

__all__ = ["Database", "Policy", "Store", "Tx"]


def __getattr__(name: str) -> Any:
    if name == "Database":
        from overt.store.db import Database

        return Database
    if name in ("Policy", "Store", "Tx"):
        from overt.store import store

        return getattr(store, name)
    raise AttributeError(name)
