"""The data directory: ``overt.json`` (settings), ``kek.key`` (0600), ``overt.db`` (SQLite, WAL).

``overt init --data-dir DIR`` creates it (mode 0700). Every command finds it from
``--data-dir``, else ``$OVERT_DATA_DIR``, else ``$XDG_DATA_HOME/overt`` (``~/.local/share/overt``).
``overt.json`` holds no secret: the database URL (default: SQLite in the directory), where
the key-encryption key comes from, and the retention policy.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError
from sqlalchemy.engine import make_url

from overt.config import StrictModel
from overt.crypto.envelope import kek_fingerprint
from overt.crypto.keys import (
    EnvKeyStore,
    FileKeyStore,
    KdfParams,
    KeyStore,
    PassphraseKeyStore,
    passphrase_from_env,
)
from overt.domain.clock import Clock
from overt.errors import ConfigError, CryptoError, StorageError
from overt.store.db import Database
from overt.store.store import Policy, Store
from overt.store.vault import KEK_META

CONFIG_NAME = "overt.json"
KEY_FILE = "kek.key"
DB_FILE = "overt.db"
PENDING_SUFFIX = ".new"
LOCK_FILE = ".overt.lock"
log = logging.getLogger(__name__)


class FileKeySource(StrictModel):
    """KEK in a 0600 key file (relative paths are inside the data directory)."""

    type: Literal["file"] = "file"
    path: str = Field(default=KEY_FILE, description="Key file path.")


class EnvKeySource(StrictModel):
    """KEK (base64, 32 bytes) in an environment variable."""

    type: Literal["env"] = "env"
    var: str = Field(default="OVERT_KEK", description="Environment variable holding the key.")


class PassphraseKeySource(StrictModel):
    """KEK derived with argon2id from a passphrase read from an environment variable or a prompt."""

    type: Literal["passphrase"] = "passphrase"
    var: str = Field(default="OVERT_PASSPHRASE", description="Environment variable holding the passphrase.")
    kdf: dict[str, str | int] = Field(description="argon2id parameters and salt (not secret).")


class PublicInfo(StrictModel):
    """What the public site says about who runs Overt and how to ask or complain (set by an admin)."""

    force_name: str = Field(default="The police force", max_length=200)
    contact_email: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=50)
    contact_address: str | None = Field(default=None, max_length=500)
    complaints_url: str | None = Field(default=None, max_length=500)
    equality_assessment_url: str | None = Field(default=None, max_length=500)
    dpia_url: str | None = Field(default=None, max_length=500)
    public_base_url: str | None = Field(
        default=None, max_length=500, description="Where the public site is reachable (for QR codes on signs)."
    )


KeySource = Annotated[FileKeySource | EnvKeySource | PassphraseKeySource, Field(discriminator="type")]


class DataDirConfig(StrictModel):
    """``<data-dir>/overt.json``."""

    version: Literal[1] = 1
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite overt.db here.")
    key: KeySource = Field(default_factory=FileKeySource)
    alert_retention_h: float = Field(default=24.0, ge=0, description="Delete alerts this long after raised.")
    snapshot_shred_after_h: float = Field(
        default=24.0, ge=0, description="Destroy a snapshot key at the latest this long after the planned end."
    )
    notice_lead_time_h: float = Field(
        default=24.0, ge=0, description="A deployment's public notice must be out this long before it starts."
    )
    public: PublicInfo = Field(default_factory=PublicInfo, description="Contact details on the public site.")
    second_person_confirmation: bool = Field(
        default=False, description="A true match counts only once a second operator confirms it (API, console, CLI)."
    )
    undo_window_s: float = Field(
        default=10.0, ge=0, le=300, description="Seconds after a verdict in which the person who made it may undo it."
    )

    def policy(self) -> Policy:
        return Policy(
            second_person_confirmation=self.second_person_confirmation,
            alert_retention=timedelta(hours=self.alert_retention_h),
            snapshot_shred_after=timedelta(hours=self.snapshot_shred_after_h),
            notice_lead_time=timedelta(hours=self.notice_lead_time_h),
            undo_window=timedelta(seconds=self.undo_window_s),
        )


def _key_path(data_dir: Path, src: FileKeySource) -> Path:
    p = Path(src.path)
    return p if p.is_absolute() else data_dir / p


def keystore_for(data_dir: Path, cfg: DataDirConfig) -> KeyStore:
    src = cfg.key
    if isinstance(src, FileKeySource):
        return FileKeyStore(_key_path(data_dir, src))
    if isinstance(src, EnvKeySource):
        return EnvKeyStore(src.var)
    return PassphraseKeyStore(KdfParams.from_json(dict(src.kdf)), passphrase_from_env(src.var))


def load_config(data_dir: Path) -> DataDirConfig:
    p = data_dir / CONFIG_NAME
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{data_dir} is not an Overt data directory (run: overt init --data-dir {data_dir})"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{p}: {exc}") from None
    try:
        return DataDirConfig.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{p}: {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None


def write_config(data_dir: Path, cfg: DataDirConfig) -> None:
    p = data_dir / CONFIG_NAME
    tmp = p.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(cfg.model_dump(), indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, p)


def database_url(data_dir: Path, cfg: DataDirConfig, override: str | None = None) -> str:
    return override or cfg.database_url or f"sqlite:///{data_dir / DB_FILE}"


_SCHEMES = ("sqlite", "postgresql")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases); ConfigError for a URL that is not
    a database Overt supports (a typo must not create a database somewhere unexpected)."""
    try:
        u = make_url(url)
    except Exception:
        raise ConfigError(f"not a database URL: {url.split('@')[-1]!r} (e.g. sqlite:////abs/path/overt.db)") from None
    if u.get_backend_name() not in _SCHEMES:
        raise ConfigError(
            f"unsupported database {u.get_backend_name()!r}: use sqlite:///... or postgresql+psycopg://..."
        )
    if u.get_backend_name() != "sqlite":
        return None
    if not u.database or u.database == ":memory:":
        raise ConfigError("a SQLite database URL needs a file path (sqlite:////abs/path/overt.db)")
    return Path(u.database)


def _check_sqlite_target(url: str, *, create: bool) -> Path | None:
    path = sqlite_path(url)
    if path is None:
        return None
    if create:
        if not path.parent.is_dir():
            raise ConfigError(f"cannot create the database: no directory {path.parent}")
        if not path.exists():
            # Create it 0600 before SQLite does: its -wal and -shm files take the database file's mode.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    elif not path.is_file():
        raise ConfigError(f"no database at {path} (a mistyped --database-url? run overt init first)")
    return path


def permission_warnings(data_dir: Path, url: str) -> list[str]:
    """Warnings for a data directory or SQLite database that others on the host can read."""
    out: list[str] = []
    try:
        if data_dir.stat().st_mode & 0o077:
            out.append(f"{data_dir} is readable by other users (chmod 700 it)")
        path = sqlite_path(url)
        if path is not None and path.exists() and path.stat().st_mode & 0o077:
            out.append(f"database {path} is readable by other users (chmod 600 it)")
    except (OSError, ConfigError):
        pass
    return out


def init_data_dir(
    data_dir: Path,
    *,
    key_source: Literal["file", "env", "passphrase"] = "file",
    database_url_: str | None = None,
    key_var: str | None = None,
    clock: Clock | None = None,
    kdf: KdfParams | None = None,
) -> Store:
    """Create the data directory (0700), its key (file source) and database; return the open store."""
    if (data_dir / CONFIG_NAME).exists():
        raise ConfigError(f"{data_dir} is already initialised")
    if database_url_ is not None:
        sqlite_path(database_url_)  # a mistyped URL fails before anything is created
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)
    except OSError as exc:
        raise StorageError(f"cannot create {data_dir}: {exc}") from None
    source: FileKeySource | EnvKeySource | PassphraseKeySource
    if key_source == "file":
        source = FileKeySource()
        FileKeyStore.create(_key_path(data_dir, source))
    elif key_source == "env":
        source = EnvKeySource(var=key_var or "OVERT_KEK")
    else:
        params = kdf or KdfParams.new()
        source = PassphraseKeySource(var=key_var or "OVERT_PASSPHRASE", kdf=params.to_json())
    cfg = DataDirConfig(database_url=database_url_, key=source)
    keys = keystore_for(data_dir, cfg)
    keys.load_kek()  # fail before writing the config if the env var / passphrase is missing
    db_path = _check_sqlite_target(database_url(data_dir, cfg), create=True)
    write_config(data_dir, cfg)
    store = Store(Database(database_url(data_dir, cfg)), keys, clock=clock, policy=cfg.policy())
    store.open(create=True)
    if db_path is not None:
        for f in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
            if f.exists():
                os.chmod(f, 0o600)
    return store


@contextmanager
def data_dir_lock(data_dir: Path, *, what: str = "a key rotation") -> Iterator[None]:
    """The data directory's lock (``flock`` on ``.overt.lock``), held for a key rotation.

    Non-blocking: a second rotation (or a start-up clean-up) while one runs is refused, not queued.
    Released by the kernel if the holder dies, so a crash never leaves it held.
    """
    path = data_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot open the data directory's lock {path}: {exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(f"{data_dir} is locked by {what} in progress; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _pending_path(data_dir: Path, src: FileKeySource) -> Path:
    key_path = _key_path(data_dir, src)
    return key_path.with_name(key_path.name + PENDING_SUFFIX)


def _settle_pending(data_dir: Path, src: FileKeySource, expected: str | None) -> str:
    """A ``kek.key.new`` left by a crashed rotation: install it if the database already uses it
    (the rotation committed), else remove it (it never protected anything). Hold the lock."""
    pending = FileKeyStore(_pending_path(data_dir, src))
    if not pending.path.exists():
        return "none"
    try:
        fp: str | None = kek_fingerprint(pending.load_kek())
    except CryptoError:
        fp = None
    if fp is not None and fp == expected:
        os.replace(pending.path, _key_path(data_dir, src))
        return "installed"
    pending.path.unlink()
    return "removed"


def open_data_dir(data_dir: Path, *, database_url_: str | None = None, clock: Clock | None = None) -> Store:
    """Open an initialised data directory; settles a crashed key rotation's ``kek.key.new``.

    File source: the store also knows ``kek.key.new``, so when another process rotates the key
    while this one runs, it reloads the new key (from either file) in its next transaction.
    """
    cfg = load_config(data_dir)
    keys = keystore_for(data_dir, cfg)
    url = database_url(data_dir, cfg, database_url_)
    _check_sqlite_target(url, create=False)
    for warning in permission_warnings(data_dir, url):
        log.warning("%s", warning)
    pending = FileKeyStore(_pending_path(data_dir, cfg.key)) if isinstance(cfg.key, FileKeySource) else None
    store = Store(Database(url), keys, clock=clock, policy=cfg.policy(), pending_keys=pending)
    if pending is not None and isinstance(cfg.key, FileKeySource) and pending.path.exists():
        try:
            with data_dir_lock(data_dir):
                _settle_pending(data_dir, cfg.key, store.expected_kek_id())
        except StorageError:
            pass  # a rotation is running right now: its file is not stray; reload handles the switch
    return store.open()


def rotate_data_dir_key(
    store: Store,
    data_dir: Path,
    *,
    actor: str,
    new_kek: bytes | None = None,
    after: Callable[[], None] | None = None,
) -> int:
    """``overt keys rotate``: new KEK, every data key re-wrapped, data untouched.

    Holds the data directory's lock throughout (one rotation at a time). File source: a stray
    ``kek.key.new`` from a crashed rotation is settled first; the new key is written to
    ``kek.key.new`` (fsync'd), the database is re-wrapped in one transaction (the KEK id first,
    so running servers switch to the new key in their next transaction and none wraps under the
    old one), then the new file replaces the old; if re-wrapping fails the new file is removed.
    A crash at any point leaves a usable pair. Env/passphrase sources: the new key comes from
    ``new_kek``; running servers cannot read it and refuse key use until restarted with it.
    ``after`` runs under the lock once the database is re-wrapped (e.g. writing new KDF params).
    """
    from overt.crypto.envelope import new_key

    with data_dir_lock(data_dir):
        cfg = load_config(data_dir)
        if isinstance(cfg.key, FileKeySource):
            key_path = _key_path(data_dir, cfg.key)
            pending_path = _pending_path(data_dir, cfg.key)
            if _settle_pending(data_dir, cfg.key, store.expected_kek_id()) == "installed":
                store.reload_kek(store.expected_kek_id() or "")
            pending = FileKeyStore.create(pending_path, new_kek or new_key())
            try:
                n = store.rotate_kek(pending.load_kek(), actor=actor)
            except BaseException:
                pending_path.unlink(missing_ok=True)
                raise
            os.replace(pending_path, key_path)
        else:
            if new_kek is None:
                raise ConfigError("rotating an env/passphrase key needs the new key (see overt keys rotate --help)")
            n = store.rotate_kek(new_kek, actor=actor)
        if after is not None:
            after()
        return n


__all__ = [
    "CONFIG_NAME",
    "KEK_META",
    "DataDirConfig",
    "data_dir_lock",
    "init_data_dir",
    "load_config",
    "open_data_dir",
    "rotate_data_dir_key",
    "write_config",
]
