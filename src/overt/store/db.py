"""Engine, sessions and migrations for SQLite (WAL, default) and PostgreSQL (same code).

SQLite: every transaction is ``BEGIN IMMEDIATE`` (writers serialise, no lost updates),
``journal_mode=WAL``, ``synchronous=FULL``, ``secure_delete=ON`` (freed pages are zeroed, so a
destroyed key leaves no copy in the file), ``foreign_keys=ON``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from overt.errors import InputError, StorageError

_DISK_FULL_MARKERS = ("database or disk is full", "no space left on device", "could not extend file", "disk full")


def _is_disk_full(exc: BaseException) -> bool:
    cur: BaseException | None = exc
    while cur is not None:
        if isinstance(cur, OSError) and cur.errno == errno.ENOSPC:
            return True
        if any(m in str(cur).lower() for m in _DISK_FULL_MARKERS):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


_CORRUPT_MARKERS = ("file is not a database", "database disk image is malformed", "file is encrypted")


def _is_corrupt(exc: BaseException) -> bool:
    return any(m in str(exc).lower() for m in _CORRUPT_MARKERS)


def _is_idle_timeout(exc: DBAPIError) -> bool:
    """PostgreSQL ended a transaction left idle too long (a frozen process; see leases.IDLE_LOCK_MS)."""
    return getattr(exc.orig, "sqlstate", None) == "25P03"


def storage_error(exc: BaseException) -> StorageError:
    """Translate a database/OS failure into a one-line :class:`StorageError`."""
    if _is_corrupt(exc):
        return StorageError(
            "the database file is corrupt or not a database: restore it from a backup (nothing was changed)"
        )
    if _is_disk_full(exc):
        return StorageError("no space left on device: the change was not saved (free space and retry)")
    if isinstance(exc, DBAPIError):
        return StorageError(f"database error: {str(exc.orig).splitlines()[0]}")
    return StorageError(f"database error: {str(exc).splitlines()[0]}")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One database (URL) with its engine, session factory and migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        try:
            # pre-ping: a pooled connection that died with a database restart is replaced, not handed out
            self.engine = create_engine(url, echo=echo, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StorageError(f"cannot open database {self.safe_url}: {exc}") from None
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self.session_info: dict[str, object] = {}
        """Copied into every session's ``info`` (the store puts the audit chain's MAC key here)."""
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=self.session_info)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") else "<url>"

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("overt.store") / "migrations"))
        return cfg

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration shipped with this package (idempotent)."""
        try:
            if self.current_revision() == self.head_revision():
                return
            cfg = self._alembic_config()
            with self.engine.connect() as conn:
                # SQLite rebuilds a table to alter it (copy, drop, rename): with foreign keys on, dropping
                # the old table would cascade into its children. The pragma only works outside a
                # transaction; the keys are checked before the migration commits.
                self._sqlite_foreign_keys(conn, on=False)
                try:
                    with conn.begin():
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
                        if self.is_sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                            raise StorageError("the migration would break a foreign key; nothing was changed")
                finally:
                    self._sqlite_foreign_keys(conn, on=True)
        except (OperationalError, OSError) as exc:
            raise storage_error(exc) from None
        except DBAPIError as exc:
            if _is_corrupt(exc):
                raise storage_error(exc) from None
            raise

    def _sqlite_foreign_keys(self, conn: Connection, *, on: bool) -> None:
        if self.is_sqlite:
            conn.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")  # type: ignore[union-attr]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        s = self._sessions()
        try:
            with s.begin():
                yield s
        except (OperationalError, OSError) as exc:
            raise storage_error(exc) from None
        except OverflowError:
            raise InputError("a number is out of range (ids are at most 2147483647)") from None
        except DBAPIError as exc:
            if _is_disk_full(exc) or _is_corrupt(exc) or _is_idle_timeout(exc):
                raise storage_error(exc) from None
            raise
        finally:
            s.close()

    def checkpoint(self) -> bool:
        """SQLite: fold the WAL into the main file and truncate it (after destroying keys).

        Best effort: returns False when readers kept part of the WAL alive (it is retried later).
        """
        if not self.is_sqlite:
            return True
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cur.fetchone()
            cur.close()
            return bool(busy is not None and busy[0] == 0)
        except Exception:
            return False
        finally:
            raw.close()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
